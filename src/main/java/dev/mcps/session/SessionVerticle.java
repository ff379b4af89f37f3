package dev.mcps.session;

import static dev.mcps.JsonFields.optionalObject;
import static dev.mcps.JsonFields.optionalString;

import dev.mcps.ApiException;
import dev.mcps.audit.AuditLog;
import dev.mcps.cluster.McpPresence;
import dev.mcps.jira.JiraUrlPolicy;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the session lifecycle over time: the periodic cleanup sweep (which publishes the expired events), a
 * session-count log line every 5 minutes, and a fresh count every few seconds for the metrics gauge and for the
 * console's chart of active sessions ({@code activeSamples}; one verticle per server, so one sample per instance
 * however many event loops it runs). Idle expiry
 * itself is enforced by the stores on every read, so it does not wait for the sweep.
 *
 * <p>It also serves the sessions to other services on {@code mcps.sessions.*} (DESIGN.md §5): request/reply with a
 * JSON object body, answered with the admin API's JSON ({@link SessionDirectory}); a failure is a ReplyException
 * whose code is the HTTP status and whose message is the error JSON. The bus is the trusted inside: no admin token.
 */
public final class SessionVerticle extends VerticleBase {

  public static final String GET_ADDRESS = "mcps.sessions.get";
  public static final String LIST_ADDRESS = "mcps.sessions.list";
  public static final String CREATE_ADDRESS = "mcps.sessions.create";
  public static final String RESET_ADDRESS = "mcps.sessions.reset";
  public static final String DELETE_ADDRESS = "mcps.sessions.delete";
  public static final String CLEANUP_ADDRESS = "mcps.sessions.cleanup";

  private static final Logger LOG = LoggerFactory.getLogger(SessionVerticle.class);
  private static final long COUNT_LOG_PERIOD_MS = 5 * 60 * 1000;
  private static final long GAUGE_PERIOD_MS = 5_000;
  private static final int MAX_ID_CHARS = 256;
  /** The {@code remoteAddress} of an audit line for a request that came over the event bus. */
  static final String BUS_ORIGIN = "eventbus";

  private final Sessions sessions;
  private final long sweepPeriodMs;
  private final SessionDirectory directory;
  private final JiraUrlPolicy jiraPolicy;
  private final AuditLog audit;
  private final LongConsumer activeSamples;
  private final McpPresence presence;

  /**
   * {@code jiraPolicy} checks the Jira base URL a {@code mcps.sessions.create} request brings; {@code audit} gets an
   * {@code admin_action} for every reset, delete and cleanup asked on the bus, as for those asked over HTTP;
   * {@code activeSamples} gets every count of active sessions taken; {@code presence} answers the other instances
   * asking which sessions have MCP connections here.
   */
  public SessionVerticle(Sessions sessions, long sweepPeriodMs, SessionDirectory directory, JiraUrlPolicy jiraPolicy,
                         AuditLog audit, LongConsumer activeSamples, McpPresence presence) {
    this.presence = presence;
    this.audit = audit;
    this.activeSamples = activeSamples;
    this.sessions = sessions;
    this.sweepPeriodMs = sweepPeriodMs;
    this.directory = directory;
    this.jiraPolicy = jiraPolicy;
  }

  @Override
  public Future<?> start() {
    vertx.setPeriodic(sweepPeriodMs, id -> sessions.sweep()
        .onSuccess(s -> LOG.info("Session cleanup: {} expired session(s) removed, {} remain",
            s.removed().size(), s.afterCount()))
        .onFailure(err -> LOG.warn("Session cleanup failed: {}", err.getMessage())));
    vertx.setPeriodic(COUNT_LOG_PERIOD_MS, id -> sessions.count()
        .onSuccess(n -> LOG.info("Current active sessions: {}", n)));
    vertx.setPeriodic(GAUGE_PERIOD_MS, id -> sessions.count().onSuccess(activeSamples::accept));
    List<Future<Void>> served = List.of(
        serve(GET_ADDRESS, body -> directory.details(sessionId(body))),
        serve(LIST_ADDRESS, this::list),
        serve(CREATE_ADDRESS, this::create),
        serve(RESET_ADDRESS, audited("reset", 200, body -> directory.reset(sessionId(body)))),
        serve(DELETE_ADDRESS, audited("delete", 204, body -> directory.delete(sessionId(body)))),
        serve(CLEANUP_ADDRESS, audited("cleanup", 200, body -> directory.cleanup())),
        presence.serve());
    return Future.all(served).compose(v -> sessions.count().onSuccess(activeSamples::accept).otherwiseEmpty());
  }

  /** A page of the listing, or with {@code q} the sessions whose user or session id contains it (as over HTTP). */
  private Future<JsonObject> list(JsonObject body) {
    int offset = SessionDirectory.pagingValue("offset", body.getValue("offset"), 0, 0, Integer.MAX_VALUE);
    int limit = SessionDirectory.pagingValue("limit", body.getValue("limit"), SessionDirectory.DEFAULT_LIMIT, 1,
        SessionDirectory.MAX_LIMIT);
    String query = optionalString(body, "q", SessionDirectory.MAX_QUERY_CHARS);
    SessionDirectory.checkQuery(query, offset);
    return query == null ? directory.list(offset, limit) : directory.search(query, limit);
  }

  /** Get or create: the user's session (the one /chat would reuse), or a new anonymous one without a userId. */
  private Future<JsonObject> create(JsonObject body) {
    String userId = optionalString(body, "userId", MAX_ID_CHARS);
    String productLabUserId = optionalString(body, "productLabUserId", MAX_ID_CHARS);
    JsonObject auth = optionalObject(body, "jiraAuth");
    JiraCredentials credentials = auth == null ? null : jiraPolicy.credentials(auth);
    return directory.userSession(userId, productLabUserId, credentials);
  }

  /**
   * Answers {@code address} with {@code handler}'s JSON. A missing body counts as {@code {}}; anything else but a
   * JSON object is a 400, and so is every field of the wrong type (checked before any session is touched).
   */
  private Future<Void> serve(String address, Function<JsonObject, Future<JsonObject>> handler) {
    return SessionBus.<Object>consumer(vertx, sessions, address, msg -> {
      Object body = msg.body() == null ? new JsonObject() : msg.body();
      if (!(body instanceof JsonObject json)) {
        return Future.failedFuture(ApiException.badRequest("Invalid_Json", "The message body must be a JSON object"));
      }
      return handler.apply(json);
    }).completion();
  }

  /**
   * The changes other services ask for leave the same audit line as the admin API's, with the status the HTTP route
   * would have answered ({@code ok} on success) and {@code remoteAddress} {@value #BUS_ORIGIN} (a bus message carries
   * no address).
   */
  private Function<JsonObject, Future<JsonObject>> audited(String action, int ok,
                                                           Function<JsonObject, Future<JsonObject>> handler) {
    return body -> {
      Object id = body.getValue("sessionId");
      String target = id instanceof String s ? s : null;
      Future<JsonObject> answer;
      try {
        answer = handler.apply(body);
      } catch (RuntimeException e) {
        answer = Future.failedFuture(e);
      }
      return answer.andThen(ar -> audit.adminAction(action, target, ar.succeeded() ? ok : statusOf(ar.cause()),
          BUS_ORIGIN));
    };
  }

  private static int statusOf(Throwable err) {
    return err instanceof ApiException api ? api.status() : 500;
  }

  private static String sessionId(JsonObject body) {
    String id = optionalString(body, "sessionId", MAX_ID_CHARS);
    if (id == null) {
      throw ApiException.badRequest("Missing_Session_ID", "sessionId is required");
    }
    return id;
  }
}
