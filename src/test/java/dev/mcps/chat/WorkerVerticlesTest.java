package dev.mcps.chat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.config.ConfigLoader;
import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.ProviderReply;
import dev.mcps.provider.ProviderRequest;
import dev.mcps.session.SessionContext;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * WORKER_VERTICLES: with it (the default) a /chat turn's provider steps over a long conversation (all of them with
 * WORKER_INLINE_MAX_BYTES=0) run on the worker pool, with the turn's session in context, and a turn that holds its
 * worker thread holds up neither the event loops nor other turns; without it everything runs on event loops.
 */
class WorkerVerticlesTest {

  /** Where one provider step ran. */
  record Seen(boolean workerThread, boolean eventLoopThread, String thread, String session) {}

  private final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
  private Server server;
  private Http http;

  @AfterEach
  void stop() {
    if (server != null) {
      TestServers.await(server.stop());
    }
  }

  private void start(boolean workers, Function<ProviderRequest, ProviderReply> script) {
    start(workers, "0", script);
  }

  private void start(boolean workers, String inlineMaxBytes, Function<ProviderRequest, ProviderReply> script) {
    LlmProvider provider = new ScriptedProvider(request -> {
      seen.add(new Seen(Context.isOnWorkerThread(), Context.isOnEventLoopThread(), Thread.currentThread().getName(),
          SessionContext.require().sessionId()));
      return Future.succeededFuture(script.apply(request));
    });
    server = TestServers.await(Server.start(ConfigLoader.load(TestServers.env(Map.of(
        "WORKER_VERTICLES", String.valueOf(workers), "WORKER_INLINE_MAX_BYTES", inlineMaxBytes,
        "HTTP_INSTANCES", "2"))), Map.of("anthropic", provider)));
    http = new Http(server.port());
  }

  /** Model -> notes_set -> model: a provider step before and after a tool call. */
  private static ProviderReply noteThenAnswer(ProviderRequest request) {
    return "tool_result".equals(ScriptedProvider.lastBlock(request).getString("type"))
        ? ScriptedProvider.text("noted")
        : ScriptedProvider.toolUse("t1", "notes_set", new JsonObject().put("key", "k").put("value", "v"));
  }

  private Http.Response turn(String user, String message) {
    return http.post("/chat", new JsonObject().put("userId", user).put("message", message));
  }

  @Test
  void withWorkerVerticlesAndNoInlineStepsEveryProviderStepRunsOnAWorkerThreadInTheTurnsSession() {
    start(true, WorkerVerticlesTest::noteThenAnswer);

    Http.Response r = turn("ann", "take a note");

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().getString("response")).isEqualTo("noted");
    String session = r.json().getString("sessionId");
    assertThat(seen).hasSize(2).allSatisfy(s -> {
      assertThat(s.workerThread()).isTrue();
      assertThat(s.thread()).startsWith("mcps-workers");
      assertThat(s.session()).isEqualTo(session);
    });
  }

  @Test
  void withoutWorkerVerticlesEveryProviderStepOfATurnRunsOnAnEventLoop() {
    start(false, WorkerVerticlesTest::noteThenAnswer);

    Http.Response r = turn("bob", "take a note");

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    String session = r.json().getString("sessionId");
    assertThat(seen).hasSize(2).allSatisfy(s -> {
      assertThat(s.eventLoopThread()).isTrue();
      assertThat(s.session()).isEqualTo(session);
    });
  }

  @Test
  void byDefaultOnlyTheStepsOverALongConversationGoToAWorker() {
    start(true, "65536", request -> ScriptedProvider.text("ok"));

    Http.Response shortTurn = turn("cid", "hello");
    List<JsonObject> longHistory = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      longHistory.add(new JsonObject().put("role", i % 2 == 0 ? "user" : "assistant").put("content",
          new io.vertx.core.json.JsonArray().add(new JsonObject().put("type", "text").put("text", "x".repeat(4000)))));
    }
    Http.Response longTurn = http.post("/chat", new JsonObject().put("userId", "dan").put("message", "go on")
        .put("history", new io.vertx.core.json.JsonArray(longHistory)));

    assertThat(shortTurn.status()).as(shortTurn.body()).isEqualTo(200);
    assertThat(longTurn.status()).as(longTurn.body()).isEqualTo(200);
    List<Seen> steps = List.copyOf(seen);
    assertThat(steps).hasSize(2);
    assertThat(steps.get(0).eventLoopThread()).isTrue();
    assertThat(steps.get(0).session()).isEqualTo(shortTurn.json().getString("sessionId"));
    assertThat(steps.get(1).workerThread()).isTrue();
    assertThat(steps.get(1).thread()).startsWith("mcps-workers");
    assertThat(steps.get(1).session()).isEqualTo(longTurn.json().getString("sessionId"));
  }

  @Test
  void aTurnHoldingItsWorkerThreadHoldsUpNeitherHealthNorOtherTurns() throws Exception {
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    start(true, request -> {
      if ("hold".equals(ScriptedProvider.lastBlock(request).getString("text"))) {
        // Blocks the worker thread, as a slow SDK call or a huge encode would.
        holding.countDown();
        try {
          release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return ScriptedProvider.text("released");
      }
      return ScriptedProvider.text("quick");
    });
    CompletableFuture<Http.Response> held = http.postAsync("/chat",
        new JsonObject().put("userId", "holder").put("message", "hold"));
    assertThat(holding.await(20, TimeUnit.SECONDS)).isTrue();

    Http.Response health = http.get("/health");
    // More turns than chat verticle instances: none may wait behind the held one, whichever instance took it.
    List<CompletableFuture<Http.Response>> others = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      others.add(http.postAsync("/chat", new JsonObject().put("userId", "other" + i).put("message", "hi")));
    }
    for (CompletableFuture<Http.Response> other : others) {
      Http.Response r = other.get(20, TimeUnit.SECONDS);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(r.json().getString("response")).isEqualTo("quick");
    }

    assertThat(health.status()).isEqualTo(200);
    assertThat(held).isNotDone();
    release.countDown();
    Http.Response r = held.get(20, TimeUnit.SECONDS);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().getString("response")).isEqualTo("released");
  }
}
