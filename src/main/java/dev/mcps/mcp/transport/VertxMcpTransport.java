package dev.mcps.mcp.transport;

import dev.mcps.ApiException;
import dev.mcps.http.HttpErrors;
import dev.mcps.mcp.McpSessionBinder;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.SecurityPolicyHandler;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What the two MCP transports share beyond the wire format: their connections and the admin API over them, the
 * admission of requests, the keep-alive, and shutdown.
 */
abstract class VertxMcpTransport<C extends Connections.Bound> {

  final McpSessionBinder binder;
  final McpJsonMapper mapper;
  final SseStreams streams;
  final Connections<C> connections;
  private final McpHttpSettings settings;
  private final RequestGuard guard;
  private volatile boolean closing;

  /** @param ender ends the SDK session of a connection */
  VertxMcpTransport(Vertx vertx, McpSessionBinder binder, McpJsonMapper mapper, McpHttpSettings settings,
                    Function<C, Mono<Void>> ender) {
    this.binder = binder;
    this.mapper = mapper;
    this.settings = settings;
    this.guard = new RequestGuard(settings.allowedOrigins(), settings.allowedHosts());
    this.streams = new SseStreams(vertx, settings.keepAliveInterval());
    this.connections = new Connections<>(binder, ender);
  }

  /** Whether the user session has a live MCP session on this transport (the admin API's hasMcpConnection). */
  public boolean hasConnection(String userSessionId) {
    return connections.hasUser(userSessionId);
  }

  /**
   * Ends the user session's MCP sessions and their open streams, for a user session that expired or was deleted;
   * their MCP session ids answer 404 afterwards.
   */
  public Future<Void> closeConnectionsOf(String userSessionId) {
    return connections.closeUser(userSessionId);
  }

  public Mono<Void> notifyClients(String method, Object params) {
    return Flux.fromIterable(connections.all())
        .flatMap(connection -> connection.session().sendNotification(method, params).onErrorComplete())
        .then();
  }

  /** Ends every MCP session and stream, stops the keep-alive; requests get 503 from now on. */
  public Mono<Void> closeGracefully() {
    return MonoFutures.toMono(() -> {
      closing = true;
      return connections.closeAll().onComplete(ar -> streams.closeAll());
    });
  }

  /** Whether the SDK has handed over its session factory, that is whether the MCP server was built. */
  abstract boolean ready();

  /** Runs before the body is read, as a security policy: a refused request costs no buffering. */
  SecurityPolicyHandler admission() {
    return ctx -> {
      ApiException refusal = closing || !ready() ? McpHttp.unavailable() : guard.check(ctx.request());
      if (refusal != null) {
        HttpErrors.send(ctx, refusal);
      } else {
        ctx.next();
      }
    };
  }

  BodyHandler bodyHandler() {
    return BodyHandler.create(false).setBodyLimit(settings.bodyLimitBytes());
  }

  /** The connection with this id, or null after answering 400 (no id) or 404 (unknown or ended). */
  C connectionOf(RoutingContext ctx, String id, String where) {
    if (id == null || id.isBlank()) {
      HttpErrors.send(ctx, McpHttp.missingSessionId(where));
      return null;
    }
    C connection = connections.get(id);
    if (connection == null) {
      HttpErrors.send(ctx, McpHttp.sessionNotFound());
    }
    return connection;
  }
}
