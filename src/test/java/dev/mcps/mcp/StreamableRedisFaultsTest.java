package dev.mcps.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.SseStream;
import dev.mcps.testing.TcpProxy;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Streamable MCP sessions shared through Redis while Redis does not answer: two instances on one Redis, the second
 * through a {@link TcpProxy} that swallows traffic. Lookups and replays fail fast with 503, a live stream goes on
 * without keeping its events, and everything works again once Redis answers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamableRedisFaultsTest {

  private RedisServer redis;
  private TcpProxy proxy;
  private Server direct;
  private Server proxied;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  void start() {
    redis = RedisServer.start();
    proxy = TcpProxy.to(redis.port());
    direct = TestServers.start(TestServers.redis(redis));
    proxied = TestServers.start(Map.of("STORE", "redis", "REDIS_URL", proxy.redisUrl(), "STORE_TIMEOUT_MS", "1000"));
  }

  @AfterEach
  void restore() {
    proxy.restore();
  }

  @AfterAll
  void stop() {
    TestServers.await(proxied.stop());
    TestServers.await(direct.stop());
    proxy.close();
    redis.stop();
  }

  @Test
  void aSessionLookupWhileRedisIsSilentAnswers503WithinTheDeadlineAndTheNextRequestAfterwardsWorks()
      throws Exception {
    String id = initialize(direct);

    proxy.blackhole();
    long started = System.nanoTime();
    HttpResponse<String> during = post(proxied, id, 2);
    long tookMillis = (System.nanoTime() - started) / 1_000_000;

    assertThat(during.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(during.body()).getString("error")).isEqualTo("Store_Unavailable");
    assertThat(tookMillis).as("no hang").isLessThan(5_000);

    proxy.restore();
    TestServers.awaitCondition(() -> status(proxied, id, 3) == 200);
  }

  @Test
  void eventsSentWhileRedisIsSilentStillReachTheOpenStreamAndAResumeThenAnswers503() throws Exception {
    String id = initialize(proxied);
    try (SseStream stream = SseStream.open(http, listen(proxied, id, null))) {
      assertThat(stream.status).isEqualTo(200);
      notify(id, "before");
      SseStream.Event before = stream.next();
      assertThat(before.id()).startsWith("listen/");

      proxy.blackhole();
      notify(id, "during");
      SseStream.Event during = stream.next();
      assertThat(during.data()).contains("during");
      assertThat(during.id()).as("not kept, so it promises no resume").isNull();
      long started = System.nanoTime();
      HttpResponse<String> resume = http.send(listen(proxied, id, before.id()), HttpResponse.BodyHandlers.ofString());
      assertThat(resume.statusCode()).isEqualTo(503);
      assertThat(new JsonObject(resume.body()).getString("error")).isEqualTo("Store_Unavailable");
      assertThat((System.nanoTime() - started) / 1_000_000).as("no hang").isLessThan(5_000);

      proxy.restore();
      TestServers.awaitCondition(() -> status(proxied, id, 4) == 200);
      notify(id, "after");
      SseStream.Event after = stream.next();
      assertThat(after.data()).contains("after");
      assertThat(after.id()).startsWith("listen/");
    }
  }

  private void notify(String id, String message) {
    proxied.mcp().streamable().notifyClient(id, "notifications/message", Map.of("level", "info", "message", message))
        .block(Duration.ofSeconds(10));
  }

  private static String base(Server s) {
    return "http://127.0.0.1:" + s.port();
  }

  private String initialize(Server s) throws Exception {
    String body = new JsonObject().put("jsonrpc", "2.0").put("id", 1).put("method", "initialize")
        .put("params", new JsonObject().put("protocolVersion", "2025-06-18").put("capabilities", new JsonObject())
            .put("clientInfo", new JsonObject().put("name", "faults-test").put("version", "1"))).encode();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base(s) + "/mcp"))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("X-User-Id", "faulty-" + UUID.randomUUID().toString().substring(0, 8))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.headers().firstValue("Mcp-Session-Id").orElseThrow();
  }

  private HttpResponse<String> post(Server s, String id, int requestId) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base(s) + "/mcp")).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .header("Mcp-Session-Id", id).header("MCP-Protocol-Version", "2025-06-18")
        .POST(HttpRequest.BodyPublishers.ofString(
            "{\"jsonrpc\":\"2.0\",\"id\":" + requestId + ",\"method\":\"tools/list\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private int status(Server s, String id, int requestId) {
    try {
      return post(s, id, requestId).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private HttpRequest listen(Server s, String id, String lastEventId) {
    return SseStream.listening(base(s), id, lastEventId);
  }
}
