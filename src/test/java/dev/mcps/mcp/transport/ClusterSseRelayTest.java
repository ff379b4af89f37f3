package dev.mcps.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.Http;
import dev.mcps.testing.TestCluster;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Legacy SSE behind a load balancer with no stickiness: three clustered instances on one Redis, the stream on one
 * of them, its POSTs landing anywhere.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterSseRelayTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private TestCluster cluster;

  /** A legacy SSE stream held by one instance, initialized; {@code path} is its message endpoint. */
  private record Stream(RawHttp sse, String path, String userId) {

    JsonObject answer(int id) {
      String data = sse.awaitLine(line -> line.startsWith("data: ") && line.contains("\"id\":" + id + ","), WAIT);
      assertThat(data).as("answer " + id + " on the stream").isNotNull();
      return new JsonObject(data.substring("data: ".length()));
    }
  }

  @BeforeAll
  void start() {
    // Eight HTTP verticles (and event loops) per instance, each with its own relay consumer: the forwarded POSTs of
    // one stream land on any of them and must still reach the one stream.
    cluster = TestCluster.withOwnRedis(3, Map.of("HTTP_INSTANCES", "8"));
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void aStreamOnOneInstanceGetsEveryAnswerWhileItsPostsLandOnTheOthers() {
    String user = "roamer-" + UUID.randomUUID();
    try (RawHttp sse = RawHttp.get(cluster.port(0), "/mcp/sse?userId=" + user)) {
      String path = endpointOf(sse);
      String transportId = path.substring(path.indexOf('=') + 1);
      assertThat(transportId).as("the transport id names the instance holding the stream")
          .startsWith(cluster.get(0).node().id() + ".");
      Http b = new Http(cluster.port(1));
      Http c = new Http(cluster.port(2));
      Stream stream = new Stream(sse, path, user);

      assertThat(b.post(path, Rpc.initialize(1, "2024-11-05")).status()).isEqualTo(202);
      assertThat(stream.answer(1).getJsonObject("result").getString("protocolVersion")).isEqualTo("2024-11-05");
      assertThat(c.post(path, Rpc.initialized()).status()).isEqualTo(202);

      assertThat(b.post(path, Rpc.request(2, "tools/list", new JsonObject())).status()).isEqualTo(202);
      JsonArray tools = stream.answer(2).getJsonObject("result").getJsonArray("tools");
      assertThat(tools.stream().map(t -> ((JsonObject) t).getString("name"))).contains("notes_set", "notes_get");

      assertThat(c.post(path, Rpc.request(3, "tools/call", new JsonObject().put("name", "notes_set")
          .put("arguments", new JsonObject().put("key", "where").put("value", "set via C")))).status())
          .isEqualTo(202);
      assertThat(stream.answer(3).getJsonObject("result").getBoolean("isError", false)).isFalse();
      assertThat(b.post(path, Rpc.request(4, "tools/call", new JsonObject().put("name", "notes_get")
          .put("arguments", new JsonObject()))).status()).isEqualTo(202);
      assertThat(stream.answer(4).encode()).contains("set via C");
      // The stream's own instance still answers its POSTs locally.
      assertThat(new Http(cluster.port(0)).post(path, Rpc.ping(5)).status()).isEqualTo(202);
      assertThat(stream.answer(5).getJsonObject("result")).isNotNull();
    }
  }

  @Test
  @Order(2)
  void aForwardedPostIsRefusedByTheStreamsOwnerWithTheStatusALocalOneWouldGet() {
    String user = "owner-" + UUID.randomUUID();
    try (RawHttp sse = RawHttp.get(cluster.port(0), "/mcp/sse?userId=" + user)) {
      String path = endpointOf(sse);
      Http b = new Http(cluster.port(1));

      Http.Response foreign = b.post(path, Rpc.ping(1), "X-User-Id", "mallory");
      assertThat(foreign.status()).isEqualTo(403);
      assertThat(foreign.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(foreign.json().getString("error")).isEqualTo("Session_Forbidden");
      assertThat(b.post(path, Rpc.ping(2), "X-User-Id", user).status()).as("its own user is admitted")
          .isEqualTo(202);

      Http.Response notJson = b.post(path, "{not json");
      assertThat(notJson.status()).isEqualTo(400);
      assertThat(notJson.json().getJsonObject("error").getInteger("code")).isEqualTo(-32700);

      String unknown = "/mcp/message?sessionId=" + cluster.get(0).node().id() + "." + "0".repeat(32);
      Http.Response gone = b.post(unknown, Rpc.ping(3));
      assertThat(gone.status()).isEqualTo(404);
      assertThat(gone.json().getString("error")).isEqualTo("Mcp_Session_Not_Found");
    }
  }

  @Test
  @Order(3)
  void aSessionDeletedOnAnotherInstanceEndsItsLegacyAndStreamableStreamsWhereTheyAre() {
    String user = "deleted-" + UUID.randomUUID();
    Http a = new Http(cluster.port(0));
    try (RawHttp sse = RawHttp.get(cluster.port(0), "/mcp/sse?userId=" + user)) {
      String path = endpointOf(sse);
      String sessionId = sessionOf(user);
      Http.Response init = a.post("/mcp", Rpc.initialize(1, "2025-06-18"), "X-Session-Id", sessionId,
          "Accept", "application/json, text/event-stream");
      assertThat(init.status()).isEqualTo(200);
      String mcpSession = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
      try (RawHttp listening = RawHttp.get(cluster.port(0), "/mcp", "Mcp-Session-Id", mcpSession,
          "Accept", "text/event-stream", "MCP-Protocol-Version", "2025-06-18")) {
        assertThat(listening.status()).isEqualTo(200);

        assertThat(new Http(cluster.port(1)).delete("/admin/sessions/" + sessionId, Http.admin()).status())
            .isEqualTo(204);

        assertThat(sse.awaitEnd(WAIT)).as("the legacy SSE stream on the other instance ends").isTrue();
        assertThat(listening.awaitEnd(WAIT)).as("the Streamable stream on the other instance ends").isTrue();
        assertThat(new Http(cluster.port(2)).post(path, Rpc.ping(1)).status()).isEqualTo(404);
      }
    }
  }

  @Test
  @Order(4)
  void whenTheStreamsInstanceDiesItsPostsAre404AndTheUserSessionLivesOn() {
    String user = "survivor-" + UUID.randomUUID();
    RawHttp sse = RawHttp.get(cluster.port(0), "/mcp/sse?userId=" + user);
    String path = endpointOf(sse);
    String sessionId = sessionOf(user);

    cluster.kill(0);
    sse.close();

    Http b = new Http(cluster.port(1));
    Http.Response orphan = b.post(path, Rpc.ping(1));
    assertThat(orphan.status()).isEqualTo(404);
    assertThat(orphan.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(orphan.json().getString("error")).isEqualTo("Mcp_Session_Not_Found");
    assertThat(b.get("/admin/sessions/" + sessionId, Http.admin()).status()).isEqualTo(200);

    try (RawHttp again = RawHttp.get(cluster.port(2), "/mcp/sse?sessionId=" + sessionId)) {
      assertThat(again.status()).isEqualTo(200);
      String newPath = endpointOf(again);
      assertThat(b.post(newPath, Rpc.initialize(1, "2024-11-05")).status()).isEqualTo(202);
      assertThat(new Stream(again, newPath, user).answer(1).getJsonObject("result")).isNotNull();
    }
  }

  private String sessionOf(String user) {
    JsonArray sessions = new Http(cluster.port(1)).get("/admin/sessions", Http.admin()).json()
        .getJsonArray("sessions");
    return sessions.stream().map(JsonObject.class::cast).filter(s -> user.equals(s.getString("userId")))
        .map(s -> s.getString("sessionId")).findFirst().orElseThrow();
  }

  private static String endpointOf(RawHttp sse) {
    assertThat(sse.status()).isEqualTo(200);
    assertThat(sse.awaitLine("event: endpoint"::equals, WAIT)).isNotNull();
    String data = sse.awaitLine(line -> line.startsWith("data: "), WAIT);
    assertThat(data).startsWith("data: /mcp/message?sessionId=");
    return data.substring("data: ".length());
  }
}
