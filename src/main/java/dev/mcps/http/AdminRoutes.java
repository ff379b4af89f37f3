package dev.mcps.http;

import dev.mcps.ApiException;
import dev.mcps.audit.AuditLog;
import dev.mcps.session.SessionDirectory;
import dev.mcps.session.Sessions;
import dev.mcps.stats.TurnStats;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * /admin/*: session inspection for operators, behind {@code ADMIN_TOKEN}. Without a configured token the routes do
 * not exist (404); with one, a missing or wrong bearer token is a 401. The answers are {@link SessionDirectory}'s,
 * the same JSON {@code mcps.sessions.*} replies on the event bus. A refused token is an {@code auth_failure} of the
 * audit trail, and every request past the check an {@code admin_action} with the status it got.
 */
final class AdminRoutes {

  /** What {@code GET /admin/stats} answers when {@code minutes} is not given. */
  static final int DEFAULT_STATS_MINUTES = 30;

  private final SessionDirectory directory;
  private final Sessions sessions;
  private final TurnStats stats;
  private final byte[] tokenDigest;
  private final AuditLog audit;

  AdminRoutes(SessionDirectory directory, Sessions sessions, TurnStats stats, String adminToken, AuditLog audit) {
    this.directory = directory;
    this.sessions = sessions;
    this.stats = stats;
    this.audit = audit;
    this.tokenDigest = adminToken == null || adminToken.isEmpty() ? null : sha256(adminToken);
  }

  void mount(Router router) {
    router.route("/admin/*").handler(this::authorize);
    router.get("/admin/sessions").handler(this::list);
    router.get("/admin/stats").handler(this::stats);
    router.post("/admin/sessions/cleanup").handler(this::cleanup);
    router.get("/admin/sessions/:id").handler(this::details);
    router.post("/admin/sessions/:id/reset").handler(this::reset);
    router.delete("/admin/sessions/:id").handler(this::delete);
  }

  private void authorize(RoutingContext ctx) {
    if (tokenDigest == null) {
      HttpErrors.json(ctx, 404, new JsonObject().put("error", "Not_Found").put("message", "Resource not found"));
      return;
    }
    String header = ctx.request().getHeader("Authorization");
    String presented = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
    // Comparing digests keeps the comparison constant-time and independent of the token's length.
    if (!MessageDigest.isEqual(tokenDigest, sha256(presented))) {
      audit.authFailure("admin_token", presented.isEmpty() ? "missing token" : "wrong token",
          ctx.request().method().name(), ctx.request().path(), remote(ctx));
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      HttpErrors.json(ctx, 401, new JsonObject().put("error", "Unauthorized")
          .put("message", "A valid admin bearer token is required"));
      return;
    }
    ctx.next();
  }

  private void list(RoutingContext ctx) {
    int offset;
    int limit;
    String query = ctx.request().getParam("q");
    try {
      offset = SessionDirectory.pagingValue("offset", ctx.request().getParam("offset"), 0, 0, Integer.MAX_VALUE);
      limit = SessionDirectory.pagingValue("limit", ctx.request().getParam("limit"), SessionDirectory.DEFAULT_LIMIT,
          1, SessionDirectory.MAX_LIMIT);
      SessionDirectory.checkQuery(query, offset);
    } catch (ApiException e) {
      audited(ctx, "list", null);
      HttpErrors.send(ctx, e);
      return;
    }
    answer(ctx, "list", null, query == null || query.isBlank() ? directory.list(offset, limit)
        : directory.search(query, limit));
  }

  /**
   * The console's live chart: active sessions (the number /health shows) and, for each of the last {@code minutes}
   * (1..60, default 30), oldest first, the current partial minute last, its turns and its peak of active sessions.
   * Not written to the audit trail: every open console polls it every few seconds, and it reveals no session, only
   * counts.
   */
  private void stats(RoutingContext ctx) {
    int minutes;
    try {
      minutes = SessionDirectory.pagingValue("minutes", ctx.request().getParam("minutes"), DEFAULT_STATS_MINUTES, 1,
          TurnStats.MAX_MINUTES);
    } catch (ApiException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    Future<Long> active = sessions.count();
    Future<TurnStats.Recent> recent = stats.lastMinutes(minutes)
        // The counts live in the session store (Redis): when they cannot be read, the store is what is unavailable.
        .recover(err -> Future.failedFuture(err instanceof ApiException ? err : ApiException.storeUnavailable()));
    Future.all(active, recent)
        .onSuccess(all -> HttpErrors.json(ctx, 200, new JsonObject()
            .put("now", recent.result().now())
            .put("store", sessions.storeType())
            .put("activeSessions", active.result())
            .put("minutes", recent.result().toJson())))
        .onFailure(err -> HttpErrors.send(ctx, err));
  }

  private void details(RoutingContext ctx) {
    answer(ctx, "get", ctx.pathParam("id"), directory.details(ctx.pathParam("id")));
  }

  private void reset(RoutingContext ctx) {
    answer(ctx, "reset", ctx.pathParam("id"), directory.reset(ctx.pathParam("id")));
  }

  private void delete(RoutingContext ctx) {
    audited(ctx, "delete", ctx.pathParam("id"));
    directory.delete(ctx.pathParam("id"))
        .onSuccess(ok -> ctx.response().setStatusCode(204).end())
        .onFailure(err -> HttpErrors.send(ctx, err));
  }

  private void cleanup(RoutingContext ctx) {
    answer(ctx, "cleanup", null, directory.cleanup());
  }

  private void answer(RoutingContext ctx, String action, String sessionId, Future<JsonObject> json) {
    audited(ctx, action, sessionId);
    json.onSuccess(body -> HttpErrors.json(ctx, 200, body)).onFailure(err -> HttpErrors.send(ctx, err));
  }

  /** Writes the action once its answer is sent, with the status it got (a 404 for an unknown session, say). */
  private void audited(RoutingContext ctx, String action, String sessionId) {
    if (audit.enabled()) {
      ctx.addEndHandler(v -> audit.adminAction(action, sessionId, ctx.response().getStatusCode(), remote(ctx)));
    }
  }

  private static String remote(RoutingContext ctx) {
    return ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
