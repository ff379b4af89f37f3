package dev.mcps.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcps.Server;
import dev.mcps.bench.CallStats.ErrorKind;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The chat load client against our real server (its Anthropic provider pointed at the zero-delay fake, or with no
 * provider configured), and against a recording /chat fake that checks what it sends.
 */
class ChatLoadClientTest {

  private final Vertx side = Vertx.vertx();
  private Server server;

  @AfterEach
  void tearDown() {
    if (server != null) {
      TestServers.await(server.stop());
    }
    TestServers.await(side.close());
  }

  private static ChatLoadOptions options(int port, String... more) {
    List<String> args = new ArrayList<>(List.of("--url=http://127.0.0.1:" + port, "--users=4", "--warmup=0.2",
        "--duration=1", "--call-timeout=5"));
    args.addAll(List.of(more));
    return ChatLoadOptions.parse(args.toArray(String[]::new));
  }

  /** The zero-delay fake, and our server's real Anthropic provider configured exactly as scripts/bench.sh does. */
  private HttpServer startServerOnZeroDelayFake() {
    HttpServer fake = TestServers.await(new ZeroDelayAnthropic("bench-key").listen(side, "127.0.0.1", 0));
    server = TestServers.start(Map.of("SESSION_MAX", "100000", "ANTHROPIC_API_KEY", "bench-key",
        "ANTHROPIC_BASE_URL", "http://127.0.0.1:" + fake.actualPort(), "CHAT_DEFAULT_MODEL", "anthropic"));
    return fake;
  }

  @Test
  void everyTurnThroughTheRealServerIsOneToolCallAndTheServerAddedLatencyExcludesTheProvider() throws Exception {
    HttpServer fake = startServerOnZeroDelayFake();

    ChatLoadClient.Result result = ChatLoadClient.run(options(server.port(), "--users=8", "--turns-per-user=3",
        "--store=memory", "--provider-stats=http://127.0.0.1:" + fake.actualPort() + "/stats"));

    assertThat(result.stats().totalErrors()).isZero();
    assertThat(result.turns()).isGreaterThan(20);
    // Two provider calls a turn; the window's edges cut a few turns in half, hence the margin.
    assertThat((double) result.provider().requests() / result.turns()).isBetween(1.9, 2.1);
    assertThat(result.provider().meanMicros()).isPositive();
    assertThat(result.serverMicros(50)).isLessThan(result.stats().latencies.percentile(50));
    assertThat(result.line()).startsWith("RESULT section=chat store=memory turns=" + result.turns() + " seconds=1.00 ")
        .contains(" errors=0 ", " server_p50_ms=", " server_p99_ms=", " provider_ms=", " provider_calls_per_turn=",
            " users=8 turns_per_user=3 ", " cpu_client_pct=", " err_http=0 ");

    // Users start over every 3 turns: many sessions, all bench-chat users, none with more than 3 turns of history.
    JsonArray sessions = new Http(server.port()).get("/admin/sessions?offset=0&limit=1000", Http.admin()).json()
        .getJsonArray("sessions");
    assertThat(sessions.size()).isGreaterThan(8);
    Set<Integer> historyLengths = sessions.stream().map(s -> ((JsonObject) s).getInteger("historyLength"))
        .collect(Collectors.toSet());
    assertThat(historyLengths).isSubsetOf(Set.of(4, 8, 12));
    assertThat(sessions.stream().map(s -> ((JsonObject) s).getString("userId")))
        .allMatch(u -> u.matches("bench-chat-[0-9]+"));
  }

  @Test
  void theOpenLoopOffersItsRateWhateverTheServerCouldDo() throws Exception {
    startServerOnZeroDelayFake();

    // 8 users, 40 turns a second in all: each user sends one turn every 200 ms, far below what the server can do.
    ChatLoadClient.Result result = ChatLoadClient.run(options(server.port(), "--users=8", "--rate=40",
        "--duration=2", "--store=memory"));

    assertThat(result.stats().totalErrors()).isZero();
    // 80 turns are due in the 2 s window; a window edge can cut off one turn of each user.
    assertThat(result.turns()).isBetween(70L, 90L);
    assertThat(result.line()).contains(" offered_rate=40.0 ");
    // A closed loop of 8 users is held back by nothing but the server: more turns than the open loop's schedule
    // allows (thousands on an idle machine; only "more than 90" is asserted, so a loaded machine cannot fail it).
    ChatLoadClient.Result closed = ChatLoadClient.run(options(server.port(), "--users=8", "--duration=2"));
    assertThat(closed.turns()).isGreaterThan(90L);
    assertThat(closed.line()).contains(" offered_rate=closed ");
  }

  @Test
  void aLateOpenLoopTurnIsTimedFromWhenItWasDueNotFromWhenItWentOut() throws Exception {
    // A fake /chat that takes 300 ms a turn while the user is due every 100 ms: the queue grows all run long.
    String turn = new JsonObject().put("sessionId", "s-1").put("response", "done").put("history", new JsonArray()
        .add(message("user", new JsonObject().put("type", "text").put("text", "check my notes")))
        .add(message("assistant", new JsonObject().put("type", "tool_use").put("id", "t1").put("name", "notes_get")
            .put("input", new JsonObject())))
        .add(message("user", new JsonObject().put("type", "tool_result").put("tool_use_id", "t1").put("content", "{}")))
        .add(message("assistant", new JsonObject().put("type", "text").put("text", "done")))).encode();
    HttpServer slow = TestServers.await(side.createHttpServer().requestHandler(req -> req.body().onSuccess(b ->
            side.setTimer(300, t -> req.response().putHeader("content-type", "application/json").end(turn))))
        .listen(0, "127.0.0.1"));
    ChatLoadClient.Result result = ChatLoadClient.run(ChatLoadOptions.parse(new String[] {
        "--url=http://127.0.0.1:" + slow.actualPort(), "--users=1", "--rate=10", "--warmup=0", "--duration=2",
        "--call-timeout=5"}));

    // Only ~6 turns fit in 2 s at 300 ms each; the later ones were due long before they could go out.
    assertThat(result.stats().totalErrors()).isZero();
    assertThat(result.turns()).isBetween(3L, 8L);
    assertThat(result.stats().latencies.max()).isGreaterThan(700_000);
  }

  @Test
  void aServerWithoutAProviderStopsTheRunWithIts503AndSaysWhatIsMissing() {
    server = TestServers.start(Map.of());

    assertThatThrownBy(() -> ChatLoadClient.run(options(server.port())))
        .isInstanceOf(FatalException.class)
        .hasMessageContaining("POST /chat (first turn of bench-chat-")
        .hasMessageContaining("answered HTTP 503")
        .hasMessageContaining("Provider_Not_Configured")
        .hasMessageContaining("ANTHROPIC_BASE_URL");
  }

  /** A /chat that answers the benchmark's turn shape and records each request body by slot (user id number % 2). */
  private final Map<Integer, List<JsonObject>> bySlot = new ConcurrentHashMap<>();
  private volatile boolean forgetSessions;

  private int recordingChat() {
    HttpServer chat = TestServers.await(side.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      JsonObject body = b.toJsonObject();
      String sessionId = body.getString("sessionId");
      String user = body.getString("userId");
      String slotOf = user != null ? user : sessionId.substring("s-".length());
      bySlot.computeIfAbsent(Integer.parseInt(slotOf.replaceAll(".*-", "")) % 2, k -> new ArrayList<>()).add(body);
      if (sessionId != null && forgetSessions) {
        req.response().setStatusCode(404).end("{\"error\":\"Session_Not_Found\"}");
        return;
      }
      req.response().putHeader("Content-Type", "application/json")
          .end(turn(sessionId != null ? sessionId : "s-" + user, body.getString("message"), false).encode());
    })).listen(0, "127.0.0.1"));
    return chat.actualPort();
  }

  private static JsonObject turn(String sessionId, String message, boolean toolFailed) {
    JsonArray history = new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
            .add(new JsonObject().put("type", "text").put("text", message))))
        .add(new JsonObject().put("role", "assistant").put("content", new JsonArray()
            .add(new JsonObject().put("type", "tool_use").put("id", "toolu_1").put("name", "notes_get")
                .put("input", new JsonObject()))))
        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
            .add(new JsonObject().put("type", "tool_result").put("tool_use_id", "toolu_1").put("content", "{}")
                .put("is_error", toolFailed))))
        .add(new JsonObject().put("role", "assistant").put("content", new JsonArray()
            .add(new JsonObject().put("type", "text").put("text", "done"))));
    return new JsonObject().put("response", "done").put("sessionId", sessionId).put("history", history);
  }

  @Test
  void laterTurnsNameTheSessionAndAUserStartsOverUnderANewIdAfterItsTurns() throws Exception {
    int port = recordingChat();

    ChatLoadClient.Result result = ChatLoadClient.run(options(port, "--users=2", "--turns-per-user=3"));

    assertThat(result.stats().totalErrors()).isZero();
    assertThat(result.line()).doesNotContain("server_p50_ms");
    List<JsonObject> slot0 = bySlot.get(0);
    assertThat(slot0.size()).isGreaterThan(6);
    assertThat(slot0.subList(0, 7)).containsExactly(
        new JsonObject().put("userId", "bench-chat-0").put("message", "check my notes"),
        new JsonObject().put("sessionId", "s-bench-chat-0").put("message", "check my notes"),
        new JsonObject().put("sessionId", "s-bench-chat-0").put("message", "check my notes"),
        new JsonObject().put("userId", "bench-chat-2").put("message", "check my notes"),
        new JsonObject().put("sessionId", "s-bench-chat-2").put("message", "check my notes"),
        new JsonObject().put("sessionId", "s-bench-chat-2").put("message", "check my notes"),
        new JsonObject().put("userId", "bench-chat-4").put("message", "check my notes"));
  }

  @Test
  void aSessionTheServerForgotIsCountedAndItsUserStartsOver() throws Exception {
    int port = recordingChat();
    forgetSessions = true;

    ChatLoadClient.Result result = ChatLoadClient.run(options(port, "--users=2", "--turns-per-user=0"));

    assertThat(result.stats().errors[ErrorKind.SESSION_LOST.ordinal()]).isPositive();
    assertThat(result.turns()).isPositive();
    assertThat(bySlot.get(1).subList(0, 3)).extracting(b -> b.getString("userId"))
        .containsExactly("bench-chat-1", null, "bench-chat-3");
  }

  @Test
  void aTurnWhoseToolFailedIsAToolErrorAndAnyOtherShapeIsAProtocolError() {
    String message = "check my notes";
    JsonObject good = turn("s-1", message, false);
    JsonObject twoCalls = turn("s-1", message, false);
    twoCalls.getJsonArray("history").getJsonObject(1).getJsonArray("content")
        .add(new JsonObject().put("type", "tool_use").put("id", "toolu_2").put("name", "notes_get"));

    assertThat(ChatShard.check(good.toBuffer(), message)).isEqualTo(new ChatShard.TurnReply("s-1", null, null));
    assertThat(ChatShard.check(turn("s-1", message, true).toBuffer(), message))
        .extracting(ChatShard.TurnReply::sessionId, ChatShard.TurnReply::error).containsExactly("s-1", ErrorKind.TOOL);
    assertThat(ChatShard.check(twoCalls.toBuffer(), message).error()).isEqualTo(ErrorKind.PROTOCOL);
    assertThat(ChatShard.check(turn("s-1", "another message", false).toBuffer(), message).error())
        .isEqualTo(ErrorKind.PROTOCOL);
    assertThat(ChatShard.check(good.copy().put("history", new JsonArray()).toBuffer(), message))
        .extracting(ChatShard.TurnReply::sessionId, ChatShard.TurnReply::error)
        .containsExactly("s-1", ErrorKind.PROTOCOL);
    assertThat(ChatShard.check(Buffer.buffer("{\"response\":\"done\"}"), message).detail()).contains("no sessionId");
    assertThat(ChatShard.check(Buffer.buffer("<html>"), message).detail()).contains("not a JSON object");
  }

  @Test
  void theServerAddedLatencyIsTheTurnLatencyLessTwoProviderCalls() {
    CallStats stats = new CallStats(ChatLoadClient.TAG);
    for (int i = 0; i < 100; i++) {
      stats.success(1_000);
    }
    ChatLoadOptions options = options(1, "--store=redis");
    ChatLoadClient.Result result = new ChatLoadClient.Result(options, stats, Map.of("client", 12.5),
        new ChatLoadClient.ProviderTime(200, 40.0), 7.5);

    assertThat(result.serverMicros(50)).isEqualTo(920.0);
    assertThat(result.line()).startsWith("RESULT section=chat store=redis turns=100 seconds=1.00 throughput=100.0 "
            + "p50_ms=1.000 p99_ms=1.000 errors=0 server_p50_ms=0.920 server_p99_ms=0.920 provider_ms=0.040 "
            + "provider_calls_per_turn=2.00 users=4 turns_per_user=20 ")
        .contains(" warmup_s=7.5 cpu_client_pct=12.5 ")
        .endsWith(" err_http=0 err_tool=0 err_timeout=0 err_io=0 err_protocol=0 err_session_lost=0");
  }

  @Test
  void badCommandLinesAreRefusedWithTheReason() {
    assertThatThrownBy(() -> ChatLoadOptions.parse(new String[] {"--users=4"})).hasMessage("missing --url");
    assertThatThrownBy(() -> ChatLoadOptions.parse(new String[] {"--url=http://h:1", "--message= "}))
        .hasMessageContaining("Missing_Message");
    assertThatThrownBy(() -> ChatLoadOptions.parse(new String[] {"--url=http://h:1", "--store=a b"}))
        .hasMessageContaining("--store");
    assertThatThrownBy(() -> ChatLoadOptions.parse(new String[] {"--url=ftp://h:1"})).hasMessageContaining("--url");
    assertThat(ChatLoadOptions.parse(new String[] {"--url=http://h:1/base/"}).path).isEqualTo("/base/chat");
  }

  private static JsonObject message(String role, JsonObject block) {
    return new JsonObject().put("role", role).put("content", new JsonArray().add(block));
  }
}
