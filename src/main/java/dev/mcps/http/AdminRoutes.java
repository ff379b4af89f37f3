package dev.mcps.http;

import dev.mcps.ApiException;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.function.Predicate;

/**
 * /admin/*: session inspection for operators, behind {@code ADMIN_TOKEN}. Without a configured token the routes do
 * not exist (404); with one, a missing or wrong bearer token is a 401. Credentials never appear, only whether a
 * session has them.
 */
final class AdminRoutes {

  private static final int MAX_PAGE = 1000;

  private final Sessions sessions;
  private final byte[] tokenDigest;
  private final Predicate<String> hasMcpConnection;

  AdminRoutes(Sessions sessions, String adminToken, Predicate<String> hasMcpConnection) {
    this.sessions = sessions;
    this.tokenDigest = adminToken == null || adminToken.isEmpty() ? null : sha256(adminToken);
    this.hasMcpConnection = hasMcpConnection;
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
      offset = intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE);
      limit = intParam(ctx, "limit", 100, 1, MAX_PAGE);
    } catch (ApiException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    sessions.list(offset, limit)
        .onSuccess(page -> {
          JsonArray items = new JsonArray();
          page.sessions().forEach(s -> items.add(summary(s)));
          HttpErrors.json(ctx, 200, new JsonObject().put("totalCount", page.totalCount())
              .put("offset", offset).put("limit", limit).put("sessions", items));
        })
        .onFailure(err -> HttpErrors.send(ctx, err));
  }

  private void details(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    sessions.peek(id)
        .onSuccess(s -> {
          if (s == null) {
            HttpErrors.send(ctx, ApiException.sessionNotFound());
            return;
          }
          HttpErrors.json(ctx, 200, summary(s)
              .put("productLabUserId", s.productLabUserId())
              .put("anthropicConversationId", s.anthropicConversationId())
              .put("hasMcpConnection", hasMcpConnection.test(s.sessionId())));
        })
        .onFailure(err -> HttpErrors.send(ctx, err));
  }

  private void reset(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    sessions.reset(id)
        .onSuccess(ok -> {
          if (!ok) {
            HttpErrors.send(ctx, ApiException.sessionNotFound());
          } else {
            HttpErrors.json(ctx, 200, new JsonObject().put("status", "ok")
                .put("message", "Session " + id + " has been reset"));
          }
        })
        .onFailure(err -> HttpErrors.send(ctx, err));
  }

  private void delete(RoutingContext ctx) {
    sessions.delete(ctx.pathParam("id"))
        .onSuccess(ok -> {
          if (!ok) {
            HttpErrors.send(ctx, ApiException.sessionNotFound());
          } else {
            ctx.response().setStatusCode(204).end();
          }
        })
        .onFailure(err -> HttpErrors.send(ctx, err));
  }

  private void cleanup(RoutingContext ctx) {
    sessions.sweep()
        .onSuccess(sweep -> HttpErrors.json(ctx, 200, new JsonObject().put("success", true)
            .put("beforeCount", sweep.beforeCount()).put("afterCount", sweep.afterCount())
            .put("removed", sweep.beforeCount() - sweep.afterCount())))
        .onFailure(err -> HttpErrors.send(ctx, err));
  }

  private static JsonObject summary(SessionEnv s) {
    return new JsonObject()
        .put("sessionId", s.sessionId())
        .put("userId", s.userId())
        .put("createdAt", Instant.ofEpochMilli(s.createdAt()).toString())
        .put("lastAccessTime", Instant.ofEpochMilli(s.lastAccessTime()).toString())
        .put("hasJiraCredentials", s.hasJiraCredentials())
        .put("historyLength", s.historyLength());
  }

  private static int intParam(RoutingContext ctx, String name, int dflt, int min, int max) {
    String raw = ctx.request().getParam(name);
    if (raw == null || raw.isEmpty()) {
      return dflt;
    }
    try {
      int v = Integer.parseInt(raw);
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw ApiException.badRequest("Invalid_Request", name + " must be a whole number between " + min + " and " + max);
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
