package dev.mcps.session;

import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;

/**
 * One user's isolated environment (the seed's SessionEnv). Instances are snapshots: a store hands out a fresh copy
 * on every read, so two requests never share a mutable object; changes go back through
 * {@link SessionStore#update}, which applies them without losing concurrent writes (see {@link #version()}).
 *
 * <p>The conversation history lives beside the session (it grows, and is appended atomically), not in this object.
 */
public final class SessionEnv {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();

  private final String sessionId;
  private final String anthropicConversationId;
  private final long createdAt;
  private long lastAccessTime;
  private final String userId;
  private String productLabUserId;
  private JiraCredentials jiraCredentials;
  /**
   * Stored credentials this instance holds no key for (written under another SESSION_ENCRYPTION_KEY): carried back
   * to the store unchanged, so that an instance with the wrong key never erases them. Never decrypted, never shown.
   */
  private String unreadableCredentials;
  private JsonObject notes;
  private long version;
  private int historyLength;

  SessionEnv(String sessionId, String anthropicConversationId, long createdAt, long lastAccessTime, String userId,
             String productLabUserId, JiraCredentials jiraCredentials, JsonObject notes, long version) {
    this.sessionId = Objects.requireNonNull(sessionId);
    this.anthropicConversationId = anthropicConversationId;
    this.createdAt = createdAt;
    this.lastAccessTime = lastAccessTime;
    this.userId = userId;
    this.productLabUserId = productLabUserId;
    this.jiraCredentials = jiraCredentials;
    this.notes = notes == null ? new JsonObject() : notes;
    this.version = version;
  }

  /** A new session with 128-bit random ids; userId may be null for an anonymous session. */
  public static SessionEnv newSession(String userId, String productLabUserId, long now) {
    return new SessionEnv(randomId(), randomId(), now, now, userId, productLabUserId, null, new JsonObject(), 0);
  }

  /** 128 bits from SecureRandom, as 32 hex characters: unguessable, and safe in URLs, headers and Redis keys. */
  public static String randomId() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return HEX.formatHex(b);
  }

  /** True when {@code id} has the shape of an id we issue; anything else cannot name a session. */
  public static boolean isWellFormedId(String id) {
    if (id == null || id.length() != 32) {
      return false;
    }
    for (int i = 0; i < 32; i++) {
      char c = id.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  public String sessionId() {
    return sessionId;
  }

  public String anthropicConversationId() {
    return anthropicConversationId;
  }

  public long createdAt() {
    return createdAt;
  }

  public long lastAccessTime() {
    return lastAccessTime;
  }

  public String userId() {
    return userId;
  }

  public String productLabUserId() {
    return productLabUserId;
  }

  public JiraCredentials jiraCredentials() {
    return jiraCredentials;
  }

  public boolean hasJiraCredentials() {
    return jiraCredentials != null;
  }

  /** This snapshot's notes; mutate them inside an {@link SessionStore#update} to persist. */
  public JsonObject notes() {
    return notes;
  }

  public long version() {
    return version;
  }

  public int historyLength() {
    return historyLength;
  }

  /** True when this session belongs to {@code otherUserId}; an anonymous session belongs to nobody but its id. */
  public boolean isOwnedBy(String otherUserId) {
    return Objects.equals(userId, otherUserId);
  }

  public void setProductLabUserId(String productLabUserId) {
    this.productLabUserId = productLabUserId;
  }

  /** New credentials (or null to remove them) also replace any this instance could not read. */
  public void setJiraCredentials(JiraCredentials jiraCredentials) {
    this.jiraCredentials = jiraCredentials;
    this.unreadableCredentials = null;
  }

  String unreadableCredentials() {
    return unreadableCredentials;
  }

  void keepUnreadableCredentials(String ciphertext) {
    this.unreadableCredentials = ciphertext;
  }

  public void clearNotes() {
    this.notes = new JsonObject();
  }

  void setLastAccessTime(long lastAccessTime) {
    this.lastAccessTime = lastAccessTime;
  }

  void setVersion(long version) {
    this.version = version;
  }

  void setHistoryLength(int historyLength) {
    this.historyLength = historyLength;
  }

  /**
   * The seed's request-context view, for code written against its RequestContext shape. It carries the decrypted
   * credentials, so it must never be logged or returned to a client.
   */
  public Map<String, Object> getRequestContext() {
    java.util.HashMap<String, Object> ctx = new java.util.HashMap<>();
    ctx.put("userJiraCredentials", jiraCredentials);
    ctx.put("productLabUserId", productLabUserId);
    ctx.put("sessionId", sessionId);
    ctx.put("anthropicConversationId", anthropicConversationId);
    return ctx;
  }

  @Override
  public String toString() {
    return "SessionEnv[" + sessionId + ", user=" + userId + ", version=" + version + "]";
  }
}
