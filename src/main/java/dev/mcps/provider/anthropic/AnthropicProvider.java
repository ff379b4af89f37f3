package dev.mcps.provider.anthropic;

import dev.mcps.config.ServerConfig;
import dev.mcps.provider.CallPolicy;
import dev.mcps.provider.Canonical;
import dev.mcps.provider.EncodedJson;
import dev.mcps.provider.JsonHttpProvider;
import dev.mcps.provider.ProviderReply;
import dev.mcps.provider.ProviderRequest;
import dev.mcps.provider.WireMemo;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Anthropic Messages API: POST {@code {base}/v1/messages}. Canonical messages are already Anthropic-shaped, so the
 * request is nearly the conversation itself. Prompt caching uses {@code cache_control} breakpoints, no beta header:
 * one on the last tool (caches the tool list), one on the system prompt, one on the last block of the newest message
 * (caches the conversation so far, which the next step of the same turn reads back) — three of the four allowed.
 */
public final class AnthropicProvider extends JsonHttpProvider {

  static final String API_VERSION = "2023-06-01";
  static final int MAX_TOKENS = 4096;

  public AnthropicProvider(Vertx vertx, ServerConfig.Provider config, CallPolicy policy) {
    super(vertx, config, policy, "Anthropic", "ANTHROPIC_API_KEY, ANTHROPIC_MODEL");
  }

  @Override
  public String name() {
    return "anthropic";
  }

  @Override
  protected String path() {
    return "/v1/messages";
  }

  @Override
  protected MultiMap authHeaders(String apiKey) {
    return MultiMap.caseInsensitiveMultiMap().add("x-api-key", apiKey).add("anthropic-version", API_VERSION);
  }

  /**
   * The body, with the messages before the newest taken from the turn's memo: they are converted and encoded once per
   * turn, not once per step. The newest carries the conversation's cache breakpoint, which moves on with every step,
   * so it is encoded afresh.
   */
  @Override
  protected Buffer requestBody(String model, ProviderRequest request) {
    WireMemo memo = request.memo();
    List<JsonObject> canonical = request.messages();
    int newestAt = canonical.size() - 1;
    JsonObject newest = null;
    while (newestAt >= 0 && (newest = wireMessage(canonical.get(newestAt))) == null) {
      newestAt--;
    }
    Buffer head = memo.part("anthropic:" + model, () -> head(model, request).toBuffer());
    List<Buffer> messages = new ArrayList<>(newestAt + 1);
    for (int i = 0; i < newestAt; i++) {
      messages.add(memo.message("anthropic", i, canonical.get(i), m -> {
        JsonObject wire = wireMessage(m);
        return wire == null ? WireMemo.NOTHING : wire.toBuffer();
      }));
    }
    if (newest != null) {
      markNewest(newest);
      messages.add(newest.toBuffer());
    }
    return EncodedJson.withArray(head, "messages", messages);
  }

  /** Everything but the messages. */
  private static JsonObject head(String model, ProviderRequest request) {
    JsonObject body = new JsonObject().put("model", model).put("max_tokens", MAX_TOKENS);
    if (request.system() != null && !request.system().isBlank()) {
      body.put("system", new JsonArray().add(Canonical.text(request.system()).put("cache_control", ephemeral())));
    }
    List<JsonObject> tools = request.tools() == null ? List.of() : request.tools();
    if (!tools.isEmpty()) {
      JsonArray wire = new JsonArray();
      for (JsonObject tool : tools) {
        wire.add(new JsonObject().put("name", tool.getString("name"))
            .put("description", tool.getString("description", ""))
            .put("input_schema", tool.getJsonObject("inputSchema", new JsonObject().put("type", "object"))));
      }
      wire.getJsonObject(wire.size() - 1).put("cache_control", ephemeral());
      body.put("tools", wire);
    }
    if (request.userHash() != null && !request.userHash().isBlank()) {
      body.put("metadata", new JsonObject().put("user_id", request.userHash()));
    }
    return body;
  }

  /** The cache breakpoint on the conversation so far: the last block of the newest message. */
  private static void markNewest(JsonObject message) {
    JsonArray content = message.getJsonArray("content");
    content.getJsonObject(content.size() - 1).put("cache_control", ephemeral());
  }

  /** One canonical message on the wire, or null when nothing of it goes there (no role we send, no blocks left). */
  private static JsonObject wireMessage(JsonObject message) {
    String role = message.getString("role");
    if (!"user".equals(role) && !"assistant".equals(role)) {
      return null;
    }
    List<JsonObject> results = new ArrayList<>();
    List<JsonObject> others = new ArrayList<>();
    for (JsonObject block : Canonical.blocks(message)) {
      JsonObject converted = block(block);
      if (converted != null) {
        ("tool_result".equals(Canonical.type(converted)) ? results : others).add(converted);
      }
    }
    // The API wants a user message's tool results before anything else in it.
    results.addAll(others);
    return results.isEmpty() ? null : new JsonObject().put("role", role).put("content", new JsonArray(results));
  }

  /** One block on the wire; never carries a cache_control of its own (the breakpoints are ours to place). */
  private static JsonObject block(JsonObject block) {
    return switch (Canonical.type(block)) {
      case "text" -> block.getString("text", "").isEmpty() ? null : Canonical.text(block.getString("text"));
      case "tool_use" -> Canonical.toolUse(block.getString("id"), block.getString("name"),
          block.getJsonObject("input", new JsonObject()));
      case "tool_result" -> {
        JsonObject result = new JsonObject().put("type", "tool_result")
            .put("tool_use_id", block.getString("tool_use_id"))
            .put("content", Canonical.toolResultText(block));
        if (block.getBoolean("is_error", false)) {
          result.put("is_error", true);
        }
        yield result;
      }
      default -> {
        JsonObject copy = block.copy();
        copy.remove("cache_control");
        yield copy;
      }
    };
  }

  @Override
  protected ProviderReply reply(JsonObject body) {
    List<JsonObject> content = new ArrayList<>();
    for (Object o : body.getJsonArray("content", new JsonArray())) {
      JsonObject block = (JsonObject) o;
      switch (Canonical.type(block)) {
        case "text" -> content.add(Canonical.text(block.getString("text", "")));
        case "tool_use" -> content.add(Canonical.toolUse(block.getString("id"), block.getString("name"),
            block.getJsonObject("input", new JsonObject())));
        default -> { } // thinking and server-side blocks are not part of the canonical conversation
      }
    }
    String stop = switch (body.getString("stop_reason", "end_turn")) {
      case "tool_use" -> "tool_use";
      case "max_tokens" -> "max_tokens";
      default -> "end_turn";
    };
    return new ProviderReply(content, stop);
  }

  private static JsonObject ephemeral() {
    return new JsonObject().put("type", "ephemeral");
  }
}
