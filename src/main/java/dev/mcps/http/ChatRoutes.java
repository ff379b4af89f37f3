package dev.mcps.http;

import dev.mcps.ApiException;
import dev.mcps.auth.AuthRoutes;
import dev.mcps.auth.Identity;
import dev.mcps.chat.ChatVerticle;
import dev.mcps.session.SessionEnv;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * POST /chat: a thin front for {@value ChatVerticle#ADDRESS}. It only reads the body as JSON and forwards it; the
 * chat verticle validates, resolves the session and runs the turn. With {@code stream: true} or
 * {@code Accept: text/event-stream} the steps come back as SSE events as they happen.
 */
final class ChatRoutes {

  private final Vertx vertx;
  private final long sendTimeoutMs;

  ChatRoutes(Vertx vertx, long turnTimeoutMs) {
    this.vertx = vertx;
    // The turn enforces its own deadline (504); this only guards against a turn that never replies at all.
    this.sendTimeoutMs = turnTimeoutMs * 2 + 30_000;
  }

  void chat(RoutingContext ctx) {
    JsonObject body;
    try {
      body = RequestBodies.object(ctx);
    } catch (ApiException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    Identity identity = ctx.get(Identity.KEY);
    if (identity != null) {
      // The user is the proven one: a body naming another is refused, and one naming none is filled in.
      Object named = body.getValue("userId");
      if (named != null && !identity.userId().equals(named instanceof String n ? n.trim() : named)) {
        HttpErrors.send(ctx, new ApiException(403, "Session_Forbidden",
            "The request names another user than its credentials do"));
        return;
      }
      body.put("userId", identity.userId());
    }
    String accept = ctx.request().getHeader("Accept");
    boolean stream = Boolean.TRUE.equals(body.getValue("stream"))
        || (accept != null && accept.contains("text/event-stream"));
    if (stream) {
      stream(ctx, body);
      return;
    }
    vertx.eventBus().<Buffer>request(ChatVerticle.ADDRESS, body, turnOptions(ctx)
            .addHeader(ChatVerticle.ENCODED_REPLY_HEADER, "1"))
        .onSuccess(reply -> ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json")
            .end(reply.body()))
        .onFailure(err -> HttpErrors.send(ctx, fromBus(err)));
  }

  private void stream(RoutingContext ctx, JsonObject body) {
    String address = "mcps.chat.stream." + SessionEnv.randomId();
    HttpServerResponse response = ctx.response();
    response.setChunked(true).putHeader("Content-Type", "text/event-stream").putHeader("Cache-Control", "no-cache")
        .putHeader("X-Accel-Buffering", "no");
    MessageConsumer<JsonObject> steps = vertx.eventBus().localConsumer(address,
        msg -> event(response, msg.body().getString("event"), msg.body().getJsonObject("data")));
    steps.completion()
        .compose(v -> vertx.eventBus().<JsonObject>request(ChatVerticle.ADDRESS, body,
            turnOptions(ctx).addHeader(ChatVerticle.STREAM_HEADER, address)))
        .onComplete(ar -> {
          steps.unregister();
          if (ar.succeeded()) {
            event(response, "done", ar.result().body());
          } else {
            ApiException failure = fromBus(ar.cause());
            if (failure.status() == 429 && !response.headWritten()) {
              // Refused before any step: a plain 429 with Retry-After, which clients and proxies understand.
              HttpErrors.send(ctx, failure);
              return;
            }
            event(response, "error", failure.toJson());
          }
          response.end();
        });
  }

  /** The turn's delivery: its send timeout, and the client's Idempotency-Key when it sent one. */
  private DeliveryOptions turnOptions(RoutingContext ctx) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(sendTimeoutMs);
    String key = ctx.request().getHeader("Idempotency-Key");
    if (key != null) {
      options.addHeader(ChatVerticle.IDEMPOTENCY_KEY_HEADER, key);
    }
    ApiException lacking = ctx.get(AuthRoutes.JIRA_WRITE_REFUSAL);
    if (lacking != null) {
      options.addHeader(ChatVerticle.JIRA_WRITES_REFUSED_HEADER, "the user's access token lacks the scope Jira "
          + "changes need (JIRA_WRITE_SCOPE); tell the user to sign in again granting it, nothing was changed");
    }
    return options;
  }

  private static void event(HttpServerResponse response, String name, JsonObject data) {
    if (!response.ended() && !response.closed()) {
      response.write("event: " + name + "\ndata: " + data.encode() + "\n\n");
    }
  }

  /** The chat verticle's failures carry the HTTP status and error JSON (DESIGN.md §5). */
  private static ApiException fromBus(Throwable err) {
    ApiException api = ApiException.fromReply(err);
    if (api != null) {
      return api;
    }
    if (err instanceof ReplyException re) {
      if (re.failureType() == ReplyFailure.TIMEOUT) {
        return new ApiException(504, "Provider_Timeout", "The turn did not finish in time");
      }
      return new ApiException(503, "Chat_Unavailable", "No chat worker is available");
    }
    return new ApiException(500, "Internal_Error", "Internal server error");
  }
}
