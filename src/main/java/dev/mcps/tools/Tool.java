package dev.mcps.tools;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * One tool of the catalog. {@link #call} always runs inside the caller's session ({@code SessionContext.require()}),
 * in the tools verticle, whether the call came from an MCP client or from the chat loop.
 */
public interface Tool {

  String name();

  String description();

  /** JSON Schema of the arguments (an object schema), as MCP and the LLM providers expect it. */
  JsonObject inputSchema();

  /** True when the tool changes nothing outside the session (listed even in read-only mode). */
  boolean readOnly();

  /** The result; a failure that is the caller's fault is a {@link ToolResult#error} rather than a failed future. */
  Future<ToolResult> call(JsonObject arguments);
}
