package dev.mcps.chat;

import static dev.mcps.JsonFields.optionalArray;
import static dev.mcps.JsonFields.optionalBoolean;
import static dev.mcps.JsonFields.optionalObject;
import static dev.mcps.JsonFields.optionalString;

import dev.mcps.ApiException;
import dev.mcps.jira.JiraUrlPolicy;
import dev.mcps.session.JiraCredentials;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A validated /chat request (the same JSON arrives on {@code mcps.chat.turn}). Everything a client can get wrong is
 * rejected here, before any session is touched, so bad input never changes a session.
 */
public record ChatRequest(String message, String userId, String productLabUserId, String sessionId, String model,
                          JiraCredentials jiraAuth, List<JsonObject> history, boolean stream, boolean newSession) {

  public static final Set<String> MODELS = Set.of("anthropic", "openai", "bedrock");
  static final int MAX_MESSAGE_CHARS = 100_000;
  static final int MAX_HISTORY = 1_000;
  static final int MAX_ID_CHARS = 256;

  public static ChatRequest parse(JsonObject body, String defaultModel, JiraUrlPolicy jiraPolicy) {
    Object rawMessage = body.getValue("message");
    if (rawMessage == null || (rawMessage instanceof String s && s.isBlank())) {
      throw ApiException.badRequest("Missing_Message", "Message is required");
    }
    String message = optionalString(body, "message", MAX_MESSAGE_CHARS);
    String userId = optionalString(body, "userId", MAX_ID_CHARS);
    String productLabUserId = optionalString(body, "productLabUserId", MAX_ID_CHARS);
    String sessionId = optionalString(body, "sessionId", MAX_ID_CHARS);
    if (sessionId == null && userId == null) {
      throw ApiException.badRequest("Missing_User_ID", "Either sessionId or userId is required");
    }
    // newSession: a user's fresh conversation even when they have a live session (a console's "new session").
    boolean newSession = optionalBoolean(body, "newSession");
    if (newSession && sessionId != null) {
      throw ApiException.badRequest("Invalid_Request", "newSession cannot be combined with sessionId");
    }
    String model = optionalString(body, "model", 32);
    if (model == null) {
      model = defaultModel;
    } else if (!MODELS.contains(model)) {
      throw ApiException.badRequest("Unsupported_Model", "model must be one of anthropic, openai, bedrock");
    }
    JsonObject auth = optionalObject(body, "jiraAuth");
    JiraCredentials jiraAuth = auth == null ? null : jiraPolicy.credentials(auth);
    JsonArray rawHistory = optionalArray(body, "history", "Invalid_History");
    List<JsonObject> history = rawHistory == null ? null : history(rawHistory);
    return new ChatRequest(message, userId, productLabUserId, sessionId, model, jiraAuth, history,
        optionalBoolean(body, "stream"), newSession);
  }

  /**
   * The canonical message shape: {@code {role: user|assistant, content: string | [{type, ...}]}}; a string
   * content becomes one text block so the stored history has one form.
   */
  static List<JsonObject> history(JsonArray raw) {
    if (raw.size() > MAX_HISTORY) {
      throw invalidHistory("history may hold at most " + MAX_HISTORY + " messages");
    }
    List<JsonObject> out = new ArrayList<>(raw.size());
    for (int i = 0; i < raw.size(); i++) {
      if (!(raw.getValue(i) instanceof JsonObject m)) {
        throw invalidHistory("history[" + i + "] must be an object");
      }
      Object role = m.getValue("role");
      if (!"user".equals(role) && !"assistant".equals(role)) {
        throw invalidHistory("history[" + i + "].role must be \"user\" or \"assistant\"");
      }
      Object content = m.getValue("content");
      JsonArray blocks;
      if (content instanceof String text) {
        blocks = new JsonArray().add(new JsonObject().put("type", "text").put("text", text));
      } else if (content instanceof JsonArray arr && !arr.isEmpty()) {
        for (int j = 0; j < arr.size(); j++) {
          checkBlock(arr.getValue(j), "history[" + i + "].content[" + j + "]");
        }
        blocks = arr.copy();
      } else {
        throw invalidHistory("history[" + i + "].content must be a string or a non-empty array of blocks");
      }
      out.add(new JsonObject().put("role", role).put("content", blocks));
    }
    checkToolPairs(out);
    return out;
  }

  /**
   * Every tool_use is answered by a tool_result with its id in the next message (a user message), and every
   * tool_result answers a tool_use of the message before: the providers reject a conversation where either is
   * missing, and such a history would fail every later turn of the session.
   */
  private static void checkToolPairs(List<JsonObject> history) {
    for (int i = 0; i < history.size(); i++) {
      Set<String> uses = ids(history.get(i), "tool_use", "id");
      Set<String> results = ids(history.get(i), "tool_result", "tool_use_id");
      Set<String> asked = i == 0 ? Set.of() : ids(history.get(i - 1), "tool_use", "id");
      String role = history.get(i).getString("role");
      if (!uses.isEmpty() && !"assistant".equals(role) || !results.isEmpty() && !"user".equals(role)) {
        throw invalidHistory("history[" + i + "]: tool_use blocks belong in assistant messages, tool_result blocks"
            + " in user messages");
      }
      for (String r : results) {
        if (!asked.contains(r)) {
          throw invalidHistory("history[" + i + "] has a tool_result for " + r
              + " that answers no tool_use of the message before it");
        }
      }
      if (!uses.isEmpty()) {
        Set<String> answered = i + 1 < history.size() ? ids(history.get(i + 1), "tool_result", "tool_use_id")
            : Set.of();
        for (String u : uses) {
          if (!answered.contains(u)) {
            throw invalidHistory("history[" + i + "] has a tool_use " + u
                + " without its tool_result in the next message");
          }
        }
      }
    }
  }

  private static Set<String> ids(JsonObject message, String type, String field) {
    Set<String> out = new java.util.LinkedHashSet<>();
    for (Object b : message.getJsonArray("content")) {
      JsonObject block = (JsonObject) b;
      if (type.equals(block.getString("type"))) {
        out.add(block.getString(field));
      }
    }
    return out;
  }

  /** The canonical blocks: text {text}, tool_use {id, name, input}, tool_result {tool_use_id, content, is_error?}. */
  private static void checkBlock(Object value, String where) {
    if (!(value instanceof JsonObject block)) {
      throw invalidHistory(where + " must be an object");
    }
    String type = block.getValue("type") instanceof String t ? t : "";
    boolean ok = switch (type) {
      case "text" -> block.getValue("text") instanceof String;
      case "tool_use" -> block.getValue("id") instanceof String && block.getValue("name") instanceof String
          && block.getValue("input") instanceof JsonObject;
      case "tool_result" -> block.getValue("tool_use_id") instanceof String
          && (block.getValue("content") instanceof String || block.getValue("content") instanceof JsonArray)
          && (block.getValue("is_error") == null || block.getValue("is_error") instanceof Boolean);
      default -> false;
    };
    if (!ok) {
      throw invalidHistory(where + " must be a text {text}, tool_use {id, name, input} or tool_result "
          + "{tool_use_id, content, is_error?} block");
    }
  }

  private static ApiException invalidHistory(String message) {
    return ApiException.badRequest("Invalid_History", message);
  }
}
