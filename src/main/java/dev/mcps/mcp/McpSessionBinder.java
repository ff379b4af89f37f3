package dev.mcps.mcp;

import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;

/**
 * Binds each MCP connection to one user session. Both transports call {@link #bind} once, when a connection starts
 * (the legacy SSE {@code GET /mcp/sse}, or the Streamable HTTP {@code initialize} POST), and refuse the connection
 * when it fails: an {@link dev.mcps.ApiException} gives the HTTP status and JSON body (404 unknown session, 403,
 * 503 store down, 400 bad credentials headers ...). Every later message of that connection then carries the user
 * session id in its {@code McpTransportContext} under {@link #USER_SESSION_ID}.
 */
public interface McpSessionBinder {

  /** The key of the user session id in the MCP transport context of every request of a bound connection. */
  String USER_SESSION_ID = "userSessionId";

  /** The user session id this connection acts in. */
  Future<String> bind(HttpServerRequest request);

  /** The connection ended (client went away, DELETE, server closed it). */
  void unbound(String userSessionId, String mcpSessionId);
}
