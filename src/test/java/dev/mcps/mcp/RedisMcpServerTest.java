package dev.mcps.mcp;

import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;

class RedisMcpServerTest extends McpServerContract {

  private RedisServer redis;

  @Override
  protected Map<String, String> storeEnv() {
    if (redis == null) {
      redis = RedisServer.start();
    }
    return TestServers.redis(redis, "REDIS_KEY_PREFIX", "m" + UUID.randomUUID().toString().substring(0, 8) + ":");
  }

  @AfterAll
  void stopRedis() {
    if (redis != null) {
      redis.stop();
    }
  }
}
