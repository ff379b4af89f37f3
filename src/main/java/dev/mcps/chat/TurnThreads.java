package dev.mcps.chat;

import dev.mcps.provider.WireMemo;
import dev.mcps.session.SessionContext;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Where the parts of a turn run with worker verticles (WORKER_VERTICLES, DESIGN.md §1). The chat verticle is a
 * worker: a turn is delivered to a worker thread, which reads the request (a replacing history may be large). From
 * there the turn's I/O (lock, history, provider and tool calls, store, reply) runs on an event loop, and only its
 * CPU-heavy or possibly blocking steps go back to the worker pool: building and sending a provider request over a
 * long conversation, a provider whose SDK may block (Bedrock), encoding a long reply.
 *
 * <p>Why not the whole turn on a worker: every answer of the store, the provider and the tools would then hop from
 * the event loop that received it to a worker thread, and back for the next request: about ten thread hand-offs a
 * turn, each a wake-up that waits for a core when the host is busy. Measured on two cores with a zero-delay model,
 * that cost a quarter of the turns a second and put tens of milliseconds on every turn, for steps that take
 * microseconds. A step over a short conversation runs where the turn is; one over more than
 * {@code inlineMaxBytes} (WORKER_INLINE_MAX_BYTES) runs on the pool, where its milliseconds stall no event loop.
 *
 * <p>The session follows every hop: the event-loop part runs on a duplicate carrying the turn's session, and a worker
 * step runs with that duplicate as its context (executeBlocking), so {@link SessionContext} answers the same
 * everywhere.
 */
public final class TurnThreads {

  /** With WORKER_VERTICLES=false: everything runs where it is called (on event loops). */
  public static final TurnThreads EVENT_LOOPS = new TurnThreads(null, List.of(), Long.MAX_VALUE);

  /** Null on event loops only. Unordered steps: one turn's heavy step never waits behind another's. */
  private final WorkerExecutor workers;
  /** One context per event loop, duplicated for each turn: the turns spread over all loops, round-robin. */
  private final List<ContextInternal> loops;
  private final AtomicInteger nextLoop = new AtomicInteger();
  private final long inlineMaxBytes;

  private TurnThreads(WorkerExecutor workers, List<ContextInternal> loops, long inlineMaxBytes) {
    this.workers = workers;
    this.loops = loops;
    this.inlineMaxBytes = inlineMaxBytes;
  }

  /**
   * Heavy steps on the named worker pool {@code pool} (shared with the worker verticles deployed on it);
   * {@code inlineMaxBytes}: the largest conversation whose steps stay on the event loop (0 = none does).
   */
  public static TurnThreads workers(Vertx vertx, String pool, int poolSize, long inlineMaxBytes) {
    List<ContextInternal> loops = new ArrayList<>();
    for (EventExecutor loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      loops.add(((VertxInternal) vertx).contextBuilder().withEventLoop((io.netty.channel.EventLoop) loop).build());
    }
    return new TurnThreads(vertx.createSharedWorkerExecutor(pool, poolSize), List.copyOf(loops), inlineMaxBytes);
  }

  /**
   * Runs {@code io} on an event loop, in the current session (if any), when called on a worker thread; else right
   * here. Its answer completes on that event loop: whoever waits for it (the bus reply) goes on from there.
   */
  public <T> Future<T> io(Supplier<Future<T>> io) {
    if (workers == null || !Context.isOnWorkerThread()) {
      return io.get();
    }
    ContextInternal loop = loops.get(Math.floorMod(nextLoop.getAndIncrement(), loops.size()));
    return SessionContext.runOn(loop, SessionContext.current(), io);
  }

  /** True when a step over {@code conversation} is worth a worker thread (see the class comment). */
  public boolean heavy(List<JsonObject> conversation) {
    return heavy(conversation, null);
  }

  /**
   * The same, counting only what {@code memo} has not encoded yet: the messages it holds cost the step nothing, and
   * weighing a long conversation again on every step would cost the event loop more than the step (it took a third of
   * their time at 2,000 turns/s).
   */
  public boolean heavy(List<JsonObject> conversation, WireMemo memo) {
    if (workers == null) {
      return false;
    }
    int known = memo == null ? 0 : memo.encodedPrefix(conversation);
    return JsonWeight.exceeds(known == 0 ? conversation : conversation.subList(known, conversation.size()),
        inlineMaxBytes);
  }

  /**
   * {@code step}'s result: computed on a worker thread when {@code offload} (and worker verticles are on), else
   * right here. On a worker, the current context (and session) stays the caller's, so whatever the step starts
   * (an HTTP request, a timer) answers on the caller's event loop, without another hop.
   */
  public <T> Future<T> step(boolean offload, Callable<T> step) {
    if (workers == null || !offload) {
      try {
        return Future.succeededFuture(step.call());
      } catch (Exception e) {
        return Future.failedFuture(e);
      }
    }
    return workers.executeBlocking(step, false);
  }

  public Future<Void> close() {
    return workers == null ? Future.succeededFuture() : workers.close();
  }

  /** The encoded size of JSON, estimated without encoding it: string lengths plus a little per value. */
  static final class JsonWeight {

    private JsonWeight() {
    }

    /** True when {@code messages} would encode to more than {@code limit} bytes; stops counting there. */
    static boolean exceeds(List<JsonObject> messages, long limit) {
      long[] left = {limit};
      for (JsonObject m : messages) {
        if (!fits(m, left)) {
          return true;
        }
      }
      return false;
    }

    /**
     * Walks the maps and lists underneath, not the JsonObject/JsonArray views: their iterators wrap every nested value
     * in a new view object, and that walk alone once took 40% of the event loops' time at 2,000 turns/s.
     */
    private static boolean fits(Object value, long[] left) {
      if (value instanceof JsonObject o) {
        return fitsMap(o.getMap(), left);
      }
      if (value instanceof Map<?, ?> m) {
        return fitsMap(m, left);
      }
      if (value instanceof JsonArray a) {
        return fitsList(a.getList(), left);
      }
      if (value instanceof List<?> l) {
        return fitsList(l, left);
      }
      left[0] -= value instanceof CharSequence s ? s.length() + 2 : 8;
      return left[0] >= 0;
    }

    private static boolean fitsMap(Map<?, ?> map, long[] left) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        left[0] -= String.valueOf(e.getKey()).length() + 4;
        if (left[0] < 0 || !fits(e.getValue(), left)) {
          return false;
        }
      }
      return left[0] >= 0;
    }

    private static boolean fitsList(List<?> list, long[] left) {
      for (int i = 0, n = list.size(); i < n; i++) {
        if (!fits(list.get(i), left)) {
          return false;
        }
      }
      return left[0] >= 0;
    }
  }
}
