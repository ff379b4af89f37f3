package dev.mcps.chat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.provider.WireMemo;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TurnReplyTest {

  private static JsonObject message(String role, JsonObject block) {
    return new JsonObject().put("role", role).put("content", new JsonArray().add(block));
  }

  private final List<JsonObject> history = new ArrayList<>(List.of(
      message("user", new JsonObject().put("type", "text").put("text", "Olá \"quoted\" \u2028 <tag> \\ é")),
      message("assistant", new JsonObject().put("type", "tool_use").put("id", "tu1").put("name", "notes_get")
          .put("input", new JsonObject().put("key", "k").put("n", 1.5))),
      message("user", new JsonObject().put("type", "tool_result").put("tool_use_id", "tu1").put("content", "{}")
          .put("is_error", false)),
      message("assistant", new JsonObject().put("type", "text").put("text", "done"))));

  @Test
  void theEncodedReplyIsTheJsonReplyEncoded() {
    TurnReply reply = TurnReply.encode("done \"now\"", "s-1", history, new WireMemo());

    assertThat(reply.encoded().toString()).isEqualTo(reply.json().encode());
    assertThat(reply.json().getJsonArray("history")).hasSize(4);
  }

  @Test
  void aMemoOfEarlierTurnsNeverServesAMessageThatWasReplaced() {
    WireMemo memo = new WireMemo();
    TurnReply.encode("one", "s-1", history, memo);

    List<JsonObject> replaced = new ArrayList<>(history);
    replaced.set(1, message("assistant", new JsonObject().put("type", "text").put("text", "another answer")));
    TurnReply again = TurnReply.encode("two", "s-1", replaced, memo.nextTurn());

    assertThat(again.encoded().toString()).isEqualTo(again.json().encode()).contains("another answer")
        .doesNotContain("notes_get");
  }

  @Test
  void anEmptyHistoryIsAnEmptyArray() {
    TurnReply reply = TurnReply.encode("", "s-1", List.of(), new WireMemo());

    assertThat(reply.encoded().toJsonObject()).isEqualTo(new JsonObject().put("response", "").put("sessionId", "s-1")
        .put("history", new JsonArray()));
  }
}
