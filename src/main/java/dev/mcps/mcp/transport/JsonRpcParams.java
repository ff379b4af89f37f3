package dev.mcps.mcp.transport;

import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Checks the {@code params} of the requests this server answers before the SDK reads them. The SDK maps them
 * unchecked: a missing or mistyped field there becomes a NullPointerException (initialize: HTTP 500), a Java message
 * in the JSON-RPC error (logging/setLevel), or a failure outside its error mapping that ends the request as if the
 * MCP session had ended (tools/call, prompts/get), which makes clients re-initialize. Here each is -32602 with a
 * message that says which field is wrong.
 */
final class JsonRpcParams {

  /** In the specification's order, which is also how the message lists them. */
  private static final List<String> LEVELS = List.of("debug", "info", "notice", "warning", "error", "critical",
      "alert", "emergency");

  private JsonRpcParams() {
  }

  /** What is wrong with the request's params, in words for the client; null when nothing is. */
  static String problem(McpSchema.JSONRPCRequest request) {
    String method = request.method();
    Object params = request.params();
    if (params instanceof Map<?, ?> map && optionalObject(method, map, "_meta") != null) {
      return optionalObject(method, map, "_meta");
    }
    return switch (method) {
      case McpSchema.METHOD_INITIALIZE -> required(method, params, p -> firstOf(text(method, p, "protocolVersion"),
          optionalObject(method, p, "capabilities"), optionalObject(method, p, "clientInfo")));
      case McpSchema.METHOD_TOOLS_CALL, McpSchema.METHOD_PROMPT_GET -> required(method, params,
          p -> firstOf(text(method, p, "name"), optionalObject(method, p, "arguments")));
      case McpSchema.METHOD_LOGGING_SET_LEVEL -> required(method, params, JsonRpcParams::level);
      case McpSchema.METHOD_TOOLS_LIST, McpSchema.METHOD_PROMPT_LIST -> params == null ? null
          : required(method, params, p -> optionalText(method, p, "cursor"));
      default -> null;
    };
  }

  private static String required(String method, Object params, Function<Map<?, ?>, String> fields) {
    if (params == null) {
      return method + " needs params (an object)";
    }
    return params instanceof Map<?, ?> map ? fields.apply(map) : "The params of " + method + " must be an object";
  }

  private static String text(String method, Map<?, ?> params, String field) {
    return params.get(field) instanceof String s && !s.isBlank() ? null
        : method + " needs params." + field + " (a non-empty string)";
  }

  private static String optionalText(String method, Map<?, ?> params, String field) {
    Object value = params.get(field);
    return value == null || value instanceof String ? null : "params." + field + " of " + method + " must be a string";
  }

  private static String optionalObject(String method, Map<?, ?> params, String field) {
    Object value = params.get(field);
    return value == null || value instanceof Map<?, ?> ? null
        : "params." + field + " of " + method + " must be an object";
  }

  private static String level(Map<?, ?> params) {
    return params.get("level") instanceof String s && LEVELS.contains(s) ? null
        : McpSchema.METHOD_LOGGING_SET_LEVEL + " needs params.level, one of " + LEVELS;
  }

  private static String firstOf(String... problems) {
    for (String p : problems) {
      if (p != null) {
        return p;
      }
    }
    return null;
  }
}
