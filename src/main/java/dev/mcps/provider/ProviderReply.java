package dev.mcps.provider;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The model's answer as canonical assistant content blocks ({@code text} and {@code tool_use}, see
 * {@link ProviderRequest}); {@code stopReason} is "tool_use" when the model asks for tools, else "end_turn" (or
 * "max_tokens").
 */
public record ProviderReply(List<JsonObject> content, String stopReason) {

  public boolean wantsTools() {
    return content.stream().anyMatch(b -> "tool_use".equals(b.getString("type")));
  }
}
