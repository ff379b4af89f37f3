package dev.mcps.http;

import dev.mcps.cluster.Node;
import dev.mcps.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/** GET /health: liveness plus what an operator checks first. 503 "degraded" when the store does not answer. */
final class HealthRoutes {

  private final Sessions sessions;
  private final String version;
  private final long startedAt;

  private final Node node;

  HealthRoutes(Sessions sessions, String version, long startedAt, Node node) {
    this.node = node;
    this.sessions = sessions;
    this.version = version;
    this.startedAt = startedAt;
  }

  void health(RoutingContext ctx) {
    Future<Long> count = sessions.ping().compose(v -> sessions.count());
    count.onComplete(ar -> {
      boolean up = ar.succeeded();
      JsonObject body = new JsonObject()
          .put("status", up ? "ok" : "degraded")
          .put("version", version)
          .put("activeSessions", up ? ar.result() : null)
          .put("uptime", uptime((System.currentTimeMillis() - startedAt) / 1000))
          .put("memoryUsage", memory())
          .put("store", new JsonObject().put("type", sessions.storeType()).put("status", up ? "up" : "down"))
          .put("cluster", new JsonObject().put("enabled", node.clustered()).put("members", node.members())
              .put("nodeId", node.id()));
      HttpErrors.json(ctx, up ? 200 : 503, body);
    });
  }

  static String uptime(long seconds) {
    return (seconds / 3600) + "h " + (seconds % 3600 / 60) + "m " + (seconds % 60) + "s";
  }

  private static JsonObject memory() {
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    Runtime rt = Runtime.getRuntime();
    return new JsonObject()
        .put("heapUsed", mem.getHeapMemoryUsage().getUsed())
        .put("heapTotal", rt.totalMemory())
        .put("heapMax", rt.maxMemory())
        .put("nonHeapUsed", mem.getNonHeapMemoryUsage().getUsed());
  }
}
