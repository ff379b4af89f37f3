package dev.mcps.mcp.stateless;

import static dev.mcps.mcp.stateless.StatelessMcpTest.call;
import static dev.mcps.mcp.stateless.StatelessMcpTest.request;
import static dev.mcps.mcp.stateless.StatelessMcpTest.meta;
import static dev.mcps.mcp.stateless.StatelessMcpTest.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.FakeJira;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TcpProxy;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Stateless MCP requests with STORE=redis: three instances on one real redis-server, the third through a
 * {@link TcpProxy} that can swallow traffic. Any instance serves any request, also one that never saw the user; a
 * request state sealed by one instance is opened by another; a store that does not answer fails only the requests
 * that need it, with 503, and nothing is half-done once it answers again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StatelessRedisTest {

  private Vertx vertx;
  private FakeJira jira;
  private RedisServer redis;
  private TcpProxy proxy;
  private Server a;
  private Server b;
  private Server proxied;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
    jira = FakeJira.start(vertx);
    redis = RedisServer.start();
    proxy = TcpProxy.to(redis.port());
    a = TestServers.start(TestServers.redis(redis));
    b = TestServers.start(TestServers.redis(redis));
    proxied = TestServers.start(Map.of("STORE", "redis", "REDIS_URL", proxy.redisUrl(), "STORE_TIMEOUT_MS", "1000"));
  }

  @AfterEach
  void restore() {
    proxy.restore();
  }

  @AfterAll
  void stop() {
    TestServers.await(proxied.stop());
    TestServers.await(b.stop());
    TestServers.await(a.stop());
    proxy.close();
    redis.stop();
    jira.close();
    TestServers.await(vertx.close());
  }

  private JsonObject answer(Server server, JsonObject body, Map<String, String> headers) throws Exception {
    HttpResponse<String> r = send(http, server.port(), body, headers);
    return new JsonObject(r.body());
  }

  private static String text(JsonObject answer) {
    return answer.getJsonObject("result").getJsonArray("content").getJsonObject(0).getString("text");
  }

  @Test
  void anInstanceThatNeverSawTheUserServesTheirSessionStoredThroughAnother() throws Exception {
    String user = "roam-" + UUID.randomUUID();

    JsonObject set = answer(a, call(1, "notes_set", new JsonObject().put("key", "where").put("value", "set on A"),
        new JsonObject()), Map.of("X-User-Id", user));
    JsonObject get = answer(b, call(2, "notes_get", new JsonObject(), new JsonObject()), Map.of("X-User-Id", user));
    JsonObject other = answer(b, call(3, "notes_get", new JsonObject(), new JsonObject()),
        Map.of("X-User-Id", "other-" + UUID.randomUUID()));

    assertThat(set.getJsonObject("result").getBoolean("isError")).isFalse();
    assertThat(text(get)).contains("set on A");
    assertThat(text(other)).doesNotContain("set on A");
  }

  @Test
  void aRequestStateSealedByOneInstanceIsOpenedByAnother() throws Exception {
    FakeJira.Account u = jira.account("seal", "PR");
    String project = u.project();
    Map<String, String> h = u.headers();
    JsonObject args = new JsonObject().put("projectKey", project).put("summary", "Across").put("issueType", "Task");
    JsonObject eliciting = new JsonObject().put("elicitation", new JsonObject());

    JsonObject first = answer(a, call(10, "jira_create_issue", args, eliciting), h).getJsonObject("result");
    JsonObject done = answer(b, StatelessMcpTest.retry(11, args, eliciting, first.getString("requestState")), h)
        .getJsonObject("result");

    assertThat(first.getString("resultType")).isEqualTo("input_required");
    assertThat(done.getString("resultType")).isEqualTo("complete");
    assertThat(done.getBoolean("isError")).as(done.encode()).isFalse();
    assertThat(jira.creates(project)).isEqualTo(1);
  }

  @Test
  void afterRedisDropsEveryConnectionTheNextStatelessCallsWorkAndNothingIsLost() throws Exception {
    String user = "drop-" + UUID.randomUUID();
    answer(proxied, call(30, "notes_set", new JsonObject().put("key", "k").put("value", "kept"), new JsonObject()),
        Map.of("X-User-Id", user));

    proxy.resetAll();

    TestServers.awaitCondition(() -> {
      try {
        return send(http, proxied.port(), call(31, "notes_get", new JsonObject(), new JsonObject()),
            Map.of("X-User-Id", user)).statusCode() == 200;
      } catch (Exception e) {
        return false;
      }
    });
    JsonObject set = answer(proxied, call(32, "notes_set", new JsonObject().put("key", "k2").put("value", "after"),
        new JsonObject()), Map.of("X-User-Id", user));
    JsonObject get = answer(a, call(33, "notes_get", new JsonObject(), new JsonObject()), Map.of("X-User-Id", user));

    assertThat(set.getJsonObject("result").getBoolean("isError")).isFalse();
    assertThat(text(get)).contains("kept").contains("after");
  }

  @Test
  void whileRedisIsSilentSessionCallsAnswer503ListsStillWorkAndAfterwardsNothingIsHalfDone() throws Exception {
    String user = "fault-" + UUID.randomUUID();
    answer(proxied, call(20, "notes_set", new JsonObject().put("key", "k").put("value", "before"), new JsonObject()),
        Map.of("X-User-Id", user));

    proxy.blackhole();
    HttpResponse<String> during = send(http, proxied.port(), call(21, "notes_set",
        new JsonObject().put("key", "k").put("value", "during"), new JsonObject()), Map.of("X-User-Id", user));
    HttpResponse<String> list = send(http, proxied.port(), request(22, "tools/list",
        new JsonObject().put("_meta", meta(new JsonObject()))), Map.of());

    assertThat(during.statusCode()).isEqualTo(503);
    assertThat(during.headers().firstValue("Retry-After")).isPresent();
    JsonObject error = new JsonObject(during.body()).getJsonObject("error");
    assertThat(error.getInteger("code")).isEqualTo(-32000);
    assertThat(error.getJsonObject("data").getString("error")).isEqualTo("Store_Unavailable");
    assertThat(list.statusCode()).as("a list needs no store").isEqualTo(200);

    proxy.restore();
    TestServers.awaitCondition(() -> {
      try {
        return send(http, proxied.port(), call(23, "notes_get", new JsonObject(), new JsonObject()),
            Map.of("X-User-Id", user)).statusCode() == 200;
      } catch (Exception e) {
        return false;
      }
    });
    JsonObject after = answer(proxied, call(24, "notes_get", new JsonObject(), new JsonObject()),
        Map.of("X-User-Id", user));
    assertThat(text(after)).contains("before").doesNotContain("during");
  }
}
