package dev.mcps.chat;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HistoryTrimTest {

  private static JsonObject ask(String text) {
    return new JsonObject().put("role", "user")
        .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", text)));
  }

  private static JsonObject answer(String text) {
    return new JsonObject().put("role", "assistant")
        .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", text)));
  }

  private static JsonObject use(String id) {
    return new JsonObject().put("role", "assistant").put("content", new JsonArray().add(new JsonObject()
        .put("type", "tool_use").put("id", id).put("name", "notes_get").put("input", new JsonObject())));
  }

  private static JsonObject result(String id) {
    return new JsonObject().put("role", "user").put("content", new JsonArray().add(new JsonObject()
        .put("type", "tool_result").put("tool_use_id", id).put("content", "{}")));
  }

  /** Two-message turns t0..t(n-1), then the current turn's ask. */
  private static List<JsonObject> plainTurns(int n) {
    List<JsonObject> c = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      c.add(ask("q" + i));
      c.add(answer("a" + i));
    }
    c.add(ask("now"));
    return c;
  }

  @Test
  void aConversationWithinBothCapsLosesNothing() {
    List<JsonObject> c = plainTurns(3);
    assertThat(HistoryTrim.dropOldest(c, 6, 7, 1 << 20)).isZero();
  }

  @Test
  void anEmptyHistoryHasNothingToDropEvenWhenTheTurnAloneIsOverTheCaps() {
    List<JsonObject> c = List.of(ask("now"), use("t"), result("t"), answer("done"));
    assertThat(HistoryTrim.dropOldest(c, 0, 2, 10)).isZero();
  }

  @Test
  void theMessageCapDropsTheOldestWholeTurnsOnly() {
    List<JsonObject> c = plainTurns(3);
    // 7 messages, cap 6: dropping one message would leave a turn without its question, so the whole turn goes.
    assertThat(HistoryTrim.dropOldest(c, 6, 6, 1 << 20)).isEqualTo(2);
    assertThat(HistoryTrim.dropOldest(c, 6, 4, 1 << 20)).isEqualTo(4);
  }

  @Test
  void aToolUseIsNeverSeparatedFromItsResult() {
    // t0: ask, tool_use, tool_result, answer; t1: ask, answer; current: ask.
    List<JsonObject> c = List.of(ask("q0"), use("x"), result("x"), answer("a0"), ask("q1"), answer("a1"), ask("now"));
    // Cap 5: the first turn start after index 0 is at 4 (a tool_result message does not start a turn).
    assertThat(HistoryTrim.dropOldest(c, 6, 5, 1 << 20)).isEqualTo(4);
  }

  @Test
  void theByteCapCountsTheEncodedArray() {
    List<JsonObject> c = plainTurns(2);
    long all = new JsonArray(c).toBuffer().length();
    long lastTwoTurns = new JsonArray(c.subList(2, c.size())).toBuffer().length();
    assertThat(HistoryTrim.dropOldest(c, 4, 100, all)).isZero();
    assertThat(HistoryTrim.dropOldest(c, 4, 100, all - 1)).isEqualTo(2);
    assertThat(HistoryTrim.dropOldest(c, 4, 100, lastTwoTurns)).isEqualTo(2);
    assertThat(HistoryTrim.dropOldest(c, 4, 100, lastTwoTurns - 1)).isEqualTo(4);
  }

  @Test
  void aCurrentTurnOverTheCapsKeepsItselfWholeAndDropsEverythingOlder() {
    List<JsonObject> c = new ArrayList<>(plainTurns(2));
    c.add(use("t"));
    c.add(result("t"));
    c.add(answer("done"));
    assertThat(HistoryTrim.dropOldest(c, 4, 3, 1 << 20)).isEqualTo(4);
  }

  @Test
  void aHistoryThatDoesNotStartWithAQuestionCanStillBeKeptWhole() {
    List<JsonObject> c = List.of(answer("hello"), ask("q"), answer("a"), ask("now"));
    assertThat(HistoryTrim.dropOldest(c, 3, 4, 1 << 20)).isZero();
    assertThat(HistoryTrim.dropOldest(c, 3, 3, 1 << 20)).isEqualTo(1);
  }
}
