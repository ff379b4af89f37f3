package dev.mcps.provider;

import static dev.mcps.testing.FakeOpenAi.completion;
import static dev.mcps.testing.FakeOpenAi.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.config.ServerConfig;
import dev.mcps.provider.openai.OpenAiProvider;
import dev.mcps.testing.FakeLlmServer;
import dev.mcps.testing.FakeOpenAi;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpenAiProviderTest extends ProviderContract {

  private static final String KEY = "sk-proj-test-8c1d2e3f4a5b6c7d";

  OpenAiProviderTest() {
    super("OpenAI", KEY, "API key", 401);
  }

  @Override
  protected FakeLlmServer startFake(Vertx vertx) {
    return FakeOpenAi.start(vertx, KEY);
  }

  @Override
  protected LlmProvider provider(String baseUrl, CallPolicy policy) {
    return new OpenAiProvider(vertx, new ServerConfig.Provider(KEY, baseUrl, "gpt-test-model"), policy);
  }

  @Override
  protected void scriptTwoToolTurn() {
    fake.script(r -> switch (toolMessages(r.body())) {
      case 0 -> completion("tool_calls", "Let me read it.",
          toolCall("tu_1", "jira_get_issue", GET_ISSUE_INPUT.encode()));
      case 1 -> completion("tool_calls", null, toolCall("tu_2", "jira_add_comment", ADD_COMMENT_INPUT.encode()));
      default -> completion("stop", "I could not add the comment.");
    });
  }

  private static int toolMessages(JsonObject body) {
    return (int) body.getJsonArray("messages").stream()
        .filter(m -> "tool".equals(((JsonObject) m).getString("role"))).count();
  }

  @Test
  void theTwoStepTurnIsSentAsChatCompletionsWithToolCallsAndToolMessages() {
    scriptTwoToolTurn();

    runTwoToolTurn();

    assertThat(fake.request(2).path()).isEqualTo("/v1/chat/completions");
    assertThat(fake.request(2).body()).isEqualTo(new JsonObject("""
        {"model": "gpt-test-model",
         "messages": [
           {"role": "system", "content": "You help with Jira."},
           {"role": "user", "content": "Read PROJ-1 and comment 'Looks good' on it."},
           {"role": "assistant", "content": "Let me read it.", "tool_calls": [
             {"id": "tu_1", "type": "function",
              "function": {"name": "jira_get_issue", "arguments": "{\\"issueKey\\":\\"PROJ-1\\"}"}}]},
           {"role": "tool", "tool_call_id": "tu_1", "content": "PROJ-1: Login fails\\nStatus: To Do"},
           {"role": "assistant", "content": null, "tool_calls": [
             {"id": "tu_2", "type": "function",
              "function": {"name": "jira_add_comment",
                           "arguments": "{\\"issueKey\\":\\"PROJ-1\\",\\"body\\":\\"Looks good\\"}"}}]},
           {"role": "tool", "tool_call_id": "tu_2", "content": "Error: Jira denied access (403)"}],
         "tools": [
           {"type": "function", "function": {"name": "jira_get_issue", "description": "Read one Jira issue",
            "parameters": {"type": "object", "properties": {"issueKey": {"type": "string"}},
                           "required": ["issueKey"]}}},
           {"type": "function", "function": {"name": "jira_add_comment",
            "description": "Add a comment to a Jira issue",
            "parameters": {"type": "object",
                           "properties": {"issueKey": {"type": "string"}, "body": {"type": "string"}},
                           "required": ["issueKey", "body"]}}}]}"""));
  }

  @Test
  void theKeyTravelsAsABearerTokenOnly() {
    TestServers.await(provider.complete(request(List.of(user(ASK)))));

    FakeLlmServer.Recorded r = fake.request(0);
    assertThat(r.header("Authorization")).isEqualTo("Bearer " + KEY);
    assertThat(r.header("x-api-key")).isNull();
    assertThat(r.body().encode()).doesNotContain(KEY);
  }

  @Test
  void unparsableToolArgumentsBecomeAnEmptyInputAndTheTurnGoesOn() {
    fake.script(r -> completion("tool_calls", null,
        toolCall("c1", "jira_get_issue", "{\"issueKey\": \"PROJ-1\""),
        toolCall("c2", "jira_get_issue", "[\"not\", \"an object\"]"),
        toolCall("c3", "jira_add_comment", "{\"issueKey\":\"PROJ-2\",\"body\":\"fine\"}")));

    ProviderReply reply = TestServers.await(provider.complete(request(List.of(user(ASK)))));

    assertThat(reply.stopReason()).isEqualTo("tool_use");
    assertThat(reply.content()).containsExactly(
        Canonical.toolUse("c1", "jira_get_issue", new JsonObject()),
        Canonical.toolUse("c2", "jira_get_issue", new JsonObject()),
        Canonical.toolUse("c3", "jira_add_comment", new JsonObject().put("issueKey", "PROJ-2").put("body", "fine")));
  }

  @Test
  void toolCallsAskForToolsEvenWhenACompatibleServerSaysStop() {
    fake.script(r -> completion("stop", "", toolCall("c1", "jira_get_issue", GET_ISSUE_INPUT.encode())));

    ProviderReply reply = TestServers.await(provider.complete(request(List.of(user(ASK)))));

    assertThat(reply.stopReason()).isEqualTo("tool_use");
    assertThat(reply.content()).containsExactly(Canonical.toolUse("c1", "jira_get_issue", GET_ISSUE_INPUT));
  }

  @Test
  void noToolsMeansNoToolsField() {
    TestServers.await(provider.complete(new ProviderRequest(null, List.of(user(ASK)), List.of(), USER_HASH, null)));

    JsonObject body = fake.request(0).body();
    assertThat(body.containsKey("tools")).isFalse();
    assertThat(body.getJsonArray("messages")).isEqualTo(new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", ASK)));
  }
}
