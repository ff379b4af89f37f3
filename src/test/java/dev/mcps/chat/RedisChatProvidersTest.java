package dev.mcps.chat;

import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

class RedisChatProvidersTest extends ChatProvidersContract {

  private RedisServer redis;

  @Override
  protected Map<String, String> storeEnv() {
    redis = RedisServer.start();
    return TestServers.redis(redis);
  }

  @AfterAll
  void stopRedis() {
    redis.stop();
  }
}
