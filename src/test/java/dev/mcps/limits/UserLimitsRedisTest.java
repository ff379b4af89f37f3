package dev.mcps.limits;

import static dev.mcps.limits.UserLimitsTest.assertMcpRateLimited;
import static dev.mcps.limits.UserLimitsTest.assertRateLimited;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.mcps.Server;
import dev.mcps.config.ConfigLoader;
import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.ProviderReply;
import dev.mcps.testing.CapturedLogs;
import dev.mcps.testing.Http;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TcpProxy;
import dev.mcps.testing.TestServers;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The per-user limits with STORE=redis: two instances on one real redis-server share each user's bucket and turn
 * slots, and a third, reaching Redis through a {@link TcpProxy}, shows what a Redis fault does: the limits fail open
 * (one WARN per burst), requests that need the store answer 503 on their own, and once Redis answers again the next
 * request works and is limited again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UserLimitsRedisTest {

  private static final int RATE = 5;

  private final GatedProvider provider = new GatedProvider();
  private RedisServer redis;
  private TcpProxy proxy;
  private Server a;
  private Server b;
  private Server proxied;

  @BeforeAll
  void start() {
    redis = RedisServer.start();
    proxy = TcpProxy.to(redis.port());
    a = start(redis.url());
    b = start(redis.url());
    proxied = start(proxy.redisUrl());
  }

  private Server start(String redisUrl) {
    Map<String, String> env = new HashMap<>(Map.of("STORE", "redis", "REDIS_URL", redisUrl, "STORE_TIMEOUT_MS",
        "1000", "USER_RATE_LIMIT_PER_MINUTE", String.valueOf(RATE), "USER_MAX_CONCURRENT_TURNS", "1"));
    Map<String, LlmProvider> providers = Map.of("anthropic", provider.provider());
    return TestServers.await(Server.start(ConfigLoader.load(TestServers.env(env)), providers,
        Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC)));
  }

  @AfterEach
  void restore() {
    proxy.restore();
  }

  @AfterAll
  void stop() {
    TestServers.await(proxied.stop());
    TestServers.await(b.stop());
    TestServers.await(a.stop());
    proxy.close();
    redis.stop();
  }

  private static JsonObject chat(String user, String message) {
    return new JsonObject().put("userId", user).put("message", message);
  }

  @Test
  void oneUsersRequestsSpreadOverTwoInstancesDrawOnOneBucket() {
    String user = "roamer-" + UUID.randomUUID();
    Http onA = new Http(a.port());
    Http onB = new Http(b.port());
    Mcp mcpOnB = new Mcp(b.port());
    assertThat(onA.post("/chat", chat(user, "1 on A")).status()).isEqualTo(200);
    assertThat(onB.post("/chat", chat(user, "2 on B")).status()).isEqualTo(200);
    assertThat(mcpOnB.statelessToolsList(3, Map.of("X-User-Id", user)).statusCode()).isEqualTo(200);
    assertThat(onA.post("/chat", chat(user, "4 on A")).status()).isEqualTo(200);
    assertThat(onB.post("/chat", chat(user, "5 on B")).status()).isEqualTo(200);

    assertRateLimited(onA.post("/chat", chat(user, "6 on A")), UserLimitsTest.RATE_RETRY_AFTER);
    assertRateLimited(onB.post("/chat", chat(user, "7 on B")), UserLimitsTest.RATE_RETRY_AFTER);
    assertMcpRateLimited(mcpOnB.statelessToolsList(8, Map.of("X-User-Id", user)), 8);
    assertThat(onB.post("/chat", chat("other-" + UUID.randomUUID(), "unaffected")).status()).isEqualTo(200);

    assertThat((Long) redis.call("PTTL", "mcps:ratelimit:user:" + user)).as("the bucket lapses on its own")
        .isPositive().isLessThanOrEqualTo(61_000);
  }

  @Test
  void aTurnRunningOnOneInstanceHoldsTheUsersSlotOnTheOther() throws Exception {
    String user = "busy-" + UUID.randomUUID();
    Http onA = new Http(a.port());
    Http onB = new Http(b.port());
    CompletableFuture<Http.Response> held = onA.postAsync("/chat", chat(user, "hold on A"));
    Promise<ProviderReply> running = provider.nextHeld();

    Http.Response meanwhile = onB.post("/chat", chat(user, "on B meanwhile"));
    assertThat(redis.call("ZCARD", "mcps:turns:user:" + user)).isEqualTo(1L);
    running.complete(GatedProvider.reply("done"));
    assertThat(held.get(20, TimeUnit.SECONDS).status()).isEqualTo(200);

    assertRateLimited(meanwhile, "2");
    assertThat(onB.post("/chat", chat(user, "on B after")).status()).isEqualTo(200);
    TestServers.awaitCondition(() -> !Long.valueOf(1).equals(redis.call("EXISTS", "mcps:turns:user:" + user)));
  }

  @Test
  void aSilentRedisLetsRequestsThroughUnlimitedWithOneWarningAndTheNextRequestAfterItIsLimitedAgain() {
    String user = "fault-" + UUID.randomUUID();
    Http http = new Http(proxied.port());
    Mcp mcp = new Mcp(proxied.port());
    for (int i = 0; i < RATE; i++) {
      assertThat(mcp.statelessToolsList(i, Map.of("X-User-Id", user)).statusCode()).isEqualTo(200);
    }
    assertMcpRateLimited(mcp.statelessToolsList(10, Map.of("X-User-Id", user)), 10);

    try (CapturedLogs logs = CapturedLogs.start()) {
      proxy.blackhole();
      // tools/list needs no session: with the limits failing open it is served without Redis at all.
      int listed1 = mcp.statelessToolsList(11, Map.of("X-User-Id", user)).statusCode();
      int listed2 = mcp.statelessToolsList(12, Map.of("X-User-Id", user)).statusCode();
      Http.Response turn = http.post("/chat", chat(user, "during the fault"));

      assertThat(listed1).isEqualTo(200);
      assertThat(listed2).isEqualTo(200);
      assertThat(turn.status()).as("the session store answers for itself").isEqualTo(503);
      assertThat(turn.json().getString("error")).isEqualTo("Store_Unavailable");
      assertThat(logs.matching(CapturedLogs.at(Level.WARN, UserLimits.class))).as("one line for the burst")
          .hasSize(1);
    }

    proxy.restore();
    // The limits answer again at once: the user is still limited, and a user with tokens is served.
    assertMcpRateLimited(mcp.statelessToolsList(13, Map.of("X-User-Id", user)), 13);
    assertThat(mcp.statelessToolsList(14, Map.of("X-User-Id", "fresh-" + UUID.randomUUID())).statusCode())
        .isEqualTo(200);
    // The session store replaces its dropped connections on its own (RedisStoreFaultsTest); then turns run again.
    TestServers.awaitCondition(() -> http.post("/chat", chat("after-" + UUID.randomUUID(), "after the fault"))
        .status() == 200);
  }

  @Test
  void afterRedisResetsEveryConnectionTheNextRequestIsAnsweredAndLimited() {
    String user = "reset-" + UUID.randomUUID();
    Http http = new Http(proxied.port());
    assertThat(http.post("/chat", chat(user, "before")).status()).isEqualTo(200);

    proxy.resetAll();

    assertThat(http.post("/chat", chat(user, "right after")).status()).isEqualTo(200);
    // The request that met the reset may have gone through uncounted (failing open): one more token at most.
    int answered = 2;
    Http.Response r = http.post("/chat", chat(user, "then " + answered));
    while (r.status() == 200 && answered <= RATE + 1) {
      answered++;
      r = http.post("/chat", chat(user, "then " + answered));
    }
    assertRateLimited(r, UserLimitsTest.RATE_RETRY_AFTER);
    assertThat(answered).isBetween(RATE, RATE + 1);
  }
}
