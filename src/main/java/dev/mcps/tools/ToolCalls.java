package dev.mcps.tools;

import dev.mcps.session.SessionBus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

/** The client side of {@value ToolsVerticle#ADDRESS}: what MCP handlers and the chat loop call. */
public final class ToolCalls {

  /** Names a call so that its caller can cancel it ({@link #cancel}). */
  public static final String CALL_ID_HEADER = "x-call-id";

  static final long TIMEOUT_MS = 120_000;

  private ToolCalls() {
  }

  /** Calls {@code name} in the user session {@code sessionId}. */
  public static Future<ToolResult> call(Vertx vertx, String sessionId, String name, JsonObject arguments) {
    return call(vertx, sessionId, name, arguments, null);
  }

  /** As {@link #call(Vertx, String, String, JsonObject)}, cancellable with {@link #cancel} when {@code callId} is set. */
  public static Future<ToolResult> call(Vertx vertx, String sessionId, String name, JsonObject arguments,
                                        String callId) {
    DeliveryOptions options = SessionBus.options(sessionId).setSendTimeout(TIMEOUT_MS);
    if (callId != null) {
      options.addHeader(CALL_ID_HEADER, callId);
    }
    JsonObject body = new JsonObject().put("name", name).put("arguments", arguments == null ? new JsonObject() : arguments);
    return vertx.eventBus().<JsonObject>request(ToolsVerticle.ADDRESS, body, options)
        .map(reply -> ToolResult.fromJson(reply.body()));
  }

  /**
   * Stops the call named {@code callId}, wherever it runs (published: the caller does not know which tools verticle
   * took it, on this instance or another of the cluster). Its work stops where the tool can stop it (the Jira
   * client aborts its request and makes no further attempt); its result, if any still comes, goes nowhere.
   */
  public static void cancel(Vertx vertx, String callId) {
    vertx.eventBus().publish(ToolsVerticle.CANCEL_ADDRESS, callId);
  }
}
