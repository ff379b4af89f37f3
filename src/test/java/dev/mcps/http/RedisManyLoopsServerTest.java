package dev.mcps.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.Http;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The reproduction, over HTTP: far more event loops than REDIS_POOL_SIZE, every turn answered. */
class RedisManyLoopsServerTest {

  private static final String KEY = "many-loops-anthropic-key";

  @Test
  void oneHundredEightyConcurrentTurnsOnThirtyTwoEventLoopsWithAPoolOfFourAllAnswer200() throws Exception {
    Vertx side = Vertx.vertx();
    try (RedisServer redis = RedisServer.start(); FakeAnthropic fake = FakeAnthropic.start(side, KEY)) {
      fake.script(r -> FakeAnthropic.message("end_turn", FakeAnthropic.text("fine")));
      Server server = TestServers.start(Map.of("STORE", "redis", "REDIS_URL", redis.url(), "REDIS_POOL_SIZE", "4",
          "HTTP_INSTANCES", "32", "STORE_TIMEOUT_MS", "5000", "ANTHROPIC_API_KEY", KEY,
          "ANTHROPIC_BASE_URL", fake.baseUrl()));
      try {
        Http http = new Http(server.port());
        List<CompletableFuture<Http.Response>> turns = new ArrayList<>();
        for (int i = 0; i < 180; i++) {
          turns.add(http.postAsync("/chat", new JsonObject().put("userId", "many-" + i).put("message", "hi " + i)));
        }
        List<Integer> statuses = new ArrayList<>();
        for (CompletableFuture<Http.Response> t : turns) {
          statuses.add(t.get(120, TimeUnit.SECONDS).status());
        }

        assertThat(statuses).containsOnly(200);
        assertThat(TestServers.await(server.sessions().count())).isEqualTo(180L);
      } finally {
        TestServers.await(server.stop());
      }
    } finally {
      TestServers.await(side.close());
    }
  }
}
