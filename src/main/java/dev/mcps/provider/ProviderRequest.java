package dev.mcps.provider;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One model call. {@code messages} are canonical messages: {@code {role: "user"|"assistant", content: [blocks]}}
 * where a block is {@code {type:"text", text}}, {@code {type:"tool_use", id, name, input}} (assistant) or
 * {@code {type:"tool_result", tool_use_id, content: "<text>", is_error: bool}} (user). {@code tools} are
 * {@code {name, description, inputSchema}} (JSON Schema objects). {@code userHash} is a stable, non-reversible id
 * of the session's user for the provider's abuse tracking (Anthropic {@code metadata.user_id}). {@code memo} keeps
 * what a provider encoded for an earlier step of the same turn; a request on its own gets a fresh one.
 */
public record ProviderRequest(String system, List<JsonObject> messages, List<JsonObject> tools, String userHash,
                              String conversationId, WireMemo memo) {

  public ProviderRequest(String system, List<JsonObject> messages, List<JsonObject> tools, String userHash,
                         String conversationId) {
    this(system, messages, tools, userHash, conversationId, new WireMemo());
  }
}
