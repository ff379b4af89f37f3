package dev.mcps.session;

import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

class SessionBusApiRedisTest extends SessionBusApiContract {

  private RedisServer redis;

  @Override
  protected Map<String, String> storeEnv() {
    redis = RedisServer.start();
    return TestServers.redis(redis);
  }

  @AfterAll
  void stopRedis() {
    if (redis != null) {
      redis.stop();
    }
  }
}
