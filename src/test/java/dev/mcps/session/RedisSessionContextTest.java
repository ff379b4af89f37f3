package dev.mcps.session;

import dev.mcps.testing.RedisServer;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

class RedisSessionContextTest extends SessionContextContract {

  private static RedisServer redis;

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  @Override
  protected SessionStore newStore(Vertx vertx, SessionCodec codec) {
    redis.flushAll();
    return new RedisSessionStore(vertx, redis.url(), "mcps:", 16, 600_000, 10_000, codec);
  }
}
