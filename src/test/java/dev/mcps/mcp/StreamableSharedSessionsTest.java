package dev.mcps.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Streamable MCP sessions kept in Redis and served by another instance than the one that started them. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamableSharedSessionsTest {

  private static final String PREFIX = "mcps:";

  private RedisServer redis;
  private Server other;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  void start() {
    redis = RedisServer.start();
    other = TestServers.start(TestServers.redis(redis, "MCP_MAX_CONNECTIONS_PER_USER", "1"));
  }

  @AfterAll
  void stop() {
    TestServers.await(other.stop());
    redis.stop();
  }

  @Test
  void aGracefulStopKeepsTheStoredSessionsAndAnotherInstanceServesThem() throws Exception {
    Server first = TestServers.start(TestServers.redis(redis));
    String id = initialize(first, unique("stopper"));

    TestServers.await(first.stop());

    assertThat(redis.call("EXISTS", PREFIX + "mcp:" + id)).isEqualTo(1L);
    assertThat(post(other, id, "tools/list", null, 2).statusCode()).isEqualTo(200);
  }

  @Test
  void theLoggingLevelIsPartOfTheStoredSession() throws Exception {
    String id = initialize(other, unique("logger"));

    HttpResponse<String> set = post(other, id, "logging/setLevel", new JsonObject().put("level", "error"), 2);

    assertThat(set.statusCode()).isEqualTo(200);
    TestServers.awaitCondition(() -> "error".equals(
        new JsonObject((String) redis.call("GET", PREFIX + "mcp:" + id)).getString("loggingLevel")));
  }

  @Test
  void aRebuiltSessionCountsInItsUsersConnectionLimit() throws Exception {
    Server first = TestServers.start(TestServers.redis(redis));
    try {
      String user = unique("crowded");
      String a = initialize(first, user);
      String b = initialize(first, user);

      assertThat(post(other, a, "tools/list", null, 2).statusCode()).isEqualTo(200);
      HttpResponse<String> refused = post(other, b, "tools/list", null, 3);
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(new JsonObject(refused.body()).getString("error")).isEqualTo("Too_Many_Connections");
    } finally {
      TestServers.await(first.stop());
    }
  }

  @Test
  void aSessionWhoseUserSessionIsGoneIsNotRebuilt() throws Exception {
    Server first = TestServers.start(TestServers.redis(redis));
    try {
      String id = initialize(first, unique("orphan"));
      String userSession = new JsonObject((String) redis.call("GET", PREFIX + "mcp:" + id)).getString("userSessionId");
      redis.call("DEL", PREFIX + "session:" + userSession);

      assertThat(post(other, id, "tools/list", null, 2).statusCode()).isEqualTo(404);
    } finally {
      TestServers.await(first.stop());
    }
  }

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String base(Server s) {
    return "http://127.0.0.1:" + s.port();
  }

  private String initialize(Server s, String user) throws Exception {
    String body = new JsonObject().put("jsonrpc", "2.0").put("id", 1).put("method", "initialize")
        .put("params", new JsonObject().put("protocolVersion", "2025-06-18").put("capabilities", new JsonObject())
            .put("clientInfo", new JsonObject().put("name", "shared-test").put("version", "1"))).encode();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base(s) + "/mcp"))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream").header("X-User-Id", user)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.headers().firstValue("Mcp-Session-Id").orElseThrow();
  }

  private HttpResponse<String> post(Server s, String id, String method, JsonObject params, int requestId)
      throws Exception {
    JsonObject rpc = new JsonObject().put("jsonrpc", "2.0").put("id", requestId).put("method", method);
    if (params != null) {
      rpc.put("params", params);
    }
    return http.send(HttpRequest.newBuilder(URI.create(base(s) + "/mcp")).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .header("Mcp-Session-Id", id).header("MCP-Protocol-Version", "2025-06-18")
        .POST(HttpRequest.BodyPublishers.ofString(rpc.encode())).build(), HttpResponse.BodyHandlers.ofString());
  }
}
