package dev.mcps.session;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import java.util.function.Supplier;

/**
 * The only way code reaches "the current session" (the seed's AsyncLocalStorage). The session is kept in a Vert.x
 * {@code ContextLocal} of a duplicated context, so it follows the work through every async hop on that context —
 * timers, executeBlocking, client callbacks — and is invisible to every other request. Across the event bus it
 * travels as a header ({@link SessionBus}).
 */
public final class SessionContext {

  private SessionContext() {
  }

  /** The session of the running code, or null outside any session. */
  public static SessionEnv current() {
    Context ctx = Vertx.currentContext();
    return ctx == null ? null : SessionContextProvider.SESSION.get(ctx);
  }

  /** The session of the running code; fails clearly when called outside one (a bug, never a fallback). */
  public static SessionEnv require() {
    SessionEnv s = current();
    if (s == null) {
      throw new IllegalStateException("No session in context: this code must run inside SessionContext.runWith(...) "
          + "or a SessionBus consumer");
    }
    return s;
  }

  /**
   * Runs {@code body} on a new duplicated context that carries {@code session}; everything {@code body} starts on
   * that context sees the session. Must be called on a Vert.x thread; use {@link #runWith(Vertx, SessionEnv,
   * Supplier)} elsewhere.
   */
  public static <T> Future<T> runWith(SessionEnv session, Supplier<Future<T>> body) {
    ContextInternal ctx = ContextInternal.current();
    if (ctx == null) {
      throw new IllegalStateException("SessionContext.runWith needs a Vert.x context; pass the Vertx instance");
    }
    return run(ctx, session, body, true);
  }

  /** As {@link #runWith(SessionEnv, Supplier)}, from any thread. */
  public static <T> Future<T> runWith(Vertx vertx, SessionEnv session, Supplier<Future<T>> body) {
    ContextInternal current = ContextInternal.current();
    if (current != null && current.owner() == vertx) {
      return run(current, session, body, true);
    }
    return run((ContextInternal) vertx.getOrCreateContext(), session, body, false);
  }

  /**
   * As {@link #runWith(SessionEnv, Supplier)}, on a duplicate of {@code base} (another thread, e.g. an event loop
   * for a worker's I/O); a null {@code session} runs {@code body} in no session. The answer completes on that
   * duplicate.
   */
  public static <T> Future<T> runOn(ContextInternal base, SessionEnv session, Supplier<Future<T>> body) {
    return run(base, session, body, base.isRunningOnContext());
  }

  private static <T> Future<T> run(ContextInternal base, SessionEnv session, Supplier<Future<T>> body,
                                   boolean onContextThread) {
    ContextInternal ctx = base.duplicate();
    if (session != null) {
      SessionContextProvider.SESSION.put(ctx, session);
    }
    PromiseInternal<T> promise = ctx.promise();
    Runnable task = () -> {
      try {
        body.get().onComplete(promise);
      } catch (Throwable t) {
        promise.fail(t);
      }
    };
    if (onContextThread) {
      ctx.dispatch(task);
    } else {
      ctx.runOnContext(v -> task.run());
    }
    return promise.future();
  }
}
