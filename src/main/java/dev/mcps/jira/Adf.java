package dev.mcps.jira;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Atlassian Document Format, the body Jira Cloud v3 expects for descriptions and comments: built here from plain
 * text (blank-line separated paragraphs; lines starting with "- " or "* " become bullet lists), and read back as
 * plain text for results an LLM can use.
 */
public final class Adf {

  private Adf() {
  }

  public static JsonObject fromText(String text) {
    JsonArray content = new JsonArray();
    JsonArray bullets = null;
    StringBuilder paragraph = new StringBuilder();
    for (String raw : text.replace("\r\n", "\n").split("\n", -1)) {
      String line = raw.stripTrailing();
      boolean bullet = line.startsWith("- ") || line.startsWith("* ");
      if (bullet || line.isBlank()) {
        flushParagraph(content, paragraph);
      }
      if (bullet) {
        if (bullets == null) {
          bullets = new JsonArray();
          content.add(new JsonObject().put("type", "bulletList").put("content", bullets));
        }
        bullets.add(new JsonObject().put("type", "listItem").put("content",
            new JsonArray().add(paragraph(line.substring(2).trim()))));
        continue;
      }
      bullets = null;
      if (!line.isBlank()) {
        if (!paragraph.isEmpty()) {
          paragraph.append('\n');
        }
        paragraph.append(line);
      }
    }
    flushParagraph(content, paragraph);
    return new JsonObject().put("type", "doc").put("version", 1).put("content", content);
  }

  private static void flushParagraph(JsonArray content, StringBuilder paragraph) {
    if (!paragraph.isEmpty()) {
      content.add(paragraph(paragraph.toString()));
      paragraph.setLength(0);
    }
  }

  private static JsonObject paragraph(String text) {
    JsonArray inline = new JsonArray();
    String[] lines = text.split("\n");
    for (int i = 0; i < lines.length; i++) {
      if (i > 0) {
        inline.add(new JsonObject().put("type", "hardBreak"));
      }
      if (!lines[i].isEmpty()) {
        inline.add(new JsonObject().put("type", "text").put("text", lines[i]));
      }
    }
    return new JsonObject().put("type", "paragraph").put("content", inline);
  }

  /** Plain text of an ADF document (or of a plain string, which older payloads use). */
  public static String toText(Object adf) {
    if (adf == null) {
      return "";
    }
    if (adf instanceof String s) {
      return s;
    }
    if (!(adf instanceof JsonObject node)) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    append(node, out, "");
    return out.toString().strip();
  }

  private static void append(JsonObject node, StringBuilder out, String indent) {
    String type = node.getString("type", "");
    switch (type) {
      case "text" -> out.append(node.getString("text", ""));
      case "hardBreak" -> out.append('\n').append(indent);
      case "mention" -> out.append(node.getJsonObject("attrs", new JsonObject()).getString("text", "@someone"));
      case "listItem" -> {
        out.append(indent).append("- ");
        children(node, out, indent + "  ", true);
      }
      case "paragraph", "heading" -> {
        children(node, out, indent, false);
        out.append('\n');
      }
      default -> children(node, out, indent, false);
    }
  }

  private static void children(JsonObject node, StringBuilder out, String indent, boolean trimFirstNewline) {
    JsonArray content = node.getJsonArray("content");
    if (content == null) {
      return;
    }
    for (int i = 0; i < content.size(); i++) {
      if (content.getValue(i) instanceof JsonObject child) {
        append(child, out, indent);
      }
    }
    if (trimFirstNewline && !out.isEmpty() && out.charAt(out.length() - 1) != '\n') {
      out.append('\n');
    }
  }
}
