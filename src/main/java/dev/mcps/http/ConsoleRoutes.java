package dev.mcps.http;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * {@code GET /console}: the browser console, plain HTML, CSS and JavaScript modules packaged in the jar
 * ({@code webroot/console}), with no build step and nothing from another origin. Strict headers: a
 * Content-Security-Policy that allows only this origin and no inline script or style, no MIME sniffing, no referrer,
 * no framing. The page calls the API with the user's own credentials; nothing here needs a session.
 */
final class ConsoleRoutes {

  static final String PATH = "/console";
  static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

  private ConsoleRoutes() {
  }

  static void mount(Router router) {
    // The page's files are named relative to it: /console must become /console/ (the router matches both here).
    router.get(PATH + "/*").handler(ctx -> {
      if (PATH.equals(ctx.request().path())) {
        ctx.redirect(PATH + "/");
      } else {
        ctx.next();
      }
    }).handler(ConsoleRoutes::headers)
        .handler(StaticHandler.create("webroot/console").setIndexPage("index.html").setCachingEnabled(false)
            .setDirectoryListing(false).setIncludeHidden(false));
  }

  private static void headers(RoutingContext ctx) {
    ctx.response()
        .putHeader("Content-Security-Policy", CSP)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Cache-Control", "no-cache");
    ctx.next();
  }
}
