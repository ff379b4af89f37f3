package dev.mcps.auth;

import dev.mcps.config.ServerConfig;
import dev.mcps.config.ServerConfig.AuthMode;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The door every request but health, metrics, the OAuth metadata and the admin API (which has its own token) passes:
 * it proves who the request comes from ({@link Authenticator}), refuses one that names another user, and then
 * <em>writes</em> the proven user into {@code X-User-Id}, the header every route already reads. So /chat, both MCP
 * eras and every transport bind sessions to the token's user without each route knowing about tokens, and a
 * client-chosen {@code X-User-Id} can never reach them.
 */
public final class AuthRoutes {

  private static final Logger LOG = LoggerFactory.getLogger(AuthRoutes.class);
  public static final String USER_HEADER = "X-User-Id";
  /**
   * Where a route finds the 403 to answer a Jira write with, when the token lacks JIRA_WRITE_SCOPE (absent when it
   * has it, or none is configured).
   */
  public static final String JIRA_WRITE_REFUSAL = "mcps.jiraWriteRefusal";

  private final ServerConfig.Auth config;
  private final Authenticator authenticator;
  private final Challenges challenges;
  /** Told of every refused request (the audit trail); never sees a credential. */
  private final Consumer<Refusal> refusals;

  /** A refused request, as the audit trail records it. */
  public record Refusal(String mode, String reason, int status, String method, String path, String remoteAddress) {
  }

  public AuthRoutes(ServerConfig.Auth config, Authenticator authenticator, Challenges challenges,
                    Consumer<Refusal> refusals) {
    this.config = config;
    this.authenticator = authenticator;
    this.challenges = challenges;
    this.refusals = refusals;
  }

  /** Adds the metadata routes and the check in front of every later route; call before mounting the others. */
  public void mount(Router router) {
    if (config.mode() == AuthMode.JWT) {
      router.get(Challenges.WELL_KNOWN).handler(this::metadata);
      router.get(Challenges.WELL_KNOWN + "/*").handler(this::metadata);
    }
    router.route().handler(this::check);
  }

  /** RFC 9728 protected resource metadata: where a client gets a token for this server, and how it sends it. */
  private void metadata(RoutingContext ctx) {
    JsonObject body = new JsonObject()
        .put("resource", config.resourceUrl())
        .put("authorization_servers", new JsonArray(List.copyOf(config.authorizationServers())))
        .put("bearer_methods_supported", new JsonArray().add("header"))
        .put("resource_name", "mcp-session-server");
    List<String> scopes = new java.util.ArrayList<>(config.requiredScopes());
    if (config.jiraWriteScope() != null && !scopes.contains(config.jiraWriteScope())) {
      scopes.add(config.jiraWriteScope());
    }
    body.put("scopes_supported", new JsonArray(scopes));
    ctx.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "max-age=300")
        .end(body.encode());
  }

  private static boolean open(String path) {
    // The console's static files: the page asks for the token it then sends with every API call.
    return path.equals("/health") || path.equals("/metrics") || path.startsWith(Challenges.WELL_KNOWN)
        || path.equals("/console") || path.startsWith("/console/")
        || path.equals("/admin") || path.startsWith("/admin/");
  }

  private void check(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    if (open(request.path())) {
      ctx.next();
      return;
    }
    Future<Identity> identity = authenticator.authenticate(request);
    if (identity.isComplete()) {
      admit(ctx, identity);
      return;
    }
    // Only a key refresh takes time; the body must wait for the verdict rather than be lost meanwhile.
    request.pause();
    identity.onComplete(ar -> {
      request.resume();
      admit(ctx, identity);
    });
  }

  private void admit(RoutingContext ctx, Future<Identity> outcome) {
    if (outcome.failed()) {
      refuse(ctx, outcome.cause());
      return;
    }
    Identity identity = outcome.result();
    List<String> missing = config.requiredScopes().stream().filter(s -> !identity.has(s)).toList();
    if (!missing.isEmpty()) {
      refuse(ctx, challenges.insufficientScope(config.requiredScopes()));
      return;
    }
    HttpServerRequest request = ctx.request();
    String named = request.getHeader(USER_HEADER);
    String queried = ctx.queryParams().get("userId");
    if (named != null && !named.isBlank() && !named.trim().equals(identity.userId())
        || queried != null && !queried.isBlank() && !queried.trim().equals(identity.userId())) {
      refuse(ctx, new AuthException(403, "Session_Forbidden",
          "The request names another user than its credentials do", null, "user_mismatch"));
      return;
    }
    request.headers().set(USER_HEADER, identity.userId());
    ctx.put(Identity.KEY, identity);
    if (config.jiraWriteScope() != null && !identity.has(config.jiraWriteScope())) {
      ctx.put(JIRA_WRITE_REFUSAL, challenges.insufficientScope(List.of(config.jiraWriteScope())));
    }
    ctx.next();
  }

  private void refuse(RoutingContext ctx, Throwable failure) {
    HttpServerRequest request = ctx.request();
    if (!(failure instanceof AuthException auth)) {
      LOG.error("Authentication failed unexpectedly", failure);
      ctx.fail(500, failure);
      return;
    }
    refusals.accept(new Refusal(config.mode().name().toLowerCase(java.util.Locale.ROOT), auth.reason(),
        auth.status(), request.method().name(), request.path(),
        request.remoteAddress() == null ? null : request.remoteAddress().hostAddress()));
    if (auth.challenge() != null) {
      ctx.response().putHeader("WWW-Authenticate", auth.challenge());
    }
    if (auth.status() == 503) {
      ctx.response().putHeader("Retry-After", "5");
    }
    ctx.response().setStatusCode(auth.status()).putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store").end(auth.toJson().encode());
  }
}
