package dev.mcps.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcps.ApiException;
import dev.mcps.jira.JiraUrlPolicy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChatRequestTest {

  private static final JiraUrlPolicy POLICY = new JiraUrlPolicy(List.of("*.atlassian.net"), false);

  private static ChatRequest parse(String history) {
    return ChatRequest.parse(new JsonObject().put("userId", "u").put("message", "hi")
        .put("history", new JsonArray(history)), "anthropic", POLICY);
  }

  @ParameterizedTest(name = "valid: {0}")
  @ValueSource(strings = {
      "[{\"role\":\"user\",\"content\":\"plain text becomes a text block\"}]",
      "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"q\"}]},"
          + "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"notes_get\",\"input\":{}}]},"
          + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"{}\",\"is_error\":false}]}]",
  })
  void canonicalHistoriesAreAccepted(String history) {
    assertThat(parse(history).history()).allSatisfy(m ->
        assertThat(m.getJsonArray("content").getJsonObject(0).getString("type")).isNotBlank());
  }

  @ParameterizedTest(name = "invalid: {0}")
  @ValueSource(strings = {
      "[1]",
      "[{\"role\":\"system\",\"content\":\"x\"}]",
      "[{\"role\":\"user\"}]",
      "[{\"role\":\"user\",\"content\":[]}]",
      "[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"url\":\"x\"}]}]",
      "[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]",
      "[{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"x\"}]}]",
      "[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"content\":\"x\"}]}]",
      "[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t\",\"content\":\"x\",\"is_error\":\"no\"}]}]",
  })
  void anythingElseIsInvalidHistory(String history) {
    assertThatThrownBy(() -> parse(history)).isInstanceOfSatisfying(ApiException.class, e -> {
      assertThat(e.status()).isEqualTo(400);
      assertThat(e.code()).isEqualTo("Invalid_History");
    });
  }
}
