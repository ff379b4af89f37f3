package dev.mcps.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.SseStream;
import dev.mcps.testing.TestCluster;
import dev.mcps.testing.TestServers;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Streamable MCP on three clustered instances with no sticky routing: a session started on one instance is served by
 * every other, outlives the instance that started it, and its listening stream resumes anywhere with the events it
 * missed. The instance-killing test runs last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterStreamableMcpTest {

  private static final String PREFIX = "mcps:";

  private TestCluster cluster;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  void start() {
    cluster = TestCluster.withOwnRedis(3, Map.of("MCP_KEEP_ALIVE_SECONDS", "1"));
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void deletingASessionOnOneInstanceEndsItOnEveryInstance() throws Exception {
    String user = unique("deleter");
    String id = initialize(0, user);
    for (int i = 0; i < 3; i++) {
      assertThat(post(i, id, toolsList(2 + i), Map.of()).statusCode()).as("served by instance " + i).isEqualTo(200);
    }

    HttpResponse<String> deleted = http.send(request(1, id, Map.of()).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(deleted.statusCode()).isEqualTo(204);
    assertThat(cluster.redis().call("EXISTS", PREFIX + "mcp:" + id)).isEqualTo(0L);
    for (int i = 0; i < 3; i++) {
      int instance = i;
      TestServers.awaitCondition(() -> statusOf(instance, id, toolsList(10 + instance)) == 404);
    }
  }

  @Test
  @Order(2)
  void aForgedOrForeignSessionIdIsRefusedOnAnInstanceThatNeverHeldIt() throws Exception {
    String user = unique("owner");
    String id = initialize(0, user);

    assertThat(post(1, UUID.randomUUID().toString(), toolsList(2), Map.of()).statusCode()).isEqualTo(404);
    assertThat(post(1, "x".repeat(5000), toolsList(3), Map.of()).statusCode()).isEqualTo(404);
    assertThat(post(1, id, toolsList(4), Map.of("X-User-Id", unique("intruder"))).statusCode())
        .as("another user naming the session").isEqualTo(403);
    assertThat(post(2, id, toolsList(5), Map.of("X-User-Id", user)).statusCode()).as("its own user").isEqualTo(200);
    String stored = (String) cluster.redis().call("GET", PREFIX + "mcp:" + id);
    assertThat(new JsonObject(stored).getString("userId")).isEqualTo(user);
    assertThat(stored).doesNotContainIgnoringCase("token").doesNotContainIgnoringCase("secret");
  }

  @Test
  @Order(3)
  void aListeningStreamRefusesAGiantOrMalformedLastEventIdAndReplaysNothingForAnUnknownOne() throws Exception {
    String id = initialize(0, unique("resumer"));

    assertThat(http.send(listen(1, id, "listen/" + "9".repeat(5000)), HttpResponse.BodyHandlers.discarding())
        .statusCode()).isEqualTo(400);
    assertThat(http.send(listen(1, id, "not-an-id"), HttpResponse.BodyHandlers.discarding()).statusCode())
        .isEqualTo(400);
    try (SseStream stream = SseStream.open(http, listen(2, id, "listen/1-0"))) {
      assertThat(stream.status).isEqualTo(200);
      notify(1, id, "after-unknown");
      SseStream.Event e = stream.next();
      assertThat(e.data()).contains("after-unknown");
      assertThat(e.id()).startsWith("listen/");
    }
  }

  @Test
  @Order(10)
  void aSessionStartedOnOneInstanceGoesOnOnTheOthersAndItsListeningStreamResumesAfterThatInstanceDies()
      throws Exception {
    String user = unique("roamer");
    AtomicInteger target = new AtomicInteger(0);
    McpSyncClient client = sdkClient(target, user);
    String id = onlyMcpSessionOf(user);

    target.set(1);
    call(client, "notes_set", Map.of("key", "city", "value", "Lisbon"));
    target.set(2);
    assertThat(text(call(client, "notes_get", Map.of("key", "city")))).contains("Lisbon");
    assertThat(onlyMcpSessionOf(user)).as("the same Mcp-Session-Id on every instance").isEqualTo(id);

    // A listening stream on instance 0 (of a session of its own: the SDK client keeps reopening its own listening
    // stream wherever its requests go); notifications sent on instance 1 reach it over the bus.
    String listener = initialize(0, unique("listener"));
    SseStream onA = SseStream.open(http, listen(0, listener, null));
    assertThat(onA.status).isEqualTo(200);
    awaitOwner(listener, cluster.get(0).node().id());
    List<SseStream.Event> seen = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      notify(1, listener, "event-" + i);
      seen.add(onA.next());
    }
    assertThat(seen).extracting(e -> e.data()).allMatch(d -> d.contains("event-"));
    assertThat(seen.get(2).data()).contains("event-3");

    cluster.kill(0);
    onA.close();
    for (int i = 4; i <= 6; i++) {
      notify(1, listener, "event-" + i);
    }

    target.set(1);
    assertThat(text(call(client, "notes_get", Map.of("key", "city")))).as("the session outlives instance 0")
        .contains("Lisbon");
    assertThat(post(2, listener, toolsList(9), Map.of()).statusCode()).isEqualTo(200);
    try (SseStream onC = SseStream.open(http, listen(2, listener, seen.get(2).id()))) {
      assertThat(onC.status).isEqualTo(200);
      List<SseStream.Event> missed = List.of(onC.next(), onC.next(), onC.next());
      assertThat(missed).extracting(e -> progress(e.data())).containsExactly("event-4", "event-5", "event-6");
      notify(1, listener, "event-7");
      assertThat(progress(onC.next().data())).as("live again, routed to instance 2").isEqualTo("event-7");
      assertThat(onC.poll(300)).as("nothing twice").isNull();
    }
    client.closeGracefully();
  }

  // --- helpers ---

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String progress(String data) {
    return new JsonObject(data).getJsonObject("params").getString("message");
  }

  /** A notification sent by the server on instance {@code i}, as tools or resources would. */
  private void notify(int i, String id, String message) {
    cluster.get(i).mcp().streamable()
        .notifyClient(id, "notifications/message", Map.of("level", "info", "message", message))
        .block(Duration.ofSeconds(10));
  }

  private void awaitOwner(String id, String node) {
    TestServers.awaitCondition(() -> {
      Object json = cluster.redis().call("GET", PREFIX + "mcp:" + id);
      return json != null && node.equals(new JsonObject((String) json).getString("streamOwner"));
    });
  }

  private String onlyMcpSessionOf(String user) {
    @SuppressWarnings("unchecked")
    List<Object> keys = (List<Object>) cluster.redis().call("KEYS", PREFIX + "mcp:*");
    List<String> ids = new ArrayList<>();
    for (Object key : keys) {
      String k = (String) key;
      if (!k.endsWith(":events")) {
        Object json = cluster.redis().call("GET", k);
        if (json != null && user.equals(new JsonObject((String) json).getString("userId"))) {
          ids.add(k.substring((PREFIX + "mcp:").length()));
        }
      }
    }
    assertThat(ids).hasSize(1);
    return ids.get(0);
  }

  /** The SDK's own client, whose every request goes to the instance {@code target} names at that moment. */
  private McpSyncClient sdkClient(AtomicInteger target, String user) {
    HttpClientStreamableHttpTransport t = HttpClientStreamableHttpTransport.builder(base(0)).endpoint("/mcp")
        .httpRequestCustomizer((req, method, uri, body, ctx) -> {
          req.header("X-User-Id", user);
          req.uri(URI.create(base(target.get()) + uri.getRawPath()));
        })
        .build();
    McpSyncClient client = McpClient.sync(t).requestTimeout(Duration.ofSeconds(20)).build();
    client.initialize();
    return client;
  }

  private static McpSchema.CallToolResult call(McpSyncClient c, String tool, Map<String, Object> args) {
    return c.callTool(new McpSchema.CallToolRequest(tool, args));
  }

  private static String text(McpSchema.CallToolResult r) {
    return ((McpSchema.TextContent) r.content().get(0)).text();
  }

  private String base(int i) {
    return "http://127.0.0.1:" + cluster.port(i);
  }

  private String initialize(int i, String user) throws Exception {
    String body = new JsonObject().put("jsonrpc", "2.0").put("id", 1).put("method", "initialize")
        .put("params", new JsonObject().put("protocolVersion", "2025-06-18").put("capabilities", new JsonObject())
            .put("clientInfo", new JsonObject().put("name", "cluster-test").put("version", "1"))).encode();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base(i) + "/mcp"))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream").header("X-User-Id", user)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.headers().firstValue("Mcp-Session-Id").orElseThrow();
  }

  private HttpRequest.Builder request(int i, String id, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base(i) + "/mcp")).timeout(Duration.ofSeconds(10))
        .header("Accept", "application/json, text/event-stream").header("Mcp-Session-Id", id)
        .header("MCP-Protocol-Version", "2025-06-18");
    headers.forEach(b::header);
    return b;
  }

  private HttpResponse<String> post(int i, String id, String body, Map<String, String> headers) throws Exception {
    return http.send(request(i, id, headers).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private int statusOf(int i, String id, String body) {
    try {
      return post(i, id, body, Map.of()).statusCode();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String toolsList(int id) {
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/list\"}";
  }

  private HttpRequest listen(int i, String id, String lastEventId) {
    return SseStream.listening(base(i), id, lastEventId);
  }

}
