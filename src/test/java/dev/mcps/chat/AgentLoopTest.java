package dev.mcps.chat;

import static dev.mcps.chat.ScriptedProvider.last;
import static dev.mcps.chat.ScriptedProvider.lastBlock;
import static dev.mcps.chat.ScriptedProvider.text;
import static dev.mcps.chat.ScriptedProvider.toolUse;
import static dev.mcps.chat.ScriptedProvider.toolUses;
import static dev.mcps.chat.ScriptedProvider.use;
import static dev.mcps.chat.ScriptedProvider.userText;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.config.ConfigLoader;
import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.ProviderException;
import dev.mcps.provider.ProviderReply;
import dev.mcps.testing.FakeJira;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The agent loop behind /chat, with an in-process scripted model and the fake Jira. */
class AgentLoopTest {

  private final Vertx side = Vertx.vertx();
  private final FakeJira jira = FakeJira.start(side);
  private Server server;
  private Http http;
  private dev.mcps.testing.RedisServer redis;

  @AfterEach
  void tearDown() {
    if (server != null) {
      TestServers.await(server.stop());
    }
    jira.close();
    TestServers.await(side.close());
    if (redis != null) {
      redis.stop();
    }
  }

  private ScriptedProvider start(Function<dev.mcps.provider.ProviderRequest, Future<ProviderReply>> script,
                                 String... settings) {
    ScriptedProvider provider = new ScriptedProvider(script);
    Map<String, String> env = new HashMap<>(Map.of("JIRA_TIMEOUT_MS", "2000"));
    for (int i = 0; i + 1 < settings.length; i += 2) {
      env.put(settings[i], settings[i + 1]);
    }
    Map<String, LlmProvider> providers = Map.of("anthropic", provider);
    server = TestServers.await(Server.start(ConfigLoader.load(TestServers.env(env)), providers));
    http = new Http(server.port());
    return provider;
  }

  /** get the issue named in the message, comment on it, then answer with its summary. */
  private static Future<ProviderReply> getThenComment(dev.mcps.provider.ProviderRequest r) {
    JsonObject last = lastBlock(r);
    String key = userText(r).replaceAll(".*?([A-Z][A-Z0-9]+-[0-9]+).*", "$1");
    if ("text".equals(last.getString("type"))) {
      return Future.succeededFuture(toolUse("t1", "jira_get_issue", new JsonObject().put("issueKey", key)));
    }
    if ("t1".equals(last.getString("tool_use_id"))) {
      String summary = last.getString("content").lines().findFirst().orElse("");
      return Future.succeededFuture(toolUse("t2", "jira_add_comment",
          new JsonObject().put("issueKey", key).put("body", "Looked at: " + summary)));
    }
    return Future.succeededFuture(text("Commented on " + key + (last.getBoolean("is_error") ? " (failed)" : "")));
  }

  private JsonObject jiraAuth(String user) {
    jira.addUser(user + "@example.com", "tok-" + user, "P" + user.toUpperCase());
    return new JsonObject().put("baseUrl", jira.baseUrl()).put("email", user + "@example.com")
        .put("apiToken", "tok-" + user);
  }

  @Test
  void aFullAgenticCycleReadsCommentsAndAnswersWithTheSessionsCredentials() {
    start(AgentLoopTest::getThenComment);
    JsonObject auth = jiraAuth("ann");
    String key = jira.addIssue("PANN", "Printer on fire", "help");

    Http.Response r = http.post("/chat", new JsonObject().put("userId", "ann").put("jiraAuth", auth)
        .put("message", "Please look at " + key));

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().getString("response")).isEqualTo("Commented on " + key);
    JsonArray history = r.json().getJsonArray("history");
    assertThat(history.stream().map(m -> ((JsonObject) m).getString("role")))
        .containsExactly("user", "assistant", "user", "assistant", "user", "assistant");
    assertThat(history.getJsonObject(2).getJsonArray("content").getJsonObject(0).getString("content"))
        .startsWith(key + ": Printer on fire");
    assertThat(jira.requests()).hasSize(2).allMatch(q -> q.email().equals("ann@example.com")
        && q.token().equals("tok-ann"));
    assertThat(jira.issue(key).getJsonObject("fields").getJsonObject("comment").getInteger("total")).isEqualTo(1);
    assertThat(r.body()).doesNotContain("tok-ann");
  }

  @Test
  void manyConcurrentUsersEachGetOnlyTheirOwnJiraData() throws Exception {
    start(AgentLoopTest::getThenComment);
    int users = 100;
    List<CompletableFuture<Http.Response>> calls = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    for (int u = 0; u < users; u++) {
      JsonObject auth = jiraAuth("user" + u);
      String key = jira.addIssue("PUSER" + u, "Secret plan of user" + u, "d");
      keys.add(key);
      calls.add(http.postAsync("/chat", new JsonObject().put("userId", "user" + u).put("jiraAuth", auth)
          .put("message", "check " + key)));
    }
    for (int u = 0; u < users; u++) {
      Http.Response r = calls.get(u).get(60, TimeUnit.SECONDS);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(r.json().getString("response")).isEqualTo("Commented on " + keys.get(u));
      String body = r.body();
      assertThat(body).contains("Secret plan of user" + u + "\\n");
      for (int o = 0; o < users; o++) {
        if (o != u) {
          assertThat(body).doesNotContain("Secret plan of user" + o + "\\n");
        }
      }
    }
    assertThat(jira.requests()).hasSize(users * 2).allMatch(q ->
        q.token().equals("tok-" + q.email().substring(0, q.email().indexOf('@')))
            && q.path().contains("PUSER" + q.email().substring(4, q.email().indexOf('@')) + "-"));
  }

  @Test
  void concurrentTurnsOnOneSessionNeverInterleave() throws Exception {
    Vertx v = side;
    start(r -> {
      if ("text".equals(lastBlock(r).getString("type"))) {
        return v.timer(1 + (long) (Math.random() * 5), TimeUnit.MILLISECONDS)
            .map(x -> toolUse("n", "notes_get", new JsonObject()));
      }
      return Future.succeededFuture(text("answer to " + userText(r)));
    });
    String id = http.post("/chat", new JsonObject().put("userId", "solo").put("message", "turn -1"))
        .json().getString("sessionId");
    List<CompletableFuture<Http.Response>> calls = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      calls.add(http.postAsync("/chat", new JsonObject().put("sessionId", id).put("message", "turn " + i)));
    }
    for (CompletableFuture<Http.Response> c : calls) {
      assertThat(c.get(60, TimeUnit.SECONDS).status()).isEqualTo(200);
    }
    List<JsonObject> history = TestServers.await(server.sessions().history(id));
    assertThat(history).hasSize(31 * 4);
    for (int i = 0; i < history.size(); i += 4) {
      String asked = history.get(i).getJsonArray("content").getJsonObject(0).getString("text");
      assertThat(history.get(i + 1).getJsonArray("content").getJsonObject(0).getString("type")).isEqualTo("tool_use");
      assertThat(history.get(i + 2).getJsonArray("content").getJsonObject(0).getString("type")).isEqualTo("tool_result");
      assertThat(history.get(i + 3).getJsonArray("content").getJsonObject(0).getString("text"))
          .isEqualTo("answer to " + asked);
    }
  }

  @Test
  void theSecondTurnBySessionIdSendsTheEarlierMessagesToTheModel() {
    ScriptedProvider p = start(r -> Future.succeededFuture(text("seen " + r.messages().size())));
    String id = http.post("/chat", new JsonObject().put("userId", "rec").put("message", "first"))
        .json().getString("sessionId");

    Http.Response second = http.post("/chat", new JsonObject().put("sessionId", id).put("message", "second"));

    assertThat(second.json().getString("response")).isEqualTo("seen 3");
    assertThat(p.requests.stream().skip(1).findFirst().orElseThrow().messages().get(0)
        .getJsonArray("content").getJsonObject(0).getString("text")).isEqualTo("first");
  }

  @Test
  void aSessionsNextTurnStartsFromWhatItsLastTurnEncoded() {
    ScriptedProvider p = start(r -> Future.succeededFuture(text("seen " + r.messages().size())));
    String id = http.post("/chat", new JsonObject().put("userId", "memo").put("message", "first"))
        .json().getString("sessionId");
    String other = http.post("/chat", new JsonObject().put("userId", "memo-other").put("message", "first"))
        .json().getString("sessionId");

    http.post("/chat", new JsonObject().put("sessionId", id).put("message", "second"));

    // The memory store hands out the same messages from turn to turn, so the memo of turn one serves turn two.
    List<dev.mcps.provider.ProviderRequest> seen = List.copyOf(p.requests);
    assertThat(seen.get(2).memo()).isSameAs(seen.get(0).memo()).isNotSameAs(seen.get(1).memo());
    assertThat(seen.get(2).memo().bytes()).as("turn one's reply history is held encoded").isPositive();
    assertThat(other).isNotEqualTo(id);
  }

  @Test
  void theIterationCapEndsTheTurnWithWhatWasReached() {
    start(r -> Future.succeededFuture(toolUse("x" + r.messages().size(), "notes_get", new JsonObject())),
        "CHAT_MAX_ITERATIONS", "3");

    Http.Response r = http.post("/chat", new JsonObject().put("userId", "loopy").put("message", "go"));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("response")).contains("Stopped after 3 model steps");
    JsonArray h = r.json().getJsonArray("history");
    assertThat(h).hasSize(1 + 3 * 2 + 1);
    assertThat(h.getJsonObject(h.size() - 1).getString("role")).isEqualTo("assistant");
  }

  @Test
  void aFailingToolBecomesAnErrorResultAndTheLoopGoesOn() {
    start(r -> {
      JsonObject last = lastBlock(r);
      if ("text".equals(last.getString("type"))) {
        return Future.succeededFuture(toolUses(use("a", "no_such_tool", new JsonObject()),
            use("b", "jira_get_issue", new JsonObject().put("issueKey", "NOPE-1"))));
      }
      return Future.succeededFuture(text("errors: " + r.messages().get(r.messages().size() - 1)
          .getJsonArray("content").stream().filter(b -> ((JsonObject) b).getBoolean("is_error")).count()));
    });

    Http.Response r = http.post("/chat", new JsonObject().put("userId", "err").put("message", "try"));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("response")).isEqualTo("errors: 2");
  }

  @Test
  void providerFailuresMapToTheirStatusesWithTheSessionId() {
    start(r -> Future.failedFuture(new ProviderException(502, "Provider_Error", "anthropic rejected the API key (401)")));
    Http.Response r = http.post("/chat", new JsonObject().put("userId", "pf").put("message", "hi"));
    assertThat(r.status()).isEqualTo(502);
    assertThat(r.json().getString("error")).isEqualTo("Provider_Error");
    assertThat(r.json().getString("sessionId")).isNotBlank();
    assertThat(TestServers.await(server.sessions().history(r.json().getString("sessionId"))))
        .as("a failed turn persists nothing").isEmpty();
  }

  @Test
  void aTurnPastItsDeadlineAnswers504AndPersistsNothing() {
    start(r -> Future.future(p -> { }), "CHAT_TURN_TIMEOUT_SECONDS", "1");
    Http.Response r = http.post("/chat", new JsonObject().put("userId", "slow").put("message", "hi"));
    assertThat(r.status()).isEqualTo(504);
    assertThat(r.json().getString("error")).isEqualTo("Provider_Timeout");
    String id = r.json().getString("sessionId");
    assertThat(TestServers.await(server.sessions().history(id))).isEmpty();
    Http.Response next = http.post("/chat", new JsonObject().put("sessionId", id).put("message", "again"));
    assertThat(next.status()).as("the lock was released").isEqualTo(504);
  }

  @Test
  void anUnconfiguredModelAnswers503() {
    start(r -> Future.succeededFuture(text("x")));
    Http.Response r = http.post("/chat", new JsonObject().put("userId", "m").put("message", "hi").put("model", "openai"));
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.json().getString("error")).isEqualTo("Provider_Not_Configured");
    assertThat(r.json().getString("message")).contains("set OPENAI_API_KEY");
    String id = r.json().getString("sessionId");
    assertThat(TestServers.await(server.sessions().find(id))).as("the session was still created").isNotNull();
    Http.Response bedrock = http.post("/chat", new JsonObject().put("sessionId", id).put("message", "hi")
        .put("model", "bedrock"));
    assertThat(bedrock.json().getString("message")).contains("set AWS_REGION and BEDROCK_MODEL_ID");
  }

  @Test
  void streamingSendsTheStepsInOrderThenDone() {
    start(AgentLoopTest::getThenComment);
    JsonObject auth = jiraAuth("str");
    String key = jira.addIssue("PSTR", "Streamed", "d");

    Http.Response r = http.post("/chat", new JsonObject().put("userId", "str").put("jiraAuth", auth)
        .put("message", "look at " + key).put("stream", true));

    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
    List<String> events = r.body().lines().filter(l -> l.startsWith("event: ")).map(l -> l.substring(7)).toList();
    assertThat(events).containsExactly("tool_call", "tool_result", "tool_call", "tool_result", "text", "done");
    List<String> data = r.body().lines().filter(l -> l.startsWith("data: ")).toList();
    assertThat(data).allSatisfy(d -> new JsonObject(d.substring(6)));
    assertThat(new JsonObject(data.get(data.size() - 1).substring(6)).getString("response"))
        .isEqualTo("Commented on " + key);
  }

  @Test
  void aTurnCanBeSentOverTheEventBusByAnotherVerticle() {
    start(r -> Future.succeededFuture(text("bus reply to " + userText(r))));
    CompletableFuture<JsonObject> got = new CompletableFuture<>();
    TestServers.await(server.vertx().deployVerticle(new io.vertx.core.VerticleBase() {
      @Override
      public Future<?> start() {
        vertx.eventBus().<JsonObject>request("mcps.chat.turn",
                new JsonObject().put("userId", "svc").put("message", "from a service"))
            .onSuccess(m -> got.complete(m.body())).onFailure(got::completeExceptionally);
        return Future.succeededFuture();
      }
    }));
    JsonObject reply = TestServers.await(Future.fromCompletionStage(got));
    assertThat(reply.getString("response")).isEqualTo("bus reply to from a service");
    assertThat(reply.getString("sessionId")).isNotBlank();

    Throwable bad = TestServers.await(server.vertx().eventBus().request("mcps.chat.turn", new JsonObject())
        .transform(ar -> Future.succeededFuture(ar.cause())));
    assertThat(((io.vertx.core.eventbus.ReplyException) bad).failureCode()).isEqualTo(400);
    assertThat(new JsonObject(bad.getMessage()).getString("error")).isEqualTo("Missing_Message");
  }

  // --- step 5: history under the lock, caps, the deadline's commit point, tool limits ---

  private static JsonObject msg(String role, String text) {
    return new JsonObject().put("role", role)
        .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", text)));
  }

  @Test
  void aHistorySentDuringAnotherTurnReplacesTheStoredOneOnlyAfterThatTurn() throws Exception {
    historyReplacedAfterTheRunningTurn();
  }

  @Test
  void aHistorySentDuringAnotherTurnReplacesTheStoredOneOnlyAfterThatTurnOnRedis() throws Exception {
    redis = dev.mcps.testing.RedisServer.start();
    historyReplacedAfterTheRunningTurn("STORE", "redis", "REDIS_URL", redis.url());
  }

  private void historyReplacedAfterTheRunningTurn(String... store) throws Exception {
    CompletableFuture<Void> firstAsked = new CompletableFuture<>();
    CompletableFuture<Void> letFirstAnswer = new CompletableFuture<>();
    ScriptedProvider p = start(r -> {
      if (userText(r).equals("first")) {
        firstAsked.complete(null);
        return Future.fromCompletionStage(letFirstAnswer, Vertx.currentContext()).map(x -> text("one"));
      }
      return Future.succeededFuture(text("seen " + r.messages().size()));
    }, store);
    String id = http.post("/chat", new JsonObject().put("userId", "rep").put("message", "hello"))
        .json().getString("sessionId");
    CompletableFuture<Http.Response> first = http.postAsync("/chat",
        new JsonObject().put("sessionId", id).put("message", "first"));
    firstAsked.get(30, TimeUnit.SECONDS);

    JsonArray clientHistory = new JsonArray().add(msg("user", "client q")).add(msg("assistant", "client a"));
    CompletableFuture<Http.Response> second = http.postAsync("/chat", new JsonObject().put("sessionId", id)
        .put("message", "second").put("history", clientHistory));
    letFirstAnswer.complete(null);

    assertThat(first.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);
    Http.Response replaced = second.get(30, TimeUnit.SECONDS);
    assertThat(replaced.status()).as(replaced.body()).isEqualTo(200);
    assertThat(replaced.json().getString("response")).isEqualTo("seen 3");
    List<JsonObject> stored = TestServers.await(server.sessions().history(id));
    assertThat(stored).containsExactly(msg("user", "client q"), msg("assistant", "client a"), msg("user", "second"),
        msg("assistant", "seen 3"));
    assertThat(p.requests.stream().filter(q -> userText(q).equals("second")).findFirst().orElseThrow().messages())
        .containsExactly(msg("user", "client q"), msg("assistant", "client a"), msg("user", "second"));
  }

  @Test
  void aHistoryWithAToolUseMissingItsResultIsRejectedAndChangesNothing() {
    start(r -> Future.succeededFuture(text("x")));
    String id = http.post("/chat", new JsonObject().put("userId", "pairs").put("message", "hello"))
        .json().getString("sessionId");
    JsonArray broken = new JsonArray().add(msg("user", "q")).add(new JsonObject().put("role", "assistant")
        .put("content", new JsonArray().add(new JsonObject().put("type", "tool_use").put("id", "t9")
            .put("name", "notes_get").put("input", new JsonObject()))));

    Http.Response r = http.post("/chat", new JsonObject().put("sessionId", id).put("message", "again")
        .put("history", broken));

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getString("error")).isEqualTo("Invalid_History");
    assertThat(r.json().getString("message")).contains("t9");
    assertThat(TestServers.await(server.sessions().history(id))).hasSize(2);
  }

  @Test
  void aTrimmedSessionsNextTurnSendsTheProviderExactlyTheTrimmedHistory() {
    trimmedHistoryIsWhatTheNextTurnSends();
  }

  @Test
  void aTrimmedSessionsNextTurnSendsTheProviderExactlyTheTrimmedHistoryOnRedis() {
    redis = dev.mcps.testing.RedisServer.start();
    trimmedHistoryIsWhatTheNextTurnSends("STORE", "redis", "REDIS_URL", redis.url());
  }

  private void trimmedHistoryIsWhatTheNextTurnSends(String... store) {
    List<String> settings = new ArrayList<>(List.of(store));
    settings.addAll(List.of("HISTORY_MAX_MESSAGES", "4"));
    List<String> memoMismatches = new ArrayList<>();
    ScriptedProvider p = start(r -> {
      // Encode through the turn's memo as a provider adapter does: what it hands back must be the conversation.
      for (int i = 0; i < r.messages().size(); i++) {
        JsonObject m = r.messages().get(i);
        if (!r.memo().message("probe", i, m, JsonObject::toBuffer).equals(m.toBuffer())) {
          memoMismatches.add(userText(r) + "@" + i);
        }
      }
      return Future.succeededFuture(text("seen " + r.messages().size()));
    }, settings.toArray(String[]::new));
    String id = http.post("/chat", new JsonObject().put("userId", "trim").put("message", "one"))
        .json().getString("sessionId");
    http.post("/chat", new JsonObject().put("sessionId", id).put("message", "two"));

    Http.Response third = http.post("/chat", new JsonObject().put("sessionId", id).put("message", "three"));
    Http.Response fourth = http.post("/chat", new JsonObject().put("sessionId", id).put("message", "four"));

    List<JsonObject> afterThird = List.of(msg("user", "two"), msg("assistant", "seen 3"), msg("user", "three"),
        msg("assistant", "seen 5"));
    assertThat(third.json().getJsonArray("history").encode()).isEqualTo(new JsonArray(afterThird).encode());
    List<JsonObject> sentInFourth = new ArrayList<>(afterThird);
    sentInFourth.add(msg("user", "four"));
    assertThat(p.requests.stream().filter(q -> userText(q).equals("four")).findFirst().orElseThrow().messages())
        .containsExactlyElementsOf(sentInFourth);
    assertThat(fourth.json().getString("response")).isEqualTo("seen 5");
    assertThat(TestServers.await(server.sessions().history(id))).containsExactly(msg("user", "three"),
        msg("assistant", "seen 5"), msg("user", "four"), msg("assistant", "seen 5"));
    assertThat(memoMismatches).isEmpty();
  }

  @Test
  void aClientHistoryOverTheCapsIsTrimmedByWholeTurnsBeforeTheModelSeesIt() {
    ScriptedProvider p = start(r -> Future.succeededFuture(text("seen " + r.messages().size())),
        "HISTORY_MAX_MESSAGES", "5");
    JsonArray long_ = new JsonArray();
    for (int i = 0; i < 10; i++) {
      long_.add(msg("user", "q" + i)).add(msg("assistant", "a" + i));
    }

    Http.Response r = http.post("/chat", new JsonObject().put("userId", "longh").put("message", "now")
        .put("history", long_));

    assertThat(r.status()).isEqualTo(200);
    assertThat(p.requests.peek().messages()).containsExactly(msg("user", "q8"), msg("assistant", "a8"),
        msg("user", "q9"), msg("assistant", "a9"), msg("user", "now"));
    assertThat(r.json().getJsonArray("history")).hasSize(4);
  }

  @Test
  void theStoredHistoryStaysWithinTheByteCap() {
    start(r -> Future.succeededFuture(text("x".repeat(300))), "HISTORY_MAX_BYTES", "2000");
    String id = null;
    for (int i = 0; i < 10; i++) {
      JsonObject body = new JsonObject().put("message", "question " + i);
      Http.Response r = http.post("/chat", id == null ? body.put("userId", "bytes") : body.put("sessionId", id));
      id = r.json().getString("sessionId");
      assertThat(r.json().getJsonArray("history").toBuffer().length()).isLessThanOrEqualTo(2000);
    }
    List<JsonObject> stored = TestServers.await(server.sessions().history(id));
    assertThat(new JsonArray(stored).toBuffer().length()).isLessThanOrEqualTo(2000);
    assertThat(stored.get(0)).isEqualTo(msg("user", "question " + (10 - stored.size() / 2)));
    assertThat(stored.get(stored.size() - 2)).isEqualTo(msg("user", "question 9"));
  }

  @Test
  void aModelAskingForFortyJiraChangesInOneStepGetsThreeThrough() {
    start(r -> {
      if ("text".equals(lastBlock(r).getString("type"))) {
        String key = userText(r).replaceAll(".*?([A-Z][A-Z0-9]+-[0-9]+).*", "$1");
        JsonObject[] uses = new JsonObject[40];
        for (int i = 0; i < 40; i++) {
          uses[i] = use("c" + i, "jira_add_comment", new JsonObject().put("issueKey", key).put("body", "n" + i));
        }
        return Future.succeededFuture(toolUses(uses));
      }
      JsonArray results = last(r).getJsonArray("content");
      long refused = results.stream().filter(b -> ((JsonObject) b).getBoolean("is_error")).count();
      return Future.succeededFuture(text("refused " + refused + ": "
          + results.getJsonObject(39).getString("content")));
    });
    JsonObject auth = jiraAuth("wr");
    String key = jira.addIssue("PWR", "Many changes", "d");

    Http.Response r = http.post("/chat", new JsonObject().put("userId", "wr").put("jiraAuth", auth)
        .put("message", "comment forty times on " + key));

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().getString("response")).startsWith("refused 37: Tool jira_add_comment refused: at most 3 "
        + "Jira changes are allowed in one turn (CHAT_MAX_WRITES_PER_TURN)");
    assertThat(jira.requests()).hasSize(3).allMatch(q -> q.method().equals("POST"));
    assertThat(jira.issue(key).getJsonObject("fields").getJsonObject("comment").getInteger("total")).isEqualTo(3);
  }

  @Test
  void aToolTheTurnDidNotOfferIsRefusedByName() {
    start(r -> {
      if ("text".equals(lastBlock(r).getString("type"))) {
        return Future.succeededFuture(toolUses(use("a", "jira_get_issue", new JsonObject().put("issueKey", "X-1")),
            use("b", "no_such_tool", new JsonObject())));
      }
      JsonArray results = last(r).getJsonArray("content");
      return Future.succeededFuture(text(results.getJsonObject(0).getString("content") + " | "
          + results.getJsonObject(1).getString("content")));
    });

    // No Jira word in the message: the Jira tools are not offered.
    Http.Response r = http.post("/chat", new JsonObject().put("userId", "off").put("message", "hello there"));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("response")).startsWith("Tool jira_get_issue refused: it is not one of the tools "
        + "offered in this turn (session_info, notes_").endsWith(" | Unknown tool: no_such_tool");
    assertThat(jira.requests()).isEmpty();
  }

  @Test
  void onAReadOnlyServerAJiraChangeTheModelAsksForIsRefusedWithTheReason() {
    start(r -> {
      if ("text".equals(lastBlock(r).getString("type"))) {
        return Future.succeededFuture(toolUse("w", "jira_add_comment", new JsonObject().put("issueKey", "PRO-1")
            .put("body", "x")));
      }
      return Future.succeededFuture(text(lastBlock(r).getString("content")));
    }, "JIRA_READ_ONLY", "true");

    Http.Response r = http.post("/chat", new JsonObject().put("userId", "ro").put("message", "comment on PRO-1"));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("response")).isEqualTo("Tool jira_add_comment is refused: this server is "
        + "read-only (JIRA_READ_ONLY=true) and allows no Jira changes");
    assertThat(jira.requests()).isEmpty();
  }

  @Test
  void aHugeToolResultIsClippedBeforeItEntersTheHistoryAndTheModelRequest() {
    ScriptedProvider p = start(AgentLoopTest::getThenComment, "TOOL_RESULT_MAX_BYTES", "300");
    JsonObject auth = jiraAuth("big");
    String key = jira.addIssue("PBIG", "Large", "é".repeat(20_000));

    Http.Response r = http.post("/chat", new JsonObject().put("userId", "big").put("jiraAuth", auth)
        .put("message", "look at " + key));

    assertThat(r.status()).isEqualTo(200);
    String stored = r.json().getJsonArray("history").getJsonObject(2).getJsonArray("content").getJsonObject(0)
        .getString("content");
    assertThat(stored.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(300);
    assertThat(stored).startsWith(key + ": Large").containsPattern("\\n\\[clipped: \\d+ bytes omitted\\]$");
    assertThat(p.requests.stream().skip(1).findFirst().orElseThrow().messages().get(2).getJsonArray("content")
        .getJsonObject(0).getString("content")).isEqualTo(stored);
  }
}
