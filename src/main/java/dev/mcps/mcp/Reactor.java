package dev.mcps.mcp;

import dev.mcps.ApiException;
import io.vertx.core.Future;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/** The one bridge between the SDK's Reactor types and Vert.x futures. Nothing here ever blocks. */
final class Reactor {

  private Reactor() {
  }

  /** A Mono that starts {@code future} when subscribed. */
  static <T> Mono<T> mono(Supplier<Future<T>> future) {
    return Mono.create(sink -> future.get().onComplete(ar -> {
      if (ar.succeeded()) {
        sink.success(ar.result());
      } else {
        sink.error(ar.cause());
      }
    }));
  }

  /** A failure as text fit for a client: the API message where there is one, never internals. */
  static String describe(Throwable err) {
    ApiException api = ApiException.fromReply(err);
    return api != null ? api.getMessage() : "Tool call failed";
  }
}
