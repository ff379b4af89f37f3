package dev.mcps.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** OpenAI Chat Completions on loopback: {@code POST /v1/chat/completions} (base URL ends in /v1), bearer key. */
public final class FakeOpenAi extends FakeLlmServer {

  private static final AtomicInteger IDS = new AtomicInteger();

  private FakeOpenAi(Vertx vertx, String apiKey) {
    super(vertx, apiKey);
  }

  public static FakeOpenAi start(Vertx vertx, String apiKey) {
    return new FakeOpenAi(vertx, apiKey);
  }

  /** The base URL a client is configured with, like {@code https://api.openai.com/v1}. */
  @Override
  public String baseUrl() {
    return super.baseUrl() + "/v1";
  }

  /** A chat.completion with one choice; {@code content} may be null. */
  public static JsonObject completion(String finishReason, String content, JsonObject... toolCalls) {
    JsonObject message = new JsonObject().put("role", "assistant").put("content", content);
    if (toolCalls.length > 0) {
      message.put("tool_calls", new JsonArray(List.of(toolCalls)));
    }
    return new JsonObject().put("id", "chatcmpl-" + IDS.incrementAndGet()).put("object", "chat.completion")
        .put("created", 1_760_000_000).put("model", "gpt-test")
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("message", message)
            .put("finish_reason", finishReason)))
        .put("usage", new JsonObject().put("prompt_tokens", 10).put("completion_tokens", 5).put("total_tokens", 15));
  }

  /** A tool call whose arguments are the JSON string the model wrote (not necessarily valid JSON). */
  public static JsonObject toolCall(String id, String name, String arguments) {
    return new JsonObject().put("id", id).put("type", "function")
        .put("function", new JsonObject().put("name", name).put("arguments", arguments));
  }

  @Override
  protected boolean routes(String method, String path) {
    return method.equals("POST") && path.equals("/v1/chat/completions");
  }

  @Override
  protected String credentialOf(HttpServerRequest req) {
    String auth = req.getHeader("Authorization");
    return auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
  }

  @Override
  protected int rejectStatus() {
    return 401;
  }

  @Override
  protected void sendError(HttpServerResponse response, int status, String message) {
    String type = status == 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
    response.setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("message", message).put("type", type)
            .put("param", null).put("code", status == 401 ? "invalid_api_key" : null)).encode());
  }

  @Override
  protected JsonObject textReply(String text) {
    return completion("stop", text);
  }
}
