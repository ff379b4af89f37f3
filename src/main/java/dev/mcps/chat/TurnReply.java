package dev.mcps.chat;

import dev.mcps.provider.EncodedJson;
import dev.mcps.provider.WireMemo;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * A finished turn: the /chat 200 body {@code {response, sessionId, history}}, as JSON for the event bus, or already
 * encoded when the sender only writes it to HTTP ({@code encoded} is null otherwise).
 */
public record TurnReply(String response, String sessionId, List<JsonObject> history, Buffer encoded) {

  /** The memo track of the canonical messages as they are returned in {@code history}. */
  static final String HISTORY_TRACK = "history";

  public JsonObject json() {
    return new JsonObject().put("response", response).put("sessionId", sessionId)
        .put("history", new JsonArray(history));
  }

  /**
   * The reply with its body encoded like {@link #json()}, each history message's JSON taken from {@code memo}: a long
   * conversation is then not encoded again on every turn just to be sent back. Runs while the turn still owns the memo.
   */
  static TurnReply encode(String response, String sessionId, List<JsonObject> history, WireMemo memo) {
    List<Buffer> messages = new ArrayList<>(history.size());
    for (int i = 0; i < history.size(); i++) {
      messages.add(memo.message(HISTORY_TRACK, i, history.get(i), JsonObject::toBuffer));
    }
    Buffer head = new JsonObject().put("response", response).put("sessionId", sessionId).toBuffer();
    return new TurnReply(response, sessionId, history, EncodedJson.withArray(head, "history", messages));
  }
}
