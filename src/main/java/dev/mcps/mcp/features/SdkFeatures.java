package dev.mcps.mcp.features;

import dev.mcps.mcp.McpSessionBinder;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncCompletionSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncPromptSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncResourceSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncResourceTemplateSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Serves an era-neutral {@link McpFeatureSet} through the MCP Java SDK (the session era, 2025-11-25 and earlier):
 * its descriptors become SDK specifications, each request is handed to the set's handler with an {@link McpExchange}
 * over the SDK's exchange, and the handler's JSON result is read back into the SDK's record. The SDK's own Jackson
 * mapper does both conversions, so what a handler writes is what the client reads.
 */
public final class SdkFeatures {

  private static final Logger LOG = LoggerFactory.getLogger(SdkFeatures.class);

  private final McpFeatureSet set;
  private final McpJsonMapper mapper;

  public SdkFeatures(McpFeatureSet set, McpJsonMapper mapper) {
    this.set = set;
    this.mapper = mapper;
  }

  public List<AsyncToolSpecification> tools() {
    return set.tools().stream().map(this::tool).toList();
  }

  /** True when the set lists a tool of this name now (for a server's tool filter). */
  public boolean lists(String toolName) {
    return set.tools().stream().anyMatch(t -> t.name().equals(toolName));
  }

  public List<AsyncPromptSpecification> prompts() {
    return set.prompts().stream().map(this::prompt).toList();
  }

  public List<AsyncResourceSpecification> resources() {
    return set.resources().stream().map(this::resource).toList();
  }

  public List<AsyncResourceTemplateSpecification> resourceTemplates() {
    return set.resourceTemplates().stream().map(this::resourceTemplate).toList();
  }

  /**
   * The SDK keys completions by reference, the set has one function for all of them: one specification per prompt
   * and per resource template, each calling it.
   */
  public List<AsyncCompletionSpecification> completions() {
    BiFunction<JsonObject, JsonObject, Future<JsonObject>> complete = set.completion();
    if (complete == null) {
      return List.of();
    }
    List<AsyncCompletionSpecification> specs = new ArrayList<>();
    BiFunction<McpAsyncServerExchange, McpSchema.CompleteRequest, Mono<McpSchema.CompleteResult>> handler =
        (exchange, request) -> run(exchange, request.meta(), fx -> complete.apply(reference(request.ref()),
            new JsonObject().put("name", request.argument().name()).put("value", request.argument().value())),
            McpSchema.CompleteResult.class);
    for (McpFeatureSet.Prompt p : set.prompts()) {
      specs.add(new AsyncCompletionSpecification(new McpSchema.PromptReference(p.name()), handler));
    }
    for (McpFeatureSet.ResourceTemplate t : set.resourceTemplates()) {
      specs.add(new AsyncCompletionSpecification(
          new McpSchema.ResourceReference(t.descriptor().getString("uriTemplate")), handler));
    }
    return specs;
  }

  /**
   * Keeps {@code server}'s tools and prompts in step with the set's lists when they change, and tells its clients
   * (list_changed, or resources/updated for a subscribed URI). Call once per SDK server, after it is built from this
   * adapter's specifications.
   */
  public void follow(McpAsyncServer server) {
    Set<String> tools = ConcurrentHashMap.newKeySet();
    set.tools().forEach(t -> tools.add(t.name()));
    Set<String> prompts = ConcurrentHashMap.newKeySet();
    set.prompts().forEach(p -> prompts.add(p.name()));
    set.onChange(kind -> {
      Mono<Void> done;
      if ("tools".equals(kind)) {
        List<McpFeatureSet.Tool> now = set.tools();
        List<Mono<Void>> steps = new ArrayList<>();
        for (String gone : List.copyOf(tools)) {
          if (now.stream().noneMatch(t -> t.name().equals(gone))) {
            tools.remove(gone);
            steps.add(server.removeTool(gone));
          }
        }
        for (McpFeatureSet.Tool t : now) {
          if (tools.add(t.name())) {
            steps.add(server.addTool(tool(t)));
          }
        }
        done = Flux.concat(steps).then(server.notifyToolsListChanged());
      } else if ("prompts".equals(kind)) {
        List<McpFeatureSet.Prompt> now = set.prompts();
        List<Mono<Void>> steps = new ArrayList<>();
        for (String gone : List.copyOf(prompts)) {
          if (now.stream().noneMatch(p -> p.name().equals(gone))) {
            prompts.remove(gone);
            steps.add(server.removePrompt(gone));
          }
        }
        for (McpFeatureSet.Prompt p : now) {
          if (prompts.add(p.name())) {
            steps.add(server.addPrompt(prompt(p)));
          }
        }
        done = Flux.concat(steps).then(server.notifyPromptsListChanged());
      } else if ("resources".equals(kind)) {
        done = server.notifyResourcesListChanged();
      } else if (kind != null && kind.startsWith("resource:")) {
        done = server.notifyResourcesUpdated(new McpSchema.ResourcesUpdatedNotification(kind.substring(9)));
      } else {
        return;
      }
      done.subscribe(null, err -> LOG.warn("Telling MCP clients that {} changed failed: {}", kind, err.toString()));
    });
  }

  private AsyncToolSpecification tool(McpFeatureSet.Tool t) {
    JsonObject descriptor = t.descriptor().copy();
    if (descriptor.getValue("inputSchema") == null) {
      descriptor.put("inputSchema", new JsonObject().put("type", "object"));
    }
    return AsyncToolSpecification.builder()
        .tool(read(descriptor, McpSchema.Tool.class))
        .callHandler((exchange, request) -> run(exchange, request.meta(),
            fx -> t.call(fx, json(request.arguments())), McpSchema.CallToolResult.class))
        .build();
  }

  private AsyncPromptSpecification prompt(McpFeatureSet.Prompt p) {
    return new AsyncPromptSpecification(read(p.descriptor(), McpSchema.Prompt.class),
        (exchange, request) -> run(exchange, request.meta(), fx -> p.get(fx, json(request.arguments())),
            McpSchema.GetPromptResult.class));
  }

  private AsyncResourceSpecification resource(McpFeatureSet.Resource r) {
    return new AsyncResourceSpecification(read(r.descriptor(), McpSchema.Resource.class),
        (exchange, request) -> run(exchange, request.meta(), r::read, McpSchema.ReadResourceResult.class));
  }

  private AsyncResourceTemplateSpecification resourceTemplate(McpFeatureSet.ResourceTemplate t) {
    return new AsyncResourceTemplateSpecification(read(t.descriptor(), McpSchema.ResourceTemplate.class),
        (exchange, request) -> run(exchange, request.meta(), fx -> t.matches(request.uri())
                ? t.read(fx, request.uri())
                : Future.failedFuture(new McpFailure(McpFailure.INVALID_PARAMS, "Resource not found",
                    new JsonObject().put("uri", request.uri()))),
            McpSchema.ReadResourceResult.class));
  }

  /**
   * Runs a handler when the SDK subscribes, and maps its JSON to {@code type}. Disposing the Mono (the client
   * cancelled, or went away) marks the exchange cancelled.
   */
  private <T> Mono<T> run(McpAsyncServerExchange exchange, Map<String, Object> meta,
                          Function<McpExchange, Future<JsonObject>> handler, Class<T> type) {
    return Mono.<JsonObject>create(sink -> {
          SdkExchange fx = new SdkExchange(exchange, meta == null ? null : meta.get("progressToken"));
          sink.onCancel(fx::cancel);
          Future<JsonObject> result;
          try {
            result = handler.apply(fx);
          } catch (RuntimeException e) {
            result = Future.failedFuture(e);
          }
          result.onComplete(ar -> {
            if (ar.failed()) {
              sink.error(ar.cause());
            } else if (ar.result() == null) {
              sink.error(new McpFailure(McpFailure.INTERNAL_ERROR, "The handler returned no result", null));
            } else {
              sink.success(ar.result());
            }
          });
        })
        .map(json -> read(json, type))
        .onErrorMap(SdkFeatures::toMcpError);
  }

  /** The same code, message and data; anything else is an internal error whose text stays in our log. */
  static McpError toMcpError(Throwable err) {
    if (err instanceof McpError e) {
      return e;
    }
    if (err instanceof McpFailure f) {
      McpError.Builder b = McpError.builder(f.code()).message(f.getMessage());
      if (f.data() != null) {
        b.data(plain(f.data()));
      }
      return b.build();
    }
    LOG.warn("An MCP feature handler failed", err);
    return McpError.builder(McpFailure.INTERNAL_ERROR).message("Internal error").build();
  }

  private JsonObject reference(McpSchema.CompleteReference ref) {
    if (ref instanceof McpSchema.ResourceReference r) {
      return new JsonObject().put("type", McpSchema.ResourceReference.TYPE).put("uri", r.uri());
    }
    return new JsonObject().put("type", ref.type()).put("name", ref.identifier());
  }

  /** A handler's JSON as the SDK record the SDK writes; JSON that does not fit is our bug, not the client's. */
  private <T> T read(JsonObject json, Class<T> type) {
    try {
      return mapper.readValue(json.encode(), type);
    } catch (IOException | RuntimeException e) {
      LOG.warn("MCP feature JSON does not fit {}: {}", type.getSimpleName(), e.toString());
      throw new McpFailure(McpFailure.INTERNAL_ERROR, "Internal error", null);
    }
  }

  /** An SDK value (arguments map, client answer ...) as Vert.x JSON; null as an empty object. */
  private JsonObject json(Object value) {
    if (value == null) {
      return new JsonObject();
    }
    try {
      return new JsonObject(mapper.writeValueAsString(value));
    } catch (IOException | DecodeException e) {
      throw McpFailure.invalidParams("Expected a JSON object");
    }
  }

  /** Vert.x JSON as plain maps and lists, which the SDK's mapper writes as they are. */
  static Object plain(Object value) {
    if (value instanceof JsonObject o) {
      Map<String, Object> map = new LinkedHashMap<>();
      o.forEach(e -> map.put(e.getKey(), plain(e.getValue())));
      return map;
    }
    if (value instanceof JsonArray a) {
      List<Object> list = new ArrayList<>(a.size());
      a.forEach(v -> list.add(plain(v)));
      return list;
    }
    return value;
  }

  private static <T> Future<T> future(Mono<T> mono) {
    Promise<T> promise = Promise.promise();
    mono.subscribe(promise::tryComplete, promise::tryFail, () -> promise.tryComplete(null));
    return promise.future();
  }

  /** One request's view of an SDK session: the session-era {@link McpExchange}. */
  /**
   * A session-era request as an {@link McpExchange}, for code outside this set's handlers that asks the client
   * something (the product tools' Jira confirmation).
   */
  public McpExchange exchange(McpAsyncServerExchange exchange) {
    return new SdkExchange(exchange, null);
  }

  private final class SdkExchange implements McpExchange {

    private final McpAsyncServerExchange exchange;
    private final Object progressToken;
    private volatile boolean cancelled;
    private JsonObject capabilities;

    SdkExchange(McpAsyncServerExchange exchange, Object progressToken) {
      this.exchange = exchange;
      this.progressToken = progressToken;
    }

    void cancel() {
      cancelled = true;
    }

    @Override
    public JsonObject clientCapabilities() {
      if (capabilities == null) {
        capabilities = exchange.getClientCapabilities() == null ? new JsonObject()
            : json(exchange.getClientCapabilities());
      }
      return capabilities;
    }

    @Override
    public Future<String> userSessionId() {
      Object id = exchange.transportContext() == null ? null
          : exchange.transportContext().get(McpSessionBinder.USER_SESSION_ID);
      if (id instanceof String s) {
        return Future.succeededFuture(s);
      }
      // A transport that did not bind the connection is a wiring bug; refuse rather than act without a session.
      return Future.failedFuture(new McpFailure(McpFailure.INTERNAL_ERROR, "Connection is not bound to a session",
          null));
    }

    @Override
    public void progress(double progress, Double total, String message) {
      if (progressToken == null) {
        return;
      }
      exchange.progressNotification(new McpSchema.ProgressNotification(progressToken, progress, total, message))
          .subscribe(null, err -> LOG.debug("Progress notification not sent: {}", err.toString()));
    }

    @Override
    public void log(String level, String logger, Object data) {
      McpSchema.LoggingLevel l;
      try {
        l = McpSchema.LoggingLevel.valueOf(level.toUpperCase(java.util.Locale.ROOT));
      } catch (RuntimeException e) {
        l = McpSchema.LoggingLevel.INFO;
      }
      // The SDK carries data as text: structured data goes as its JSON.
      String text = data instanceof String s ? s : Json.encode(plain(data));
      exchange.loggingNotification(McpSchema.LoggingMessageNotification.builder().level(l).logger(logger).data(text)
              .build())
          .subscribe(null, err -> LOG.debug("Log notification not sent: {}", err.toString()));
    }

    /** Asked one after another, in the handler's order, so a client shows one question at a time. */
    @Override
    public Future<JsonObject> ask(JsonObject requests) {
      JsonObject answers = new JsonObject();
      Future<Void> chain = Future.succeededFuture();
      for (String key : requests.fieldNames()) {
        Object request = requests.getValue(key);
        if (!(request instanceof JsonObject r) || !(r.getValue("method") instanceof String method)) {
          return Future.failedFuture(McpFailure.invalidParams("Input request '" + key + "' has no method"));
        }
        JsonObject params = r.getValue("params") instanceof JsonObject p ? p : new JsonObject();
        chain = chain.compose(v -> askOne(method, params)).map(answer -> {
          answers.put(key, answer);
          return null;
        });
      }
      return chain.map(answers);
    }

    private Future<JsonObject> askOne(String method, JsonObject params) {
      String capability = switch (method) {
        case "elicitation/create" -> "elicitation";
        case "sampling/createMessage" -> "sampling";
        case "roots/list" -> "roots";
        default -> null;
      };
      if (capability == null) {
        return Future.failedFuture(McpFailure.invalidParams("Cannot ask the client for '" + method + "'"));
      }
      if (!clientHas(capability)) {
        return Future.failedFuture(McpFailure.missingCapability(capability));
      }
      Mono<?> answer;
      try {
        answer = switch (method) {
          case "elicitation/create" -> exchange.createElicitation(read(params, McpSchema.ElicitRequest.class));
          case "sampling/createMessage" -> exchange.createMessage(read(params, McpSchema.CreateMessageRequest.class));
          default -> exchange.listRoots();
        };
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
      return future(answer).map(SdkFeatures.this::json);
    }

    @Override
    public boolean resumed() {
      return false;
    }

    @Override
    public boolean cancelled() {
      return cancelled;
    }
  }
}
