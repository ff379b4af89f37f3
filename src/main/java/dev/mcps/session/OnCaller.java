package dev.mcps.session;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.internal.VertxInternal;
import java.util.concurrent.TimeoutException;

/**
 * Store answers delivered where the caller can use them: on the caller's context (so its session local and log
 * lines stay with it), also when the answer is a failure or a missed deadline. {@code Future.timeout} cannot do this:
 * for a future that belongs to no context its timer fires on Netty's global executor.
 */
final class OnCaller {

  private OnCaller() {
  }

  /** {@code op}'s outcome, or a {@link TimeoutException} after {@code timeoutMillis}, on the caller's context. */
  static <T> Future<T> within(Vertx vertx, Future<T> op, long timeoutMillis) {
    ContextInternal caller = caller(vertx);
    PromiseInternal<T> answer = caller.promise();
    long timer = caller.setTimer(timeoutMillis, id ->
        answer.tryFail(new TimeoutException("no answer within " + timeoutMillis + " ms")));
    op.onComplete((result, err) -> {
      vertx.cancelTimer(timer);
      if (err == null) {
        answer.tryComplete(result);
      } else {
        answer.tryFail(err);
      }
    });
    return answer.future();
  }

  /** The context of the running code; a plain thread (tests, start-up) gets one, as {@code vertx.promise()} does. */
  static ContextInternal caller(Vertx vertx) {
    ContextInternal current = ContextInternal.current();
    return current != null ? current : ((VertxInternal) vertx).getOrCreateContext();
  }
}
