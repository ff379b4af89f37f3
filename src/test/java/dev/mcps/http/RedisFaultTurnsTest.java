package dev.mcps.http;

import static dev.mcps.testing.TestServers.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.Http;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TcpProxy;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Whole /chat turns on a Redis behind a {@link TcpProxy} that delays, resets and swallows traffic, and across Redis
 * restarts. After each fault the session's next turn answers 200 at once (no lock left behind to wait for), and the
 * stored history holds every turn answered 200 exactly once and no turn twice.
 */
class RedisFaultTurnsTest {

  private static final String KEY = "fault-test-anthropic-key";
  /** A stuck lock would hold the next turn for this long (then 409): far beyond what a healthy turn takes. */
  private static final int TURN_TIMEOUT_SECONDS = 30;
  private static final long HEALTHY_TURN_MS = 10_000;

  private RedisServer redis;
  private TcpProxy proxy;
  private Vertx side;
  private FakeAnthropic fake;
  private Server server;
  private Http http;
  /** Every turn sent, by message, with the status it got. */
  private final Map<String, Integer> statuses = new HashMap<>();

  @BeforeEach
  void start() {
    redis = RedisServer.startPersistent();
    proxy = TcpProxy.to(redis.port());
    side = Vertx.vertx();
    fake = FakeAnthropic.start(side, KEY);
    fake.script(r -> FakeAnthropic.message("end_turn", FakeAnthropic.text("noted")));
    server = TestServers.start(Map.of("STORE", "redis", "REDIS_URL", proxy.redisUrl(), "STORE_TIMEOUT_MS", "300",
        "HTTP_INSTANCES", "4", "CHAT_TURN_TIMEOUT_SECONDS", String.valueOf(TURN_TIMEOUT_SECONDS),
        "ANTHROPIC_API_KEY", KEY, "ANTHROPIC_BASE_URL", fake.baseUrl()));
    http = new Http(server.port());
  }

  @AfterEach
  void stop() {
    TestServers.await(server.stop());
    fake.close();
    TestServers.await(side.close());
    proxy.close();
    redis.close();
  }

  private Http.Response turn(JsonObject who, String message) {
    Http.Response r = http.post("/chat", who.copy().put("message", message));
    statuses.put(message, r.status());
    return r;
  }

  /** A turn that must answer 200 quickly: no lock to wait for, no connection to wait on. */
  private String healthyTurn(JsonObject who, String message) {
    long t0 = System.currentTimeMillis();
    Http.Response r = turn(who, message);
    assertThat(r.status()).as(message + ": " + r.body()).isEqualTo(200);
    assertThat(System.currentTimeMillis() - t0).as(message + " waited").isLessThan(HEALTHY_TURN_MS);
    return r.json().getString("sessionId");
  }

  private String firstTurn() {
    return healthyTurn(new JsonObject().put("userId", "faulty-" + System.nanoTime()), "before");
  }

  private static JsonObject session(String id) {
    return new JsonObject().put("sessionId", id);
  }

  /** Every turn answered 200 is stored exactly once; any other is stored at most once, and never half. */
  private void assertHistoryHoldsEveryAnsweredTurnOnce(String id) {
    List<String> users = new ArrayList<>();
    List<JsonObject> history = TestServers.await(server.sessions().history(id));
    for (int i = 0; i < history.size(); i++) {
      JsonObject m = history.get(i);
      if ("user".equals(m.getString("role"))) {
        users.add(m.getJsonArray("content").getJsonObject(0).getString("text"));
        assertThat(i + 1 < history.size() && "assistant".equals(history.get(i + 1).getString("role")))
            .as("the answer stored with " + users.get(users.size() - 1)).isTrue();
      }
    }
    statuses.forEach((message, status) -> {
      long stored = users.stream().filter(message::equals).count();
      if (status == 200) {
        assertThat(stored).as(message + " (200)").isEqualTo(1);
      } else {
        assertThat(stored).as(message + " (" + status + ")").isLessThanOrEqualTo(1);
      }
    });
  }

  @Test
  void afterRepliesSlowerThanTheStoreTimeoutTheSessionsNextTurnSucceedsAtOnce() {
    String id = firstTurn();

    proxy.delayReplies(2_000);
    Http.Response during = turn(session(id), "while slow");
    proxy.restore();

    assertThat(during.status()).isIn(200, 503);
    healthyTurn(session(id), "after slow");
    healthyTurn(session(id), "after slow 2");
    assertHistoryHoldsEveryAnsweredTurnOnce(id);
  }

  @Test
  void afterConnectionsAreResetMidCommandTheSessionsNextTurnSucceedsAtOnce() throws Exception {
    String id = firstTurn();
    String historyKey = "mcps:session:" + id + ":history";
    long before = (Long) redis.call("LLEN", historyKey);
    CountDownLatch provider = new CountDownLatch(1);
    fake.script(r -> {
      try {
        provider.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return FakeAnthropic.message("end_turn", FakeAnthropic.text("noted"));
    });
    int asked = fake.requests().size();

    // The turn holds its lock and waits for the model; then Redis's replies are held back, so that the turn's
    // append lands but its answer is still on the wire when every connection is reset.
    CompletableFuture<Http.Response> during = http.postAsync("/chat", session(id).put("message", "while reset"));
    awaitCondition(() -> fake.requests().size() > asked);
    proxy.delayReplies(60_000);
    provider.countDown();
    awaitCondition(() -> (Long) redis.call("LLEN", historyKey) > before);
    proxy.resetAll();
    proxy.restore();
    Http.Response answered = during.get(60, TimeUnit.SECONDS);
    statuses.put("while reset", answered.status());

    assertThat(answered.status()).isIn(200, 503);
    healthyTurn(session(id), "after reset");
    assertHistoryHoldsEveryAnsweredTurnOnce(id);
  }

  @Test
  void afterABlackholeTheTurnFailsFastAndTheSessionsNextTurnSucceedsAtOnce() {
    String id = firstTurn();

    proxy.blackhole();
    long t0 = System.currentTimeMillis();
    Http.Response during = turn(session(id), "into the hole");
    long took = System.currentTimeMillis() - t0;
    proxy.restore();

    assertThat(during.status()).isEqualTo(503);
    assertThat(during.json().getString("error")).isEqualTo("Store_Unavailable");
    assertThat(took).as("fails at the store timeout, not the turn timeout").isLessThan(HEALTHY_TURN_MS);
    healthyTurn(session(id), "after the hole");
    assertHistoryHoldsEveryAnsweredTurnOnce(id);
  }

  @Test
  void aNewSessionAskedOfASilentRedisFailsFastAndTheNextOneIsMadeAtOnce() {
    JsonObject user = new JsonObject().put("userId", "restless-" + System.nanoTime());
    String first = healthyTurn(user, "before");

    proxy.blackhole();
    long t0 = System.currentTimeMillis();
    Http.Response during = turn(user.copy().put("newSession", true), "new, into the hole");
    long took = System.currentTimeMillis() - t0;
    proxy.restore();

    assertThat(during.status()).isEqualTo(503);
    assertThat(during.json().getString("error")).isEqualTo("Store_Unavailable");
    assertThat(took).as("fails at the store timeout").isLessThan(HEALTHY_TURN_MS);
    String fresh = healthyTurn(user.copy().put("newSession", true), "new, after the hole");
    assertThat(fresh).isNotEqualTo(first);
    assertThat(healthyTurn(user, "continues")).as("the new session is the user's most recent").isEqualTo(fresh);
    assertThat(userMessages(fresh)).containsExactly("new, after the hole", "continues");
    assertThat(userMessages(first)).containsExactly("before");
  }

  private List<String> userMessages(String id) {
    return TestServers.await(server.sessions().history(id)).stream()
        .filter(m -> "user".equals(m.getString("role")))
        .map(m -> m.getJsonArray("content").getJsonObject(0).getString("text")).toList();
  }

  @Test
  void afterARedisRestartThatKeptItsDataTheSessionsNextTurnSucceedsAtOnce() {
    String id = firstTurn();
    healthyTurn(session(id), "second");

    redis.restart();

    healthyTurn(session(id), "after restart");
    healthyTurn(session(id), "after restart 2");
    assertHistoryHoldsEveryAnsweredTurnOnce(id);
  }

  @Test
  void afterRedisRestartsEmptyTheUsersNextTurnSucceedsAtOnceInANewSession() {
    JsonObject user = new JsonObject().put("userId", "amnesiac");
    String id = healthyTurn(user, "before");

    redis.flushAll();
    redis.restart();

    Http.Response byId = turn(session(id), "by the lost id");
    String fresh = healthyTurn(user, "after restart");

    assertThat(byId.status()).isEqualTo(404);
    assertThat(fresh).isNotEqualTo(id);
    healthyTurn(session(fresh), "after restart 2");
    statuses.remove("before");
    assertHistoryHoldsEveryAnsweredTurnOnce(fresh);
  }
}
