package dev.mcps.mcp.transport;

import dev.mcps.ApiException;
import dev.mcps.mcp.McpSessionBinder;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Binds like the real binder's contract says, asynchronously as a store lookup would: {@code ?userId=} or
 * {@code X-User-Id} give {@code session-of-<user>}; {@code ?sessionId=unknown} or {@code X-Session-Id: unknown}
 * fail with 404. Remembers every unbound.
 */
final class FakeBinder implements McpSessionBinder {

  record Unbound(String userSessionId, String mcpSessionId) {
  }

  private final Vertx vertx;
  private final Queue<Unbound> unbound = new ConcurrentLinkedQueue<>();

  FakeBinder(Vertx vertx) {
    this.vertx = vertx;
  }

  @Override
  public Future<Binding> bind(HttpServerRequest request) {
    String sessionId = either(request.getParam("sessionId"), request.getHeader("X-Session-Id"));
    String user = either(request.getParam("userId"), request.getHeader("X-User-Id"));
    return vertx.timer(1).compose(v -> "unknown".equals(sessionId)
        ? Future.failedFuture(new ApiException(404, "Session_Not_Found", "Session not found with provided ID"))
        : Future.succeededFuture(new Binding("session-of-" + (user == null ? "anonymous" : user), user)));
  }

  @Override
  public void unbound(String userSessionId, String mcpSessionId) {
    unbound.add(new Unbound(userSessionId, mcpSessionId));
  }

  List<Unbound> unbound() {
    return List.copyOf(unbound);
  }

  private static String either(String first, String second) {
    return first != null ? first : second;
  }
}
