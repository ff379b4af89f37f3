package dev.mcps.tools;

import dev.mcps.session.SessionContext;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * The session's own tools (the seed's per-session {@code notes}, and a look at the session). They read and write
 * only the session in context, so one user's notes can never reach another user.
 */
public final class SessionTools {

  static final int MAX_KEY = 200;
  static final int MAX_NOTES = 200;
  static final int MAX_VALUE_CHARS = 16_384;

  private SessionTools() {
  }

  public static List<Tool> all(Sessions sessions) {
    return List.of(info(), notesSet(sessions), notesGet(), notesDelete(sessions));
  }

  private static JsonObject schema(JsonObject properties, String... required) {
    return new JsonObject().put("type", "object").put("properties", properties)
        .put("required", new JsonArray(List.of((Object[]) required))).put("additionalProperties", false);
  }

  private static JsonObject string(String description) {
    return new JsonObject().put("type", "string").put("description", description);
  }

  static Tool info() {
    return new SimpleTool("session_info",
        "Shows this conversation's session: its ids, user, creation time and history length (never credentials).",
        schema(new JsonObject()), true, args -> {
          SessionEnv s = SessionContext.require();
          JsonObject info = new JsonObject()
              .put("sessionId", s.sessionId())
              .put("anthropicConversationId", s.anthropicConversationId())
              .put("userId", s.userId())
              .put("productLabUserId", s.productLabUserId())
              .put("createdAt", Instant.ofEpochMilli(s.createdAt()).toString())
              .put("historyLength", s.historyLength())
              .put("hasJiraCredentials", s.hasJiraCredentials());
          return Future.succeededFuture(ToolResult.ok(info.encode(), info));
        });
  }

  static Tool notesSet(Sessions sessions) {
    return new SimpleTool("notes_set", "Saves a note in this session under a key (replacing any note with that key).",
        schema(new JsonObject().put("key", string("Name of the note")).put("value", new JsonObject()
            .put("description", "Any JSON value to store")), "key", "value"), true, args -> {
          String key = args.requiredString("key", MAX_KEY);
          Object value = args.requiredValue("value");
          if (Json.encode(value).length() > MAX_VALUE_CHARS) {
            throw new ToolArguments.Invalid("Invalid argument 'value': at most " + MAX_VALUE_CHARS + " characters of JSON");
          }
          SessionEnv s = SessionContext.require();
          return sessions.update(s.sessionId(), session -> {
            if (!session.notes().containsKey(key) && session.notes().size() >= MAX_NOTES) {
              throw new ToolArguments.Invalid("This session already holds " + MAX_NOTES + " notes; delete one first");
            }
            session.notes().put(key, value);
          }).map(updated -> ToolResult.ok("Saved note '" + key + "'.",
              new JsonObject().put("key", key).put("value", value)));
        });
  }

  static Tool notesGet() {
    return new SimpleTool("notes_get", "Reads one note of this session by key, or all of them when no key is given.",
        schema(new JsonObject().put("key", string("Name of the note; omit to list every note"))), true, args -> {
          String key = args.optionalString("key", MAX_KEY);
          JsonObject notes = SessionContext.require().notes();
          if (key == null) {
            return Future.succeededFuture(ToolResult.ok(notes.encode(), new JsonObject().put("notes", notes)));
          }
          if (!notes.containsKey(key)) {
            return Future.succeededFuture(ToolResult.error("No note named '" + key + "' in this session."));
          }
          Object value = notes.getValue(key);
          return Future.succeededFuture(ToolResult.ok(Json.encode(value),
              new JsonObject().put("key", key).put("value", value)));
        });
  }

  static Tool notesDelete(Sessions sessions) {
    return new SimpleTool("notes_delete", "Deletes one note of this session by key.",
        schema(new JsonObject().put("key", string("Name of the note")), "key"), true, args -> {
          String key = args.requiredString("key", MAX_KEY);
          boolean[] existed = new boolean[1];
          return sessions.update(SessionContext.require().sessionId(), session -> {
            existed[0] = session.notes().containsKey(key);
            session.notes().remove(key);
          }).map(s -> existed[0] ? ToolResult.ok("Deleted note '" + key + "'.")
              : ToolResult.error("No note named '" + key + "' in this session."));
        });
  }
}
