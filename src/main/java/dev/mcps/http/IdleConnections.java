package dev.mcps.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Closes connections that keep the server waiting on the client (HTTP_IDLE_TIMEOUT_SECONDS): a connection that sent
 * no request, or whose request is still not fully received, for that long.
 *
 * <p>Why not {@code HttpServerOptions.setIdleTimeout}: Netty's idle check only sees bytes, so it would also cut a
 * connection whose request is fully read and whose answer the server is still working on (a /chat turn waiting
 * 90 s on the model writes nothing) and an SSE stream whose keep-alive period is longer than the timeout. Here a
 * connection the server owes an answer to is never idle; an open SSE stream is such a connection.
 *
 * <p>One instance per HTTP verticle instance: every connection it sees is served on that verticle's event loop, so
 * the state needs no locking.
 */
final class IdleConnections {

  /** What one connection is doing: its requests not answered yet, and when it last did something. */
  private static final class Tracked {
    final List<HttpServerRequest> open = new ArrayList<>(1);
    long lastActivity;

    Tracked(long now) {
      lastActivity = now;
    }
  }

  private final Vertx vertx;
  private final long timeoutMillis;
  private final Map<HttpConnection, Tracked> connections = new HashMap<>();
  private long timerId = -1;

  IdleConnections(Vertx vertx, long timeoutMillis) {
    this.vertx = vertx;
    this.timeoutMillis = timeoutMillis;
  }

  /** Starts the periodic check; a connection is closed between one and 1.25 timeouts after it went idle. */
  void start() {
    long period = Math.max(100, timeoutMillis / 4);
    timerId = vertx.setPeriodic(period, id -> closeIdle());
  }

  void stop() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
    connections.clear();
  }

  /** For {@code HttpServer.connectionHandler}. */
  void opened(HttpConnection connection) {
    connections.put(connection, new Tracked(System.currentTimeMillis()));
    connection.closeHandler(v -> connections.remove(connection));
  }

  /** Wraps the request handler so that every request is seen before it is routed. */
  Handler<HttpServerRequest> tracking(Handler<HttpServerRequest> next) {
    return request -> {
      Tracked t = connections.get(request.connection());
      if (t != null) {
        // Answered requests leave here at once, not only at the next check: a keep-alive connection sends thousands
        // of requests per check period, and each one kept would hold its whole context (body, session, response)
        // until then, gigabytes of heap at a high request rate.
        t.open.removeIf(IdleConnections::done);
        t.open.add(request);
        t.lastActivity = System.currentTimeMillis();
      }
      next.handle(request);
    };
  }

  private void closeIdle() {
    long now = System.currentTimeMillis();
    List<HttpConnection> idle = new ArrayList<>();
    connections.forEach((connection, t) -> {
      // A request whose answer has gone out (or whose connection broke) leaves the connection idle from here.
      if (t.open.removeIf(IdleConnections::done)) {
        t.lastActivity = now;
      }
      if (!owesAnswer(t) && now - t.lastActivity >= timeoutMillis) {
        idle.add(connection);
      }
    });
    for (HttpConnection connection : idle) {
      connections.remove(connection);
      connection.close();
    }
  }

  private static boolean done(HttpServerRequest request) {
    return request.response().ended() || request.response().closed();
  }

  /** Requests held for the check, over all connections (each connection's in flight, and at most one answered). */
  int held() {
    int n = 0;
    for (Tracked t : connections.values()) {
      n += t.open.size();
    }
    return n;
  }

  /**
   * True while a fully received request waits for its answer (a turn in progress, an open SSE stream). A request
   * whose body is still arriving does not count: a body that trickles in for longer than the timeout is the client
   * keeping the server waiting.
   */
  private static boolean owesAnswer(Tracked t) {
    for (HttpServerRequest r : t.open) {
      if (r.isEnded()) {
        return true;
      }
    }
    return false;
  }
}
