package dev.mcps.mcp.stateless;

import dev.mcps.session.SessionEnv;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;

/**
 * Who a stateless MCP request acts for, decided per request (there is no connection to remember it). Today the
 * {@code X-User-Id} / {@code X-Session-Id} headers say it; a bearer identity will replace this seam.
 */
public interface StatelessIdentity {

  /**
   * Names the caller in a request state, so that state issued to one caller is refused to another; "" for a
   * request that names no one. Must not fail or touch the store.
   */
  String principal(HttpServerRequest request);

  /**
   * The user session the request acts in, looked up (or created for a named user) with the rules of a session-era
   * {@code initialize}; fails with the {@link dev.mcps.ApiException} of that lookup.
   */
  Future<SessionEnv> userSession(HttpServerRequest request);

  /**
   * Counts the request against its user's request rate, before it is served; fails with the 429
   * {@code Rate_Limited} {@link dev.mcps.ApiException} past it.
   */
  default Future<Void> admit(HttpServerRequest request) {
    return Future.succeededFuture();
  }
}
