package dev.mcps.mcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpError;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class RedisMcpServerTest extends McpServerContract {

  private RedisServer redis;

  @Override
  protected Map<String, String> storeEnv() {
    if (redis == null) {
      redis = RedisServer.start();
    }
    return TestServers.redis(redis, "REDIS_KEY_PREFIX", "m" + UUID.randomUUID().toString().substring(0, 8) + ":");
  }

  @AfterAll
  void stopRedis() {
    if (redis != null) {
      redis.stop();
    }
  }

  @Test
  void afterRedisLosesItsDataAStreamableSessionAnswers404FromThenOn() throws Exception {
    HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String user = "lost-" + UUID.randomUUID().toString().substring(0, 8);
    HttpResponse<String> init = raw.send(initialize(base(), Map.of("X-User-Id", user)),
        HttpResponse.BodyHandlers.ofString());
    String mcpSession = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
    String sibling = raw.send(initialize(base(), Map.of("X-User-Id", user)), HttpResponse.BodyHandlers.ofString())
        .headers().firstValue("Mcp-Session-Id").orElseThrow();
    assertThat(raw.send(toolsCall(mcpSession, 2), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

    redis.flushAll();

    HttpResponse<String> found = raw.send(toolsCall(mcpSession, 3), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> after = raw.send(toolsCall(mcpSession, 4), HttpResponse.BodyHandlers.ofString());
    assertThat(found.statusCode()).as("the call that finds the session gone").isEqualTo(404);
    assertThat(new JsonObject(found.body()).getString("error")).isEqualTo("Mcp_Session_Not_Found");
    assertThat(after.statusCode()).as("every later request").isEqualTo(404);
    HttpRequest ping = HttpRequest.newBuilder(URI.create(base() + "/mcp")).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .header("Mcp-Session-Id", sibling)
        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}")).build();
    assertThat(raw.send(ping, HttpResponse.BodyHandlers.discarding()).statusCode())
        .as("another MCP session of the same lost user session, even for a request that needs no store")
        .isEqualTo(404);
  }

  @Test
  void afterRedisLosesItsDataTheSdkStreamableClientInitializesAgainIntoANewSession() {
    String user = "reinit-" + UUID.randomUUID().toString().substring(0, 8);
    McpSyncClient c = client(Kind.STREAMABLE, user);
    try {
      call(c, "notes_set", Map.of("key", "k", "value", "before"));
      String before = sessionOf(c);

      redis.flushAll();

      // The call that meets the 404 fails; the client drops its MCP session and initializes again by itself.
      assertThatThrownBy(() -> call(c, "notes_get", Map.of("key", "k")));
      String after = sessionOf(c);
      assertThat(after).isNotEqualTo(before);
      assertThat(text(call(c, "notes_set", Map.of("key", "k", "value", "after")))).doesNotContain("not found");
      assertThat(text(call(c, "notes_get", Map.of("key", "k")))).isEqualTo("\"after\"");
    } finally {
      c.closeGracefully();
    }
  }

  @Test
  void afterRedisLosesItsDataALegacySseStreamIsClosedAfterTellingTheClient() {
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      String user = "sse-lost-" + UUID.randomUUID().toString().substring(0, 8);
      HttpResponse<InputStream> stream = raw.send(HttpRequest.newBuilder(
          URI.create(base() + "/mcp/sse?userId=" + user)).build(), HttpResponse.BodyHandlers.ofInputStream());
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
        String endpoint = dataAfter(lines, "event: endpoint");
        post(raw, endpoint, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
            + "\"2024-11-05\",\"capabilities\":{},\"clientInfo\":{\"name\":\"raw\",\"version\":\"1\"}}}");
        assertThat(dataAfter(lines, "event: message")).contains("\"id\":1");
        post(raw, endpoint, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");

        redis.flushAll();
        post(raw, endpoint, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
            + "\"notes_get\",\"arguments\":{}}}");

        JsonObject answer = new JsonObject(dataAfter(lines, "event: message"));
        assertThat(answer.getJsonObject("error").getInteger("code")).isEqualTo(McpFeatures.SESSION_ENDED);
        // The stream then ends (a keep-alive comment may still come first); the timeout above guards the wait.
        assertThat(lines.lines().filter(l -> l.startsWith("data:")).toList()).as("nothing after the error").isEmpty();
        assertThat(post(raw, endpoint, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}")).isEqualTo(404);
      }
    });
  }

  @Test
  void afterRedisLosesItsDataTheSdkSseClientIsToldTheSessionEnded() {
    McpSyncClient c = client(Kind.SSE, "sse-sdk-" + UUID.randomUUID().toString().substring(0, 8));
    try {
      call(c, "notes_set", Map.of("key", "k", "value", "v"));
      redis.flushAll();
      assertThatThrownBy(() -> call(c, "notes_get", Map.of("key", "k")))
          .isInstanceOfSatisfying(McpError.class,
              e -> assertThat(e.getJsonRpcError().code()).isEqualTo(McpFeatures.SESSION_ENDED));
    } finally {
      c.closeGracefully();
    }
    McpSyncClient again = client(Kind.SSE, "sse-sdk-again");
    try {
      assertThat(sessionOf(again)).hasSize(32);
    } finally {
      again.closeGracefully();
    }
  }

  private HttpRequest toolsCall(String mcpSession, int id) {
    return HttpRequest.newBuilder(URI.create(base() + "/mcp")).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .header("Mcp-Session-Id", mcpSession)
        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\","
            + "\"params\":{\"name\":\"notes_get\",\"arguments\":{}}}")).build();
  }

  private int post(HttpClient raw, String path, String body) throws Exception {
    return raw.send(HttpRequest.newBuilder(URI.create(base() + path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private String base() {
    return "http://127.0.0.1:" + server.port();
  }
}
