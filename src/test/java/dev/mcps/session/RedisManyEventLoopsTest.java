package dev.mcps.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.RedisServer;
import io.netty.channel.EventLoop;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A production host runs 16–128 event loops: the Redis store must serve every one of them at once, whatever
 * REDIS_POOL_SIZE says, and one loop in trouble must not hold up the others.
 */
class RedisManyEventLoopsTest {

  private static final int LOOPS = 32;
  private static final int POOL_SIZE = 4;

  private RedisServer redis;
  private Vertx vertx;
  private RedisSessionStore store;

  @BeforeEach
  void start() {
    redis = RedisServer.start();
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(LOOPS));
    store = new RedisSessionStore(vertx, redis.url(), "mcps:", POOL_SIZE, 600_000, 10_000,
        new SessionCodec(CredentialCipher.withRandomKey()));
  }

  @AfterEach
  void stop() {
    await(store.close());
    await(vertx.close());
    redis.close();
  }

  /** One context on each of the 32 event loops (Vert.x hands loops out round-robin). */
  private List<ContextInternal> oneContextPerLoop() {
    List<ContextInternal> contexts = new ArrayList<>();
    Set<EventLoop> loops = new HashSet<>();
    for (int i = 0; i < LOOPS; i++) {
      ContextInternal ctx = ((VertxInternal) vertx).createEventLoopContext();
      contexts.add(ctx);
      loops.add(ctx.nettyEventLoop());
    }
    assertThat(loops).hasSize(LOOPS);
    return contexts;
  }

  @Test
  void storeCallsFromEachOfThirtyTwoEventLoopsAllSucceedWithAPoolOfFour() {
    // One connection per loop that used Redis, whatever the pool size: nothing borrowed, nothing left waiting.
    runUsersOnEach(oneContextPerLoop(), 8, "loop");
  }

  @Test
  void storeCallsFromWorkerContextsUseTheirLoopsConnectionsAndAnswerOnTheirWorkers() {
    // Worker contexts get their event loops round-robin, as those of worker verticles do: 32 of them cover every loop.
    List<ContextInternal> workers = new ArrayList<>();
    Set<EventLoop> loops = new HashSet<>();
    for (int i = 0; i < LOOPS; i++) {
      ContextInternal ctx = ((VertxInternal) vertx).createWorkerContext();
      workers.add(ctx);
      loops.add(ctx.nettyEventLoop());
    }
    assertThat(loops).hasSize(LOOPS);
    // The workers go through the loops' pipelined connections: still at most one per loop.
    runUsersOnEach(workers, 4, "worker");
  }

  /**
   * Runs {@code users} users' store calls from each context at once, then checks that all succeeded, that every user
   * got its session, and that Redis saw at most one connection per event loop.
   */
  private void runUsersOnEach(List<ContextInternal> contexts, int users, String kind) {
    Set<String> problems = ConcurrentHashMap.newKeySet();
    List<Future<Void>> runs = new ArrayList<>();
    for (int c = 0; c < contexts.size(); c++) {
      ContextInternal ctx = contexts.get(c);
      for (int user = 0; user < users; user++) {
        String name = kind + "-" + c + "-user-" + user;
        Promise<Void> done = Promise.promise();
        ctx.runOnContext(v -> oneUsersCalls(ctx, name, problems).onComplete(done));
        runs.add(done.future());
      }
    }

    await(Future.join(runs).transform(ar -> Future.succeededFuture()));

    assertThat(problems).isEmpty();
    assertThat(runs).allMatch(Future::succeeded);
    assertThat(await(store.count())).isEqualTo((long) contexts.size() * users);
    long clients = ((String) redis.call("CLIENT", "LIST")).lines().count();
    assertThat(clients).isLessThanOrEqualTo(LOOPS + 2);
  }

  /** Every kind of store call a turn makes, each answered on the context (and so the loop or worker) that asked. */
  private Future<Void> oneUsersCalls(ContextInternal ctx, String name, Set<String> problems) {
    Runnable onMyLoop = () -> {
      ContextInternal now = ContextInternal.current();
      if (now == null || now.nettyEventLoop() != ctx.nettyEventLoop()) {
        problems.add(name + " was answered off its loop");
      } else if (now.unwrap() != ctx || ctx.isWorkerContext() != io.vertx.core.Context.isOnWorkerThread()) {
        problems.add(name + " was answered off its context");
      }
    };
    return store.getOrCreateForUser(SessionEnv.newSession(name, null, System.currentTimeMillis()))
        .compose(r -> {
          onMyLoop.run();
          String id = r.session().sessionId();
          return store.tryLock(id, 30_000)
              .compose(token -> {
                onMyLoop.run();
                return store.history(id)
                    .compose(h -> store.appendTurn(id, "t-" + name, 0, List.of(msg(name))))
                    .compose(n -> store.update(id, s -> s.notes().put("n", n)))
                    .compose(s -> {
                      onMyLoop.run();
                      if (s.notes().getInteger("n") != 1) {
                        problems.add(name + " saw " + s.notes());
                      }
                      return store.unlock(id, token);
                    });
              });
        })
        .onFailure(err -> problems.add(name + " failed: " + err));
  }

  @Test
  void aBlockedEventLoopHoldsUpNoOtherLoopsStoreCalls() throws Exception {
    List<ContextInternal> contexts = oneContextPerLoop();
    // Every loop has talked to Redis (so each has its connection), then loop 0 is stuck in a long task.
    for (ContextInternal ctx : contexts) {
      Promise<Void> pinged = Promise.promise();
      ctx.runOnContext(v -> store.ping().onComplete(pinged));
      await(pinged.future());
    }
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blocked = new CountDownLatch(1);
    contexts.get(0).runOnContext(v -> {
      blocked.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    try {
      assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
      List<Future<Void>> others = new ArrayList<>();
      for (int i = 1; i < LOOPS; i++) {
        Promise<Void> done = Promise.promise();
        ContextInternal ctx = contexts.get(i);
        ctx.runOnContext(v -> store.create(SessionEnv.newSession("free-" + ctx.hashCode(), null,
            System.currentTimeMillis())).<Void>mapEmpty().onComplete(done));
        others.add(done.future());
      }
      // All of them answer while loop 0 is still blocked: the latch is released only afterwards.
      await(Future.all(others));
      assertThat(release.getCount()).isEqualTo(1);
    } finally {
      release.countDown();
    }
  }

  private static JsonObject msg(String text) {
    return new JsonObject().put("role", "user")
        .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", text)));
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
