package dev.mcps.audit;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The audit trail ({@code AUDIT_LOG}): one compact JSON object a line for each security-relevant event, kept apart
 * from the application log. Every line has {@code time} (ISO-8601, UTC), {@code event} and {@code instance} (the
 * node id of this server), then the event's own fields.
 *
 * <p>One instance per server, built by {@link dev.mcps.Server} from the configuration and handed to the components
 * that report events through their constructors ({@code Server#audit()} returns it). The methods never block and
 * never throw: the line is queued for a writer thread that writes what gathered every 100 ms, to standard output
 * or a file ({@link StreamSink}). With {@code AUDIT_LOG=off} ({@link #off()}) every method returns at once, before building
 * anything.
 *
 * <p>What is never written, whoever calls: a bearer token, the ADMIN_TOKEN, a Jira API token or email, an LLM API
 * key, a tool's arguments or result. The methods take no parameter that could carry one; callers pass names,
 * ids, statuses and reasons in words. Callers:
 * <ul>
 *   <li>{@link #authFailure} — a request refused for its credentials: the admin routes' wrong {@code ADMIN_TOKEN}
 *       ({@code mode} "admin_token"), and the {@code AUTH_MODE} checks ("jwt", "header"). {@code reason} is a short
 *       fixed phrase such as "missing token", "bad signature", "expired", "wrong issuer"; never the token or a
 *       claim value taken from it.</li>
 *   <li>{@link #sessionCreated}, {@link #sessionReset}, {@link #sessionDeleted} — {@code dev.mcps.session.Sessions},
 *       where every session change goes through, on the instance that made the change.</li>
 *   <li>{@link #credentialsStored} — the same, whenever an update leaves a session with Jira credentials other than
 *       it had (from /chat's jiraAuth, the MCP X-Jira-* headers, or the bus).</li>
 *   <li>{@link #toolCall} — the tool executor ({@code ToolsVerticle.run}) for every call that reached it, and the
 *       callers that refuse a call before it gets there.</li>
 *   <li>{@link #adminAction} — the /admin routes.</li>
 * </ul>
 */
public final class AuditLog {

  private static final AuditLog OFF = new AuditLog(null, null);
  /** Fixed width, milliseconds, UTC: lines sort and line up as text. */
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
      .withZone(ZoneOffset.UTC);
  private static final int MAX_CLIENT_VALUE = 200;

  /** Outcomes of a tool call. */
  public enum Outcome {
    OK, ERROR, REFUSED, CANCELLED;

    String json() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final AuditSink sink;
  private final String instance;

  AuditLog(AuditSink sink, String instance) {
    this.sink = sink;
    this.instance = instance;
  }

  /** Writes nothing (AUDIT_LOG=off, and components built without an audit trail, as in unit tests). */
  public static AuditLog off() {
    return OFF;
  }

  /**
   * The trail {@code AUDIT_LOG} asks for: "off", "stdout", or a file path (opened for appending now, so that an
   * unwritable file stops start-up with one line naming AUDIT_LOG: an {@link IllegalStateException}).
   *
   * @param instance this server's node id, written in every line
   */
  public static AuditLog create(String auditLog, String instance) {
    if (auditLog == null || auditLog.equalsIgnoreCase("off")) {
      return OFF;
    }
    if (auditLog.equalsIgnoreCase("stdout")) {
      return new AuditLog(StreamSink.stdout(), instance);
    }
    return new AuditLog(StreamSink.file(Path.of(auditLog)), instance);
  }

  public boolean enabled() {
    return sink != null;
  }

  /**
   * A request refused because of its credentials. Never pass the token, nor a header or claim taken from it.
   *
   * @param mode          what was checked: "admin_token", "jwt", "header"
   * @param reason        a short fixed phrase: "missing token", "wrong token", "expired", "bad signature", ...
   * @param method        the HTTP method
   * @param path          the request path, without the query string (which may hold a token)
   * @param remoteAddress the client's address as the server saw it (may be null)
   */
  public void authFailure(String mode, String reason, String method, String path, String remoteAddress) {
    if (sink == null) {
      return;
    }
    write(line("auth_failure").put("mode", mode).put("reason", reason).put("method", method)
        .put("path", bounded(path)).put("remoteAddress", remoteAddress));
  }

  public void sessionCreated(String sessionId, String userId) {
    if (sink == null) {
      return;
    }
    write(line("session_created").put("sessionId", sessionId).put("userId", userId));
  }

  public void sessionReset(String sessionId) {
    if (sink == null) {
      return;
    }
    write(line("session_reset").put("sessionId", sessionId));
  }

  /** @param reason "deleted" (by a request), "expired" (idle timeout) or "evicted" (SESSION_MAX reached) */
  public void sessionDeleted(String sessionId, String userId, String reason) {
    if (sink == null) {
      return;
    }
    write(line("session_deleted").put("sessionId", sessionId).put("userId", userId).put("reason", reason));
  }

  /**
   * A session got Jira credentials: {@code credentials_stored} when it had none, {@code credentials_changed} when
   * it had others. Only the Jira host is written, never the email or the token.
   */
  public void credentialsStored(String sessionId, String userId, boolean replaced, String jiraHost) {
    if (sink == null) {
      return;
    }
    write(line(replaced ? "credentials_changed" : "credentials_stored").put("sessionId", sessionId)
        .put("userId", userId).put("jiraHost", jiraHost));
  }

  /**
   * One tool call and how it ended. Its arguments are never written.
   *
   * @param jiraStatus the HTTP status Jira last answered, or null when the tool did not reach Jira
   * @param error      a short error code (e.g. "Unknown_Tool") when the call failed outside the tool, else null
   */
  public void toolCall(String sessionId, String userId, String tool, Outcome outcome, long durationMs,
                       Integer jiraStatus, String error) {
    if (sink == null) {
      return;
    }
    write(line("tool_call").put("sessionId", sessionId).put("userId", userId).put("tool", bounded(tool))
        .put("outcome", outcome.json()).put("durationMs", durationMs).put("jiraStatus", jiraStatus)
        .put("error", error));
  }

  /**
   * One /admin request that passed the token check.
   *
   * @param action          "list", "get", "reset", "delete", "cleanup"
   * @param targetSessionId the session acted on, or null
   * @param status          the HTTP status answered
   */
  public void adminAction(String action, String targetSessionId, int status, String remoteAddress) {
    if (sink == null) {
      return;
    }
    write(line("admin_action").put("action", action).put("sessionId", bounded(targetSessionId)).put("status", status)
        .put("remoteAddress", remoteAddress));
  }

  /** Writes what is queued and stops writing (server stop). */
  public void close() {
    if (sink != null) {
      sink.close();
    }
  }

  /**
   * A value the client chose (a request path, an unknown tool's name, an admin route's id), cut short so that a
   * line stays a short line whatever was sent.
   */
  private static String bounded(String value) {
    return value == null || value.length() <= MAX_CLIENT_VALUE ? value : value.substring(0, MAX_CLIENT_VALUE) + "…";
  }

  private JsonObject line(String event) {
    return new JsonObject().put("time", TIME.format(Instant.now())).put("event", event).put("instance", instance);
  }

  private void write(JsonObject line) {
    // Absent fields are left out rather than written as null: the lines stay short and greppable.
    line.getMap().values().removeIf(v -> v == null);
    sink.write(line.encode());
  }
}
