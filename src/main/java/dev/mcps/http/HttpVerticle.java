package dev.mcps.http;

import dev.mcps.audit.AuditLog;
import dev.mcps.auth.AuthRoutes;
import dev.mcps.config.ServerConfig;
import dev.mcps.cluster.Node;
import dev.mcps.mcp.McpEndpoints;
import dev.mcps.session.SessionDirectory;
import dev.mcps.session.Sessions;
import dev.mcps.stats.TurnStats;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP front: routes only, each delegating to a small route class. Deployed once per core; all instances share
 * the listening port.
 */
public final class HttpVerticle extends VerticleBase {

  private final ServerConfig config;
  private final Sessions sessions;
  private final PrometheusMeterRegistry registry;
  private final String version;
  private final long startedAt;
  private final McpEndpoints mcp;
  private final AuditLog audit;
  private final TurnStats stats;
  /** Shared by every instance of this verticle: it holds no state, and asks the whole cluster about MCP connections. */
  private final SessionDirectory directory;
  private HttpServer server;
  private IdleConnections idle;

  private final Node node;
  /** Null with AUTH_MODE=none: the user is whoever the request names. */
  private final AuthRoutes auth;

  public HttpVerticle(ServerConfig config, Sessions sessions, PrometheusMeterRegistry registry, String version,
                     long startedAt, McpEndpoints mcp, Node node, AuditLog audit, AuthRoutes auth, TurnStats stats,
                     SessionDirectory directory) {
    this.stats = stats;
    this.directory = directory;
    this.node = node;
    this.audit = audit;
    this.auth = auth;
    this.config = config;
    this.sessions = sessions;
    this.registry = registry;
    this.version = version;
    this.startedAt = startedAt;
    this.mcp = mcp;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.route().handler(QueryStringCheck::handle);
    // API answers are about one user or one moment: no browser or proxy may keep them (the console reads them too).
    for (String path : new String[] {"/health", "/chat", "/admin/*"}) {
      router.route(path).handler(ctx -> {
        ctx.response().putHeader("Cache-Control", "no-store");
        ctx.next();
      });
    }
    if (auth != null) {
      // Before every other route: none of them may see a request whose user is not proven.
      auth.mount(router);
    }
    // No file uploads, and a body limit that fits chat messages with their history.
    BodyHandler body = BodyHandler.create(false).setBodyLimit(config.http().bodyLimitBytes());

    HealthRoutes health = new HealthRoutes(sessions, version, startedAt, node);
    router.get("/health").handler(health::health);
    if (config.consoleEnabled()) {
      ConsoleRoutes.mount(router, config);
    }
    router.get("/metrics").handler(PrometheusScrapingHandler.create(registry));

    new AdminRoutes(directory, sessions, stats, config.adminToken(),
        audit).mount(router);
    Future<Void> mcpReachable = mcp.mount(router);

    ChatRoutes chat = new ChatRoutes(vertx, config.chat().turnTimeoutSeconds() * 1000L);
    router.post("/chat").handler(body).handler(chat::chat);

    router.errorHandler(400, HttpErrors.forStatus(400, "Bad_Request", "The request could not be read"));
    router.errorHandler(404, HttpErrors.forStatus(404, "Not_Found", "Resource not found"));
    router.errorHandler(405, HttpErrors.forStatus(405, "Method_Not_Allowed", "Method not allowed on this resource"));
    router.errorHandler(413, HttpErrors.forStatus(413, "Payload_Too_Large",
        "Request body exceeds " + config.http().bodyLimitBytes() + " bytes"));
    router.errorHandler(500, ctx -> HttpErrors.send(ctx, ctx.failure()));

    idle = new IdleConnections(vertx, config.limits().httpIdleTimeoutSeconds() * 1000L);
    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(config.http().host())
        .setPort(config.http().port())
        // With cleartext HTTP/2 on, a connection only exists for Vert.x once its first bytes tell HTTP/1 from h2c:
        // a client that connects and sends nothing would never be seen, and so never closed. Clients here speak
        // HTTP/1.1 (an h2c upgrade request is simply answered in HTTP/1.1).
        .setHttp2ClearTextEnabled(false));
    idle.start();
    // Listening only once other instances can reach this one's SSE streams: a stream opened earlier could get
    // forwarded POSTs that find no handler yet.
    return mcpReachable.compose(v -> server.connectionHandler(idle::opened)
        .requestHandler(idle.tracking(RouterEntry.guarding(router)))
        .listen());
  }

  /** Stops accepting, lets in-flight requests finish within the grace period, then closes what is left. */
  @Override
  public Future<?> stop() {
    if (idle != null) {
      idle.stop();
    }
    return server == null ? Future.succeededFuture()
        : server.shutdown(config.shutdownGraceSeconds(), TimeUnit.SECONDS);
  }
}
