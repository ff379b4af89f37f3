package dev.mcps.mcp.transport;

import dev.mcps.ApiException;
import dev.mcps.http.HttpErrors;
import dev.mcps.mcp.McpSessionBinder;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.SecurityPolicyHandler;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What the two MCP transports share beyond the wire format: their connections and the admin API over them, the
 * admission of requests, the keep-alive, and shutdown.
 */
abstract class VertxMcpTransport<C extends Connections.Bound> {

  private static final Logger LOG = LoggerFactory.getLogger(VertxMcpTransport.class);
  /** Not among the SDK's method constants. */
  static final String CANCELLED = "notifications/cancelled";

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

  /** The tools a token without JIRA_WRITE_SCOPE may not call; set once before the routes are mounted. */
  volatile java.util.Set<String> writeTools = java.util.Set.of();

  public void refuseWritesWithoutScope(java.util.Set<String> tools) {
    this.writeTools = java.util.Set.copyOf(tools);
  }

  /** Whether the SDK has handed over its session factory, that is whether the MCP server was built. */
  abstract boolean ready();

  /**
   * Runs before the body is read, as a security policy: a refused request costs no buffering. The query string is
   * decoded here once, so that a bad percent-escape is a 400 here rather than a failure deep in a handler.
   */
  SecurityPolicyHandler admission() {
    return ctx -> {
      ApiException refusal = closing || !ready() ? McpHttp.unavailable() : guard.check(ctx.request());
      if (refusal == null && !queryDecodes(ctx)) {
        refusal = McpHttp.malformedQuery();
      }
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

  /**
   * The connection with this id, or null after answering 400 (no id), 404 (unknown or ended) or 403 (the request
   * names another user session or user than the connection's).
   */
  C connectionOf(RoutingContext ctx, String id, String where) {
    if (id == null || id.isBlank()) {
      HttpErrors.send(ctx, McpHttp.missingSessionId(where));
      return null;
    }
    C connection = connections.get(id);
    if (connection == null) {
      HttpErrors.send(ctx, McpHttp.sessionNotFound());
      return null;
    }
    ApiException foreign = McpHttp.foreignIdentity(ctx.request(), connection.binding());
    if (foreign != null) {
      HttpErrors.send(ctx, foreign);
      return null;
    }
    return connection;
  }

  /**
   * Ends the connection (and the others of its user session) when a handler found its user session gone (expired, deleted, lost with the store): the
   * user session will not come back, so the MCP session answers 404 from now on and the client initializes again.
   * Called once a request's handling is done, so that its own answer (or refusal) went out first.
   */
  void endIfUserSessionGone(C connection) {
    if (connection.userSessionGone().get()) {
      // Its other connections here act in the same lost session: they end too, rather than at their next call.
      LOG.info("User session {} is gone: ending its MCP sessions (found by {})", connection.userSessionId(),
          connection.id());
      connections.closeUser(connection.userSessionId());
    }
  }

  /**
   * Whether the message was a {@code notifications/cancelled}, now applied: the named request of this connection
   * stops and gets no response. The SDK has no handler for it, so it never goes there.
   */
  boolean appliedCancellation(C connection, McpSchema.JSONRPCMessage message) {
    if (!(message instanceof McpSchema.JSONRPCNotification n) || !CANCELLED.equals(n.method())) {
      return false;
    }
    Object requestId = n.params() instanceof Map<?, ?> params ? params.get("requestId") : null;
    if (connection.inFlight().cancel(requestId)) {
      LOG.debug("Request {} of MCP session {} cancelled by the client", requestId, connection.id());
    }
    return true;
  }

  /** A failed bind or a connection that never opened: the binder hears of it once, as for any ended connection. */
  void neverOpened(McpSessionBinder.Binding binding) {
    binder.unbound(binding.userSessionId(), null);
  }

  private static boolean queryDecodes(RoutingContext ctx) {
    try {
      ctx.request().params();
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
