package dev.mcps.stats;

import static dev.mcps.stats.AdminStatsTest.awayFromTheEndOfAMinute;
import static dev.mcps.stats.AdminStatsTest.currentMinute;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.Http;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TcpProxy;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * GET /admin/stats with STORE=redis: two instances on one real redis-server count into the same minutes, so either
 * shows both instances' turns; a third reaches the Redis through a {@link TcpProxy}, to show what a silent Redis does
 * to the stats (a prompt 503 like the other admin routes) and to the turns, and that the stats work again after it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisAdminStatsTest {

  private static final String KEY = "redis-stats-anthropic-key";
  private static final int STORE_TIMEOUT_MS = 500;

  private Vertx side;
  private FakeAnthropic fake;
  private RedisServer redis;
  private TcpProxy proxy;
  private Server a;
  private Server b;
  private Server proxied;

  @BeforeAll
  void start() {
    side = Vertx.vertx();
    fake = FakeAnthropic.start(side, KEY);
    redis = RedisServer.start();
    proxy = TcpProxy.to(redis.port());
    a = start(redis.url());
    b = start(redis.url());
    proxied = start(proxy.redisUrl());
  }

  private Server start(String redisUrl) {
    return TestServers.start(Map.of("STORE", "redis", "REDIS_URL", redisUrl,
        "STORE_TIMEOUT_MS", String.valueOf(STORE_TIMEOUT_MS), "ANTHROPIC_API_KEY", KEY,
        "ANTHROPIC_BASE_URL", fake.baseUrl()));
  }

  @BeforeEach
  void notAtTheEndOfAMinute() {
    awayFromTheEndOfAMinute();
  }

  @AfterEach
  void heal() {
    proxy.restore();
  }

  @AfterAll
  void stop() {
    for (Server s : List.of(proxied, b, a)) {
      TestServers.await(s.stop());
    }
    proxy.close();
    redis.close();
    fake.close();
    TestServers.await(side.close());
  }

  private static JsonObject stats(Server on) {
    Http.Response r = new Http(on.port()).get("/admin/stats?minutes=2", Http.admin());
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json();
  }

  private static Http.Response turn(Server on) {
    return new Http(on.port()).post("/chat", new JsonObject().put("userId", "stats-" + UUID.randomUUID())
        .put("message", "hello"));
  }

  private long currentKeyMinute() {
    return System.currentTimeMillis() / 60_000;
  }

  @Test
  void aTurnOnEachOfTwoInstancesShowsAsTwoOnEither() {
    long before = currentMinute(stats(a)).getLong("turns");

    assertThat(turn(a).status()).isEqualTo(200);
    assertThat(turn(b).status()).isEqualTo(200);

    // Counting is fire and forget: it reaches Redis just after the turn's answer.
    TestServers.awaitCondition(() -> currentMinute(stats(a)).getLong("turns") - before == 2);
    JsonObject onA = stats(a);
    JsonObject onB = stats(b);
    assertThat(onB.getJsonArray("minutes")).isEqualTo(onA.getJsonArray("minutes"));
    assertThat(onA.getString("store")).isEqualTo("redis");
    assertThat(onA.getLong("activeSessions")).isEqualTo(onB.getLong("activeSessions"))
        .isEqualTo((Long) redis.call("ZCARD", "mcps:sessions"));
  }

  @Test
  void everyInstanceShowsTheSamePeakOfActiveSessionsTheStoresCountInTheMinute() {
    assertThat(turn(a).status()).isEqualTo(200);
    assertThat(turn(b).status()).isEqualTo(200);
    long stored = (Long) redis.call("ZCARD", "mcps:sessions");

    TestServers.awaitCondition(() -> {
      Long sampled = currentMinute(stats(b)).getLong("activeSessions");
      return sampled != null && sampled >= stored;
    });
    String key = "mcps:stats:turns:" + currentKeyMinute();
    TestServers.awaitCondition(() -> currentMinute(stats(a)).equals(currentMinute(stats(b))));
    assertThat(Long.parseLong((String) redis.call("HGET", key, "active"))).as("redis-cli sees it too")
        .isGreaterThanOrEqualTo(stored);
  }

  @Test
  void aMinuteIsAHashAnOperatorCanReadWithAPlainRedisCommand() {
    long before = currentMinute(stats(a)).getLong("turns");
    assertThat(turn(a).status()).isEqualTo(200);
    TestServers.awaitCondition(() -> currentMinute(stats(a)).getLong("turns") > before);

    String key = "mcps:stats:turns:" + currentKeyMinute();
    assertThat(redis.call("TYPE", key)).isEqualTo("hash");
    assertThat(redis.call("HKEYS", key)).asList().contains("ok");
    assertThat(Long.parseLong((String) redis.call("HGET", key, "ok"))).isGreaterThanOrEqualTo(1);
    assertThat((Long) redis.call("TTL", key)).isPositive().isLessThanOrEqualTo(2 * 3600);
  }

  @Test
  void whileRedisIsSilentTheStatsAnswer503PromptlyLikeTheOtherAdminRoutesAndWorkAgainAfterwards() {
    Http http = new Http(proxied.port());
    assertThat(turn(proxied).status()).isEqualTo(200);
    stats(proxied);

    proxy.blackhole();
    long t0 = System.currentTimeMillis();
    Http.Response during = http.get("/admin/stats", Http.admin());
    long took = System.currentTimeMillis() - t0;
    Http.Response sessions = http.get("/admin/sessions", Http.admin());
    Http.Response search = http.get("/admin/sessions?q=stats-", Http.admin());
    Http.Response turn = turn(proxied);
    proxy.restore();

    assertThat(during.status()).as(during.body()).isEqualTo(503);
    assertThat(during.json().getString("error")).isEqualTo("Store_Unavailable");
    assertThat(took).as("answered at the store's deadline, not hanging").isLessThan(4L * STORE_TIMEOUT_MS + 1_000);
    assertThat(sessions.status()).isEqualTo(503);
    assertThat(during.body()).isEqualTo(sessions.body());
    assertThat(search.status()).as("a search reads the same store").isEqualTo(503);
    assertThat(search.body()).isEqualTo(sessions.body());
    assertThat(during.headers().firstValue("Retry-After")).isEqualTo(sessions.headers().firstValue("Retry-After"));
    // The sessions are in the same Redis: the turn cannot even find its session, and answers 503 itself.
    assertThat(turn.status()).isEqualTo(503);
    assertThat(turn.json().getString("error")).isEqualTo("Store_Unavailable");

    // The store replaces its dropped connections on its own; then the stats answer and count new turns again.
    TestServers.awaitCondition(() -> http.get("/admin/stats", Http.admin()).status() == 200);
    assertThat(http.get("/admin/sessions?q=stats-", Http.admin()).json().getJsonArray("sessions")).isNotEmpty();
    long before = currentMinute(stats(proxied)).getLong("turns");
    assertThat(turn(proxied).status()).isEqualTo(200);
    TestServers.awaitCondition(() -> currentMinute(stats(proxied)).getLong("turns") - before == 1);
    assertThat(currentMinute(stats(a)).getLong("turns")).as("shared with the other instances")
        .isEqualTo(currentMinute(stats(proxied)).getLong("turns"));
  }
}
