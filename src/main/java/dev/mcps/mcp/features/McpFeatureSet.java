package dev.mcps.mcp.features;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.BiFunction;

/**
 * Tools, prompts, resources and completions described as MCP JSON and served by era-neutral handlers. Both eras
 * serve the same sets: the session era through the SDK (see {@code SdkFeatures}), the stateless era directly.
 * Results are MCP result JSON without {@code resultType} or {@code _meta} (each era adds its own).
 */
public interface McpFeatureSet {

  /** A tool: its {@code tools/list} entry (name, description, inputSchema ...) and its call. */
  interface Tool {
    JsonObject descriptor();

    /** A {@code CallToolResult} (content, isError, structuredContent ...). */
    Future<JsonObject> call(McpExchange exchange, JsonObject arguments);

    default String name() {
      return descriptor().getString("name");
    }
  }

  /** A prompt: its {@code prompts/list} entry and its {@code GetPromptResult}. */
  interface Prompt {
    JsonObject descriptor();

    Future<JsonObject> get(McpExchange exchange, JsonObject arguments);

    default String name() {
      return descriptor().getString("name");
    }
  }

  /** A fixed resource: its {@code resources/list} entry and its {@code ReadResourceResult} (contents ...). */
  interface Resource {
    JsonObject descriptor();

    Future<JsonObject> read(McpExchange exchange);

    default String uri() {
      return descriptor().getString("uri");
    }
  }

  /**
   * A resource template ({@code resources/templates/list} entry with {@code uriTemplate}): reads any URI it
   * {@link #matches}.
   */
  interface ResourceTemplate {
    JsonObject descriptor();

    boolean matches(String uri);

    Future<JsonObject> read(McpExchange exchange, String uri);
  }

  List<Tool> tools();

  List<Prompt> prompts();

  List<Resource> resources();

  List<ResourceTemplate> resourceTemplates();

  /**
   * {@code completion/complete}: {@code ref} ({"type": "ref/prompt", "name"} or {"type": "ref/resource", "uri"}),
   * {@code argument} ({"name", "value"}) → a {@code CompleteResult} ({"completion": {"values": [...]}}); null when
   * this set offers no completions.
   */
  default BiFunction<JsonObject, JsonObject, Future<JsonObject>> completion() {
    return null;
  }

  /**
   * Registers {@code listener}, told the kind of list that changed ("tools", "prompts", "resources") or
   * "resource:" + a URI that was updated, each time one does. Sets whose lists never change ignore it.
   */
  /** Why a tool this set does not list cannot be called (e.g. refused in read-only mode); null when unknown. */
  default String refusal(String toolName) {
    return null;
  }

  default void onChange(java.util.function.Consumer<String> listener) {
  }

  static JsonObject textContent(String text) {
    return new JsonObject().put("type", "text").put("text", text);
  }

  static JsonObject toolResult(String text) {
    return new JsonObject().put("content", new JsonArray().add(textContent(text)));
  }
}
