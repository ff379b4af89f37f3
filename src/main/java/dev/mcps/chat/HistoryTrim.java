package dev.mcps.chat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.IntToLongFunction;

/**
 * The trim plan of a conversation held to {@code HISTORY_MAX_MESSAGES} and {@code HISTORY_MAX_BYTES}: how many of
 * the oldest stored messages go so that what is left, plus the messages the current turn adds, fits both caps.
 * Only whole turns go (a turn starts at a user message carrying text, not tool results), so a {@code tool_use} is
 * never separated from its {@code tool_result}, and the current turn's messages are never dropped: when they alone
 * exceed a cap, every older turn goes and the current one is kept whole (the model needs it to make sense of the
 * next turn).
 */
final class HistoryTrim {

  private HistoryTrim() {
  }

  /**
   * How many of the oldest messages of {@code conversation} to drop, from 0 to {@code turnStart}.
   *
   * @param conversation the stored history read at the turn's start followed by the messages the turn adds
   * @param turnStart    where the turn's own messages begin; none of them is ever dropped
   * @param bytesAt      the encoded JSON size of the message at an index; the history's size is that of its JSON array
   */
  static int dropOldest(List<JsonObject> conversation, int turnStart, int maxMessages, long maxBytes,
                        IntToLongFunction bytesAt) {
    int total = conversation.size();
    if (turnStart == 0) {
      return 0;
    }
    long[] suffixBytes = new long[total + 1];
    for (int i = total - 1; i >= 0; i--) {
      // Each message after the first in the array also costs its comma.
      suffixBytes[i] = suffixBytes[i + 1] + bytesAt.applyAsLong(i) + (i < total - 1 ? 1 : 0);
    }
    for (int from = 0; from < turnStart; from++) {
      if ((from == 0 || startsTurn(conversation.get(from))) && total - from <= maxMessages
          && 2 + suffixBytes[from] <= maxBytes) {
        return from;
      }
    }
    return turnStart;
  }

  /** {@link #dropOldest(List, int, int, long, IntToLongFunction)} measuring each message by encoding it. */
  static int dropOldest(List<JsonObject> conversation, int turnStart, int maxMessages, long maxBytes) {
    return dropOldest(conversation, turnStart, maxMessages, maxBytes, i -> conversation.get(i).toBuffer().length());
  }

  /** A user message with text and no tool result: what a person wrote, where a turn begins. */
  static boolean startsTurn(JsonObject message) {
    if (!"user".equals(message.getString("role")) || !(message.getValue("content") instanceof JsonArray blocks)) {
      return false;
    }
    boolean text = false;
    for (Object b : blocks) {
      String type = b instanceof JsonObject o ? o.getString("type") : null;
      if ("tool_result".equals(type)) {
        return false;
      }
      text |= "text".equals(type);
    }
    return text;
  }
}
