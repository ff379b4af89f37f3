package dev.mcps.limits;

import static dev.mcps.testing.TestServers.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.session.CredentialCipher;
import dev.mcps.session.RedisSessionStore;
import dev.mcps.session.SessionCodec;
import dev.mcps.testing.RedisServer;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The Redis limiter on a real redis-server: the same contract, and state that an operator finds and that lapses. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisUserLimiterTest extends UserLimiterContract {

  private static final String PREFIX = "lim:";

  private RedisServer redis;
  private Vertx vertx;
  private final List<RedisSessionStore> stores = new ArrayList<>();

  @BeforeAll
  void startRedis() {
    redis = RedisServer.start();
    vertx = Vertx.vertx();
  }

  @AfterEach
  void closeStores() {
    stores.forEach(s -> await(s.close()));
    stores.clear();
  }

  @AfterAll
  void stopRedis() {
    await(vertx.close());
    redis.close();
  }

  private RedisSessionStore store() {
    RedisSessionStore store = new RedisSessionStore(vertx, redis.url(), PREFIX, 60_000, 1000,
        new SessionCodec(CredentialCipher.withRandomKey()), 2_000);
    stores.add(store);
    return store;
  }

  @Override
  protected RedisUserLimiter limiter(int ratePerMinute, int maxTurns) {
    return new RedisUserLimiter(store(), PREFIX, ratePerMinute, maxTurns, LEASE_MILLIS, clock);
  }

  @Test
  void twoInstancesOnOneRedisShareOneBucketAndOneSetOfSlots() {
    UserLimiter a = limiter(4, 1);
    UserLimiter b = limiter(4, 1);
    String who = subject();

    int allowed = 0;
    for (int i = 0; i < 8; i++) {
      if (await((i % 2 == 0 ? a : b).tryRequest(who)).allowed()) {
        allowed++;
      }
    }
    UserLimiter.Lease onA = await(a.tryStartTurn(who));
    UserLimiter.Lease onB = await(b.tryStartTurn(who));

    assertThat(allowed).isEqualTo(4);
    assertThat(onA.granted()).isTrue();
    assertThat(onB.granted()).isFalse();
  }

  @Test
  void theStateLivesUnderThePrefixAndExpiresOnItsOwn() {
    UserLimiter limiter = limiter(60, 2);
    await(limiter.tryRequest("user:ops"));
    await(limiter.tryStartTurn("user:ops"));

    Long bucketTtl = (Long) redis.call("PTTL", PREFIX + "ratelimit:user:ops");
    Long turnsTtl = (Long) redis.call("PTTL", PREFIX + "turns:user:ops");
    assertThat(redis.call("HGET", PREFIX + "ratelimit:user:ops", "u")).as("59 tokens of 60 000 units")
        .isEqualTo(String.valueOf(59 * 60_000L));
    assertThat(bucketTtl).as("gone once the bucket would be full again").isPositive().isLessThanOrEqualTo(2_000);
    assertThat(redis.call("ZCARD", PREFIX + "turns:user:ops")).isEqualTo(1L);
    assertThat(turnsTtl).as("gone with the last lease").isPositive().isLessThanOrEqualTo(LEASE_MILLIS);
  }

  @Test
  void aRedisThatRestartedWithoutTheScriptsIsAnsweredAllTheSame() {
    UserLimiter limiter = limiter(5, 1);
    await(limiter.tryRequest(subject()));

    redis.call("SCRIPT", "FLUSH");

    assertThat(await(limiter.tryRequest(subject())).allowed()).isTrue();
    assertThat(await(limiter.tryStartTurn(subject())).granted()).isTrue();
  }
}
