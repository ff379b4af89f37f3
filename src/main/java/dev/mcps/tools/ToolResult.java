package dev.mcps.tools;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A tool's answer: compact text for the model or client, optional structured content, and whether it is an error.
 * Travels on the event bus as JSON in the MCP {@code CallToolResult} shape.
 *
 * <p>{@code jiraStatus} is the HTTP status Jira last answered during the call (null when the tool did not reach
 * Jira): it is for the audit trail, written where the call ran, and is neither sent to clients nor carried over the
 * bus.
 */
public record ToolResult(String text, JsonObject structured, boolean isError, Integer jiraStatus) {

  public ToolResult(String text, JsonObject structured, boolean isError) {
    this(text, structured, isError, null);
  }

  /** This result, noting the status Jira answered (null or 0: Jira gave no answer). */
  public ToolResult withJiraStatus(Integer status) {
    return new ToolResult(text, structured, isError, status == null || status == 0 ? null : status);
  }

  public static ToolResult ok(String text) {
    return new ToolResult(text, null, false);
  }

  public static ToolResult ok(String text, JsonObject structured) {
    return new ToolResult(text, structured, false);
  }

  public static ToolResult error(String text) {
    return new ToolResult(text, null, true);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", text)))
        .put("isError", isError);
    if (structured != null) {
      json.put("structuredContent", structured);
    }
    return json;
  }

  public static ToolResult fromJson(JsonObject json) {
    StringBuilder text = new StringBuilder();
    JsonArray content = json.getJsonArray("content", new JsonArray());
    for (int i = 0; i < content.size(); i++) {
      JsonObject block = content.getJsonObject(i);
      if ("text".equals(block.getString("type"))) {
        if (!text.isEmpty()) {
          text.append('\n');
        }
        text.append(block.getString("text", ""));
      }
    }
    return new ToolResult(text.toString(), json.getJsonObject("structuredContent"), json.getBoolean("isError", false));
  }
}
