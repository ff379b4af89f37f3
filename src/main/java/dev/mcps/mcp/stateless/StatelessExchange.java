package dev.mcps.mcp.stateless;

import dev.mcps.mcp.features.McpExchange;
import dev.mcps.mcp.features.McpFailure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One stateless request as a handler sees it: the client's capabilities and log level from {@code _meta}, the
 * answers the client gave on this and earlier rounds, and a sink for the request's notifications (progress, log
 * messages), which turn the response into a short SSE stream.
 */
final class StatelessExchange implements McpExchange {

  private static final List<String> LEVELS =
      List.of("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency");

  private final JsonObject capabilities;
  private final Object progressToken;
  private final int logLevel;
  private final JsonObject answers;
  private final boolean resumed;
  private final Supplier<Future<String>> userSession;
  private final Consumer<JsonObject> notify;
  private final List<Runnable> cancelHooks = new ArrayList<>(0);
  private volatile boolean cancelled;
  private Future<String> session;

  /**
   * @param logLevel the request's {@code io.modelcontextprotocol/logLevel}, null when it asked for no messages
   * @param answers  every input answer known to this round (earlier rounds' and this retry's)
   * @param notify   sends one JSON-RPC notification on this request's response stream
   */
  StatelessExchange(JsonObject capabilities, Object progressToken, String logLevel, JsonObject answers,
                    boolean resumed, Supplier<Future<String>> userSession, Consumer<JsonObject> notify) {
    this.capabilities = capabilities;
    this.progressToken = progressToken;
    this.logLevel = logLevel == null ? Integer.MAX_VALUE : LEVELS.indexOf(logLevel);
    this.answers = answers;
    this.resumed = resumed;
    this.userSession = userSession;
    this.notify = notify;
  }

  static boolean isLevel(String level) {
    return LEVELS.contains(level);
  }

  @Override
  public JsonObject clientCapabilities() {
    return capabilities;
  }

  @Override
  public synchronized Future<String> userSessionId() {
    // Looked up once per request however many times a handler asks.
    if (session == null) {
      session = userSession.get();
    }
    return session;
  }

  @Override
  public void progress(double progress, Double total, String message) {
    if (progressToken == null || cancelled) {
      return;
    }
    JsonObject params = new JsonObject().put("progressToken", progressToken).put("progress", progress);
    if (total != null) {
      params.put("total", total);
    }
    if (message != null) {
      params.put("message", message);
    }
    notify.accept(notification("notifications/progress", params));
  }

  @Override
  public void log(String level, String logger, Object data) {
    int at = LEVELS.indexOf(level);
    if (at < 0 || at < logLevel || cancelled) {
      return;
    }
    JsonObject params = new JsonObject().put("level", level).put("data", data);
    if (logger != null) {
      params.put("logger", logger);
    }
    notify.accept(notification("notifications/message", params));
  }

  @Override
  public Future<JsonObject> ask(JsonObject requests) {
    JsonObject given = new JsonObject();
    JsonObject missing = new JsonObject();
    for (String key : requests.fieldNames()) {
      JsonObject request = requests.getJsonObject(key);
      String capability = capabilityFor(request.getString("method"));
      if (capability == null) {
        return Future.failedFuture(new McpFailure(McpFailure.INTERNAL_ERROR, "Internal error", null));
      }
      if (!clientHas(capability)) {
        return Future.failedFuture(McpFailure.missingCapability(capability));
      }
      Object answer = answers.getValue(key);
      if (answer instanceof JsonObject a) {
        given.put(key, a);
      } else {
        missing.put(key, request);
      }
    }
    return missing.isEmpty() ? Future.succeededFuture(given) : Future.failedFuture(new InputRequired(missing));
  }

  private static String capabilityFor(String method) {
    if (method == null) {
      return null;
    }
    return switch (method) {
      case "elicitation/create" -> "elicitation";
      case "sampling/createMessage" -> "sampling";
      case "roots/list" -> "roots";
      default -> null;
    };
  }

  @Override
  public boolean resumed() {
    return resumed;
  }

  @Override
  public boolean cancelled() {
    return cancelled;
  }

  @Override
  public synchronized void onCancel(Runnable hook) {
    if (cancelled) {
      hook.run();
    } else {
      cancelHooks.add(hook);
    }
  }

  /** The client closed the response stream: the specification's cancellation of a stateless request. */
  void cancel() {
    List<Runnable> hooks;
    synchronized (this) {
      if (cancelled) {
        return;
      }
      cancelled = true;
      hooks = List.copyOf(cancelHooks);
    }
    hooks.forEach(Runnable::run);
  }

  private static JsonObject notification(String method, JsonObject params) {
    return new JsonObject().put("jsonrpc", "2.0").put("method", method).put("params", params);
  }
}
