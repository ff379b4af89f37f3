package dev.mcps.mcp.transport;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open SSE responses of one transport provider and their keep-alive: proxies and clients drop connections that
 * stay silent, and an idle MCP stream (a listening GET, a long tool call) is silent by nature.
 */
final class SseStreams {

  private final Vertx vertx;
  private final Set<SseResponse> open = ConcurrentHashMap.newKeySet();
  private final long timerId;

  SseStreams(Vertx vertx, Duration keepAliveInterval) {
    this.vertx = vertx;
    this.timerId = keepAliveInterval.isZero() ? -1
        : vertx.setPeriodic(keepAliveInterval.toMillis(), id -> open.forEach(SseResponse::keepAlive));
  }

  /**
   * A stream on this response, ended by whoever comes first: the client leaving, {@link SseResponse#end}, a reply.
   *
   * @param then runs once the stream has ended
   */
  SseResponse open(HttpServerResponse response, boolean streamAllowed, Runnable then) {
    SseResponse sse = new SseResponse(response, streamAllowed, ended -> {
      open.remove(ended);
      then.run();
    });
    open.add(sse);
    sse.watchClient();
    return sse;
  }

  void closeAll() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
    List.copyOf(open).forEach(SseResponse::end);
  }
}
