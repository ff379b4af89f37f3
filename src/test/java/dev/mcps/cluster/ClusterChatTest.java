package dev.mcps.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestCluster;
import dev.mcps.testing.TestServers;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Three clustered instances on one Redis, reached in turn as a load balancer with no stickiness would: /chat is one
 * conversation wherever its turns land, and services with no HTTP use the server through the clustered event bus.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterChatTest {

  private TestCluster cluster;

  @BeforeAll
  void start() {
    cluster = TestCluster.chatting(3, Map.of());
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void everyInstanceReportsTheWholeClusterInHealth() {
    for (int i = 0; i < 3; i++) {
      JsonObject health = new Http(cluster.port(i)).get("/health").json();
      assertThat(health.getJsonObject("cluster").getBoolean("enabled")).isTrue();
      assertThat(health.getJsonObject("cluster").getInteger("members")).isEqualTo(3);
    }
  }

  @Test
  void turnsOneTwoThreeOnThreeInstancesMakeOneHistory() {
    String id = null;
    for (int i = 0; i < 3; i++) {
      JsonObject turn = new JsonObject().put("userId", "roaming").put("message", "turn " + (i + 1));
      Http.Response r = new Http(cluster.port(i)).post("/chat", turn);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.json().getString("response")).isEqualTo("answer to turn " + (i + 1));
      if (id == null) {
        id = r.json().getString("sessionId");
      }
      assertThat(r.json().getString("sessionId")).as("the same session on every instance").isEqualTo(id);
    }
    List<JsonObject> history = TestServers.await(cluster.get(2).sessions().history(id));
    assertThat(history).hasSize(12);
    for (int t = 0; t < 3; t++) {
      assertThat(text(history.get(t * 4))).isEqualTo("turn " + (t + 1));
      assertThat(text(history.get(t * 4 + 3))).isEqualTo("answer to turn " + (t + 1));
    }
  }

  @Test
  void concurrentTurnsOfOneSessionSpreadOverTheInstancesAreSerialized() throws Exception {
    String id = new Http(cluster.port(0)).post("/chat", new JsonObject().put("userId", "crowd").put("message", "t0"))
        .json().getString("sessionId");
    List<CompletableFuture<Http.Response>> calls = new ArrayList<>();
    for (int i = 1; i <= 12; i++) {
      calls.add(new Http(cluster.port(i % 3)).postAsync("/chat",
          new JsonObject().put("sessionId", id).put("message", "t" + i)));
    }
    for (CompletableFuture<Http.Response> c : calls) {
      assertThat(c.get(60, TimeUnit.SECONDS).status()).isEqualTo(200);
    }
    List<JsonObject> history = TestServers.await(cluster.get(1).sessions().history(id));
    assertThat(history).hasSize(13 * 4);
    for (int i = 0; i < history.size(); i += 4) {
      String asked = text(history.get(i));
      assertThat(history.get(i + 1).getJsonArray("content").getJsonObject(0).getString("type")).isEqualTo("tool_use");
      assertThat(history.get(i + 2).getJsonArray("content").getJsonObject(0).getString("type"))
          .isEqualTo("tool_result");
      assertThat(text(history.get(i + 3))).as("each turn's four messages stay together").isEqualTo("answer to " + asked);
    }
  }

  @Test
  void aServiceWithNoHttpJoinsTheClusterAndHoldsATurnThenListsTheSessions() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = BusClient.run(cluster.clientSettings(),
        BusClient.parse(new String[] {"--user", "bus-user", "--message", "hello from the bus"}),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isZero();
    JsonObject reply = new JsonObject(out.toString(StandardCharsets.UTF_8));
    assertThat(reply.getString("response")).isEqualTo("answer to hello from the bus");
    String sessionId = reply.getString("sessionId");
    JsonObject viaHttp = new Http(cluster.port(1)).get("/admin/sessions/" + sessionId, Http.admin()).json();
    assertThat(viaHttp.getString("userId")).isEqualTo("bus-user");
    assertThat(viaHttp.getInteger("historyLength")).isEqualTo(4);

    ByteArrayOutputStream listed = new ByteArrayOutputStream();
    int listStatus = BusClient.run(cluster.clientSettings(), BusClient.parse(new String[] {"--list-sessions"}),
        new PrintStream(listed, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(listStatus).as(err.toString(StandardCharsets.UTF_8)).isZero();
    JsonObject list = new JsonObject(listed.toString(StandardCharsets.UTF_8));
    assertThat(list.getJsonArray("sessions").stream().map(o -> ((JsonObject) o).getString("sessionId")))
        .contains(sessionId);
    assertThat(listed.toString(StandardCharsets.UTF_8)).doesNotContain("apiToken");
  }

  @Test
  void aBusClientFindingNoServerSaysSoAndExitsWithOne() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = BusClient.run(cluster.clientSettings(),
        BusClient.parse(new String[] {"--address", "mcps.nobody.home", "--body", "{}"}),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(status).isEqualTo(1);
    assertThat(new JsonObject(err.toString(StandardCharsets.UTF_8).trim()).getString("error")).isEqualTo("No_Handlers");
  }

  private static String text(JsonObject message) {
    return FakeAnthropic.textOf(message);
  }
}
