package dev.mcps.http;

import dev.mcps.config.ServerConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
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

  static void mount(Router router, ServerConfig config) {
    // What the page adapts to, and nothing secret: the model names of the configured providers, never their keys.
    String settings = settings(config).encode();
    router.get(PATH + "/config.json").handler(ConsoleRoutes::headers).handler(ctx -> ctx.response()
        .putHeader("Content-Type", "application/json").end(settings));
    // The page's files are named relative to it: /console must become /console/ (the router matches both here).
    router.get(PATH + "/*").handler(ctx -> {
      if (PATH.equals(ctx.request().path())) {
        // Relative, so that behind a proxy serving the server under a prefix /p/console goes to /p/console/.
        ctx.response().setStatusCode(302).putHeader("Location", "console/").end();
      } else {
        ctx.next();
      }
    }).handler(ConsoleRoutes::headers)
        .handler(StaticHandler.create("webroot/console").setIndexPage("index.html").setCachingEnabled(false)
            .setDirectoryListing(false).setIncludeHidden(false));
  }

  /**
   * {@code {authMode: none|jwt|header, admin, defaultModel, models: [{id, label}]}}: the playground offers only the
   * configured providers, asks for a bearer token in jwt mode, and the operator view says when ADMIN_TOKEN is unset.
   */
  static JsonObject settings(ServerConfig config) {
    ServerConfig.Chat chat = config.chat();
    JsonArray models = new JsonArray();
    if (chat.anthropic().usable()) {
      models.add(model("anthropic", "Anthropic", chat.anthropic().model()));
    }
    if (chat.openai().usable()) {
      models.add(model("openai", "OpenAI", chat.openai().model()));
    }
    if (chat.bedrock().configured()) {
      models.add(model("bedrock", "AWS Bedrock", chat.bedrock().modelId()));
    }
    return new JsonObject()
        .put("authMode", config.auth().mode().name().toLowerCase(java.util.Locale.ROOT))
        .put("admin", config.adminEnabled())
        .put("defaultModel", chat.defaultModel())
        .put("models", models);
  }

  private static JsonObject model(String id, String provider, String model) {
    return new JsonObject().put("id", id).put("label", model == null || model.isBlank() ? provider
        : provider + " (" + model + ")");
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
