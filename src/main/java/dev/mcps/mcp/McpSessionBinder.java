package dev.mcps.mcp;

import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;

/**
 * Binds each MCP connection to one user session. Both transports call {@link #bind} once, when a connection starts
 * (the legacy SSE {@code GET /mcp/sse}, or the Streamable HTTP {@code initialize} POST), and refuse the connection
 * when it fails: an {@link dev.mcps.ApiException} gives the HTTP status and JSON body (404 unknown session, 403,
 * 429 too many connections, 503 store down, 400 bad credentials headers ...). Every later message of that
 * connection then carries the user session id in its {@code McpTransportContext} under {@link #USER_SESSION_ID}.
 * A successful bind is always followed by exactly one {@link #unbound}, also when the connection never opened.
 */
public interface McpSessionBinder {

  /** The key of the user session id in the MCP transport context of every request of a bound connection. */
  String USER_SESSION_ID = "userSessionId";

  /**
   * The key of a {@link Runnable} in the same context: a handler that finds the user session gone (expired,
   * deleted, lost with the store) runs it, and the transport ends the connection so that the client re-initializes.
   */
  String USER_SESSION_GONE = "userSessionGone";

  /**
   * What a connection acts as: the user session, and its owner (null for an anonymous session). Later requests that
   * name another session or user in {@code X-Session-Id} / {@code X-User-Id} are refused with 403.
   */
  record Binding(String userSessionId, String userId) {
  }

  Future<Binding> bind(HttpServerRequest request);

  /**
   * Binds again, on this instance, a connection bound elsewhere earlier (a Streamable MCP session rebuilt from the
   * store): the user session must still exist — null when it is gone — and the connection counts as a new one here
   * (429 past the limit). A successful rebind is followed by one {@link #unbound}, as a bind is.
   */
  default Future<Binding> rebind(Binding stored) {
    return Future.succeededFuture(stored);
  }

  /**
   * Counts one request of a bound connection (a POST or listening GET after connect) against its user's request
   * rate; fails with the 429 {@code Rate_Limited} {@link dev.mcps.ApiException} past it.
   */
  default Future<Void> admit(Binding binding) {
    return Future.succeededFuture();
  }

  /** The connection ended (client went away, DELETE, server closed it, or it failed before it opened). */
  void unbound(String userSessionId, String mcpSessionId);
}
