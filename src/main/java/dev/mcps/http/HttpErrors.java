package dev.mcps.http;

import dev.mcps.ApiException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one mapping from failures to HTTP responses: always JSON, never a stack trace, never a credential. */
public final class HttpErrors {

  private static final Logger LOG = LoggerFactory.getLogger(HttpErrors.class);

  private HttpErrors() {
  }

  public static void send(RoutingContext ctx, Throwable failure) {
    if (failure instanceof ApiException api) {
      if (api.retryAfterSeconds() > 0 && !ctx.response().headWritten()) {
        ctx.response().putHeader("Retry-After", Long.toString(api.retryAfterSeconds()));
      }
      json(ctx, api.status(), api.toJson());
      return;
    }
    LOG.error("Unhandled failure on {} {}", ctx.request().method(), ctx.request().path(), failure);
    json(ctx, 500, new JsonObject().put("error", "Internal_Error").put("message", "Internal server error"));
  }

  /** For the router's error handlers (no route, wrong method, body too large, ...). */
  public static Handler<RoutingContext> forStatus(int status, String code, String message) {
    return ctx -> {
      if (ctx.failure() != null && ctx.failure() instanceof ApiException) {
        send(ctx, ctx.failure());
      } else {
        json(ctx, status, new JsonObject().put("error", code).put("message", message));
      }
    };
  }

  public static void json(RoutingContext ctx, int status, JsonObject body) {
    HttpServerResponse response = ctx.response();
    if (response.headWritten()) {
      if (!response.ended()) {
        response.end();
      }
      return;
    }
    response.setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
