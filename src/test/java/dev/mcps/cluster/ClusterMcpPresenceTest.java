package dev.mcps.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.session.SessionVerticle;
import dev.mcps.testing.Http;
import dev.mcps.testing.SseStream;
import dev.mcps.testing.TestCluster;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
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
 * The admin API's {@code hasMcpConnection} behind a load balancer: an MCP stream lives in the memory of the instance
 * that holds it, and every instance answers the operator the same, because each asks the others. A member that never
 * answers costs a list at most the store deadline. The silent member joins last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterMcpPresenceTest {

  private static final int STORE_TIMEOUT_MS = 1000;

  private TestCluster cluster;
  private Vertx silent;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  void start() {
    cluster = TestCluster.withOwnRedis(2, Map.of("STORE_TIMEOUT_MS", String.valueOf(STORE_TIMEOUT_MS)));
  }

  @AfterAll
  void stop() {
    if (silent != null) {
      TestServers.await(silent.close());
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** A legacy SSE stream of {@code user} held by instance {@code i}, its endpoint event already read. */
  private SseStream legacyStream(int i, String user) throws Exception {
    SseStream stream = SseStream.open(client, HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + cluster.port(i) + "/mcp/sse"))
        .header("Accept", "text/event-stream").header("X-User-Id", user).GET().build());
    assertThat(stream.status).isEqualTo(200);
    assertThat(stream.next().data()).contains("sessionId=");
    return stream;
  }

  private JsonObject listed(int i, String user) {
    Http.Response r = new Http(cluster.port(i)).get("/admin/sessions?limit=1000", Http.admin());
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonArray sessions = r.json().getJsonArray("sessions");
    for (int k = 0; k < sessions.size(); k++) {
      if (user.equals(sessions.getJsonObject(k).getString("userId"))) {
        return sessions.getJsonObject(k);
      }
    }
    return null;
  }

  private boolean detailSaysConnected(int i, String sessionId) {
    Http.Response r = new Http(cluster.port(i)).get("/admin/sessions/" + sessionId, Http.admin());
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json().getBoolean("hasMcpConnection");
  }

  @Test
  @Order(1)
  void aStreamHeldByOneInstanceShowsOnEveryInstancesListAndDetailAndNoLongerOnceItCloses() throws Exception {
    String user = "presence-" + UUID.randomUUID();
    String sessionId;
    try (SseStream stream = legacyStream(1, user)) {
      TestServers.awaitCondition(() -> listed(0, user) != null);
      sessionId = listed(0, user).getString("sessionId");

      assertThat(listed(0, user).getBoolean("hasMcpConnection")).as("asked of instance 0, held by 1").isTrue();
      assertThat(listed(1, user).getBoolean("hasMcpConnection")).as("asked of the holder").isTrue();
      assertThat(detailSaysConnected(0, sessionId)).isTrue();
      JsonObject overBus = TestServers.await(cluster.get(0).vertx().eventBus()
          .<JsonObject>request(SessionVerticle.GET_ADDRESS, new JsonObject().put("sessionId", sessionId))).body();
      assertThat(overBus.getBoolean("hasMcpConnection")).as("the bus API answers the same").isTrue();
    }

    TestServers.awaitCondition(() -> !listed(0, user).getBoolean("hasMcpConnection"));
    assertThat(listed(1, user).getBoolean("hasMcpConnection")).isFalse();
    assertThat(detailSaysConnected(0, sessionId)).isFalse();
  }

  @Test
  @Order(2)
  void aSessionWithoutAnyStreamIsNotConnectedAnywhere() {
    String user = "plain-" + UUID.randomUUID();
    Http.Response chat = new Http(cluster.port(0)).post("/chat", new JsonObject().put("userId", user)
        .put("message", "hello"));
    assertThat(chat.json().getString("sessionId")).as(chat.body()).isNotBlank();

    assertThat(listed(0, user).getBoolean("hasMcpConnection")).isFalse();
    assertThat(listed(1, user).getBoolean("hasMcpConnection")).isFalse();
  }

  @Test
  @Order(3)
  void aMalformedQuestionOnTheBusIsRefusedWith400AndNamesNoSession() {
    io.vertx.core.eventbus.EventBus bus = cluster.get(0).vertx().eventBus();
    String address = Node.address(McpPresence.ADDRESS, cluster.get(1).node().id());
    JsonArray tooMany = new JsonArray();
    for (int k = 0; k <= 1000; k++) {
      tooMany.add("s" + k);
    }
    for (Object body : new Object[] {"not json", new JsonObject(), new JsonObject().put("sessionIds", "x"),
        new JsonObject().put("sessionIds", tooMany)}) {
      Throwable refused = TestServers.await(bus.request(address, body)
          .transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause())));
      assertThat(refused).as(String.valueOf(body)).isInstanceOf(ReplyException.class);
      assertThat(((ReplyException) refused).failureCode()).isEqualTo(400);
    }
    JsonObject none = TestServers.await(bus.<JsonObject>request(address,
        new JsonObject().put("sessionIds", new JsonArray().add("no-such-session").add(7)))).body();
    assertThat(none.getJsonArray("sessionIds")).isEmpty();
  }

  @Test
  @Order(4)
  void aMemberThatNeverAnswersCostsTheListAtMostTheStoreDeadlineAndHidesNothingTheOthersHold() throws Exception {
    silent = TestServers.await(Vertx.builder()
        .withClusterManager(Hazelcast.clusterManager(cluster.clientSettings(), false)).buildClustered());
    String silentId = new Node(silent).id();
    TestServers.await(silent.eventBus().consumer(Node.address(McpPresence.ADDRESS, silentId), msg -> { })
        .completion());
    TestServers.awaitCondition(() -> cluster.get(0).node().otherServers().contains(silentId));
    ReplyException unanswered = (ReplyException) TestServers.await(cluster.get(0).vertx().eventBus()
        .request(Node.address(McpPresence.ADDRESS, silentId), new JsonObject(),
            new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(200))
        .transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause())));
    assertThat(unanswered).as("the member is there and silent").isNotNull();

    String user = "beside-silent-" + UUID.randomUUID();
    try (SseStream stream = legacyStream(1, user)) {
      TestServers.awaitCondition(() -> listed(0, user) != null);
      long t0 = System.currentTimeMillis();
      JsonObject item = listed(0, user);
      long took = System.currentTimeMillis() - t0;

      assertThat(item.getBoolean("hasMcpConnection")).isTrue();
      assertThat(took).as("one store deadline (1 s) for the silent member, not a hang").isLessThan(5_000);
    }
  }
}
