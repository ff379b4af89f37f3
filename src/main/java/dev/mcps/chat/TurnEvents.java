package dev.mcps.chat;

import io.vertx.core.json.JsonObject;

/** What a streaming client sees of a turn as it happens (DESIGN.md §4 SSE events). */
public interface TurnEvents {

  TurnEvents NONE = (event, data) -> { };

  /** {@code event} is tool_call, tool_result or text; {@code data} is one JSON object. */
  void emit(String event, JsonObject data);
}
