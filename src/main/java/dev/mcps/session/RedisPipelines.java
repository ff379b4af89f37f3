package dev.mcps.session;

import dev.mcps.logging.BurstLog;
import io.netty.channel.EventLoop;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.ErrorType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's connections to Redis: one pipelined connection per Netty event loop that talks to Redis, opened on that
 * loop and owned by it alone. Nothing is borrowed from a pool, so the number of event loops (16–128 on production
 * hosts) never competes with a pool size, and one loop's trouble (a dead or silent connection) touches no other loop.
 * Worker threads use the connection of their context's event loop; the reply still comes back on the caller's
 * context.
 *
 * <p>Each connection comes from a client of its own ({@code Redis.createClient(..)} with one connection): closing
 * that client closes exactly that socket, also one stuck in its handshake, which a shared pool cannot do.
 *
 * <p>Every command has a deadline. A connection that failed, was closed by Redis, or went silent (a command passed its
 * deadline and nothing at all came back since it was sent) is closed and never used again; the loop's next command
 * opens a fresh one. A connection that is merely behind (under load, replies still flowing) is kept: closing it would
 * fail every command queued on it and turn one slow answer into a hundred 503s. A failed command is sent once more
 * when that is safe, as its {@link Retry} says. Redis's own error replies are answers, not faults.
 */
final class RedisPipelines {

  private static final Logger LOG = LoggerFactory.getLogger(RedisPipelines.class);

  private final VertxInternal vertx;
  private final RedisOptions options;
  private final long deadlineMillis;
  private final ConcurrentHashMap<EventLoop, Lane> lanes = new ConcurrentHashMap<>();
  private final BurstLog faults;
  private volatile boolean closed;

  /** {@code base} names the server (URL, timeouts); each connection gets a one-connection copy of it. */
  RedisPipelines(Vertx vertx, RedisOptions base, long deadlineMillis) {
    this.vertx = (VertxInternal) vertx;
    this.options = new RedisOptions(base)
        // One name for all: the pool meters of the per-connection clients fold into one series, not one per reconnect.
        .setPoolName("mcps-redis-store")
        .setMaxPoolSize(1)
        .setMaxPoolWaiting(8)
        // The one connection is held for its whole life: no recycling, no cleaner timer per connection.
        .setPoolRecycleTimeout(-1)
        .setPoolCleanerInterval(-1);
    this.deadlineMillis = deadlineMillis;
    this.faults = new BurstLog(LOG, BurstLog.WINDOW_MILLIS, BurstLog.vertxScheduler(vertx));
  }

  /** When a command that failed with its connection (or passed its deadline) is sent once more. */
  enum Retry {
    /** Changes state in a way a repeat would double: sent again only when it surely never reached Redis. */
    ONLY_IF_UNSENT,
    /** Running it twice does no harm: also sent again after its connection was replaced by a fresh one. */
    AFTER_FAULT,
    /**
     * Running it twice does no harm and its outcome must be known: also sent again after a missed deadline on a
     * connection that still answers, where it queues behind the first and so sees what the first did.
     */
    SETTLE
  }

  /** Sends {@code request} on the caller's event loop's connection; the answer completes on the caller's context. */
  Future<Response> send(Request request, Retry retry) {
    ContextInternal caller = ContextInternal.current();
    if (caller == null) {
      caller = vertx.getOrCreateContext();
    }
    PromiseInternal<Response> answer = caller.promise();
    if (closed) {
      answer.fail(new RedisFault("the Redis store is closed", false, false));
      return answer.future();
    }
    Lane lane = lanes.computeIfAbsent(caller.nettyEventLoop(), Lane::new);
    lane.send(request).onComplete((reply, err) -> {
      if (err instanceof RedisFault fault && !closed && (!fault.mayHaveRun()
          || (retry != Retry.ONLY_IF_UNSENT && fault.connectionReplaced()) || retry == Retry.SETTLE)) {
        // A dropped connection is gone by now, so this goes to a fresh one.
        lane.send(request).onComplete((again, stillFailing) -> {
          if (stillFailing instanceof RedisFault second && fault.mayHaveRun() && !second.mayHaveRun()) {
            // The repeat never left, but the first attempt may have run: the caller must still hear that.
            answer.fail(new RedisFault(second.getMessage(), true, second.connectionReplaced()));
          } else {
            answer.complete(again, stillFailing);
          }
        });
      } else {
        answer.complete(reply, err);
      }
    });
    return answer.future();
  }

  boolean isClosed() {
    return closed;
  }

  Future<Void> close() {
    closed = true;
    List<Future<Void>> all = new ArrayList<>();
    lanes.values().forEach(lane -> all.add(lane.close()));
    lanes.clear();
    return Future.join(all).mapEmpty();
  }

  /** A command that failed with its connection (not a Redis error reply). */
  static final class RedisFault extends RuntimeException {
    private final boolean mayHaveRun;
    private final boolean connectionReplaced;

    RedisFault(String message, boolean mayHaveRun, boolean connectionReplaced) {
      super(message, null, false, false);
      this.mayHaveRun = mayHaveRun;
      this.connectionReplaced = connectionReplaced;
    }

    /** False when the command surely never reached Redis: then repeating it is always safe. */
    boolean mayHaveRun() {
      return mayHaveRun;
    }

    /** True when its connection was closed for it: the next command gets a fresh one. */
    boolean connectionReplaced() {
      return connectionReplaced;
    }
  }

  /** How a failed command's error reads: a fault of the connection, or Redis's answer passed on as is. */
  private static Throwable classify(Throwable err) {
    if (err instanceof ErrorType e && !e.is("CONNECTION_CLOSED")) {
      return err;
    }
    String m = String.valueOf(err.getMessage());
    if (m.startsWith("Redis waiting queue is full")) {
      // Back-pressure on a healthy connection: this command fails, the connection stays.
      return err;
    }
    boolean notSent = m.startsWith("Connection is closed");
    return new RedisFault("Redis connection failed: " + m, !notSent, true);
  }

  /** One event loop's connection: the live one, or the one being opened. */
  private final class Lane {
    /** A context of its own on that loop, so the connection never runs on (or logs as) a request's context. */
    private final ContextInternal home;
    private Link link;

    Lane(EventLoop loop) {
      this.home = vertx.contextBuilder().withEventLoop(loop).build();
    }

    Future<Response> send(Request request) {
      Promise<Response> result = Promise.promise();
      Link target = current();
      long sentAt = System.nanoTime();
      ScheduledFuture<?> deadline = home.nettyEventLoop().schedule(() -> {
        if (result.future().isComplete()) {
          return;
        }
        // Still waiting for the connection to open: the command was never sent.
        boolean sent = target.ready.future().succeeded();
        boolean silent = !sent || target.lastReplyNanos - sentAt < 0;
        if (silent) {
          // Nothing came back since this command went out: the connection is as good as dead, and everything
          // queued on it would time out too. Killed before the failure is told, so a retry gets a fresh one.
          target.kill("no reply within " + deadlineMillis + " ms");
        }
        result.tryFail(new RedisFault("Redis did not answer within " + deadlineMillis + " ms", sent, silent));
      }, deadlineMillis, TimeUnit.MILLISECONDS);
      result.future().onComplete((r, e) -> deadline.cancel(false));
      target.ready.future().onComplete((connection, err) -> {
        if (err != null) {
          Throwable why = err instanceof RedisFault ? err : classify(err);
          result.tryFail(why);
        } else if (!result.future().isComplete()) {
          connection.send(request).onComplete((reply, failure) -> {
            if (failure == null) {
              target.lastReplyNanos = System.nanoTime();
              result.tryComplete(reply);
              return;
            }
            Throwable seen = classify(failure);
            if (seen instanceof RedisFault) {
              target.kill(failure.getMessage());
            } else {
              target.lastReplyNanos = System.nanoTime();
            }
            result.tryFail(seen);
          });
        }
      });
      return result.future();
    }

    private synchronized Link current() {
      if (link == null || link.dead) {
        link = new Link(this);
        Link opening = link;
        if (home.nettyEventLoop().inEventLoop()) {
          home.dispatch(opening::open);
        } else {
          home.runOnContext(v -> opening.open());
        }
      }
      return link;
    }

    synchronized void forget(Link gone) {
      if (link == gone) {
        link = null;
      }
    }

    Future<Void> close() {
      Link l;
      synchronized (this) {
        l = link;
        link = null;
      }
      return l == null ? Future.succeededFuture() : l.kill(null);
    }
  }

  /** One connection, with the client that owns it. */
  private final class Link {
    private final Lane lane;
    private final Promise<RedisConnection> ready = Promise.promise();
    private Redis client;
    private volatile boolean dead;
    /** When the last reply (or error reply) arrived: a connection that still answers is behind, not dead. */
    private volatile long lastReplyNanos = System.nanoTime();

    Link(Lane lane) {
      this.lane = lane;
    }

    /** Runs on the lane's home context, so the client and its connection belong to no request. */
    void open() {
      // A handshake that hangs (a black hole, a partition) would hold every command of this loop: give it half a
      // deadline, so that the commands waiting on it still have time for a fresh connection once Redis is back.
      long handshakeMillis = Math.max(1, deadlineMillis / 2);
      lane.home.nettyEventLoop().schedule(() -> {
        if (!ready.future().isComplete()) {
          kill("no handshake within " + handshakeMillis + " ms");
        }
      }, handshakeMillis, TimeUnit.MILLISECONDS);
      Redis c;
      synchronized (this) {
        if (dead) {
          ready.tryFail(new RedisFault("Redis connection closed before it opened", false, true));
          return;
        }
        c = Redis.createClient(vertx, options);
        client = c;
      }
      c.connect().onComplete((connection, err) -> {
        if (err != null) {
          ready.tryFail(new RedisFault("cannot connect to Redis: " + err.getMessage(), false, true));
          kill("connect failed: " + err.getMessage());
          return;
        }
        connection.exceptionHandler(e -> kill("connection error: " + e.getMessage()));
        connection.endHandler(v -> kill("Redis closed the connection"));
        if (!ready.tryComplete(connection)) {
          kill(null);
        }
      });
    }

    /** Closes the connection for good (idempotent); {@code why} null = an orderly close, not logged. */
    Future<Void> kill(String why) {
      Redis c;
      synchronized (this) {
        if (dead) {
          return Future.succeededFuture();
        }
        dead = true;
        c = client;
      }
      lane.forget(this);
      ready.tryFail(new RedisFault("Redis connection closed" + (why == null ? "" : ": " + why), false, true));
      if (why != null && !closed) {
        faults.warn("redis-connection", "Redis connection dropped (" + why + "); the next command opens a new one");
      }
      // Closing the client closes its socket: commands still waiting on it fail at once instead of at their deadline.
      return c == null ? Future.succeededFuture() : c.close().otherwiseEmpty();
    }
  }
}
