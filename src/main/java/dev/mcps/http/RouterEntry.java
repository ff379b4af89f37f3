package dev.mcps.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The door in front of the router: no request is left without an answer because something threw before routing
 * began. Vert.x's router validates the Host header first, and its parser throws (instead of answering false) on some
 * malformed values such as {@code Host: %ZZ}; the exception escapes the router, nothing answers, and the connection
 * hangs, owing an answer, for as long as the client likes.
 */
final class RouterEntry {

  private static final Logger LOG = LoggerFactory.getLogger(RouterEntry.class);

  private RouterEntry() {
  }

  static Handler<HttpServerRequest> guarding(Handler<HttpServerRequest> router) {
    return request -> {
      try {
        // The router's own first check, run here where its exception can be caught. Its verdict is left to the
        // router (an invalid but parseable Host is a 400 there too).
        if (request instanceof HttpServerRequestInternal internal) {
          internal.isValidAuthority();
        }
      } catch (RuntimeException unparseable) {
        answer(request, 400, "Bad_Request", "The Host header is malformed");
        return;
      }
      try {
        router.handle(request);
      } catch (RuntimeException e) {
        LOG.error("Request {} {} failed before routing", request.method(), request.path(), e);
        answer(request, 500, "Internal_Error", "Internal server error");
      }
    };
  }

  private static void answer(HttpServerRequest request, int status, String code, String message) {
    if (request.response().headWritten()) {
      request.connection().close();
      return;
    }
    request.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", code).put("message", message).encode());
  }
}
