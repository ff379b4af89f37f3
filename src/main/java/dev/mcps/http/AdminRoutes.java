package dev.mcps.http;

import dev.mcps.ApiException;
import dev.mcps.audit.AuditLog;
import dev.mcps.session.SessionDirectory;
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

  private final SessionDirectory directory;
  private final byte[] tokenDigest;
  private final AuditLog audit;

  AdminRoutes(SessionDirectory directory, String adminToken, AuditLog audit) {
    this.directory = directory;
    this.audit = audit;
    this.tokenDigest = adminToken == null || adminToken.isEmpty() ? null : sha256(adminToken);
  }

  void mount(Router router) {
    router.route("/admin/*").handler(this::authorize);
    router.get("/admin/sessions").handler(this::list);
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
    try {
      offset = SessionDirectory.pagingValue("offset", ctx.request().getParam("offset"), 0, 0, Integer.MAX_VALUE);
      limit = SessionDirectory.pagingValue("limit", ctx.request().getParam("limit"), SessionDirectory.DEFAULT_LIMIT,
          1, SessionDirectory.MAX_LIMIT);
    } catch (ApiException e) {
      audited(ctx, "list", null);
      HttpErrors.send(ctx, e);
      return;
    }
    answer(ctx, "list", null, directory.list(offset, limit));
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
