package dev.mcps.mcp.stateless;

import dev.mcps.ApiException;
import dev.mcps.http.HttpErrors;
import dev.mcps.mcp.features.McpFailure;
import dev.mcps.mcp.features.McpFeatureSet;
import dev.mcps.mcp.transport.McpHttp;
import dev.mcps.mcp.transport.SseResponse;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MCP 2026-07-28 era on {@code POST /mcp}: every request stands alone. It carries its protocol version and the
 * client's capabilities in {@code params._meta} and the standard headers ({@code MCP-Protocol-Version},
 * {@code Mcp-Method}, {@code Mcp-Name}); it is checked, served and answered here, with no MCP session, so any
 * instance serves any request. The user session it acts in comes from its own headers ({@link StatelessIdentity}),
 * looked up only when a handler needs it. Input the server needs from the client comes back through multi round-trip
 * requests, with what earlier rounds learnt sealed in {@code requestState} ({@link RequestStates}).
 */
public final class StatelessMcp {

  private static final Logger LOG = LoggerFactory.getLogger(StatelessMcp.class);

  public static final String VERSION = "2026-07-28";
  /** The session-era versions /mcp also serves (after an {@code initialize}). */
  public static final List<String> SESSION_VERSIONS = List.of("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05");
  public static final String PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion";
  public static final String CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";
  public static final String CLIENT_INFO = "io.modelcontextprotocol/clientInfo";
  public static final String LOG_LEVEL = "io.modelcontextprotocol/logLevel";
  public static final String SERVER_INFO = "io.modelcontextprotocol/serverInfo";
  public static final String SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId";

  static final int HEADER_MISMATCH = -32020;
  static final int UNSUPPORTED_VERSION = -32022;
  private static final int INVALID_REQUEST = -32600;
  /** Implementation-defined (-32000..-32019): the user session named by the request's headers cannot serve it. */
  private static final int SESSION_REFUSED = -32001;
  private static final int SERVER_UNAVAILABLE = -32000;

  private static final Set<String> NAMED = Set.of("tools/call", "prompts/get", "resources/read");
  private static final String BASE64_PREFIX = "=?base64?";
  private static final String BASE64_SUFFIX = "?=";

  /** What the deployment tells every client about itself. */
  /** @param maxListenStreams how many {@code subscriptions/listen} streams this instance holds at once (429 past) */
  public record Settings(String serverName, String serverVersion, String instructions, Duration listTtl,
                         Duration keepAlive, int maxListenStreams) {
  }

  private final Vertx vertx;
  private final List<McpFeatureSet> sets;
  private final RequestStates states;
  private final StatelessIdentity identity;
  private final Settings settings;
  private final Subscriptions subscriptions;
  private final JsonObject serverInfo;
  private final JsonObject capabilities;
  private final JsonArray supportedVersions;

  public StatelessMcp(Vertx vertx, List<McpFeatureSet> sets, RequestStates states, StatelessIdentity identity,
                      Settings settings) {
    this.vertx = vertx;
    this.sets = List.copyOf(sets);
    this.states = states;
    this.identity = identity;
    this.settings = settings;
    this.subscriptions = new Subscriptions(vertx, settings.keepAlive());
    this.serverInfo = new JsonObject().put("name", settings.serverName()).put("version", settings.serverVersion());
    this.capabilities = capabilities(this.sets);
    JsonArray versions = new JsonArray().add(VERSION);
    SESSION_VERSIONS.forEach(versions::add);
    this.supportedVersions = versions;
    this.sets.forEach(set -> set.onChange(subscriptions::changed));
  }

  private static JsonObject capabilities(List<McpFeatureSet> sets) {
    JsonObject caps = new JsonObject()
        .put("tools", new JsonObject().put("listChanged", true))
        .put("prompts", new JsonObject().put("listChanged", true))
        .put("logging", new JsonObject());
    if (sets.stream().anyMatch(s -> !s.resources().isEmpty() || !s.resourceTemplates().isEmpty())) {
      caps.put("resources", new JsonObject().put("subscribe", true).put("listChanged", true));
    }
    if (sets.stream().anyMatch(s -> s.completion() != null)) {
      caps.put("completions", new JsonObject());
    }
    return caps;
  }

  /**
   * Whether a POSTed message belongs to this era: it carries a protocol version in {@code _meta}, or a
   * {@code MCP-Protocol-Version} header naming no session-era version, or a method only this era has. A request
   * on an MCP session ({@code Mcp-Session-Id}) and a plain {@code initialize} stay with the session era.
   */
  public static boolean claims(Map<?, ?> message, HttpServerRequest request) {
    if (request.getHeader("Mcp-Session-Id") != null) {
      return false;
    }
    if (message.get("params") instanceof Map<?, ?> params && params.get("_meta") instanceof Map<?, ?> meta
        && meta.containsKey(PROTOCOL_VERSION)) {
      return true;
    }
    String header = request.getHeader("MCP-Protocol-Version");
    if (header != null && !SESSION_VERSIONS.contains(header.trim())) {
      return true;
    }
    Object method = message.get("method");
    return "server/discover".equals(method) || "subscriptions/listen".equals(method);
  }

  /** Serves one POSTed message this era {@link #claims}. */
  public void serve(RoutingContext ctx, Map<?, ?> fields) {
    @SuppressWarnings("unchecked")
    JsonObject message = new JsonObject((Map<String, Object>) fields);
    HttpServerRequest request = ctx.request();
    boolean hasId = message.containsKey("id");
    Object id = message.getValue("id");
    if (!"2.0".equals(message.getValue("jsonrpc")) || !(message.getValue("method") instanceof String method)
        || (hasId && !(id instanceof String || id instanceof Number))) {
      error(ctx, 400, hasId ? id : null, INVALID_REQUEST, "Invalid Request: the body must be one JSON-RPC request",
          null);
      return;
    }
    if (!hasId) {
      // This revision defines no client notifications over HTTP (closing a stream cancels); taken and dropped.
      ctx.response().setStatusCode(202).end();
      return;
    }
    Object rawParams = message.getValue("params");
    if (rawParams != null && !(rawParams instanceof JsonObject)) {
      error(ctx, 400, id, McpFailure.INVALID_PARAMS, "params must be an object", null);
      return;
    }
    JsonObject params = rawParams == null ? new JsonObject() : (JsonObject) rawParams;
    JsonObject meta = params.getValue("_meta") instanceof JsonObject m ? m : null;
    String mismatch = headerMismatch(request, method, params, meta);
    if (mismatch != null) {
      error(ctx, 400, id, HEADER_MISMATCH, "Header mismatch: " + mismatch, null);
      return;
    }
    String invalidMeta = metaProblem(meta);
    if (invalidMeta != null) {
      error(ctx, 400, id, McpFailure.INVALID_PARAMS, invalidMeta, null);
      return;
    }
    String version = meta.getString(PROTOCOL_VERSION);
    if (!VERSION.equals(version)) {
      error(ctx, 400, id, UNSUPPORTED_VERSION, "Unsupported protocol version",
          new JsonObject().put("supported", supportedVersions.copy()).put("requested", version));
      return;
    }
    Function<Call, Future<JsonObject>> handler = handler(method);
    if (handler == null) {
      error(ctx, 404, id, McpFailure.METHOD_NOT_FOUND, "Method not found: " + clip(method), null);
      return;
    }
    // Counted against its user once it is known to be a request this server serves.
    Future<Void> admitted = identity.admit(request);
    if ("subscriptions/listen".equals(method)) {
      admitted.onSuccess(v -> listen(ctx, id, params)).onFailure(err -> {
        ApiException api = ApiException.fromReply(err);
        if (api == null) {
          LOG.warn("Stateless MCP {} failed", method, err);
          error(ctx, 500, id, McpFailure.INTERNAL_ERROR, "Internal error", null);
        } else {
          error(ctx, api.status(), id, apiErrorCode(api), api.getMessage(), apiErrorData(ctx, api));
        }
      });
      return;
    }
    Call call = new Call(ctx, id, method, params, meta);
    admitted.onSuccess(v -> call.run(handler)).onFailure(call::fail);
  }

  /** The JSON-RPC error code of an API error (its HTTP status says the rest). */
  private static int apiErrorCode(ApiException api) {
    int status = api.status();
    return status == 400 ? McpFailure.INVALID_PARAMS
        : status == 403 || status == 404 ? SESSION_REFUSED : SERVER_UNAVAILABLE;
  }

  /** The JSON-RPC error data of an API error ({@code error}: its code); sets Retry-After when it has one. */
  private static JsonObject apiErrorData(RoutingContext ctx, ApiException api) {
    JsonObject data = new JsonObject().put("error", api.code());
    if (api.retryAfterSeconds() > 0) {
      ctx.response().putHeader("Retry-After", Long.toString(api.retryAfterSeconds()));
      data.put("retryAfter", api.retryAfterSeconds());
    } else if (api.status() == 429 || api.status() == 503) {
      ctx.response().putHeader("Retry-After", "5");
    }
    return data;
  }

  private Function<Call, Future<JsonObject>> handler(String method) {
    return switch (method) {
      case "server/discover" -> c -> Future.succeededFuture(discover());
      case "tools/list" -> c -> Future.succeededFuture(cacheable(listOf("tools", s -> s.tools().stream()
          .map(McpFeatureSet.Tool::descriptor).toList()), true));
      case "prompts/list" -> c -> Future.succeededFuture(cacheable(listOf("prompts", s -> s.prompts().stream()
          .map(McpFeatureSet.Prompt::descriptor).toList()), true));
      case "resources/list" -> c -> Future.succeededFuture(cacheable(listOf("resources", s -> s.resources().stream()
          .map(McpFeatureSet.Resource::descriptor).toList()), true));
      case "resources/templates/list" -> c -> Future.succeededFuture(cacheable(listOf("resourceTemplates",
          s -> s.resourceTemplates().stream().map(McpFeatureSet.ResourceTemplate::descriptor).toList()), true));
      case "tools/call" -> this::callTool;
      case "prompts/get" -> this::getPrompt;
      case "resources/read" -> this::readResource;
      case "completion/complete" -> this::complete;
      case "subscriptions/listen" -> c -> Future.failedFuture(new IllegalStateException("served as a stream"));
      default -> null;
    };
  }

  private JsonObject discover() {
    JsonObject result = new JsonObject()
        .put("supportedVersions", supportedVersions.copy())
        .put("capabilities", capabilities.copy());
    if (settings.instructions() != null) {
      result.put("instructions", settings.instructions());
    }
    return cacheable(result, true);
  }

  private JsonObject listOf(String field, Function<McpFeatureSet, List<JsonObject>> items) {
    JsonArray all = new JsonArray();
    for (McpFeatureSet set : sets) {
      items.apply(set).forEach(all::add);
    }
    return new JsonObject().put(field, all);
  }

  /** The caching hints of the revision: lists depend on configuration only, not on the caller. */
  private JsonObject cacheable(JsonObject result, boolean shared) {
    return result.put("ttlMs", shared ? settings.listTtl().toMillis() : 0L).put("cacheScope", shared ? "public" : "private");
  }

  private Future<JsonObject> callTool(Call call) {
    String name = name(call, "tools/call needs params.name, the tool to call");
    JsonObject arguments = arguments(call);
    for (McpFeatureSet set : sets) {
      for (McpFeatureSet.Tool tool : set.tools()) {
        if (name.equals(tool.name())) {
          return call.rounds(name, arguments, exchange -> tool.call(exchange, arguments));
        }
      }
    }
    for (McpFeatureSet set : sets) {
      String refusal = set.refusal(name);
      if (refusal != null && !refusal.startsWith("Unknown tool")) {
        return Future.succeededFuture(new JsonObject().put("content", new JsonArray()
            .add(McpFeatureSet.textContent(refusal))).put("isError", true));
      }
    }
    return Future.failedFuture(McpFailure.invalidParams("Unknown tool: " + clip(name)));
  }

  /** {@code params.name}, or an {@link McpFailure} -32602 saying {@code missing}. */
  private static String name(Call call, String missing) {
    if (!(call.params.getValue("name") instanceof String name) || name.isBlank()) {
      throw McpFailure.invalidParams(missing);
    }
    return name;
  }

  /** {@code params.arguments}, an object (empty when absent), or an {@link McpFailure} -32602. */
  private static JsonObject arguments(Call call) {
    Object args = call.params.getValue("arguments");
    if (args != null && !(args instanceof JsonObject)) {
      throw McpFailure.invalidParams("params.arguments must be an object");
    }
    return args == null ? new JsonObject() : (JsonObject) args;
  }

  private Future<JsonObject> getPrompt(Call call) {
    String name = name(call, "prompts/get needs params.name, the prompt to get");
    JsonObject arguments = arguments(call);
    for (McpFeatureSet set : sets) {
      for (McpFeatureSet.Prompt prompt : set.prompts()) {
        if (name.equals(prompt.name())) {
          return call.rounds(name, arguments, exchange -> prompt.get(exchange, arguments));
        }
      }
    }
    return Future.failedFuture(McpFailure.invalidParams("Unknown prompt: " + clip(name)));
  }

  private Future<JsonObject> readResource(Call call) {
    String uri = call.params.getValue("uri") instanceof String s ? s : null;
    if (uri == null || uri.isBlank()) {
      return Future.failedFuture(McpFailure.invalidParams("resources/read needs params.uri, the resource to read"));
    }
    for (McpFeatureSet set : sets) {
      for (McpFeatureSet.Resource resource : set.resources()) {
        if (uri.equals(resource.uri())) {
          return call.rounds(uri, new JsonObject(), resource::read).map(r -> cacheable(r, false));
        }
      }
    }
    for (McpFeatureSet set : sets) {
      for (McpFeatureSet.ResourceTemplate template : set.resourceTemplates()) {
        if (template.matches(uri)) {
          return call.rounds(uri, new JsonObject(), exchange -> template.read(exchange, uri))
              .map(r -> cacheable(r, false));
        }
      }
    }
    return Future.failedFuture(new McpFailure(McpFailure.INVALID_PARAMS, "Resource not found: " + clip(uri),
        new JsonObject().put("uri", uri)));
  }

  private Future<JsonObject> complete(Call call) {
    Object ref = call.params.getValue("ref");
    Object argument = call.params.getValue("argument");
    if (!(ref instanceof JsonObject r) || !(argument instanceof JsonObject a)) {
      return Future.failedFuture(McpFailure.invalidParams("completion/complete needs params.ref and params.argument"));
    }
    for (McpFeatureSet set : sets) {
      if (set.completion() != null) {
        return set.completion().apply(r, a);
      }
    }
    return Future.succeededFuture(new JsonObject().put("completion",
        new JsonObject().put("values", new JsonArray()).put("hasMore", false)));
  }

  private void listen(RoutingContext ctx, Object id, JsonObject params) {
    JsonObject filter = Subscriptions.honoured(params.getValue("notifications"));
    if (filter == null) {
      error(ctx, 400, id, McpFailure.INVALID_PARAMS, "params.notifications must be a subscription filter "
          + "(toolsListChanged, promptsListChanged, resourcesListChanged: booleans; resourceSubscriptions: URIs)",
          null);
      return;
    }
    if (!McpHttp.accepts(ctx.request(), "text/event-stream")) {
      error(ctx, 406, id, INVALID_REQUEST, "subscriptions/listen answers with an SSE stream: "
          + "the Accept header must include text/event-stream", null);
      return;
    }
    if (subscriptions.open() >= settings.maxListenStreams()) {
      ctx.response().putHeader("Retry-After", "30");
      error(ctx, 429, id, SERVER_UNAVAILABLE, "Too many subscriptions/listen streams are open on this instance ("
          + settings.maxListenStreams() + "); try again later", new JsonObject().put("error", "Too_Many_Streams"));
      return;
    }
    SseResponse stream = new SseResponse(ctx.response(), true, subscriptions::ended);
    stream.watchClient();
    stream.event("message", new JsonObject().put("jsonrpc", "2.0")
        .put("method", "notifications/subscriptions/acknowledged")
        .put("params", new JsonObject()
            .put("_meta", new JsonObject().put(SUBSCRIPTION_ID, id))
            .put("notifications", filter)).encode());
    subscriptions.listen(id, filter, stream);
  }

  /** Ends the listen streams (at shutdown): each gets its closing result. */
  public void close() {
    subscriptions.closeAll();
  }

  /** {@code subscriptions/listen} streams open on this instance. */
  public int listening() {
    return subscriptions.open();
  }

  /**
   * What the standard headers get wrong, or null. They mirror the body so that intermediaries can route on them;
   * a server must refuse a request whose headers and body disagree.
   */
  private static String headerMismatch(HttpServerRequest request, String method, JsonObject params, JsonObject meta) {
    String version = trimmed(request.getHeader("MCP-Protocol-Version"));
    if (version == null) {
      return "the MCP-Protocol-Version header is required";
    }
    if (meta != null && meta.getValue(PROTOCOL_VERSION) instanceof String v && !v.equals(version)) {
      return "MCP-Protocol-Version header '" + clip(version) + "' does not match _meta protocolVersion '"
          + clip(v) + "'";
    }
    String methodHeader = trimmed(request.getHeader("Mcp-Method"));
    if (methodHeader == null) {
      return "the Mcp-Method header is required";
    }
    if (!methodHeader.equals(method)) {
      return "Mcp-Method header '" + clip(methodHeader) + "' does not match body method '" + clip(method) + "'";
    }
    String nameHeader = trimmed(request.getHeader("Mcp-Name"));
    Object bodyName = NAMED.contains(method)
        ? params.getValue("resources/read".equals(method) ? "uri" : "name") : null;
    if (bodyName instanceof String name) {
      if (nameHeader == null) {
        return "the Mcp-Name header is required for " + method;
      }
      String decoded = decoded(nameHeader);
      if (decoded == null) {
        return "the Mcp-Name header is not valid base64 in its =?base64?…?= form";
      }
      if (!decoded.equals(name)) {
        return "Mcp-Name header '" + clip(decoded) + "' does not match body value '" + clip(name) + "'";
      }
    }
    return null;
  }

  /** A header value with its {@code =?base64?…?=} encoding undone; null when that encoding is broken. */
  static String decoded(String value) {
    if (!value.startsWith(BASE64_PREFIX) || !value.endsWith(BASE64_SUFFIX)
        || value.length() < BASE64_PREFIX.length() + BASE64_SUFFIX.length()) {
      return value;
    }
    try {
      return new String(Base64.getDecoder().decode(
          value.substring(BASE64_PREFIX.length(), value.length() - BASE64_SUFFIX.length())), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String metaProblem(JsonObject meta) {
    if (meta == null) {
      return "params._meta is required: io.modelcontextprotocol/protocolVersion and "
          + "io.modelcontextprotocol/clientCapabilities on every request";
    }
    if (!(meta.getValue(PROTOCOL_VERSION) instanceof String)) {
      return "params._meta must carry io.modelcontextprotocol/protocolVersion (a string)";
    }
    if (!(meta.getValue(CLIENT_CAPABILITIES) instanceof JsonObject)) {
      return "params._meta must carry io.modelcontextprotocol/clientCapabilities (an object)";
    }
    Object level = meta.getValue(LOG_LEVEL);
    if (level != null && !(level instanceof String l && StatelessExchange.isLevel(l))) {
      return "params._meta io.modelcontextprotocol/logLevel must be a log level (debug, info, notice, warning, "
          + "error, critical, alert, emergency)";
    }
    Object clientInfo = meta.getValue(CLIENT_INFO);
    if (clientInfo != null && !(clientInfo instanceof JsonObject)) {
      return "params._meta io.modelcontextprotocol/clientInfo must be an object";
    }
    return null;
  }

  private static String trimmed(String value) {
    if (value == null) {
      return null;
    }
    String t = value.trim();
    return t.isEmpty() ? null : t;
  }

  static String clip(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "…";
  }

  private static void error(RoutingContext ctx, int status, Object id, int code, String message, JsonObject data) {
    HttpErrors.json(ctx, status, McpHttp.jsonRpcErrorBody(id, code, message, data));
  }

  /** One request being served: its response (JSON, or an SSE stream once a notification goes out) and rounds. */
  private final class Call {

    private final RoutingContext ctx;
    private final Object id;
    private final String method;
    private final JsonObject params;
    private final JsonObject meta;
    private final SseResponse response;
    private final boolean jsonAllowed;
    private volatile boolean answered;
    private volatile StatelessExchange exchange;

    Call(RoutingContext ctx, Object id, String method, JsonObject params, JsonObject meta) {
      this.ctx = ctx;
      this.id = id;
      this.method = method;
      this.params = params;
      this.meta = meta;
      this.jsonAllowed = McpHttp.accepts(ctx.request(), "application/json");
      boolean streamAllowed = McpHttp.accepts(ctx.request(), "text/event-stream");
      this.response = new SseResponse(ctx.response(), streamAllowed, ended -> {
        StatelessExchange ex = exchange;
        if (!answered && ex != null) {
          // Closing the response stream is the cancellation of a stateless request.
          ex.cancel();
        }
      });
      response.watchClient();
    }

    void run(Function<Call, Future<JsonObject>> handler) {
      Future<JsonObject> result;
      try {
        result = handler.apply(this);
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onComplete(ar -> {
        if (ar.succeeded()) {
          answer(ar.result());
        } else {
          fail(ar.cause());
        }
      });
    }

    /**
     * Runs {@code handler} for one round of a request that may need client input: the answers are those sealed in
     * the client's {@code requestState} by earlier rounds plus its {@code inputResponses}. A handler asking for an
     * answer still missing ends the round with an {@code input_required} result and a new sealed state.
     */
    Future<JsonObject> rounds(String name, JsonObject arguments,
                              Function<dev.mcps.mcp.features.McpExchange, Future<JsonObject>> handler) {
      Object responses = params.getValue("inputResponses");
      if (params.containsKey("inputResponses") && !(responses instanceof JsonObject)) {
        return Future.failedFuture(McpFailure.invalidParams("params.inputResponses must be an object of results"));
      }
      JsonObject given = responses == null ? new JsonObject() : (JsonObject) responses;
      for (String key : given.fieldNames()) {
        if (!(given.getValue(key) instanceof JsonObject)) {
          return Future.failedFuture(McpFailure.invalidParams("params.inputResponses." + clip(key)
              + " must be a result object (an ElicitResult, CreateMessageResult or ListRootsResult)"));
        }
      }
      Object state = params.getValue("requestState");
      if (state != null && !(state instanceof String)) {
        return Future.failedFuture(McpFailure.invalidParams("params.requestState must be the string this server sent"));
      }
      // Only a request that goes round trips needs its principal and digest (most calls are one round).
      JsonObject answers = state == null ? new JsonObject()
          : states.open((String) state, identity.principal(ctx.request()),
              RequestStates.requestDigest(method, name, arguments));
      answers.mergeIn(given);
      exchange = new StatelessExchange(meta.getJsonObject(CLIENT_CAPABILITIES), progressToken(),
          meta.getString(LOG_LEVEL), answers, state != null, () -> identity.userSession(ctx.request()),
          this::notifyClient);
      if (response.isEnded()) {
        exchange.cancel();
      }
      return handler.apply(exchange).recover(err -> {
        if (err instanceof InputRequired ir) {
          return Future.succeededFuture(new JsonObject()
              .put("resultType", "input_required")
              .put("inputRequests", ir.requests())
              .put("requestState", states.seal(identity.principal(ctx.request()),
                  RequestStates.requestDigest(method, name, arguments), answers)));
        }
        return Future.failedFuture(err);
      });
    }

    private Object progressToken() {
      Object token = meta.getValue("progressToken");
      return token instanceof String || token instanceof Number ? token : null;
    }

    private void notifyClient(JsonObject notification) {
      if (!answered) {
        response.event("message", notification.encode());
      }
    }

    private void answer(JsonObject result) {
      answered = true;
      if (!result.containsKey("resultType")) {
        result.put("resultType", "complete");
      }
      JsonObject resultMeta = result.getValue("_meta") instanceof JsonObject m ? m : new JsonObject();
      result.put("_meta", resultMeta.put(SERVER_INFO, serverInfo));
      JsonObject body = new JsonObject().put("jsonrpc", "2.0").put("id", id).put("result", result);
      response.reply(body.toBuffer(), jsonAllowed);
    }

    private void fail(Throwable err) {
      answered = true;
      int status = 200;
      JsonObject body;
      if (err instanceof McpFailure f) {
        // The codes the revision gives an HTTP status; every other JSON-RPC error is an answer like any result.
        status = f.code() == McpFailure.MISSING_REQUIRED_CLIENT_CAPABILITY ? 400 : 200;
        body = McpHttp.jsonRpcErrorBody(id, f.code(), f.getMessage(), f.data());
      } else if (ApiException.fromReply(err) != null) {
        ApiException api = ApiException.fromReply(err);
        status = api.status();
        body = McpHttp.jsonRpcErrorBody(id, apiErrorCode(api), api.getMessage(), apiErrorData(ctx, api));
      } else {
        LOG.warn("Stateless MCP {} failed", method, err);
        body = McpHttp.jsonRpcErrorBody(id, McpFailure.INTERNAL_ERROR, "Internal error", null);
      }
      if (status == 200) {
        response.reply(body.encode(), jsonAllowed);
      } else {
        response.refuse(status, body.encode());
      }
    }
  }
}
