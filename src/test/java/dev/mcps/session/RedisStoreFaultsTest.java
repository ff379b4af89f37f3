package dev.mcps.session;

import static dev.mcps.testing.TestServers.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.ApiException;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TcpProxy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Redis store through a {@link TcpProxy} that delays, resets and swallows traffic, and across a Redis restart:
 * every call ends within its deadline, a failure leaves no lock and no doubled append behind, the answer (failure
 * included) arrives on the caller's session, and the next call after the fault works on a fresh connection.
 */
class RedisStoreFaultsTest {

  private static final long DEADLINE_MS = 300;
  private static final String PREFIX = "mcps:";

  private RedisServer redis;
  private TcpProxy proxy;
  private Vertx vertx;
  private final SessionCodec codec = new SessionCodec(CredentialCipher.withRandomKey());

  @BeforeEach
  void start() {
    redis = RedisServer.start();
    proxy = TcpProxy.to(redis.port());
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    await(vertx.close());
    proxy.close();
    redis.close();
  }

  /**
   * A store through the proxy, its connection already open and its scripts loaded: the faults must hit commands, not
   * a cold start (the first connection of a fresh JVM can take longer than a short deadline).
   */
  private RedisSessionStore store(long deadlineMs) {
    RedisSessionStore store = new RedisSessionStore(vertx, proxy.redisUrl(), PREFIX, 600_000, 1000, codec, deadlineMs);
    awaitCondition(() -> await(store.ping().transform(ar -> Future.succeededFuture(ar.succeeded()))));
    String warm = await(store.create(SessionEnv.newSession("warm-up", null, System.currentTimeMillis())))
        .session().sessionId();
    await(store.appendTurn(warm, "warm-up", 0, List.of()));
    await(store.storedTurn(warm, "warm-up"));
    await(store.appendHistory(warm, List.of()));
    await(store.update(warm, x -> x.notes().put("warm", true)));
    await(store.history(warm));
    await(store.unlock(warm, "none"));
    return store;
  }

  /** What the code after a store call saw: the call's outcome and the session in context at that point. */
  private record After<T>(T result, Throwable failure, SessionEnv session) {}

  /** Runs {@code call} inside {@code session} and reports what the next callback saw. */
  private <T> After<T> within(SessionEnv session, Supplier<Future<T>> call) {
    return await(SessionContext.runWith(vertx, session, () -> call.get()
        .transform(ar -> Future.succeededFuture(new After<>(ar.result(), ar.cause(), SessionContext.current())))));
  }

  private SessionEnv newSession(RedisSessionStore store, String user) {
    return await(store.create(SessionEnv.newSession(user, null, System.currentTimeMillis()))).session();
  }

  private static String historyKey(SessionEnv s) {
    return PREFIX + "session:" + s.sessionId() + ":history";
  }

  /**
   * Starts {@code append} with Redis's replies held back, and returns once the session's history has {@code length}
   * entries: the append has landed, its reply has not come.
   */
  private Future<Integer> landedButUnanswered(SessionEnv s, long length, Supplier<Future<Integer>> append) {
    proxy.delayReplies(60_000);
    Future<Integer> pending = append.get();
    awaitCondition(() -> redis.call("LLEN", historyKey(s)).equals(length));
    return pending;
  }

  @Test
  void aLockAttemptThatTimesOutLeavesNoLockAndTheFailureArrivesOnTheCallersSession() {
    RedisSessionStore store = store(DEADLINE_MS);
    Sessions sessions = new Sessions(vertx, store, DEADLINE_MS);
    SessionEnv s = newSession(store, "locker");
    String lockKey = PREFIX + "lock:" + s.sessionId();

    // Commands reach Redis at once; only their replies are late: the SET NX lands, its answer never comes in time.
    proxy.delayReplies(3_000);
    long t0 = System.currentTimeMillis();
    After<String> after = within(s, () -> sessions.lock(s.sessionId(), 60_000, 10_000));
    long took = System.currentTimeMillis() - t0;

    assertThat(after.failure()).isInstanceOf(ApiException.class);
    assertThat(((ApiException) after.failure()).status()).isEqualTo(503);
    assertThat(took).as("failed at the store deadline, not after the lock wait").isLessThan(3_000);
    assertThat(after.session()).isNotNull().extracting(SessionEnv::sessionId).isEqualTo(s.sessionId());
    // The SET landed; its release (with the token only this attempt knew) keeps trying and lands once Redis answers.
    proxy.restore();
    awaitCondition(() -> redis.call("EXISTS", lockKey).equals(0L));
    long t1 = System.currentTimeMillis();
    String token = await(sessions.lock(s.sessionId(), 60_000, 10_000));
    assertThat(token).isNotNull();
    assertThat(System.currentTimeMillis() - t1).as("no lock to wait for").isLessThan(2_000);
  }

  @Test
  void aLockThatArrivesAfterTheCallerGaveUpIsReleasedByTheCaller() {
    // The store waits long; the caller gives up early: the answer (a token) comes when nobody wants it any more.
    RedisSessionStore store = store(10_000);
    Sessions sessions = new Sessions(vertx, store, DEADLINE_MS);
    SessionEnv s = newSession(store, "late-lock");
    String lockKey = PREFIX + "lock:" + s.sessionId();

    proxy.delayReplies(1_500);
    After<String> after = within(s, () -> sessions.lock(s.sessionId(), 60_000, 10_000));

    assertThat(after.failure()).isInstanceOf(ApiException.class);
    assertThat(after.session().sessionId()).isEqualTo(s.sessionId());
    // The SET lands at once (only its answer is late), and the token it brings back is released on arrival.
    awaitCondition(() -> redis.call("EXISTS", lockKey).equals(1L));
    awaitCondition(() -> redis.call("EXISTS", lockKey).equals(0L));
  }

  @Test
  void anUnlockIssuedFromAFailureCallbackDuringAnOutageLandsOnceRedisAnswersAgain() {
    RedisSessionStore store = store(DEADLINE_MS);
    SessionEnv s = newSession(store, "unlocker");
    String lockKey = PREFIX + "lock:" + s.sessionId();
    String token = await(store.tryLock(s.sessionId(), 120_000));

    // The turn's store call fails in the outage, and its failure callback releases the lock, as AgentLoop does.
    proxy.blackhole();
    Future<Void> turn = store.history(s.sessionId()).transform(ar -> store.unlock(s.sessionId(), token));
    Throwable failed = awaitFailure(turn);
    assertThat(failed).isInstanceOf(RedisPipelines.RedisFault.class);
    assertThat(redis.call("EXISTS", lockKey)).as("Redis never heard the release").isEqualTo(1L);

    proxy.restore();
    // Well before the lock's own 120 s expiry: the release kept trying and landed.
    awaitCondition(() -> redis.call("EXISTS", lockKey).equals(0L));
  }

  @Test
  void anIdempotencyClaimReleasedDuringAnOutageIsGoneOnceRedisAnswersAgain() {
    RedisSessionStore store = store(DEADLINE_MS);
    String claimKey = PREFIX + "idem:releaser:key-1";
    String claim = "{\"state\":\"running\",\"claim\":\"c1\"}";
    assertThat(await(store.claimIdempotency("releaser:key-1", claim, 270_000))).as("claimed").isNull();

    // The turn failed in the outage and releases its claim: otherwise every retry of the request would wait for a
    // turn that never runs, for the claim's whole expiry.
    proxy.blackhole();
    assertThat(awaitFailure(store.releaseIdempotency("releaser:key-1", claim)))
        .isInstanceOf(RedisPipelines.RedisFault.class);
    assertThat(redis.call("EXISTS", claimKey)).as("Redis never heard the release").isEqualTo(1L);

    proxy.restore();
    awaitCondition(() -> redis.call("EXISTS", claimKey).equals(0L));
  }

  @Test
  void anIdempotencyClaimWhoseAnswerIsLostIsReleasedByItsHolder() {
    // A longer deadline: the test must see the claim land before the store gives up on it and releases it.
    RedisSessionStore store = store(3_000);
    String claimKey = PREFIX + "idem:claimer:key-2";
    String claim = "{\"state\":\"running\",\"claim\":\"c2\"}";
    // Redis knows the script before its replies stop (else the EVALSHA's NOSCRIPT answer is what gets delayed).
    assertThat(await(store.claimIdempotency("claimer:warm-up", claim, 1_000))).isNull();

    // The claim reaches Redis but its answer never comes back: the caller answers 503 and will not run the turn.
    proxy.delayReplies(60_000);
    Future<String> claimed = store.claimIdempotency("claimer:key-2", claim, 270_000);
    awaitCondition(() -> redis.call("EXISTS", claimKey).equals(1L));
    assertThat(awaitFailure(claimed)).isInstanceOf(RedisPipelines.RedisFault.class);

    proxy.restore();
    awaitCondition(() -> redis.call("EXISTS", claimKey).equals(0L));
  }

  @Test
  void anAppendWhoseReplyIsLostIsSettledOnAFreshConnectionAndLandsOnce() {
    // A longer deadline here: the test must see the append land and lift the delay before the first attempt gives up.
    RedisSessionStore store = store(3_000);
    SessionEnv s = newSession(store, "appender");

    Future<Integer> append = landedButUnanswered(s, 2, () -> SessionContext.runWith(vertx, s, () ->
        store.appendTurn(s.sessionId(), "turn-x", 0, List.of(msg("user", "q"), msg("assistant", "a")))));
    proxy.restore();

    assertThat(await(append)).isEqualTo(2);
    assertThat(redis.call("LRANGE", historyKey(s), "0", "-1"))
        .isEqualTo(List.of(msg("user", "q").encode(), msg("assistant", "a").encode()));
  }

  @Test
  void aConnectionResetMidAppendIsSettledByTheRepeatAndAPlainAppendIsNeverSentTwice() {
    RedisSessionStore store = store(10_000);
    SessionEnv s = newSession(store, "resetter");

    Future<Integer> turn = landedButUnanswered(s, 1, () -> SessionContext.runWith(vertx, s, () ->
        store.appendTurn(s.sessionId(), "turn-r", 0, List.of(msg("user", "r1")))));
    proxy.resetAll();
    proxy.restore();
    assertThat(await(turn)).as("the repeat found the turn landed").isEqualTo(1);

    Future<Integer> plain = landedButUnanswered(s, 2, () -> store.appendHistory(s.sessionId(),
        List.of(msg("user", "r2"))));
    proxy.resetAll();
    proxy.restore();
    Throwable failure = awaitFailure(plain);

    assertThat(failure).isInstanceOf(RedisPipelines.RedisFault.class);
    assertThat(redis.call("LRANGE", historyKey(s), "0", "-1"))
        .isEqualTo(List.of(msg("user", "r1").encode(), msg("user", "r2").encode()));
    assertThat(await(store.history(s.sessionId()))).hasSize(2);
  }

  @Test
  void aBlackholedRedisFailsCallsAtTheDeadlineOnTheCallersSessionAndTheNextCallAfterwardsWorks() {
    RedisSessionStore store = store(DEADLINE_MS);
    Sessions sessions = new Sessions(vertx, store, DEADLINE_MS);
    SessionEnv s = newSession(store, "hole");

    proxy.blackhole();
    long t0 = System.currentTimeMillis();
    After<SessionEnv> direct = within(s, () -> store.get(s.sessionId()));
    After<List<JsonObject>> guarded = within(s, () -> sessions.history(s.sessionId()));
    After<SessionEnv> update = within(s, () -> store.update(s.sessionId(), x -> x.notes().put("k", 1)));
    After<Integer> stored = within(s, () -> sessions.storedTurn(s.sessionId(), "turn-k"));

    assertThat(System.currentTimeMillis() - t0).isLessThan(12_000);
    assertThat(stored.failure()).as("a retry's look for its landed turn is a 503, never a hang")
        .isInstanceOf(ApiException.class);
    assertThat(direct.failure()).isInstanceOf(RedisPipelines.RedisFault.class);
    assertThat(guarded.failure()).isInstanceOf(ApiException.class);
    assertThat(update.failure()).isNotNull();
    for (After<?> a : List.of(direct, guarded, update, stored)) {
      assertThat(a.session()).as("the session after a timeout").isNotNull()
          .extracting(SessionEnv::sessionId).isEqualTo(s.sessionId());
    }

    proxy.restore();
    After<SessionEnv> again = within(s, () -> store.get(s.sessionId()));
    assertThat(again.failure()).isNull();
    assertThat(again.result().sessionId()).isEqualTo(s.sessionId());
    assertThat(again.session().sessionId()).isEqualTo(s.sessionId());
    assertThat(within(s, () -> sessions.storedTurn(s.sessionId(), "turn-k")).failure()).isNull();
  }

  @Test
  void aResetOfEveryConnectionCostsNoReadItsAnswerAndLeavesTheSessionInContext() {
    RedisSessionStore store = store(DEADLINE_MS);
    SessionEnv s = newSession(store, "reset-reader");
    await(store.appendHistory(s.sessionId(), List.of(msg("user", "kept"))));

    // A connection that died while idle is found out by the next command, which then goes to a fresh one.
    proxy.resetAll();
    After<List<JsonObject>> read = within(s, () -> store.history(s.sessionId()));

    assertThat(read.failure()).isNull();
    assertThat(read.result()).containsExactly(msg("user", "kept"));
    assertThat(read.session().sessionId()).isEqualTo(s.sessionId());
  }

  @Test
  void afterRedisRestartsEmptyTheNextCallsWorkAtOnceAndFindTheSessionGone() {
    RedisSessionStore store = store(DEADLINE_MS);
    Sessions sessions = new Sessions(vertx, store, DEADLINE_MS);
    SessionEnv s = newSession(store, "amnesia");
    await(sessions.lock(s.sessionId(), 60_000, 1_000));

    redis.restart();

    long t0 = System.currentTimeMillis();
    After<SessionEnv> find = within(s, () -> sessions.find(s.sessionId()));
    SessionEnv fresh = await(sessions.forUser("amnesia", null));
    String token = await(sessions.lock(fresh.sessionId(), 60_000, 1_000));

    assertThat(find.failure()).isNull();
    assertThat(find.result()).as("lost with Redis's data").isNull();
    assertThat(find.session().sessionId()).isEqualTo(s.sessionId());
    assertThat(fresh.sessionId()).isNotEqualTo(s.sessionId());
    assertThat(token).isNotNull();
    assertThat(System.currentTimeMillis() - t0).isLessThan(5_000);
  }

  @Test
  void whileOneFaultLastsEveryCallEndsWithinItsDeadlineAndTheOutageIsAFewLogLinesNotOnePerCall() {
    RedisSessionStore store = store(DEADLINE_MS);
    Sessions sessions = new Sessions(vertx, store, DEADLINE_MS);
    SessionEnv s = newSession(store, "many");
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.mcps");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    logger.addAppender(lines);

    proxy.blackhole();
    List<Future<SessionEnv>> calls = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 200; i++) {
        calls.add(sessions.find(s.sessionId()));
      }
      Future<?> all = Future.join(calls);
      await(all.transform(ar -> Future.succeededFuture()));
    } finally {
      logger.detachAppender(lines);
    }
    assertThat(calls).allMatch(Future::failed);
    // One line per kind of failure (the first of each burst); the counts follow at the end of the 10 s window.
    assertThat(lines.list).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN).hasSizeLessThan(10);

    proxy.restore();
    assertThat(await(sessions.find(s.sessionId())).sessionId()).isEqualTo(s.sessionId());
  }

  // --- helpers ---

  private static JsonObject msg(String role, String text) {
    return new JsonObject().put("role", role)
        .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", text)));
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static Throwable awaitFailure(Future<?> f) {
    return await(f.transform(ar -> Future.succeededFuture(ar.cause())));
  }
}
