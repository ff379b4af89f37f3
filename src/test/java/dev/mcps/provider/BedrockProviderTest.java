package dev.mcps.provider;

import static dev.mcps.testing.FakeBedrock.converse;
import static dev.mcps.testing.FakeBedrock.text;
import static dev.mcps.testing.FakeBedrock.toolUse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.config.ServerConfig;
import dev.mcps.provider.bedrock.BedrockProvider;
import dev.mcps.testing.DummyAwsCredentials;
import dev.mcps.testing.FakeBedrock;
import dev.mcps.testing.FakeLlmServer;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The real {@code BedrockRuntimeAsyncClient} (SigV4, Converse JSON, its Netty HTTP client) against FakeBedrock. */
class BedrockProviderTest extends ProviderContract {

  private static final String ACCESS_KEY = "AKIAFAKETESTKEY12345";
  private static final String MODEL = "anthropic.claude-test-v1:0";

  @RegisterExtension
  static final DummyAwsCredentials AWS = new DummyAwsCredentials(ACCESS_KEY);

  BedrockProviderTest() {
    super("Bedrock", ACCESS_KEY, "AWS credentials", 403);
  }

  @Override
  protected FakeLlmServer startFake(Vertx vertx) {
    return FakeBedrock.start(vertx, ACCESS_KEY);
  }

  @Override
  protected LlmProvider provider(String baseUrl, CallPolicy policy) {
    return new BedrockProvider(vertx, new ServerConfig.Bedrock("us-east-1", MODEL, baseUrl), policy);
  }

  @Override
  protected void scriptTwoToolTurn() {
    fake.script(r -> switch (toolResults(r.body())) {
      case 0 -> converse("tool_use", text("Let me read it."), toolUse("tu_1", "jira_get_issue", GET_ISSUE_INPUT));
      case 1 -> converse("tool_use", toolUse("tu_2", "jira_add_comment", ADD_COMMENT_INPUT));
      default -> converse("end_turn", text("I could not add the comment."));
    });
  }

  private static int toolResults(JsonObject body) {
    return (int) body.getJsonArray("messages").stream()
        .flatMap(m -> ((JsonObject) m).getJsonArray("content").stream())
        .filter(b -> ((JsonObject) b).containsKey("toolResult")).count();
  }

  @Test
  void theTwoStepTurnIsSentAsConverseJsonWithToolUseAndToolResultBlocks() {
    scriptTwoToolTurn();

    runTwoToolTurn();

    FakeLlmServer.Recorded last = fake.request(2);
    assertThat(FakeBedrock.modelId(last)).isEqualTo(MODEL);
    assertThat(last.body()).isEqualTo(new JsonObject("""
        {"messages": [
           {"role": "user", "content": [{"text": "Read PROJ-1 and comment 'Looks good' on it."}]},
           {"role": "assistant", "content": [
             {"text": "Let me read it."},
             {"toolUse": {"toolUseId": "tu_1", "name": "jira_get_issue", "input": {"issueKey": "PROJ-1"}}}]},
           {"role": "user", "content": [
             {"toolResult": {"toolUseId": "tu_1", "content": [{"text": "PROJ-1: Login fails\\nStatus: To Do"}]}}]},
           {"role": "assistant", "content": [
             {"toolUse": {"toolUseId": "tu_2", "name": "jira_add_comment",
                          "input": {"issueKey": "PROJ-1", "body": "Looks good"}}}]},
           {"role": "user", "content": [
             {"toolResult": {"toolUseId": "tu_2", "content": [{"text": "Jira denied access (403)"}],
                             "status": "error"}}]}],
         "system": [{"text": "You help with Jira."}],
         "inferenceConfig": {"maxTokens": 4096},
         "toolConfig": {"tools": [
           {"toolSpec": {"name": "jira_get_issue", "description": "Read one Jira issue",
             "inputSchema": {"json": {"type": "object", "properties": {"issueKey": {"type": "string"}},
                                      "required": ["issueKey"]}}}},
           {"toolSpec": {"name": "jira_add_comment", "description": "Add a comment to a Jira issue",
             "inputSchema": {"json": {"type": "object",
                                      "properties": {"issueKey": {"type": "string"}, "body": {"type": "string"}},
                                      "required": ["issueKey", "body"]}}}}]}}"""));
  }

  @Test
  void requestsAreSigV4SignedAndSentOverHttp11() {
    TestServers.await(provider.complete(request(List.of(user(ASK)))));

    FakeLlmServer.Recorded r = fake.request(0);
    assertThat(r.httpVersion()).isEqualTo("http/1.1");
    assertThat(r.header("Authorization")).startsWith("AWS4-HMAC-SHA256 Credential=" + ACCESS_KEY + "/")
        .contains("/us-east-1/bedrock/aws4_request").contains("Signature=");
    assertThat(r.header("X-Amz-Date")).isNotNull();
    assertThat(r.header("Authorization")).doesNotContain("fake-secret-key-for-tests-only");
  }

  @Test
  void nestedToolInputsSurviveTheDocumentConversion() {
    JsonObject input = new JsonObject("""
        {"jql": "project = P", "max": 50, "ratio": 0.5, "flags": [true, false, null],
         "nested": {"list": [{"a": 1}, "two", 3.25]}}""");
    fake.script(r -> converse("tool_use", toolUse("tu_9", "jira_search", input)));

    ProviderReply reply = TestServers.await(provider.complete(request(List.of(user(ASK)))));

    assertThat(reply.content()).containsExactly(Canonical.toolUse("tu_9", "jira_search", input));
    assertThat(reply.stopReason()).isEqualTo("tool_use");
  }
}
