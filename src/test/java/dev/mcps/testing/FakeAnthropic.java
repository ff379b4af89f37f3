package dev.mcps.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicInteger;

/** The Anthropic Messages API on loopback: {@code POST /v1/messages}, key in {@code x-api-key}. */
public final class FakeAnthropic extends FakeLlmServer {

  private static final AtomicInteger IDS = new AtomicInteger();

  private FakeAnthropic(Vertx vertx, String apiKey) {
    super(vertx, apiKey);
  }

  public static FakeAnthropic start(Vertx vertx, String apiKey) {
    return new FakeAnthropic(vertx, apiKey);
  }

  /** A Messages API response with these content blocks. */
  public static JsonObject message(String stopReason, JsonObject... blocks) {
    return new JsonObject().put("id", "msg_" + IDS.incrementAndGet()).put("type", "message")
        .put("role", "assistant").put("model", "claude-test").put("content", new JsonArray(java.util.List.of(blocks)))
        .put("stop_reason", stopReason).put("stop_sequence", null)
        .put("usage", new JsonObject().put("input_tokens", 10).put("output_tokens", 5)
            .put("cache_creation_input_tokens", 0).put("cache_read_input_tokens", 0));
  }

  /**
   * A script in which every turn is model -> notes_get -> model, and the answer is "answer to " + the user message it
   * answers: a test can tell from the stored history whether a turn's four messages stayed together.
   */
  public static JsonObject notesGetThenAnswer(Recorded request) {
    JsonArray messages = request.body().getJsonArray("messages");
    Object content = messages.getJsonObject(messages.size() - 1).getValue("content");
    if (content instanceof String || !"tool_result".equals(((JsonArray) content).getJsonObject(0).getString("type"))) {
      return message("tool_use", toolUse("t" + messages.size(), "notes_get", new JsonObject()));
    }
    return message("end_turn", text("answer to " + textOf(messages.getJsonObject(messages.size() - 3))));
  }

  /** The text of a message whose content is a string or starts with a text block. */
  public static String textOf(JsonObject message) {
    Object content = message.getValue("content");
    return content instanceof String s ? s : ((JsonArray) content).getJsonObject(0).getString("text");
  }

  public static JsonObject text(String text) {
    return new JsonObject().put("type", "text").put("text", text);
  }

  public static JsonObject toolUse(String id, String name, JsonObject input) {
    return new JsonObject().put("type", "tool_use").put("id", id).put("name", name).put("input", input);
  }

  @Override
  protected boolean routes(String method, String path) {
    return method.equals("POST") && path.equals("/v1/messages");
  }

  @Override
  protected String credentialOf(HttpServerRequest req) {
    return req.getHeader("x-api-key");
  }

  @Override
  protected int rejectStatus() {
    return 401;
  }

  @Override
  protected void sendError(HttpServerResponse response, int status, String message) {
    String type = switch (status) {
      case 400 -> "invalid_request_error";
      case 401 -> "authentication_error";
      case 403 -> "permission_error";
      case 404 -> "not_found_error";
      case 429 -> "rate_limit_error";
      case 529 -> "overloaded_error";
      default -> "api_error";
    };
    response.setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("type", "error")
            .put("error", new JsonObject().put("type", type).put("message", message)).encode());
  }

  @Override
  protected JsonObject textReply(String text) {
    return message("end_turn", text(text));
  }
}
