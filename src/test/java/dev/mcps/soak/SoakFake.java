package dev.mcps.soak;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the soak's fake upstreams share: an HTTP server whose {@code GET /_soak/stats} (no auth) reports the fake's
 * counters, in the order they were made, and the first {@value #MAX_DETAILS} details (leaks, rejections) it noted.
 * Every other request goes to {@link #handle}.
 */
abstract class SoakFake {

  private static final int MAX_DETAILS = 20;

  private final Map<String, LongAdder> counters = new LinkedHashMap<>();
  private final AtomicInteger detailCount = new AtomicInteger();
  private final ConcurrentLinkedQueue<String> details = new ConcurrentLinkedQueue<>();

  /** A new counter, reported by {@link #stats} under {@code name}. Only while constructing. */
  final LongAdder counter(String name) {
    LongAdder counter = new LongAdder();
    counters.put(name, counter);
    return counter;
  }

  Future<HttpServer> listen(Vertx vertx, String host, int port) {
    return vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true))
        .requestHandler(req -> {
          if (req.method() == HttpMethod.GET && "/_soak/stats".equals(req.path())) {
            req.response().putHeader("Content-Type", "application/json").end(stats().encode());
          } else {
            handle(req);
          }
        })
        .listen(port, host);
  }

  /** A request other than {@code GET /_soak/stats}. */
  abstract void handle(HttpServerRequest req);

  JsonObject stats() {
    JsonObject stats = new JsonObject();
    counters.forEach((name, counter) -> stats.put(name, counter.sum()));
    return stats.put("details", new JsonArray(details.stream().toList()));
  }

  /** Notes a detail for the stats; past the first {@value #MAX_DETAILS}, only the count of them grows. */
  void detail(String text) {
    if (detailCount.incrementAndGet() <= MAX_DETAILS) {
      details.add(text);
    }
  }
}
