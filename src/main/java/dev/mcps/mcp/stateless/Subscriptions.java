package dev.mcps.mcp.stateless;

import dev.mcps.mcp.transport.SseResponse;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code subscriptions/listen} streams held by this instance, and the change notifications they opted in to.
 * A change is published on the event bus, so a list that changes on one instance reaches the listeners of all.
 */
final class Subscriptions {

  /** Every instance's listen streams hear list changes here: {"kind": "tools" | "prompts" | "resources" | "resource", "uri"?}. */
  static final String CHANGED_ADDRESS = "mcps.mcp.changed";

  private record Listener(Object subscriptionId, JsonObject filter, SseResponse stream) {
  }

  private final Vertx vertx;
  private final Set<Listener> listeners = ConcurrentHashMap.newKeySet();
  private final long keepAliveTimer;
  private final MessageConsumer<JsonObject> changes;

  Subscriptions(Vertx vertx, Duration keepAlive) {
    this.vertx = vertx;
    this.changes = vertx.eventBus().consumer(CHANGED_ADDRESS, msg -> deliver(msg.body()));
    this.keepAliveTimer = keepAlive.isZero() ? -1
        : vertx.setPeriodic(keepAlive.toMillis(), id -> listeners.forEach(l -> l.stream().keepAlive()));
  }

  /**
   * The part of a client's filter this server honours (all of it, minus unknown fields), or null when
   * {@code notifications} is not a filter.
   */
  static JsonObject honoured(Object notifications) {
    if (!(notifications instanceof JsonObject filter)) {
      return null;
    }
    JsonObject out = new JsonObject();
    for (String flag : new String[] {"toolsListChanged", "promptsListChanged", "resourcesListChanged"}) {
      Object v = filter.getValue(flag);
      if (v != null && !(v instanceof Boolean)) {
        return null;
      }
      if (Boolean.TRUE.equals(v)) {
        out.put(flag, true);
      }
    }
    Object uris = filter.getValue("resourceSubscriptions");
    if (uris != null) {
      if (!(uris instanceof JsonArray list) || list.size() > 1000
          || list.stream().anyMatch(u -> !(u instanceof String s) || s.isEmpty() || s.length() > 2048)) {
        return null;
      }
      out.put("resourceSubscriptions", list.copy());
    }
    return out;
  }

  void listen(Object subscriptionId, JsonObject filter, SseResponse stream) {
    Listener listener = new Listener(subscriptionId, filter, stream);
    listeners.add(listener);
    if (stream.isEnded()) {
      listeners.remove(listener);
    }
  }

  void ended(SseResponse stream) {
    listeners.removeIf(l -> l.stream() == stream);
  }

  /** Tells every instance's listeners: {@code kind} as {@link dev.mcps.mcp.features.McpFeatureSet#onChange} says it. */
  void changed(String kind) {
    JsonObject event = kind.startsWith("resource:")
        ? new JsonObject().put("kind", "resource").put("uri", kind.substring("resource:".length()))
        : new JsonObject().put("kind", kind);
    vertx.eventBus().publish(CHANGED_ADDRESS, event);
  }

  int open() {
    return listeners.size();
  }

  private void deliver(JsonObject event) {
    String kind = event.getString("kind", "");
    for (Listener l : listeners) {
      JsonObject params = switch (kind) {
        case "tools" -> l.filter().getBoolean("toolsListChanged", false) ? new JsonObject() : null;
        case "prompts" -> l.filter().getBoolean("promptsListChanged", false) ? new JsonObject() : null;
        case "resources" -> l.filter().getBoolean("resourcesListChanged", false) ? new JsonObject() : null;
        case "resource" -> l.filter().getJsonArray("resourceSubscriptions", new JsonArray())
            .contains(event.getString("uri")) ? new JsonObject().put("uri", event.getString("uri")) : null;
        default -> null;
      };
      if (params == null) {
        continue;
      }
      String method = "resource".equals(kind) ? "notifications/resources/updated"
          : "notifications/" + kind + "/list_changed";
      params.put("_meta", new JsonObject().put(StatelessMcp.SUBSCRIPTION_ID, l.subscriptionId()));
      l.stream().event("message", new JsonObject().put("jsonrpc", "2.0").put("method", method)
          .put("params", params).encode());
    }
  }

  /** Ends every listen stream with its closing result (at shutdown). */
  void closeAll() {
    if (keepAliveTimer >= 0) {
      vertx.cancelTimer(keepAliveTimer);
    }
    changes.unregister();
    for (Listener l : listeners) {
      JsonObject result = new JsonObject().put("resultType", "complete")
          .put("_meta", new JsonObject().put(StatelessMcp.SUBSCRIPTION_ID, l.subscriptionId()));
      l.stream().reply(new JsonObject().put("jsonrpc", "2.0").put("id", l.subscriptionId()).put("result", result)
          .encode(), false);
    }
    listeners.clear();
  }
}
