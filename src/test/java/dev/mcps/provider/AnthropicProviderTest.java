package dev.mcps.provider;

import static dev.mcps.testing.FakeAnthropic.message;
import static dev.mcps.testing.FakeAnthropic.text;
import static dev.mcps.testing.FakeAnthropic.toolUse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.config.ServerConfig;
import dev.mcps.provider.anthropic.AnthropicProvider;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.FakeLlmServer;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AnthropicProviderTest extends ProviderContract {

  private static final String KEY = "sk-ant-api03-test-4f9a8b7c6d5e3a21";
  private static final JsonObject EPHEMERAL = new JsonObject().put("type", "ephemeral");

  AnthropicProviderTest() {
    super("Anthropic", KEY, "API key", 401);
  }

  @Override
  protected FakeLlmServer startFake(Vertx vertx) {
    return FakeAnthropic.start(vertx, KEY);
  }

  @Override
  protected LlmProvider provider(String baseUrl, CallPolicy policy) {
    return new AnthropicProvider(vertx, new ServerConfig.Provider(KEY, baseUrl, "claude-test-model"), policy);
  }

  @Override
  protected void scriptTwoToolTurn() {
    fake.script(r -> switch (toolResults(r.body())) {
      case 0 -> message("tool_use", text("Let me read it."), toolUse("tu_1", "jira_get_issue", GET_ISSUE_INPUT));
      case 1 -> message("tool_use", toolUse("tu_2", "jira_add_comment", ADD_COMMENT_INPUT));
      default -> message("end_turn", text("I could not add the comment."));
    });
  }

  private static int toolResults(JsonObject body) {
    return (int) body.getJsonArray("messages").stream().map(m -> ((JsonObject) m).getJsonArray("content"))
        .flatMap(JsonArray::stream).filter(b -> "tool_result".equals(((JsonObject) b).getString("type"))).count();
  }

  @Test
  void theTwoStepTurnIsSentAsMessagesApiJson() {
    scriptTwoToolTurn();

    runTwoToolTurn();

    assertThat(fake.request(2).body()).isEqualTo(new JsonObject("""
        {"model": "claude-test-model", "max_tokens": 4096,
         "system": [{"type": "text", "text": "You help with Jira.", "cache_control": {"type": "ephemeral"}}],
         "messages": [
           {"role": "user", "content": [{"type": "text", "text": "Read PROJ-1 and comment 'Looks good' on it."}]},
           {"role": "assistant", "content": [
             {"type": "text", "text": "Let me read it."},
             {"type": "tool_use", "id": "tu_1", "name": "jira_get_issue", "input": {"issueKey": "PROJ-1"}}]},
           {"role": "user", "content": [
             {"type": "tool_result", "tool_use_id": "tu_1", "content": "PROJ-1: Login fails\\nStatus: To Do"}]},
           {"role": "assistant", "content": [
             {"type": "tool_use", "id": "tu_2", "name": "jira_add_comment",
              "input": {"issueKey": "PROJ-1", "body": "Looks good"}}]},
           {"role": "user", "content": [
             {"type": "tool_result", "tool_use_id": "tu_2", "content": "Jira denied access (403)", "is_error": true,
              "cache_control": {"type": "ephemeral"}}]}],
         "tools": [
           {"name": "jira_get_issue", "description": "Read one Jira issue",
            "input_schema": {"type": "object", "properties": {"issueKey": {"type": "string"}},
                             "required": ["issueKey"]}},
           {"name": "jira_add_comment", "description": "Add a comment to a Jira issue",
            "input_schema": {"type": "object",
                             "properties": {"issueKey": {"type": "string"}, "body": {"type": "string"}},
                             "required": ["issueKey", "body"]},
            "cache_control": {"type": "ephemeral"}}],
         "metadata": {"user_id": "u-3f2a9c17"}}"""));
  }

  @Test
  void everyStepCachesTheToolsAndTheNewestTurnWithAtMostFourBreakpoints() {
    scriptTwoToolTurn();

    runTwoToolTurn();

    for (FakeLlmServer.Recorded r : fake.requests()) {
      JsonObject body = r.body();
      JsonArray tools = body.getJsonArray("tools");
      JsonArray messages = body.getJsonArray("messages");
      JsonArray newest = messages.getJsonObject(messages.size() - 1).getJsonArray("content");
      assertThat(tools.getJsonObject(tools.size() - 1).getJsonObject("cache_control")).isEqualTo(EPHEMERAL);
      assertThat(tools.getJsonObject(0).containsKey("cache_control")).isFalse();
      assertThat(newest.getJsonObject(newest.size() - 1).getJsonObject("cache_control")).isEqualTo(EPHEMERAL);
      assertThat(cacheControls(body)).isEqualTo(3);
    }
  }

  @Test
  void breakpointsAlreadyInTheHistoryAreDroppedSoTheLimitOfFourHolds() {
    List<JsonObject> history = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      history.add(user(new JsonArray().add(Canonical.text("question " + i).put("cache_control", EPHEMERAL))));
      history.add(new JsonObject().put("role", "assistant")
          .put("content", new JsonArray().add(Canonical.text("answer " + i).put("cache_control", EPHEMERAL))));
    }
    history.add(user("the newest question"));

    TestServers.await(provider.complete(request(history)));

    JsonObject body = fake.request(0).body();
    assertThat(cacheControls(body)).isEqualTo(3);
    JsonArray messages = body.getJsonArray("messages");
    assertThat(messages.getJsonObject(messages.size() - 1)).isEqualTo(new JsonObject("""
        {"role": "user", "content": [{"type": "text", "text": "the newest question",
                                       "cache_control": {"type": "ephemeral"}}]}"""));
  }

  @Test
  void theRequestCarriesTheKeyAndApiVersionButNoBetaHeader() {
    TestServers.await(provider.complete(request(List.of(user(ASK)))));

    FakeLlmServer.Recorded r = fake.request(0);
    assertThat(r.header("x-api-key")).isEqualTo(KEY);
    assertThat(r.header("anthropic-version")).isEqualTo("2023-06-01");
    assertThat(r.header("Content-Type")).isEqualTo("application/json");
    assertThat(r.headers().names()).noneMatch(h -> h.equalsIgnoreCase("anthropic-beta"));
    assertThat(r.header("Authorization")).isNull();
    assertThat(r.body().getJsonObject("metadata")).isEqualTo(new JsonObject().put("user_id", USER_HASH));
  }

  @Test
  void aReplyCutShortByTheTokenLimitSaysMaxTokens() {
    fake.script(r -> message("max_tokens", text("The issue is about")));

    ProviderReply reply = TestServers.await(provider.complete(request(List.of(user(ASK)))));

    assertThat(reply.stopReason()).isEqualTo("max_tokens");
    assertThat(reply.content()).containsExactly(Canonical.text("The issue is about"));
  }

  private static int cacheControls(Object json) {
    int count = 0;
    if (json instanceof JsonObject o) {
      for (String k : o.fieldNames()) {
        count += (k.equals("cache_control") ? 1 : 0) + cacheControls(o.getValue(k));
      }
    } else if (json instanceof JsonArray a) {
      for (Object v : a) {
        count += cacheControls(v);
      }
    }
    return count;
  }
}
