package dev.mcps.stats;

import static dev.mcps.testing.TestServers.await;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.mcps.limits.HandClock;
import dev.mcps.session.CredentialCipher;
import dev.mcps.session.RedisSessionStore;
import dev.mcps.session.SessionCodec;
import dev.mcps.testing.CapturedLogs;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TcpProxy;
import dev.mcps.testing.TestServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Redis turn counts against a real redis-server, on hand-moved clocks: two instances count into the same minute
 * hashes, which redis-cli can read, and a Redis that does not answer costs a recording turn nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisTurnStatsTest {

  private static final String PREFIX = "stats-test:";
  /** 2026-01-01T00:00:00Z, a minute boundary. */
  private static final long START = 1_767_225_600_000L;

  private final Vertx vertx = Vertx.vertx();
  private final List<RedisSessionStore> stores = new ArrayList<>();
  private RedisServer redis;
  private TcpProxy proxy;

  @BeforeAll
  void startRedis() {
    redis = RedisServer.start();
    proxy = TcpProxy.to(redis.port());
  }

  @AfterEach
  void closeStores() {
    proxy.restore();
    stores.forEach(s -> await(s.close()));
    stores.clear();
    redis.flushAll();
  }

  @AfterAll
  void stopRedis() {
    await(vertx.close());
    proxy.close();
    redis.close();
  }

  /** {@code deadlineMillis}: the store's command deadline (its first connection's handshake gets half). */
  private RedisTurnStats stats(String redisUrl, HandClock clock, long deadlineMillis) {
    RedisSessionStore store = new RedisSessionStore(vertx, redisUrl, PREFIX, 60_000, 1000,
        new SessionCodec(CredentialCipher.withRandomKey()), deadlineMillis);
    stores.add(store);
    return new RedisTurnStats(store, PREFIX, clock, (millis, task) -> { });
  }

  /** Recording is fire and forget: waits until {@code count} turns in all have reached Redis. */
  private void awaitCounted(long count) {
    long[] seen = new long[1];
    try {
      TestServers.awaitCondition(() -> {
        long sum = 0;
        for (Object key : (List<?>) redis.call("KEYS", PREFIX + "stats:turns:*")) {
          for (Object v : (List<?>) redis.call("HVALS", (String) key)) {
            sum += Long.parseLong((String) v);
          }
        }
        seen[0] = sum;
        return sum == count;
      });
    } catch (AssertionError e) {
      throw new AssertionError("counted " + seen[0] + ", not " + count + ": " + redis.call("KEYS", "*"), e);
    }
  }

  @Test
  void twoInstancesCountIntoTheSameMinutesAndEitherReadsThemAll() {
    HandClock clock = new HandClock(START + 5_000);
    RedisTurnStats a = stats(redis.url(), clock, 5_000);
    RedisTurnStats b = stats(redis.url(), clock, 5_000);

    a.record(false);
    b.record(true);
    awaitCounted(2);
    clock.advance(60_000);
    b.record(false);
    awaitCounted(3);

    List<TurnStats.Minute> fromA = await(a.lastMinutes(3)).minutes();
    assertThat(fromA).containsExactly(
        new TurnStats.Minute(START - 60_000, 0, 0),
        new TurnStats.Minute(START, 2, 1),
        new TurnStats.Minute(START + 60_000, 1, 0));
    assertThat(await(b.lastMinutes(3)).minutes()).isEqualTo(fromA);
  }

  @Test
  void twoInstancesSamplingOneMinuteKeepItsHighestActiveSessionCountAndAMinuteWithoutSamplesHasNone() {
    HandClock clock = new HandClock(START + 5_000);
    RedisTurnStats a = stats(redis.url(), clock, 5_000);
    RedisTurnStats b = stats(redis.url(), clock, 5_000);
    String key = PREFIX + "stats:turns:" + (START / 60_000);

    a.recordActive(7);
    TestServers.awaitCondition(() -> "7".equals(redis.call("HGET", key, "active")));
    b.recordActive(12);
    TestServers.awaitCondition(() -> "12".equals(redis.call("HGET", key, "active")));
    a.recordActive(3);
    a.record(false);
    // One connection answers in order: once a's count is there, so is its lower sample before it.
    TestServers.awaitCondition(() -> "1".equals(redis.call("HGET", key, "ok")));

    assertThat(await(b.lastMinutes(2)).minutes()).containsExactly(
        new TurnStats.Minute(START - 60_000, 0, 0, null),
        new TurnStats.Minute(START, 1, 0, 12L));
    assertThat(redis.call("HGET", key, "active")).as("a lower sample later in the minute leaves the peak")
        .isEqualTo("12");
    assertThat((Long) redis.call("TTL", key)).isPositive().isLessThanOrEqualTo(RedisTurnStats.TTL_SECONDS);
  }

  @Test
  void aSilentRedisLosesActiveSessionSamplesWithoutWaitingAndTheNextOneIsKept() {
    HandClock clock = new HandClock(START);
    RedisTurnStats stats = stats(proxy.redisUrl(), clock, 500);
    TestServers.awaitCondition(() -> await(stats.lastMinutes(1).otherwiseEmpty()) != null);

    proxy.blackhole();
    try (CapturedLogs logs = CapturedLogs.start()) {
      long t0 = System.nanoTime();
      for (int i = 0; i < 20; i++) {
        stats.recordActive(100 + i);
      }
      assertThat((System.nanoTime() - t0) / 1_000_000).as("samples never wait for Redis").isLessThan(1_000);
      TestServers.awaitCondition(() -> !logs.matching(CapturedLogs.at(Level.WARN, RedisTurnStats.class)).isEmpty());
    }

    proxy.restore();
    clock.advance(60_000);
    TestServers.awaitCondition(() -> {
      stats.recordActive(5);
      TurnStats.Recent read = await(stats.lastMinutes(1).otherwiseEmpty());
      return read != null && Long.valueOf(5).equals(read.minutes().get(0).activeSessions());
    });
  }

  @Test
  void aMinuteIsAHashOfOkAndFailedThatExpiresOnItsOwn() {
    RedisTurnStats stats = stats(redis.url(), new HandClock(START), 5_000);

    stats.record(false);
    stats.record(false);
    stats.record(true);
    awaitCounted(3);

    String key = PREFIX + "stats:turns:" + (START / 60_000);
    assertThat(redis.call("TYPE", key)).isEqualTo("hash");
    assertThat(redis.call("HGETALL", key)).asList().containsExactlyInAnyOrder("ok", "2", "failed", "1");
    assertThat((Long) redis.call("TTL", key)).isPositive().isLessThanOrEqualTo(RedisTurnStats.TTL_SECONDS);
  }

  @Test
  void aSilentRedisCostsARecordingTurnNothingAndReadingFailsAtTheStoreDeadline() {
    RedisTurnStats stats = stats(proxy.redisUrl(), new HandClock(START), 500);
    // A cold JVM can miss the first handshake's 250 ms: the connection is up once a read has answered.
    TestServers.awaitCondition(() -> await(stats.lastMinutes(1).otherwiseEmpty()) != null);
    stats.record(false);
    awaitCounted(1);

    proxy.blackhole();
    Future<TurnStats.Recent> read;
    long took;
    try (CapturedLogs logs = CapturedLogs.start()) {
      long t0 = System.nanoTime();
      for (int i = 0; i < 50; i++) {
        stats.record(i % 2 == 0);
      }
      took = (System.nanoTime() - t0) / 1_000_000;
      long r0 = System.currentTimeMillis();
      read = stats.lastMinutes(5);
      Throwable failure = await(read.transform(ar -> Future.succeededFuture(ar.cause())));
      long readTook = System.currentTimeMillis() - r0;

      assertThat(took).as("50 recordings never wait for Redis").isLessThan(1_000);
      assertThat(failure).as("the read fails").isNotNull();
      assertThat(readTook).as("within the store's deadline (500 ms, one repeat), not hanging").isLessThan(3_000);
      TestServers.awaitCondition(() -> !logs.matching(CapturedLogs.at(Level.WARN, RedisTurnStats.class)).isEmpty());
      assertThat(logs.matching(CapturedLogs.at(Level.WARN, RedisTurnStats.class))).as("one line for the burst")
          .hasSize(1);
    }

    proxy.restore();
    TestServers.awaitCondition(() -> {
      stats.record(false);
      return await(stats.lastMinutes(1).otherwiseEmpty()) != null;
    });
    assertThat(await(stats.lastMinutes(1)).minutes().get(0).turns()).as("the lost counts stay lost")
        .isGreaterThanOrEqualTo(2).isLessThan(51);
  }
}
