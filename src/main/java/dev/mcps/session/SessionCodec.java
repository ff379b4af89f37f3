package dev.mcps.session;

import dev.mcps.logging.SessionLog;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one stored form of a session (DESIGN.md §6): readable JSON, credentials only as ciphertext. The last access
 * time is not part of it; each store keeps it where it can be updated cheaply (Redis: the sorted-set score).
 */
public final class SessionCodec {

  private static final Logger LOG = LoggerFactory.getLogger(SessionCodec.class);

  private final CredentialCipher cipher;
  /** Unreadable credentials are reported once per instance: they show up on every request of every such session. */
  private final AtomicBoolean unreadableReported = new AtomicBoolean();

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
    } else if (s.unreadableCredentials() != null) {
      // Another instance's key may read them: what this one cannot decrypt goes back exactly as it came.
      json.put("jiraCredentials", s.unreadableCredentials());
    }
    return json;
  }

  /** A fresh, independent SessionEnv; {@code json} is not retained. */
  public SessionEnv decode(JsonObject json, long lastAccessTime) {
    String id = json.getString("sessionId");
    JiraCredentials creds = null;
    String unreadable = null;
    Object sealed = json.getValue("jiraCredentials");
    if (sealed instanceof String ciphertext) {
      try {
        creds = JiraCredentials.fromJson(new JsonObject(cipher.decrypt(ciphertext, id)));
      } catch (RuntimeException e) {
        unreadable = ciphertext;
        reportUnreadable(id, e);
      }
    }
    JsonObject notes = json.getJsonObject("notes");
    SessionEnv s = new SessionEnv(id, json.getString("anthropicConversationId"), json.getLong("createdAt", 0L),
        lastAccessTime, json.getString("userId"), json.getString("productLabUserId"), creds,
        notes == null ? new JsonObject() : notes.copy(), json.getLong("version", 0L));
    if (unreadable != null) {
      s.keepUnreadableCredentials(unreadable);
    }
    return s;
  }

  /**
   * A session written under a key this instance does not have: it works on as one without credentials (the user may
   * give them again), and its ciphertext is kept for the instances that can read it. Almost always a key mismatch
   * between instances, so one ERROR says so; each further session only at DEBUG.
   */
  private void reportUnreadable(String sessionId, RuntimeException e) {
    if (unreadableReported.compareAndSet(false, true)) {
      SessionLog.about(sessionId, () -> LOG.error("Stored Jira credentials of session {} cannot be decrypted: {}. They are kept unchanged in the store, "
          + "and this instance treats such sessions as having no credentials. Give every instance the same "
          + "SESSION_ENCRYPTION_KEY (former keys go in SESSION_ENCRYPTION_OLD_KEYS). Further sessions like this one "
          + "are logged at DEBUG only.", sessionId, e.getMessage()));
    } else {
      SessionLog.about(sessionId,
          () -> LOG.debug("Session {}: stored Jira credentials cannot be decrypted and are kept as they are", sessionId));
    }
  }
}
