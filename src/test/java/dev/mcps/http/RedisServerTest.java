package dev.mcps.http;

import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;

class RedisServerTest extends ServerContract {

  private RedisServer redis;

  @Override
  protected Map<String, String> storeEnv() {
    if (redis == null) {
      redis = RedisServer.start();
    }
    // A key space of its own per server, so the servers of this class never see each other's sessions.
    // The contract is about isolation on a healthy Redis, not deadlines (RedisFaultTurnsTest and the other fault tests
    // hold those): a roomy store deadline keeps 600 concurrent turns on a busy 2-core runner from a stray 503.
    return TestServers.redis(redis, "REDIS_KEY_PREFIX", "t" + UUID.randomUUID().toString().substring(0, 8) + ":",
        "STORE_TIMEOUT_MS", "15000");
  }

  @AfterAll
  void stopRedis() {
    if (redis != null) {
      redis.stop();
    }
  }
}
