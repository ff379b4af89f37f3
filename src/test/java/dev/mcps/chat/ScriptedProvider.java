package dev.mcps.chat;

import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.ProviderReply;
import dev.mcps.provider.ProviderRequest;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

/** An in-process provider whose answers a test scripts from the conversation so far; it records every request. */
public final class ScriptedProvider implements LlmProvider {

  final ConcurrentLinkedQueue<ProviderRequest> requests = new ConcurrentLinkedQueue<>();
  private final Function<ProviderRequest, Future<ProviderReply>> script;

  public ScriptedProvider(Function<ProviderRequest, Future<ProviderReply>> script) {
    this.script = script;
  }

  @Override
  public String name() {
    return "anthropic";
  }

  @Override
  public boolean configured() {
    return true;
  }

  @Override
  public Future<ProviderReply> complete(ProviderRequest request) {
    requests.add(request);
    return script.apply(request);
  }

  static JsonObject last(ProviderRequest r) {
    return r.messages().get(r.messages().size() - 1);
  }

  /** The first block of the newest message. */
  static JsonObject lastBlock(ProviderRequest r) {
    return last(r).getJsonArray("content").getJsonObject(0);
  }

  public static ProviderReply text(String text) {
    return new ProviderReply(List.of(new JsonObject().put("type", "text").put("text", text)), "end_turn");
  }

  static ProviderReply toolUse(String id, String name, JsonObject input) {
    return new ProviderReply(List.of(new JsonObject().put("type", "tool_use").put("id", id).put("name", name)
        .put("input", input)), "tool_use");
  }

  static ProviderReply toolUses(JsonObject... uses) {
    return new ProviderReply(List.of(uses), "tool_use");
  }

  static JsonObject use(String id, String name, JsonObject input) {
    return new JsonObject().put("type", "tool_use").put("id", id).put("name", name).put("input", input);
  }

  public static String userText(ProviderRequest r) {
    for (int i = r.messages().size() - 1; i >= 0; i--) {
      JsonObject m = r.messages().get(i);
      JsonArray c = m.getJsonArray("content");
      if ("user".equals(m.getString("role")) && "text".equals(c.getJsonObject(0).getString("type"))) {
        return c.getJsonObject(0).getString("text");
      }
    }
    return "";
  }
}
