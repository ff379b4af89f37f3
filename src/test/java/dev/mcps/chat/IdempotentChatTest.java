package dev.mcps.chat;

import static dev.mcps.chat.ScriptedProvider.text;
import static dev.mcps.chat.ScriptedProvider.userText;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.config.ConfigLoader;
import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.ProviderException;
import dev.mcps.provider.ProviderReply;
import dev.mcps.provider.ProviderRequest;
import dev.mcps.testing.Http;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** POST /chat with an Idempotency-Key: one turn per key, whichever instance the retries reach. */
class IdempotentChatTest {

  private final List<Server> servers = new ArrayList<>();
  private RedisServer redis;

  @AfterEach
  void tearDown() {
    servers.forEach(s -> TestServers.await(s.stop()));
    if (redis != null) {
      redis.stop();
    }
  }

  private Http start(ScriptedProvider provider, Map<String, String> settings) {
    Map<String, LlmProvider> providers = Map.of("anthropic", provider);
    Server server = TestServers.await(Server.start(ConfigLoader.load(TestServers.env(settings)), providers));
    servers.add(server);
    return new Http(server.port());
  }

  private static ScriptedProvider provider(Function<ProviderRequest, Future<ProviderReply>> script) {
    return new ScriptedProvider(script);
  }

  private static String[] key(String k) {
    return new String[] {"Idempotency-Key", k};
  }

  @Test
  void aTurnThatLandedBeforeItsInstanceDiedIsAnsweredFromTheHistoryOnRetryAndNeverStoredTwice() {
    for (boolean onRedis : new boolean[] {false, true}) {
      if (onRedis) {
        redis = RedisServer.start();
      }
      ScriptedProvider p = provider(r -> Future.succeededFuture(text("did " + userText(r))));
      Http http = start(p, onRedis ? TestServers.redis(redis) : Map.of());
      Server server = servers.get(servers.size() - 1);
      String user = "crash-" + onRedis;
      String id = http.post("/chat", new JsonObject().put("userId", user).put("message", "hello"))
          .json().getString("sessionId");
      JsonObject body = new JsonObject().put("userId", user).put("message", "create the ticket");
      // The instance that ran this turn stored it, then died before it recorded the key's outcome; its claim expired.
      String turnId = IdempotentTurns.turnId(TestServers.await(server.sessions().peek(id)), "k-crash",
          IdempotentTurns.fingerprint(body));
      TestServers.await(server.sessions().appendTurn(id, turnId, 0, List.of(
          new JsonObject().put("role", "user").put("content", "create the ticket"),
          new JsonObject().put("role", "assistant").put("content", new io.vertx.core.json.JsonArray()
              .add(new JsonObject().put("type", "text").put("text", "created PROJ-7 (first run)"))))));

      // The "hello" turn, the only one this instance (and this Redis) has run; counting may land just after it.
      TestServers.awaitCondition(() -> turnsInTheLastHour(http) == 1);

      Http.Response retried = http.post("/chat", body, key("k-crash"));
      Http.Response again = http.post("/chat", body, key("k-crash"));

      assertThat(retried.status()).isEqualTo(200);
      assertThat(retried.json().getString("response")).isEqualTo("created PROJ-7 (first run)");
      assertThat(retried.json().getJsonArray("history")).hasSize(4);
      assertThat(again.json().getString("response")).isEqualTo("created PROJ-7 (first run)");
      assertThat(p.requests).as("the model is not asked again (nor any tool run)").hasSize(1);
      assertThat(TestServers.await(server.sessions().history(id))).as("the turn is stored once").hasSize(4);
      assertThat(turnsInTheLastHour(http)).as("the landed turn's answer is no new turn in GET /admin/stats")
          .isEqualTo(1);
    }
  }

  private static long turnsInTheLastHour(Http http) {
    io.vertx.core.json.JsonArray minutes = http.get("/admin/stats?minutes=60", Http.admin()).json()
        .getJsonArray("minutes");
    long turns = 0;
    for (int i = 0; i < minutes.size(); i++) {
      turns += minutes.getJsonObject(i).getLong("turns");
    }
    return turns;
  }

  @Test
  void aRetryOnAnotherInstanceWaitsForTheRunningTurnAndGetsItsReplyWithoutASecondTurn() throws Exception {
    redis = RedisServer.start();
    CompletableFuture<Void> asked = new CompletableFuture<>();
    CompletableFuture<Void> letAnswer = new CompletableFuture<>();
    ScriptedProvider p = provider(r -> {
      asked.complete(null);
      return Future.fromCompletionStage(letAnswer, Vertx.currentContext()).map(x -> text("did " + userText(r)));
    });
    Http onA = start(p, TestServers.redis(redis));
    Http onB = start(p, TestServers.redis(redis));
    JsonObject body = new JsonObject().put("userId", "idem").put("message", "create the release ticket");

    CompletableFuture<Http.Response> first = onA.postAsync("/chat", body, key("k-123"));
    asked.get(30, TimeUnit.SECONDS);
    CompletableFuture<Http.Response> whileRunning = onB.postAsync("/chat", body, key("k-123"));
    letAnswer.complete(null);
    Http.Response original = first.get(30, TimeUnit.SECONDS);
    Http.Response waited = whileRunning.get(30, TimeUnit.SECONDS);
    Http.Response afterwards = onB.post("/chat", body, key("k-123"));
    Http.Response streamed = onA.post("/chat", body.copy().put("stream", true), key("k-123"));

    assertThat(original.status()).as(original.body()).isEqualTo(200);
    assertThat(original.json().getString("response")).isEqualTo("did create the release ticket");
    assertThat(waited.status()).isEqualTo(200);
    assertThat(waited.body()).isEqualTo(original.body());
    assertThat(afterwards.status()).isEqualTo(200);
    assertThat(afterwards.body()).isEqualTo(original.body());
    assertThat(streamed.body()).isEqualTo("event: done\ndata: " + original.body() + "\n\n");
    assertThat(p.requests).hasSize(1);
    String id = original.json().getString("sessionId");
    assertThat(TestServers.await(servers.get(1).sessions().history(id))).hasSize(2);
    assertThat(redis.call("EXISTS", "mcps:idem:idem:k-123")).isEqualTo(1L);
  }

  @Test
  void aKeyReusedForAnotherMessageIsRefusedWith422() {
    ScriptedProvider p = provider(r -> Future.succeededFuture(text("ok")));
    Http http = start(p, Map.of());
    http.post("/chat", new JsonObject().put("userId", "reuse").put("message", "first"), key("same"));

    Http.Response r = http.post("/chat", new JsonObject().put("userId", "reuse").put("message", "second"),
        key("same"));

    assertThat(r.status()).isEqualTo(422);
    assertThat(r.json().getString("error")).isEqualTo("Idempotency_Key_Reused");
    assertThat(r.json().getString("sessionId")).isNotBlank();
    assertThat(p.requests).hasSize(1);
  }

  @Test
  void theSameKeyFromAnotherUserIsAnotherTurn() {
    ScriptedProvider p = provider(r -> Future.succeededFuture(text("ok")));
    Http http = start(p, Map.of());
    JsonObject body = new JsonObject().put("userId", "u1").put("message", "same words");
    http.post("/chat", body, key("shared-key"));

    Http.Response other = http.post("/chat", body.copy().put("userId", "u2"), key("shared-key"));

    assertThat(other.status()).isEqualTo(200);
    assertThat(p.requests).hasSize(2);
  }

  @Test
  void aFailedTurnReleasesItsKeySoTheRetryRunsTheTurn() {
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    ScriptedProvider p = provider(r -> calls.getAndIncrement() == 0
        ? Future.failedFuture(new ProviderException(502, "Provider_Error", "upstream broke"))
        : Future.succeededFuture(text("second time lucky")));
    Http http = start(p, Map.of());
    JsonObject body = new JsonObject().put("userId", "retry").put("message", "go");

    Http.Response failed = http.post("/chat", body, key("r-1"));
    Http.Response retried = http.post("/chat", body, key("r-1"));

    assertThat(failed.status()).isEqualTo(502);
    assertThat(retried.status()).isEqualTo(200);
    assertThat(retried.json().getString("response")).isEqualTo("second time lucky");
    assertThat(retried.json().getJsonArray("history")).hasSize(2);
  }

  @Test
  void aKeyWeCannotKeepIs400() {
    Http http = start(provider(r -> Future.succeededFuture(text("x"))), Map.of());
    Http.Response r = http.post("/chat", new JsonObject().put("userId", "bad").put("message", "x"), key("a:b"));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getString("error")).isEqualTo("Invalid_Request");
    assertThat(r.json().getString("message")).contains("Idempotency-Key");
  }
}
