package dev.mcps.session;

import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one stored form of a session (DESIGN.md §6): readable JSON, credentials only as ciphertext. The last access
 * time is not part of it; each store keeps it where it can be updated cheaply (Redis: the sorted-set score).
 */
public final class SessionCodec {

  private static final Logger LOG = LoggerFactory.getLogger(SessionCodec.class);

  private final CredentialCipher cipher;

  public SessionCodec(CredentialCipher cipher) {
    this.cipher = cipher;
  }

  public JsonObject encode(SessionEnv s) {
    JsonObject json = new JsonObject()
        .put("sessionId", s.sessionId())
        .put("anthropicConversationId", s.anthropicConversationId())
        .put("userId", s.userId())
        .put("productLabUserId", s.productLabUserId())
        .put("createdAt", s.createdAt())
        .put("notes", s.notes().copy())
        .put("version", s.version());
    if (s.jiraCredentials() != null) {
      json.put("jiraCredentials", cipher.encrypt(s.jiraCredentials().toJson().encode(), s.sessionId()));
    }
    return json;
  }

  /** A fresh, independent SessionEnv; {@code json} is not retained. */
  public SessionEnv decode(JsonObject json, long lastAccessTime) {
    String id = json.getString("sessionId");
    JiraCredentials creds = null;
    String sealed = json.getString("jiraCredentials");
    if (sealed != null) {
      try {
        creds = JiraCredentials.fromJson(new JsonObject(cipher.decrypt(sealed, id)));
      } catch (RuntimeException e) {
        // A session written under another key stays usable; its credentials must be given again.
        LOG.warn("Session {}: stored Jira credentials are unreadable and are ignored: {}", id, e.getMessage());
      }
    }
    JsonObject notes = json.getJsonObject("notes");
    return new SessionEnv(id, json.getString("anthropicConversationId"), json.getLong("createdAt", 0L),
        lastAccessTime, json.getString("userId"), json.getString("productLabUserId"), creds,
        notes == null ? new JsonObject() : notes.copy(), json.getLong("version", 0L));
  }
}
