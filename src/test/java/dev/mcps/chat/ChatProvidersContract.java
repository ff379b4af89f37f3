package dev.mcps.chat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.FakeBedrock;
import dev.mcps.testing.FakeJira;
import dev.mcps.testing.FakeLlmServer;
import dev.mcps.testing.FakeOpenAi;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * /chat end to end on each provider: the real server, the real provider adapters speaking their wire formats to fake
 * Anthropic, OpenAI and Bedrock servers, and the fake Jira. The fakes script a two-tool turn (read the issue the
 * message names, comment on it, answer). Subclasses run it on memory and on a real Redis.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ChatProvidersContract {

  enum Model { ANTHROPIC, OPENAI, BEDROCK }

  private static final String KEY = "test-provider-key-SECRET";
  private static final String AWS_KEY_ID = "AKIAFAKETESTKEY12345";
  private static final Pattern ISSUE = Pattern.compile("check (P[A-Z0-9]+-[0-9]+)");

  private Vertx side;
  private FakeJira jira;
  private final Map<Model, FakeLlmServer> fakes = new HashMap<>();
  protected Server server;
  private Http http;

  protected abstract Map<String, String> storeEnv();

  @BeforeAll
  void start() {
    System.setProperty("aws.accessKeyId", AWS_KEY_ID);
    System.setProperty("aws.secretAccessKey", "fake-secret-for-tests");
    System.setProperty("aws.disableEc2Metadata", "true");
    side = Vertx.vertx();
    jira = FakeJira.start(side);
    fakes.put(Model.ANTHROPIC, FakeAnthropic.start(side, KEY));
    fakes.put(Model.OPENAI, FakeOpenAi.start(side, KEY));
    fakes.put(Model.BEDROCK, FakeBedrock.start(side, AWS_KEY_ID));
    fakes.forEach((model, fake) -> fake.script(r -> twoToolTurn(model, r)));
    Map<String, String> env = new HashMap<>(storeEnv());
    env.putAll(Map.of(
        "ANTHROPIC_API_KEY", KEY, "ANTHROPIC_BASE_URL", fakes.get(Model.ANTHROPIC).baseUrl(),
        "OPENAI_API_KEY", KEY, "OPENAI_BASE_URL", fakes.get(Model.OPENAI).baseUrl(),
        "AWS_REGION", "us-east-1", "BEDROCK_MODEL_ID", "anthropic.claude-test-v1:0",
        "BEDROCK_ENDPOINT", fakes.get(Model.BEDROCK).baseUrl(),
        "PROVIDER_TIMEOUT_MS", "10000", "SESSION_MAX", "5000"));
    server = TestServers.start(env);
    http = new Http(server.port());
    // One turn on each provider first: the tests are about a running server, not its first seconds. Cold, the first
    // Bedrock call loads and initialises the AWS SDK on whatever thread makes it (an event loop with
    // WORKER_VERTICLES=false), which on a busy machine held the loops past STORE_TIMEOUT_MS and failed the test that
    // happened to come first with 503s.
    for (Model model : Model.values()) {
      Http.Response warm = http.post("/chat", turn(user("warm-up-" + model.name().toLowerCase()), model));
      assertThat(warm.status()).as(warm.body()).isEqualTo(200);
    }
  }

  @AfterAll
  void stop() {
    TestServers.await(server.stop());
    fakes.values().forEach(FakeLlmServer::close);
    jira.close();
    TestServers.await(side.close());
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
    System.clearProperty("aws.disableEc2Metadata");
  }

  /** Step by step from how many tool results the request already carries: get_issue, add_comment, answer. */
  private static JsonObject twoToolTurn(Model model, FakeLlmServer.Recorded r) {
    String body = r.body().encode();
    Matcher m = ISSUE.matcher(body);
    String key = m.find() ? m.group(1) : "NONE-1";
    int results = count(body, switch (model) {
      case ANTHROPIC -> "\"type\":\"tool_result\"";
      case OPENAI -> "\"role\":\"tool\"";
      case BEDROCK -> "\"toolResult\"";
    });
    String summary = summaryIn(body);
    JsonObject getIssue = new JsonObject().put("issueKey", key);
    JsonObject comment = new JsonObject().put("issueKey", key).put("body", "Seen: " + summary);
    String answer = "Done with " + key + ": " + summary;
    return switch (model) {
      case ANTHROPIC -> results == 0 ? FakeAnthropic.message("tool_use", FakeAnthropic.toolUse("tu1", "jira_get_issue", getIssue))
          : results == 1 ? FakeAnthropic.message("tool_use", FakeAnthropic.toolUse("tu2", "jira_add_comment", comment))
          : FakeAnthropic.message("end_turn", FakeAnthropic.text(answer));
      case OPENAI -> results == 0 ? FakeOpenAi.completion("tool_calls", null,
              FakeOpenAi.toolCall("call1", "jira_get_issue", getIssue.encode()))
          : results == 1 ? FakeOpenAi.completion("tool_calls", null,
              FakeOpenAi.toolCall("call2", "jira_add_comment", comment.encode()))
          : FakeOpenAi.completion("stop", answer);
      case BEDROCK -> results == 0 ? FakeBedrock.converse("tool_use", FakeBedrock.toolUse("tb1", "jira_get_issue", getIssue))
          : results == 1 ? FakeBedrock.converse("tool_use", FakeBedrock.toolUse("tb2", "jira_add_comment", comment))
          : FakeBedrock.converse("end_turn", FakeBedrock.text(answer));
    };
  }

  /** The summary line of the jira_get_issue result, as the model would read it. */
  private static String summaryIn(String body) {
    Matcher m = Pattern.compile("P[A-Z0-9]+-[0-9]+: (Plan of [a-z0-9-]+)").matcher(body);
    return m.find() ? m.group(1) : "?";
  }

  private static int count(String s, String needle) {
    int n = 0;
    for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  private record User(String name, String key, JsonObject jiraAuth) {}

  private User user(String prefix) {
    String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    String project = "P" + name.toUpperCase().replaceAll("[^A-Z0-9]", "");
    jira.addUser(name + "@example.com", "tok-" + name, project);
    String key = jira.addIssue(project, "Plan of " + name, "secret details of " + name);
    return new User(name, key, new JsonObject().put("baseUrl", jira.baseUrl()).put("email", name + "@example.com")
        .put("apiToken", "tok-" + name));
  }

  private static JsonObject turn(User u, Model model) {
    return new JsonObject().put("userId", u.name()).put("jiraAuth", u.jiraAuth())
        .put("model", model.name().toLowerCase()).put("message", "Please check " + u.key());
  }

  @ParameterizedTest
  @EnumSource(Model.class)
  void aFullAgenticCycleRunsOnEachProvider(Model model) {
    User u = user(model.name().toLowerCase());

    Http.Response r = http.post("/chat", turn(u, model));

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().getString("response")).isEqualTo("Done with " + u.key() + ": Plan of " + u.name());
    JsonArray history = r.json().getJsonArray("history");
    assertThat(history.stream().map(m -> ((JsonObject) m).getString("role")))
        .containsExactly("user", "assistant", "user", "assistant", "user", "assistant");
    assertThat(block(history, 1).getString("name")).isEqualTo("jira_get_issue");
    assertThat(block(history, 2).getString("content")).startsWith(u.key() + ": Plan of " + u.name());
    assertThat(block(history, 3).getString("name")).isEqualTo("jira_add_comment");
    assertThat(block(history, 4).getBoolean("is_error")).isFalse();
    List<FakeJira.Recorded> calls = jira.requests().stream().filter(q -> q.path().contains(u.key())).toList();
    assertThat(calls).hasSize(2).allMatch(q -> q.email().equals(u.name() + "@example.com")
        && q.token().equals("tok-" + u.name()));
    assertThat(r.body()).doesNotContain("tok-" + u.name()).doesNotContain(KEY);
  }

  private static JsonObject block(JsonArray history, int message) {
    return history.getJsonObject(message).getJsonArray("content").getJsonObject(0);
  }

  @ParameterizedTest
  @EnumSource(Model.class)
  void aSecondTurnBySessionIdSendsTheEarlierMessagesToTheProvider(Model model) {
    User u = user("again-" + model.name().toLowerCase());
    String sessionId = http.post("/chat", turn(u, model)).json().getString("sessionId");
    FakeLlmServer fake = fakes.get(model);
    int before = fake.requests().size();

    Http.Response second = http.post("/chat", new JsonObject().put("sessionId", sessionId)
        .put("model", model.name().toLowerCase()).put("message", "Thanks, and check " + u.key() + " again"));

    assertThat(second.status()).as(second.body()).isEqualTo(200);
    String firstRequestOfTurnTwo = fake.requests().get(before).body().encode();
    assertThat(firstRequestOfTurnTwo).contains("Please check " + u.key()).contains("Done with " + u.key());
    // The fake sees turn one's two tool results and answers at once: six messages, then the new question and answer.
    assertThat(second.json().getJsonArray("history")).hasSize(8);
  }

  @ParameterizedTest
  @EnumSource(Model.class)
  void aHistorySentWithATurnReplacesTheEarlierOneForTheModelAndInTheReplyFromThenOn(Model model) {
    User u = user("replaced-" + model.name().toLowerCase());
    String sessionId = http.post("/chat", turn(u, model)).json().getString("sessionId");
    JsonArray replacement = new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", "an earlier question from elsewhere"))
        .add(new JsonObject().put("role", "assistant").put("content", "an earlier answer from elsewhere"));
    FakeLlmServer fake = fakes.get(model);
    int before = fake.requests().size();

    Http.Response second = http.post("/chat", new JsonObject().put("sessionId", sessionId).put("history", replacement)
        .put("model", model.name().toLowerCase()).put("message", "Now check " + u.key()));
    int beforeThird = fake.requests().size();
    Http.Response third = http.post("/chat", new JsonObject().put("sessionId", sessionId)
        .put("model", model.name().toLowerCase()).put("message", "And " + u.key() + " once more"));

    assertThat(second.status()).as(second.body()).isEqualTo(200);
    String turnTwo = fake.requests().get(before).body().encode();
    assertThat(turnTwo).contains("an earlier answer from elsewhere").doesNotContain("Please check " + u.key());
    JsonArray history = second.json().getJsonArray("history");
    assertThat(history.getJsonObject(1).encode()).contains("an earlier answer from elsewhere");
    assertThat(history.encode()).doesNotContain("Please check " + u.key());
    assertThat(third.status()).as(third.body()).isEqualTo(200);
    String turnThree = fake.requests().get(beforeThird).body().encode();
    assertThat(turnThree).contains("an earlier answer from elsewhere").contains("Now check " + u.key())
        .doesNotContain("Please check " + u.key());
    assertThat(third.json().getJsonArray("history").encode())
        .startsWith(history.encode().substring(0, history.encode().length() - 1))
        .doesNotContain("Please check " + u.key());
  }

  @Test
  void threeHundredConcurrentUsersEachSeeOnlyTheirOwnJiraData() throws Exception {
    int users = 300;
    List<User> all = new ArrayList<>();
    List<CompletableFuture<Http.Response>> calls = new ArrayList<>();
    for (int i = 0; i < users; i++) {
      User u = user("crowd" + i);
      all.add(u);
      calls.add(http.postAsync("/chat", turn(u, Model.values()[i % 3])));
    }
    for (int i = 0; i < users; i++) {
      User u = all.get(i);
      Http.Response r = calls.get(i).get(120, TimeUnit.SECONDS);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(r.json().getString("response")).isEqualTo("Done with " + u.key() + ": Plan of " + u.name());
      Matcher other = Pattern.compile("(Plan|secret details) of (crowd[0-9]+-[0-9a-f]{8})").matcher(r.body());
      while (other.find()) {
        assertThat(other.group(2)).as("only this user's Jira data").isEqualTo(u.name());
      }
    }
    for (User u : all) {
      assertThat(jira.requests().stream().filter(q -> q.path().contains(u.key() + "/") || q.path().endsWith(u.key())))
          .hasSize(2).allMatch(q -> q.email().equals(u.name() + "@example.com") && q.token().equals("tok-" + u.name()));
    }
  }

  @Test
  void theAnthropicRequestCarriesCacheBreakpointsOnTheLastToolAndTheNewestTurn() {
    User u = user("cache");
    FakeLlmServer fake = fakes.get(Model.ANTHROPIC);
    int before = fake.requests().size();
    http.post("/chat", turn(u, Model.ANTHROPIC));

    JsonObject first = fake.requests().get(before).body();
    JsonArray tools = first.getJsonArray("tools");
    JsonArray messages = first.getJsonArray("messages");
    JsonArray newest = messages.getJsonObject(messages.size() - 1).getJsonArray("content");
    assertThat(tools.getJsonObject(tools.size() - 1).getJsonObject("cache_control").getString("type"))
        .isEqualTo("ephemeral");
    assertThat(newest.getJsonObject(newest.size() - 1).containsKey("cache_control")).isTrue();
    assertThat(count(first.encode(), "\"cache_control\"")).isLessThanOrEqualTo(4);
    assertThat(fake.requests().get(before).header("anthropic-beta")).isNull();
    assertThat(fake.requests().get(before).header("anthropic-version")).isEqualTo("2023-06-01");
    assertThat(first.getJsonObject("metadata").getString("user_id")).hasSize(32).doesNotContain(u.name());
  }

  @Test
  void aRejectedProviderKeyIsA502ThatNeverShowsTheKey() {
    User u = user("badkey");
    fakes.get(Model.OPENAI).failNext(401, 1, null, "Incorrect API key provided: " + KEY);
    Http.Response r = http.post("/chat", turn(u, Model.OPENAI));
    assertThat(r.status()).isEqualTo(502);
    assertThat(r.json().getString("error")).isEqualTo("Provider_Error");
    assertThat(r.body()).doesNotContain(KEY).doesNotContain("SECRET");
  }
}
