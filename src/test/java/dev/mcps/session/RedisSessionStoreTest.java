package dev.mcps.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.mcps.testing.RedisServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The shared contract against a real Redis, plus what only Redis has: key layout, TTLs, scripts, several instances. */
class RedisSessionStoreTest extends SessionStoreContract {

  private static final String PREFIX = "mcps:";
  private static RedisServer redis;

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  @BeforeEach
  void emptyRedis() {
    redis.flushAll();
  }

  /** Stores built here beside the contract's {@code store(..)}; closed before the contract closes Vert.x. */
  private final List<SessionStore> extraStores = new ArrayList<>();

  @AfterEach
  void closeExtraStores() throws Exception {
    for (SessionStore s : extraStores) {
      await(s.close());
    }
    extraStores.clear();
  }

  @Override
  protected SessionStore newStore(Vertx vertx, long idleTimeoutMillis, int maxSessions) {
    return new RedisSessionStore(vertx, redis.url(), PREFIX, 8, idleTimeoutMillis, maxSessions, codec);
  }

  private SessionStore storeOn(RedisServer server, String prefix, long idleTimeoutMillis, int maxSessions) {
    return new RedisSessionStore(vertx, server.url(), prefix, 8, idleTimeoutMillis, maxSessions, codec);
  }

  private SessionStore track(SessionStore store) {
    extraStores.add(store);
    return store;
  }

  @Test
  void keysAreLaidOutAsDesignedAndExpireWithTheIdleTimeout() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = await(store.getOrCreateForUser(SessionEnv.newSession("kim", "pl-kim", now()))).session().sessionId();
    await(store.update(id, s -> s.setJiraCredentials(
        new JiraCredentials("https://kim.atlassian.net", "kim@example.com", "kims-SECRET-token"))));
    await(store.appendHistory(id, List.of(msg("user", "hello"))));

    String sessionKey = PREFIX + "session:" + id;
    String historyKey = sessionKey + ":history";
    String userKey = PREFIX + "user:kim";
    for (String key : List.of(sessionKey, historyKey, userKey)) {
      assertThat((Long) redis.call("PTTL", key)).as("TTL of " + key).isPositive().isLessThanOrEqualTo(LONG_TIMEOUT);
    }
    assertThat(redis.call("GET", userKey)).isEqualTo(id);
    assertThat(redis.call("TYPE", historyKey)).isEqualTo("list");
    assertThat(redis.call("LRANGE", historyKey, "0", "-1")).isEqualTo(List.of(msg("user", "hello").encode()));
    double score = Double.parseDouble((String) redis.call("ZSCORE", PREFIX + "sessions", id));
    assertThat((long) score).isCloseTo(now(), within(10_000L));

    String stored = (String) redis.call("GET", sessionKey);
    JsonObject json = new JsonObject(stored);
    assertThat(stored).doesNotContain("kims-SECRET-token").doesNotContain("kim@example.com");
    assertThat(json.getString("jiraCredentials")).startsWith("v1:");
    assertThat(json.getString("userId")).isEqualTo("kim");
    assertThat(json.getLong("version")).isEqualTo(1L);
    assertThat(json.containsKey("lastAccessTime")).as("the access time is the sorted-set score").isFalse();
    assertThat(await(store.get(id)).jiraCredentials().apiToken()).isEqualTo("kims-SECRET-token");
  }

  @Test
  void aSessionsRecentTurnIdsLiveBesideItWithItsTtlAndGoWithIt() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = await(store.create(SessionEnv.newSession("tina", null, now()))).session().sessionId();
    await(store.appendTurn(id, "turn-a", 0, List.of(msg("user", "hello"))));
    String turnsKey = PREFIX + "session:" + id + ":turns";

    assertThat((Long) redis.call("PTTL", turnsKey)).isPositive().isLessThanOrEqualTo(LONG_TIMEOUT);
    assertThat(redis.call("LRANGE", turnsKey, "0", "-1")).isEqualTo(List.of("turn-a 1"));

    await(store.delete(id));
    assertThat(redis.call("EXISTS", turnsKey)).isEqualTo(0L);
  }

  @Test
  void aKeyPrefixKeepsTwoKeySpacesApart() throws Exception {
    SessionStore blue = track(new RedisSessionStore(vertx, redis.url(), "blue:", 2, LONG_TIMEOUT, 100, codec));
    SessionStore green = track(new RedisSessionStore(vertx, redis.url(), "green:", 2, LONG_TIMEOUT, 100, codec));
    String id = await(blue.create(SessionEnv.newSession("pat", null, now()))).session().sessionId();

    assertThat(redis.call("EXISTS", "blue:session:" + id)).isEqualTo(1L);
    assertThat(redis.call("GET", "blue:user:pat")).isEqualTo(id);
    assertThat(await(green.get(id))).isNull();
    assertThat(await(green.count())).isZero();
    assertThat(await(blue.count())).isEqualTo(1L);
  }

  @Test
  void operationsStillWorkAfterRedisForgetsItsScripts() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = await(store.create(SessionEnv.newSession("quinn", null, now()))).session().sessionId();

    redis.call("SCRIPT", "FLUSH");
    assertThat(await(store.get(id))).isNotNull();
    redis.call("SCRIPT", "FLUSH");
    assertThat(await(store.update(id, s -> s.notes().put("after", "flush"))).version()).isEqualTo(1);
    redis.call("SCRIPT", "FLUSH");
    assertThat(await(store.appendHistory(id, List.of(msg("user", "still here"))))).isEqualTo(1);
    redis.call("SCRIPT", "FLUSH");
    assertThat(await(store.create(SessionEnv.newSession("rose", null, now()))).created()).isTrue();
    assertThat(await(store.list(0, 10)).totalCount()).isEqualTo(2);
  }

  @Test
  void acknowledgedSessionsSurviveARedisRestart() throws Exception {
    try (RedisServer durable = RedisServer.startPersistent()) {
      SessionStore store = track(storeOn(durable, PREFIX, LONG_TIMEOUT, 100));
      String id = await(store.getOrCreateForUser(SessionEnv.newSession("sam", null, now()))).session().sessionId();
      await(store.update(id, s -> s.notes().put("kept", true)));
      await(store.appendHistory(id, List.of(msg("user", "before the restart"))));

      durable.restart();

      // The pool reconnects by itself; the restarted server has no scripts until EVAL loads them again.
      SessionEnv after = await(store.get(id));
      assertThat(after.notes().getBoolean("kept")).isTrue();
      assertThat(await(store.history(id))).containsExactly(msg("user", "before the restart"));
      assertThat(await(store.getOrCreateForUser(SessionEnv.newSession("sam", null, now()))).created()).isFalse();
    }
  }

  @Test
  void aStoppedRedisFailsRequestsFast() throws Exception {
    RedisServer doomed = RedisServer.start();
    try {
      SessionStore store = track(storeOn(doomed, PREFIX, LONG_TIMEOUT, 100));
      await(store.ping());
      doomed.stop();

      long t0 = System.currentTimeMillis();
      assertThatThrownBy(() -> await(store.ping())).isInstanceOf(ExecutionException.class);
      assertThatThrownBy(() -> await(store.get(SessionEnv.randomId()))).isInstanceOf(ExecutionException.class);
      assertThat(System.currentTimeMillis() - t0).isLessThan(5_000);
    } finally {
      doomed.close();
    }
  }

  @Test
  void updatesFromTwoInstancesOnOneSessionLoseNothing() throws Exception {
    SessionStore a = store(LONG_TIMEOUT, 100);
    SessionStore b = store(LONG_TIMEOUT, 100);
    String id = await(a.create(SessionEnv.newSession("tess", null, now()))).session().sessionId();

    // Each instance serializes its own updates; only the version check keeps the two from overwriting each other.
    concurrently(200, i -> (i % 2 == 0 ? a : b).update(id, s -> s.notes().put("k" + i, i)));

    SessionEnv after = await(b.get(id));
    assertThat(after.notes().size()).isEqualTo(200);
    assertThat(after.version()).isEqualTo(200);
  }

  @Test
  void twoInstancesResolvingOneUserAtOnceAgreeOnOneSession() throws Exception {
    SessionStore a = store(LONG_TIMEOUT, 1000);
    SessionStore b = store(LONG_TIMEOUT, 1000);

    List<SessionEnv> got = concurrently(64, i -> (i % 2 == 0 ? a : b)
        .getOrCreateForUser(SessionEnv.newSession("uma", null, now())).map(SessionStore.Resolved::session));

    assertThat(got.stream().map(SessionEnv::sessionId).distinct()).hasSize(1);
    assertThat(redis.call("ZCARD", PREFIX + "sessions")).isEqualTo(1L);
  }

  @Test
  void evictionAtTheCapRemovesTheLeastRecentlyUsedSessionsKeys() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 5);
    String oldest = await(store.getOrCreateForUser(SessionEnv.newSession("victim", null, now()))).session().sessionId();
    await(store.appendHistory(oldest, List.of(msg("user", "soon gone"))));
    Thread.sleep(3);
    String touchedLater = await(store.create(SessionEnv.newSession("second", null, now()))).session().sessionId();
    Thread.sleep(3);
    for (int i = 0; i < 3; i++) {
      await(store.create(SessionEnv.newSession("filler-" + i, null, now())));
    }
    await(store.get(touchedLater));

    SessionStore.Resolved r = await(store.create(SessionEnv.newSession("newcomer", null, now())));

    assertThat(r.evicted()).containsExactly(new SessionStore.Removed(oldest, "victim"));
    assertThat(redis.call("EXISTS", PREFIX + "session:" + oldest, PREFIX + "session:" + oldest + ":history",
        PREFIX + "user:victim")).isEqualTo(0L);
    assertThat(redis.call("ZSCORE", PREFIX + "sessions", oldest)).isNull();
    assertThat(redis.call("EXISTS", PREFIX + "session:" + touchedLater)).isEqualTo(1L);
    assertThat(await(store.count())).isEqualTo(5L);
  }

  @Test
  void usingAnOlderSessionMakesItTheUsersCurrentOne() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String first = await(store.create(SessionEnv.newSession("vic", null, now()))).session().sessionId();
    String second = await(store.create(SessionEnv.newSession("vic", null, now()))).session().sessionId();
    assertThat(redis.call("GET", PREFIX + "user:vic")).isEqualTo(second);

    await(store.get(first));

    assertThat(redis.call("GET", PREFIX + "user:vic")).isEqualTo(first);
    assertThat(await(store.getOrCreateForUser(SessionEnv.newSession("vic", null, now()))).session().sessionId())
        .isEqualTo(first);
    // Deleting the other session leaves the user's pointer to the current one alone.
    assertThat(await(store.delete(second))).isEqualTo(new SessionStore.Removed(second, "vic"));
    assertThat(redis.call("GET", PREFIX + "user:vic")).isEqualTo(first);
  }

  @Test
  void largeNumbersInNotesAreStoredExactly() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = await(store.create(SessionEnv.newSession("walt", null, now()))).session().sessionId();

    await(store.update(id, s -> s.notes().put("big", Long.MAX_VALUE).put("small", 1)));
    await(store.update(id, s -> s.notes().put("small", 2)));

    SessionEnv after = await(store.get(id));
    assertThat(after.notes().getLong("big")).isEqualTo(Long.MAX_VALUE);
    assertThat((String) redis.call("GET", PREFIX + "session:" + id)).contains(String.valueOf(Long.MAX_VALUE));
  }

  @Test
  void theSweepDropsTrackedSessionsWhoseKeyWasDeletedByHand() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String kept = await(store.create(SessionEnv.newSession("xena", null, now()))).session().sessionId();
    String ghost = await(store.create(SessionEnv.newSession("yuri", null, now()))).session().sessionId();
    await(store.appendHistory(ghost, List.of(msg("user", "orphaned"))));
    redis.call("DEL", PREFIX + "session:" + ghost);

    SessionStore.Sweep sweep = await(store.sweep());

    assertThat(sweep.removed()).extracting(SessionStore.Removed::sessionId).containsExactly(ghost);
    assertThat(sweep.beforeCount()).isEqualTo(2);
    assertThat(sweep.afterCount()).isEqualTo(1);
    assertThat(redis.call("EXISTS", PREFIX + "session:" + ghost + ":history")).isEqualTo(0L);
    assertThat(await(store.get(kept))).isNotNull();
  }

  @Test
  void peekAndListDoNotTouchTheSession() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = await(store.create(SessionEnv.newSession("zoe", null, now()))).session().sessionId();
    String scoreBefore = (String) redis.call("ZSCORE", PREFIX + "sessions", id);
    Thread.sleep(5);

    SessionEnv peeked = await(store.peek(id));
    await(store.list(0, 10));

    assertThat(redis.call("ZSCORE", PREFIX + "sessions", id)).isEqualTo(scoreBefore);
    assertThat(peeked.lastAccessTime()).isEqualTo((long) Double.parseDouble(scoreBefore));
  }

  @Test
  void anMcpSessionIsReadableJsonUnderItsKeyWithItsTtlAndItsEventsAreACappedStream() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String json = new JsonObject().put("userSessionId", "u-9").put("streamOwner", "node-a").encode();
    await(store.putMcpSession("m-9", json, 30_000));
    for (int i = 0; i < 5; i++) {
      await(store.appendMcpEvent("m-9", "listen", "{\"n\":" + i + "}", 3, 20_000));
    }

    assertThat(redis.call("GET", PREFIX + "mcp:m-9")).isEqualTo(json);
    assertThat((Long) redis.call("PTTL", PREFIX + "mcp:m-9")).isPositive().isLessThanOrEqualTo(30_000L);
    assertThat(redis.call("TYPE", PREFIX + "mcp:m-9:events")).isEqualTo("stream");
    assertThat(redis.call("XLEN", PREFIX + "mcp:m-9:events")).isEqualTo(3L);
    assertThat((Long) redis.call("PTTL", PREFIX + "mcp:m-9:events")).isPositive().isLessThanOrEqualTo(20_000L);
  }
}
