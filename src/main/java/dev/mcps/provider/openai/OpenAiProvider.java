package dev.mcps.provider.openai;

import dev.mcps.config.ServerConfig;
import dev.mcps.provider.CallPolicy;
import dev.mcps.provider.Canonical;
import dev.mcps.provider.JsonHttpProvider;
import dev.mcps.provider.ProviderReply;
import dev.mcps.provider.ProviderRequest;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenAI Chat Completions: POST {@code {base}/chat/completions}; any compatible server (Ollama, vLLM) through the base
 * URL. The canonical conversation maps to: a system message first; user text as {@code {role:user}}; an assistant
 * message's tool_use blocks as {@code tool_calls} with JSON-string arguments; each tool_result as its own
 * {@code {role:tool, tool_call_id}} message right after the assistant message that asked for it.
 */
public final class OpenAiProvider extends JsonHttpProvider {

  private static final Logger LOG = LoggerFactory.getLogger(OpenAiProvider.class);

  public OpenAiProvider(Vertx vertx, ServerConfig.Provider config, CallPolicy policy) {
    super(vertx, config, policy, "OpenAI", "OPENAI_API_KEY, OPENAI_MODEL");
  }

  @Override
  public String name() {
    return "openai";
  }

  @Override
  protected String path() {
    return "/chat/completions";
  }

  @Override
  protected MultiMap authHeaders(String apiKey) {
    return MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + apiKey);
  }

  @Override
  protected Buffer requestBody(String model, ProviderRequest request) {
    return body(model, request).toBuffer();
  }

  private static JsonObject body(String model, ProviderRequest request) {
    JsonArray messages = new JsonArray();
    if (request.system() != null && !request.system().isBlank()) {
      messages.add(new JsonObject().put("role", "system").put("content", request.system()));
    }
    for (JsonObject message : request.messages()) {
      List<JsonObject> blocks = Canonical.blocks(message);
      switch (message.getString("role", "")) {
        case "user" -> user(blocks, messages);
        case "assistant" -> assistant(blocks, messages);
        default -> { } // the system prompt travels in request.system()
      }
    }
    JsonObject body = new JsonObject().put("model", model).put("messages", messages);
    if (request.tools() != null && !request.tools().isEmpty()) {
      JsonArray tools = new JsonArray();
      for (JsonObject tool : request.tools()) {
        tools.add(new JsonObject().put("type", "function").put("function", new JsonObject()
            .put("name", tool.getString("name"))
            .put("description", tool.getString("description", ""))
            .put("parameters", tool.getJsonObject("inputSchema", new JsonObject().put("type", "object")))));
      }
      body.put("tools", tools);
    }
    return body;
  }

  private static void user(List<JsonObject> blocks, JsonArray out) {
    for (JsonObject block : blocks) {
      if ("tool_result".equals(Canonical.type(block))) {
        String text = Canonical.toolResultText(block);
        // Chat Completions has no error flag on a tool message: the model reads it in the text.
        if (block.getBoolean("is_error", false) && !text.startsWith("Error")) {
          text = "Error: " + text;
        }
        out.add(new JsonObject().put("role", "tool").put("tool_call_id", block.getString("tool_use_id"))
            .put("content", text));
      }
    }
    String text = Canonical.joinedText(blocks);
    if (!text.isEmpty()) {
      out.add(new JsonObject().put("role", "user").put("content", text));
    }
  }

  private static void assistant(List<JsonObject> blocks, JsonArray out) {
    JsonArray calls = new JsonArray();
    for (JsonObject block : blocks) {
      if ("tool_use".equals(Canonical.type(block))) {
        calls.add(new JsonObject().put("id", block.getString("id")).put("type", "function")
            .put("function", new JsonObject().put("name", block.getString("name"))
                .put("arguments", block.getJsonObject("input", new JsonObject()).encode())));
      }
    }
    String text = Canonical.joinedText(blocks);
    if (text.isEmpty() && calls.isEmpty()) {
      return;
    }
    JsonObject message = new JsonObject().put("role", "assistant").put("content", text.isEmpty() ? null : text);
    if (!calls.isEmpty()) {
      message.put("tool_calls", calls);
    }
    out.add(message);
  }

  @Override
  protected ProviderReply reply(JsonObject body) {
    JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
    JsonObject message = choice.getJsonObject("message", new JsonObject());
    List<JsonObject> content = new ArrayList<>();
    if (message.getValue("content") instanceof String text && !text.isEmpty()) {
      content.add(Canonical.text(text));
    }
    JsonArray toolCalls = message.getJsonArray("tool_calls", new JsonArray());
    for (Object o : toolCalls) {
      JsonObject call = (JsonObject) o;
      JsonObject function = call.getJsonObject("function", new JsonObject());
      String id = call.getString("id");
      content.add(Canonical.toolUse(id == null || id.isEmpty() ? "call_" + UUID.randomUUID() : id,
          function.getString("name"), arguments(function.getValue("arguments"))));
    }
    String finish = choice.getString("finish_reason", "stop");
    // Some compatible servers answer "stop" even when they call tools: the calls decide.
    String stop = "tool_calls".equals(finish) || !toolCalls.isEmpty() ? "tool_use"
        : "length".equals(finish) ? "max_tokens" : "end_turn";
    return new ProviderReply(content, stop);
  }

  /** The model wrote the arguments as a JSON string; one it garbled becomes {} (the tool then reports what's missing). */
  private static JsonObject arguments(Object raw) {
    if (raw instanceof JsonObject object) {
      return object; // Ollama may send an object rather than a string
    }
    if (!(raw instanceof String text) || text.isBlank()) {
      return new JsonObject();
    }
    try {
      return new JsonObject(text);
    } catch (RuntimeException e) { // DecodeException, or valid JSON that is not an object
      LOG.debug("Unparsable tool arguments from the model ({} chars); using {{}}", text.length());
      return new JsonObject();
    }
  }
}
