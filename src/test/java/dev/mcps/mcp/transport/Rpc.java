package dev.mcps.mcp.transport;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/** JSON-RPC bodies and tool calls the transport tests send. */
final class Rpc {

  private Rpc() {
  }

  static String request(int id, String method, JsonObject params) {
    return new JsonObject().put("jsonrpc", "2.0").put("id", id).put("method", method).put("params", params).encode();
  }

  static String initialize(int id, String protocolVersion) {
    return request(id, "initialize", new JsonObject().put("protocolVersion", protocolVersion)
        .put("capabilities", new JsonObject())
        .put("clientInfo", new JsonObject().put("name", "raw-test-client").put("version", "1.0")));
  }

  static String initialized() {
    return new JsonObject().put("jsonrpc", "2.0").put("method", "notifications/initialized").encode();
  }

  static String ping(int id) {
    return request(id, "ping", new JsonObject());
  }

  static String callTool(int id, String name, String text) {
    return request(id, "tools/call", new JsonObject().put("name", name)
        .put("arguments", new JsonObject().put("text", text)));
  }

  /** The text the echo tool answered: its input, " @ ", and the user session id the tool saw. */
  static String echo(McpSyncClient client, String text) {
    McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest("echo", Map.of("text", text)));
    return ((McpSchema.TextContent) result.content().get(0)).text();
  }
}
