package dev.mcps.limits;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** The MCP requests these tests make, over real HTTP: stateless (2026-07-28), Streamable HTTP and legacy SSE. */
final class Mcp {

  static final String STATELESS = "2026-07-28";
  static final String STREAMABLE = "2025-06-18";

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;

  Mcp(int port) {
    this.base = "http://127.0.0.1:" + port;
  }

  HttpClient client() {
    return http;
  }

  String base() {
    return base;
  }

  /** A stateless {@code tools/list} acting for whoever {@code who} names (X-User-Id / X-Session-Id). */
  HttpResponse<String> statelessToolsList(int id, Map<String, String> who) {
    JsonObject meta = new JsonObject().put("io.modelcontextprotocol/protocolVersion", STATELESS)
        .put("io.modelcontextprotocol/clientCapabilities", new JsonObject());
    JsonObject body = rpc(id, "tools/list", new JsonObject().put("_meta", meta));
    HttpRequest.Builder b = post("/mcp", body).header("MCP-Protocol-Version", STATELESS).header("Mcp-Method",
        "tools/list");
    who.forEach(b::header);
    return send(b.build());
  }

  /** A Streamable HTTP {@code initialize} acting for {@code user}. */
  HttpResponse<String> initialize(String user) {
    JsonObject body = rpc(1, "initialize", new JsonObject().put("protocolVersion", STREAMABLE)
        .put("capabilities", new JsonObject()).put("clientInfo", new JsonObject().put("name", "t").put("version", "1")));
    return send(post("/mcp", body).header("X-User-Id", user).build());
  }

  /** A message on the Streamable MCP session {@code mcpSessionId}. */
  HttpResponse<String> onSession(String mcpSessionId, JsonObject message) {
    return send(post("/mcp", message).header("Mcp-Session-Id", mcpSessionId)
        .header("MCP-Protocol-Version", STREAMABLE).build());
  }

  HttpResponse<String> deleteSession(String mcpSessionId) {
    return send(HttpRequest.newBuilder(URI.create(base + "/mcp")).timeout(Duration.ofSeconds(30))
        .header("Mcp-Session-Id", mcpSessionId).header("MCP-Protocol-Version", STREAMABLE).DELETE().build());
  }

  /** A legacy SSE message POST to the {@code endpoint} the stream named. */
  HttpResponse<String> sseMessage(String endpoint, JsonObject message) {
    return send(post(endpoint, message).build());
  }

  static JsonObject rpc(Object id, String method, JsonObject params) {
    return new JsonObject().put("jsonrpc", "2.0").put("id", id).put("method", method).put("params", params);
  }

  static JsonObject notification(String method) {
    return new JsonObject().put("jsonrpc", "2.0").put("method", method);
  }

  private HttpRequest.Builder post(String path, JsonObject body) {
    return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode()));
  }

  HttpResponse<String> send(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(request.method() + " " + request.uri() + " failed: " + e, e);
    }
  }
}
