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
    return TestServers.redis(redis, "REDIS_KEY_PREFIX", "t" + UUID.randomUUID().toString().substring(0, 8) + ":");
  }

  @AfterAll
  void stopRedis() {
    if (redis != null) {
      redis.stop();
    }
  }
}
