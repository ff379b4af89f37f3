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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;

/** What both MCP transports do alike on the wire: errors, JSON-RPC bodies, content negotiation, the context. */
public final class McpHttp {

  static final String APPLICATION_JSON = "application/json";
  static final String TEXT_EVENT_STREAM = "text/event-stream";
  static final String SESSION_ENDED_MESSAGE = "The MCP session ended before the request completed";
  /** The -32603 messages this server writes itself; every other one is the SDK's and may carry Java text. */
  private static final String SDK_UNKNOWN_TOOL = "Unknown tool: invalid_tool_name";
  private static final String SDK_TOOL_NOT_FOUND = "Tool not found: ";
  private static final String NOT_ONE_MESSAGE =
      "Invalid Request: expected one JSON-RPC 2.0 request, notification or response object";
  private static final Set<String> SAFE_INTERNAL_MESSAGES = Set.of("Internal error", SESSION_ENDED_MESSAGE);

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

  /** What a client over its limit waits before trying again: long enough for a client's cleanup to land. */
  static final String RETRY_AFTER_SECONDS = "5";

  static ApiException malformedQuery() {
    return ApiException.badRequest("Invalid_Request", "The query string is malformed (bad percent-encoding)");
  }

  /**
   * The transport context every message of a connection carries: the user session tools act in, and how a handler
   * tells the transport that this user session is gone.
   */
  static McpTransportContext transportContext(String userSessionId, AtomicBoolean userSessionGone) {
    Runnable gone = () -> userSessionGone.set(true);
    return McpTransportContext.create(Map.of(McpSessionBinder.USER_SESSION_ID, userSessionId,
        McpSessionBinder.USER_SESSION_GONE, gone));
  }

  /**
   * A 403 when the request names, in {@code X-Session-Id} or {@code X-User-Id}, another user session or user than
   * the one the connection was bound to at connect: knowing an MCP session id must not be enough to act in it.
   * Requests that name neither are the connection's own.
   */
  static ApiException foreignIdentity(HttpServerRequest request, McpSessionBinder.Binding binding) {
    return foreignIdentity(request.getHeader("X-Session-Id"), request.getHeader("X-User-Id"), binding);
  }

  /** As above, from the two header values (a POST forwarded from another instance carries them on the bus). */
  static ApiException foreignIdentity(String sessionHeader, String userHeader, McpSessionBinder.Binding binding) {
    String sessionId = trimmed(sessionHeader);
    String userId = trimmed(userHeader);
    if (sessionId != null && !sessionId.equals(binding.userSessionId())
        || userId != null && !userId.equals(binding.userId())) {
      return new ApiException(403, "Session_Forbidden",
          "This MCP session is bound to another session or user than the request names");
    }
    return null;
  }

  /**
   * Whether {@code json} (one message or a batch) calls one of {@code writeTools} with a token that lacks
   * JIRA_WRITE_SCOPE; then it has been refused with 403 {@code insufficient_scope}, so that the client can get a token
   * with that scope (the step-up of the MCP authorization spec) rather than learn it from a tool error.
   */
  static boolean refusedWrite(RoutingContext ctx, Object json, java.util.Set<String> writeTools) {
    ApiException refusal = ctx.get(dev.mcps.auth.AuthRoutes.JIRA_WRITE_REFUSAL);
    if (refusal == null || writeTools.isEmpty()) {
      return false;
    }
    List<?> messages = json instanceof List<?> batch ? batch : java.util.Collections.singletonList(json);
    for (Object m : messages) {
      Object p = m instanceof Map<?, ?> message ? message.get("params") : null;
      Map<?, ?> params = p instanceof Map<?, ?> map ? map : p instanceof JsonObject object ? object.getMap() : null;
      if (params != null && "tools/call".equals(((Map<?, ?>) m).get("method"))
          && writeTools.contains(params.get("name"))) {
        if (refusal instanceof dev.mcps.auth.AuthException auth && auth.challenge() != null) {
          ctx.response().putHeader("WWW-Authenticate", auth.challenge());
        }
        HttpErrors.send(ctx, refusal);
        return true;
      }
    }
    return false;
  }

  /** The one way the MCP routes refuse a request with an API error; a 429 says when to come back. */
  static void refuse(RoutingContext ctx, Throwable failure) {
    if (failure instanceof ApiException api && api.status() == 429 && api.retryAfterSeconds() <= 0) {
      ctx.response().putHeader("Retry-After", RETRY_AFTER_SECONDS);
    }
    HttpErrors.send(ctx, failure);
  }

  /** JSON-RPC's "server error" code, which a refusal by this server's own rules carries. */
  static final int SERVER_ERROR = -32000;

  /**
   * A JSON-RPC message refused by the per-user request rate (429 {@code Rate_Limited}): as a JSON-RPC error answering
   * {@code id} (null for a notification), with {@code data.error} the API error code, and its Retry-After. Other
   * failures are returned as they are.
   */
  static Throwable asJsonRpc(Object id, Throwable failure) {
    if (!(failure instanceof ApiException api) || failure instanceof Refusal || !"Rate_Limited".equals(api.code())) {
      return failure;
    }
    JsonObject data = new JsonObject().put("error", api.code());
    if (api.retryAfterSeconds() > 0) {
      data.put("retryAfter", api.retryAfterSeconds());
    }
    return new Refusal(api.status(), jsonRpcErrorBody(id, SERVER_ERROR, api.getMessage(), data));
  }

  private static String trimmed(String value) {
    return value == null || value.isBlank() ? null : value.trim();
  }

  static <T> Mono<T> inContext(Mono<T> mono, McpTransportContext transportContext) {
    return mono.contextWrite(ctx -> ctx.put(McpTransportContext.KEY, transportContext));
  }

  static String encode(McpJsonMapper mapper, McpSchema.JSONRPCMessage message) {
    try {
      return mapper.writeValueAsString(scrubbed(message));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The POSTed JSON-RPC message, parsed once, or null after answering 400: -32700 for a body that is not JSON,
   * -32600 for JSON that is not one JSON-RPC message (batches included: only 2025-03-26 has them, see
   * {@link #readJson}).
   */
  static McpSchema.JSONRPCMessage parse(McpJsonMapper mapper, RoutingContext ctx) {
    Object json = readJson(mapper, ctx);
    return json == null ? null : message(mapper, ctx, json);
  }

  /**
   * As {@link #parse(McpJsonMapper, RoutingContext)}, for a body that may have arrived over the event bus: the 400
   * is thrown as a {@link Refusal} carrying the same JSON-RPC error body.
   */
  static McpSchema.JSONRPCMessage parse(McpJsonMapper mapper, Buffer body) {
    Object json;
    try {
      json = mapper.readValue(body == null ? new byte[0] : body.getBytes(), Object.class);
    } catch (IOException e) {
      throw new Refusal(400, jsonRpcErrorBody(null, McpSchema.ErrorCodes.PARSE_ERROR,
          "Parse error: the body is not JSON"));
    }
    McpSchema.JSONRPCMessage message = json == null ? null : toMessage(mapper, json);
    if (message == null) {
      throw new Refusal(400, jsonRpcErrorBody(json instanceof Map<?, ?> fields ? fields.get("id") : null,
          McpSchema.ErrorCodes.INVALID_REQUEST, json == null ? "Invalid Request: the body is null"
              : NOT_ONE_MESSAGE));
    }
    return message;
  }

  /**
   * A refusal whose JSON body is already made: a JSON-RPC error, or an answer relayed from the instance that holds
   * the stream. Goes through the one error mapping like any {@link ApiException}.
   */
  static final class Refusal extends ApiException {

    private final JsonObject body;

    Refusal(int status, JsonObject body) {
      // A JSON-RPC error body has no string code: the status says enough for logs.
      super(status, body.getValue("error") instanceof String code ? code : "Json_Rpc_Error",
          body.getValue("message") instanceof String message ? message : "", null, retryAfter(body));
      this.body = body;
    }

    /** The Retry-After seconds a body carries ({@code retryAfter}, or a JSON-RPC error's {@code data.retryAfter}). */
    private static long retryAfter(JsonObject body) {
      Object holder = body.getValue("error") instanceof JsonObject error ? error.getValue("data") : body;
      return holder instanceof JsonObject h && h.getValue("retryAfter") instanceof Number n ? n.longValue() : 0;
    }

    @Override
    public JsonObject toJson() {
      return body;
    }
  }

  /** The POSTed body as JSON, parsed once (a Map, a List ...), or null after answering 400 with -32700. */
  static Object readJson(McpJsonMapper mapper, RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    Object json;
    try {
      json = mapper.readValue(body == null ? new byte[0] : body.getBytes(), Object.class);
    } catch (IOException e) {
      jsonRpcError(ctx, 400, null, McpSchema.ErrorCodes.PARSE_ERROR, "Parse error: the body is not JSON");
      return null;
    }
    if (json == null) {
      jsonRpcError(ctx, 400, null, McpSchema.ErrorCodes.INVALID_REQUEST, "Invalid Request: the body is null");
    }
    return json;
  }

  /** One parsed JSON value as a JSON-RPC message, or null after answering 400 with -32600. */
  static McpSchema.JSONRPCMessage message(McpJsonMapper mapper, RoutingContext ctx, Object json) {
    McpSchema.JSONRPCMessage message = toMessage(mapper, json);
    if (message == null) {
      jsonRpcError(ctx, 400, json instanceof Map<?, ?> fields ? fields.get("id") : null,
          McpSchema.ErrorCodes.INVALID_REQUEST, NOT_ONE_MESSAGE);
    }
    return message;
  }

  /** A JSON-RPC request, notification or response, or null when {@code json} is none of them. */
  static McpSchema.JSONRPCMessage toMessage(McpJsonMapper mapper, Object json) {
    if (!(json instanceof Map<?, ?> fields) || !McpSchema.JSONRPC_VERSION.equals(fields.get("jsonrpc"))) {
      return null;
    }
    Class<? extends McpSchema.JSONRPCMessage> type = fields.containsKey("method")
        ? (fields.containsKey("id") ? McpSchema.JSONRPCRequest.class : McpSchema.JSONRPCNotification.class)
        : fields.containsKey("result") || fields.containsKey("error") ? McpSchema.JSONRPCResponse.class : null;
    try {
      return type == null ? null : mapper.convertValue(fields, type);
    } catch (IllegalArgumentException e) {
      // A field of the wrong shape (a numeric method, say): not a message, same answer as no message at all.
      return null;
    }
  }

  /**
   * Notifications taken and dropped before the SDK sees them. {@code roots/list_changed}: the SDK would answer it by
   * sending {@code roots/list} to the client, also to one that declared no roots capability, and hold the
   * notification's POST until the client answers; this server uses no roots.
   */
  static boolean ignored(McpSchema.JSONRPCMessage message) {
    return message instanceof McpSchema.JSONRPCNotification n
        && McpSchema.METHOD_NOTIFICATION_ROOTS_LIST_CHANGED.equals(n.method());
  }

  /**
   * The message as it may leave the server. For a failure outside its own error mapping the SDK puts the exception's
   * message into a -32603 error (a Jackson or NullPointerException text naming Java classes): such an error goes out
   * as a plain "Internal error", its details stay in the server log.
   */
  static McpSchema.JSONRPCMessage scrubbed(McpSchema.JSONRPCMessage message) {
    if (message instanceof McpSchema.JSONRPCResponse response && response.error() != null
        && SDK_UNKNOWN_TOOL.equals(response.error().message())
        && response.error().data() instanceof String data && data.startsWith(SDK_TOOL_NOT_FOUND)) {
      // The SDK answers every unknown tool with the specification's example text, naming no tool at all.
      return McpSchema.JSONRPCResponse.error(response.id(), new McpSchema.JSONRPCResponse.JSONRPCError(
          response.error().code(), "Unknown tool: " + data.substring(SDK_TOOL_NOT_FOUND.length()), null));
    }
    if (message instanceof McpSchema.JSONRPCResponse response && response.error() != null
        && response.error().code() == McpSchema.ErrorCodes.INTERNAL_ERROR
        && !SAFE_INTERNAL_MESSAGES.contains(response.error().message())) {
      return McpSchema.JSONRPCResponse.error(response.id(), new McpSchema.JSONRPCResponse.JSONRPCError(
          McpSchema.ErrorCodes.INTERNAL_ERROR, "Internal error", null));
    }
    return message;
  }

  /** The JSON-RPC error answering a request whose params are missing or of the wrong shape. */
  static McpSchema.JSONRPCResponse invalidParams(McpSchema.JSONRPCRequest request, String problem) {
    return McpSchema.JSONRPCResponse.error(request.id(),
        new McpSchema.JSONRPCResponse.JSONRPCError(McpSchema.ErrorCodes.INVALID_PARAMS, problem, null));
  }

  static void jsonRpcError(RoutingContext ctx, int status, Object id, int code, String message) {
    HttpErrors.json(ctx, status, jsonRpcErrorBody(id, code, message));
  }

  static JsonObject jsonRpcErrorBody(Object id, int code, String message) {
    return jsonRpcErrorBody(id, code, message, null);
  }

  /** A JSON-RPC error response; {@code data} is left out when null. */
  public static JsonObject jsonRpcErrorBody(Object id, int code, String message, JsonObject data) {
    JsonObject body = new JsonObject().put("jsonrpc", McpSchema.JSONRPC_VERSION);
    if (id == null) {
      body.putNull("id");
    } else {
      body.put("id", id);
    }
    JsonObject error = new JsonObject().put("code", code).put("message", message);
    if (data != null) {
      error.put("data", data);
    }
    return body.put("error", error);
  }

  /** An absent Accept header, or a wildcard, accepts anything. */
  public static boolean accepts(HttpServerRequest request, String mediaType) {
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
