package dev.mcps.mcp.transport;

import dev.mcps.ApiException;
import dev.mcps.http.HttpErrors;
import dev.mcps.mcp.McpSessionBinder;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import reactor.core.publisher.Mono;

/** What both MCP transports do alike on the wire: errors, JSON-RPC bodies, content negotiation, the context. */
final class McpHttp {

  static final String APPLICATION_JSON = "application/json";
  static final String TEXT_EVENT_STREAM = "text/event-stream";

  private McpHttp() {
  }

  static ApiException unavailable() {
    return new ApiException(503, "Server_Closing", "The MCP transport is not accepting connections");
  }

  static ApiException sessionNotFound() {
    return new ApiException(404, "Mcp_Session_Not_Found", "Unknown or ended MCP session");
  }

  static ApiException missingSessionId(String where) {
    return ApiException.badRequest("Missing_Session_Id", "The MCP session id is required in " + where);
  }

  static ApiException notAcceptable(String what) {
    return new ApiException(406, "Not_Acceptable", "The Accept header must allow " + what);
  }

  /** The transport context every message of a connection carries, read by tools as the user session. */
  static McpTransportContext transportContext(String userSessionId) {
    return McpTransportContext.create(Map.of(McpSessionBinder.USER_SESSION_ID, userSessionId));
  }

  static <T> Mono<T> inContext(Mono<T> mono, McpTransportContext transportContext) {
    return mono.contextWrite(ctx -> ctx.put(McpTransportContext.KEY, transportContext));
  }

  static String encode(McpJsonMapper mapper, McpSchema.JSONRPCMessage message) {
    try {
      return mapper.writeValueAsString(message);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The POSTed JSON-RPC message, parsed once, or null after answering 400: -32700 for a body that is not JSON,
   * -32600 for JSON that is not one JSON-RPC message (batches included: no supported protocol version needs them).
   */
  static McpSchema.JSONRPCMessage parse(McpJsonMapper mapper, RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    Object json;
    try {
      json = mapper.readValue(body == null ? new byte[0] : body.getBytes(), Object.class);
    } catch (IOException e) {
      jsonRpcError(ctx, 400, null, McpSchema.ErrorCodes.PARSE_ERROR, "Parse error: the body is not JSON");
      return null;
    }
    if (!(json instanceof Map<?, ?> fields) || !McpSchema.JSONRPC_VERSION.equals(fields.get("jsonrpc"))) {
      jsonRpcError(ctx, 400, null, McpSchema.ErrorCodes.INVALID_REQUEST,
          "Invalid Request: expected one JSON-RPC 2.0 message object");
      return null;
    }
    Class<? extends McpSchema.JSONRPCMessage> type = fields.containsKey("method")
        ? (fields.containsKey("id") ? McpSchema.JSONRPCRequest.class : McpSchema.JSONRPCNotification.class)
        : fields.containsKey("result") || fields.containsKey("error") ? McpSchema.JSONRPCResponse.class : null;
    try {
      if (type != null) {
        return mapper.convertValue(fields, type);
      }
    } catch (IllegalArgumentException e) {
      // A field of the wrong shape (a numeric method, say): not a message, same answer as no message at all.
    }
    jsonRpcError(ctx, 400, fields.get("id"), McpSchema.ErrorCodes.INVALID_REQUEST,
        "Invalid Request: not a JSON-RPC request, notification or response");
    return null;
  }

  static void jsonRpcError(RoutingContext ctx, int status, Object id, int code, String message) {
    JsonObject body = new JsonObject().put("jsonrpc", McpSchema.JSONRPC_VERSION);
    if (id == null) {
      body.putNull("id");
    } else {
      body.put("id", id);
    }
    HttpErrors.json(ctx, status, body.put("error", new JsonObject().put("code", code).put("message", message)));
  }

  /** An absent Accept header, or a wildcard, accepts anything. */
  static boolean accepts(HttpServerRequest request, String mediaType) {
    String accept = request.getHeader("Accept");
    return accept == null || accept.contains(mediaType) || accept.contains("*/*");
  }

  /** The failure handler of every MCP route, so the JSON error contract holds without the server's own handlers. */
  static void failure(RoutingContext ctx) {
    int status = ctx.statusCode();
    if (ctx.failure() instanceof ApiException || status < 400 || status >= 500) {
      HttpErrors.send(ctx, ctx.failure() == null ? new IllegalStateException("status " + status) : ctx.failure());
    } else if (status == 413) {
      HttpErrors.send(ctx, new ApiException(413, "Payload_Too_Large", "The request body exceeds the MCP body limit"));
    } else {
      HttpErrors.send(ctx, new ApiException(status, "Bad_Request", "The request could not be read"));
    }
  }
}
