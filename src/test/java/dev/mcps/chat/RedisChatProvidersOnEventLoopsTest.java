package dev.mcps.chat;

import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/** The provider contract on Redis with WORKER_VERTICLES=false: provider loops and Jira tools on event loops. */
class RedisChatProvidersOnEventLoopsTest extends ChatProvidersContract {

  private RedisServer redis;

  @Override
  protected Map<String, String> storeEnv() {
    redis = RedisServer.start();
    return TestServers.redis(redis, "WORKER_VERTICLES", "false");
  }

  @AfterAll
  void stopRedis() {
    redis.stop();
  }
}
