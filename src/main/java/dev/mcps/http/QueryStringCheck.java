package dev.mcps.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses a query string that cannot be decoded ({@code ?userId=%ZZ}, a cut escape) with 400 {@code Invalid_Request},
 * once, before any route reads a parameter. Vert.x decodes the query lazily and throws IllegalArgumentException from
 * whichever {@code getParam}/{@code queryParams} call comes first, deep inside a route, where it would become a 500.
 */
final class QueryStringCheck {

  private QueryStringCheck() {
  }

  static void handle(RoutingContext ctx) {
    // Most requests (/mcp POSTs, /chat) carry no query: nothing to decode.
    if (ctx.request().query() != null) {
      try {
        // Both decoders a route may use; each caches what it decoded, so the routes pay nothing more.
        ctx.request().params();
        ctx.queryParams();
      } catch (IllegalArgumentException malformed) {
        HttpErrors.json(ctx, 400, new JsonObject().put("error", "Invalid_Request")
            .put("message", "The query string is malformed (a % must be followed by two hex digits)"));
        return;
      }
    }
    ctx.next();
  }
}
