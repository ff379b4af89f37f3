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

  @org.junit.jupiter.api.Test
  void anUnansweredToolUseIsNamedInTheError() {
    assertThatThrownBy(() -> parse("[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":"
        + "[{\"type\":\"tool_use\",\"id\":\"toolu_42\",\"name\":\"notes_get\",\"input\":{}}]}]"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getMessage())
            .isEqualTo("history[1] has a tool_use toolu_42 without its tool_result in the next message"));
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
      // a tool_use whose result never comes
      "[{\"role\":\"user\",\"content\":\"q\"},"
          + "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"notes_get\",\"input\":{}}]}]",
      // a result for another id
      "[{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"notes_get\",\"input\":{}}]},"
          + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t2\",\"content\":\"{}\"}]}]",
      // one of two tool_uses answered
      "[{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"notes_get\",\"input\":{}},"
          + "{\"type\":\"tool_use\",\"id\":\"t2\",\"name\":\"notes_get\",\"input\":{}}]},"
          + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"{}\"}]}]",
      // a result that answers nothing
      "[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"x\"}]}]",
      // the result two messages later
      "[{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"notes_get\",\"input\":{}}]},"
          + "{\"role\":\"user\",\"content\":\"wait\"},"
          + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"{}\"}]}]",
      // a tool_use written by the user
      "[{\"role\":\"user\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"notes_get\",\"input\":{}}]},"
          + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"{}\"}]}]",
  })
  void anythingElseIsInvalidHistory(String history) {
    assertThatThrownBy(() -> parse(history)).isInstanceOfSatisfying(ApiException.class, e -> {
      assertThat(e.status()).isEqualTo(400);
      assertThat(e.code()).isEqualTo("Invalid_History");
    });
  }
}
