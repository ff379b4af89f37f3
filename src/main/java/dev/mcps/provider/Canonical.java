package dev.mcps.provider;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** Reading canonical messages ({@link ProviderRequest}) the same way in every provider. */
public final class Canonical {

  private Canonical() {
  }

  /** The message's blocks; a plain string content (as a client's history may carry) is one text block. */
  public static List<JsonObject> blocks(JsonObject message) {
    Object content = message.getValue("content");
    List<JsonObject> blocks = new ArrayList<>();
    if (content instanceof String text) {
      blocks.add(text(text));
    } else if (content instanceof JsonArray array) {
      for (Object block : array) {
        if (block instanceof JsonObject b) {
          blocks.add(b);
        } else if (block instanceof String s) {
          blocks.add(text(s));
        }
      }
    }
    return blocks;
  }

  public static String type(JsonObject block) {
    return block.getString("type", "");
  }

  /** A tool_result's content as text: canonically a string, but a list of text blocks is read too. */
  public static String toolResultText(JsonObject block) {
    Object content = block.getValue("content");
    if (content instanceof String s) {
      return s;
    }
    if (content instanceof JsonArray array) {
      return joinedText(blocks(new JsonObject().put("content", array)));
    }
    return content == null ? "" : String.valueOf(content);
  }

  /** The text blocks among {@code blocks}, joined by blank lines. */
  public static String joinedText(List<JsonObject> blocks) {
    return blocks.stream().filter(b -> "text".equals(type(b))).map(b -> b.getString("text", ""))
        .filter(t -> !t.isEmpty()).collect(Collectors.joining("\n\n"));
  }

  public static JsonObject text(String text) {
    return new JsonObject().put("type", "text").put("text", text);
  }

  public static JsonObject toolUse(String id, String name, JsonObject input) {
    return new JsonObject().put("type", "tool_use").put("id", id).put("name", name).put("input", input);
  }
}
