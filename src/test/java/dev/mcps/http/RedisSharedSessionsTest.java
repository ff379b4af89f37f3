package dev.mcps.http;

import static dev.mcps.testing.Http.admin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.session.SessionEnv;
import dev.mcps.testing.Http;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Several instances on one Redis behave as one server; a Redis outage degrades fast and heals by itself. */
class RedisSharedSessionsTest {

  private RedisServer redis;
  private Server a;
  private Server b;

  @BeforeEach
  void start() {
    redis = RedisServer.startPersistent();
  }

  @AfterEach
  void stop() {
    for (Server s : new Server[] {a, b}) {
      if (s != null) {
        TestServers.await(s.stop());
      }
    }
    redis.stop();
  }

  @Test
  void twoInstancesOnOneRedisSeeTheSameSessionAndHistory() {
    a = TestServers.start(TestServers.redis(redis));
    b = TestServers.start(TestServers.redis(redis));
    Http onA = new Http(a.port());
    Http onB = new Http(b.port());

    JsonObject first = new JsonObject().put("userId", "shared-user").put("message", "hi")
        .put("jiraAuth", new JsonObject().put("baseUrl", "https://s.atlassian.net").put("email", "s@x.com")
            .put("apiToken", "shared-SECRET"))
        .put("history", new JsonArray().add(new JsonObject().put("role", "user").put("content", "from A")));
    String id = onA.post("/chat", first).json().getString("sessionId");

    JsonObject seenByB = onB.get("/admin/sessions/" + id, admin()).json();
    String idViaB = onB.post("/chat", new JsonObject().put("userId", "shared-user").put("message", "again"))
        .json().getString("sessionId");
    SessionEnv onBStore = TestServers.await(b.sessions().peek(id));
    List<JsonObject> history = TestServers.await(b.sessions().history(id));

    assertThat(seenByB.getString("userId")).isEqualTo("shared-user");
    assertThat(seenByB.getInteger("historyLength")).isEqualTo(1);
    assertThat(idViaB).isEqualTo(id);
    assertThat(onBStore.jiraCredentials().apiToken()).as("B decrypts what A encrypted").isEqualTo("shared-SECRET");
    assertThat(history.get(0).getJsonArray("content").getJsonObject(0).getString("text")).isEqualTo("from A");

    assertThat(onB.delete("/admin/sessions/" + id, admin()).status()).isEqualTo(204);
    assertThat(onA.get("/admin/sessions/" + id, admin()).status()).isEqualTo(404);
  }

  @Test
  void whenRedisStopsRequestsFailFastWith503AndTheServerRecoversWhenItReturns() throws Exception {
    a = TestServers.start(TestServers.redis(redis, "STORE_TIMEOUT_MS", "1000"));
    Http http = new Http(a.port());
    String id = http.post("/chat", new JsonObject().put("userId", "outage").put("message", "hi"))
        .json().getString("sessionId");

    redis.stop();

    long t0 = System.currentTimeMillis();
    Http.Response health = http.get("/health");
    Http.Response chat = http.post("/chat", new JsonObject().put("sessionId", id).put("message", "hi"));
    Http.Response admin = http.get("/admin/sessions", admin());
    long took = System.currentTimeMillis() - t0;

    assertThat(health.status()).isEqualTo(503);
    assertThat(health.json().getString("status")).isEqualTo("degraded");
    assertThat(health.json().getJsonObject("store").getString("status")).isEqualTo("down");
    assertThat(chat.status()).isEqualTo(503);
    assertThat(chat.json().getString("error")).isEqualTo("Store_Unavailable");
    assertThat(admin.status()).isEqualTo(503);
    assertThat(took).as("three requests answered without hanging").isLessThan(10_000);

    redis.restart();

    ServerContract.waitUntil(() -> http.get("/health").status() == 200);
    Http.Response again = http.post("/chat", new JsonObject().put("sessionId", id).put("message", "hi"));
    assertThat(again.json().getString("error")).as("the acknowledged session survived the restart")
        .isEqualTo("Provider_Not_Configured");
    assertThat(again.json().getString("sessionId")).isEqualTo(id);
  }
}
