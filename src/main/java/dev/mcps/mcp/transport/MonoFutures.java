package dev.mcps.mcp.transport;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/** The one bridge between the SDK's Reactor types and Vert.x futures; nothing here ever blocks. */
final class MonoFutures {

  private MonoFutures() {
  }

  /**
   * Subscribes now. The outcome is delivered on the caller's Vert.x context, so callbacks that touch the request
   * run where Vert.x expects them even when the SDK finished on a Reactor thread; when the Mono completes on that
   * context already (a tool that answers synchronously) there is no hop at all.
   */
  static <T> Future<T> toFuture(Mono<T> mono) {
    Context context = Vertx.currentContext();
    Promise<T> promise = Promise.promise();
    mono.subscribe(
        value -> onContext(context, () -> promise.tryComplete(value)),
        failure -> onContext(context, () -> promise.tryFail(failure)),
        () -> onContext(context, promise::tryComplete));
    return promise.future();
  }

  /** Lazy: the future is only asked for when the Mono is subscribed. */
  static Mono<Void> toMono(Supplier<Future<?>> future) {
    return Mono.defer(() -> Mono.fromCompletionStage(future.get().toCompletionStage())).then();
  }

  private static void onContext(Context context, Runnable action) {
    if (context == null || Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }
}
