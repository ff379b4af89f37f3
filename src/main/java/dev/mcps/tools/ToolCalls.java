package dev.mcps.tools;

import dev.mcps.session.SessionBus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

/** The client side of {@value ToolsVerticle#ADDRESS}: what MCP handlers and the chat loop call. */
public final class ToolCalls {

  private static final long TIMEOUT_MS = 120_000;

  private ToolCalls() {
  }

  /** Calls {@code name} in the user session {@code sessionId}. */
  public static Future<ToolResult> call(Vertx vertx, String sessionId, String name, JsonObject arguments) {
    DeliveryOptions options = SessionBus.options(sessionId).setSendTimeout(TIMEOUT_MS);
    JsonObject body = new JsonObject().put("name", name).put("arguments", arguments == null ? new JsonObject() : arguments);
    return vertx.eventBus().<JsonObject>request(ToolsVerticle.ADDRESS, body, options)
        .map(reply -> ToolResult.fromJson(reply.body()));
  }
}
