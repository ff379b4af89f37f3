package dev.mcps.mcp.transport;

import dev.mcps.ApiException;
import dev.mcps.http.HttpErrors;
import dev.mcps.mcp.McpSessionBinder;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.spec.HttpHeaders;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpStreamableServerSession;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.ProtocolVersions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The Streamable HTTP transport (MCP 2025-03-26, 2025-06-18, 2025-11-25) on {@code POST|GET|DELETE /mcp}.
 *
 * <p>A POSTed request is answered with plain {@code application/json} when the client accepts it and the handling
 * produces only its response: the common case costs no stream. The answer becomes an SSE stream when the handling
 * first sends something else (progress, logging, a request to the client), or when it stays pending for a whole
 * keep-alive interval, so that a long call keeps its connection alive. Notifications and responses from the client
 * get 202.
 *
 * <p>An MCP session lives until DELETE, {@link #closeConnectionsOf} or shutdown; its streams may come and go.
 */
public final class VertxStreamableServerTransportProvider
    extends VertxMcpTransport<VertxStreamableServerTransportProvider.Connection>
    implements McpStreamableServerTransportProvider {

  public static final String PATH = "/mcp";

  private static final Logger LOG = LoggerFactory.getLogger(VertxStreamableServerTransportProvider.class);
  private static final List<String> VERSIONS = List.of(ProtocolVersions.MCP_2025_03_26,
      ProtocolVersions.MCP_2025_06_18, ProtocolVersions.MCP_2025_11_25);

  record Connection(String id, String userSessionId, McpTransportContext transportContext,
                    McpStreamableServerSession session) implements Connections.Bound {
  }

  private volatile McpStreamableServerSession.Factory sessionFactory;

  /** Starts the keep-alive timer on {@code vertx}; {@link #closeGracefully()} stops it. */
  public VertxStreamableServerTransportProvider(Vertx vertx, McpSessionBinder binder, McpJsonMapper mapper,
                                                McpHttpSettings settings) {
    super(vertx, binder, mapper, settings, connection -> connection.session().delete());
  }

  /** Adds {@code POST}, {@code GET} and {@code DELETE /mcp}. */
  public void mount(Router router) {
    router.post(PATH).handler(admission()).handler(bodyHandler()).handler(this::post)
        .failureHandler(McpHttp::failure);
    router.get(PATH).handler(admission()).handler(this::listen).failureHandler(McpHttp::failure);
    router.delete(PATH).handler(admission()).handler(this::delete).failureHandler(McpHttp::failure);
  }

  @Override
  public List<String> protocolVersions() {
    return VERSIONS;
  }

  /**
   * Ends the MCP sessions no request addressed for {@code idle} and that hold no open stream (clients that never
   * send DELETE). Legacy SSE connections need no such sweep: they end with their stream.
   */
  public Future<Void> closeIdle(Duration idle) {
    return connections.closeIdle(idle.toMillis(),
        c -> c.session().hasOpenStream() || c.session().hasListeningStream());
  }

  @Override
  public void setSessionFactory(McpStreamableServerSession.Factory sessionFactory) {
    this.sessionFactory = sessionFactory;
  }

  @Override
  public Mono<Void> notifyClient(String sessionId, String method, Object params) {
    Connection connection = connections.get(sessionId);
    return connection == null ? Mono.empty() : connection.session().sendNotification(method, params);
  }

  @Override
  boolean ready() {
    return sessionFactory != null;
  }

  private void post(RoutingContext ctx) {
    McpSchema.JSONRPCMessage message = McpHttp.parse(mapper, ctx);
    if (message == null) {
      return;
    }
    if (message instanceof McpSchema.JSONRPCRequest request
        && McpSchema.METHOD_INITIALIZE.equals(request.method())) {
      initialize(ctx, request);
      return;
    }
    Connection connection = connectionOf(ctx);
    if (connection == null) {
      return;
    }
    if (message instanceof McpSchema.JSONRPCRequest request) {
      answer(ctx, connection, request);
      return;
    }
    Mono<Void> accepted = message instanceof McpSchema.JSONRPCNotification notification
        ? connection.session().accept(notification)
        : connection.session().accept((McpSchema.JSONRPCResponse) message);
    MonoFutures.toFuture(McpHttp.inContext(accepted, connection.transportContext()))
        .onSuccess(v -> ctx.response().setStatusCode(202).end())
        .onFailure(err -> McpHttp.jsonRpcError(ctx, 400, null, errorCode(err), err.getMessage()));
  }

  private void initialize(RoutingContext ctx, McpSchema.JSONRPCRequest request) {
    McpSchema.InitializeRequest params;
    try {
      params = mapper.convertValue(request.params(), McpSchema.InitializeRequest.class);
    } catch (IllegalArgumentException e) {
      McpHttp.jsonRpcError(ctx, 400, request.id(), McpSchema.ErrorCodes.INVALID_PARAMS, "Invalid initialize params");
      return;
    }
    if (!acceptsAnswer(ctx.request())) {
      HttpErrors.send(ctx, McpHttp.notAcceptable("application/json or text/event-stream"));
      return;
    }
    binder.bind(ctx.request())
        .onSuccess(userSessionId -> start(ctx, request, params, userSessionId))
        .onFailure(err -> HttpErrors.send(ctx, err));
  }

  private void start(RoutingContext ctx, McpSchema.JSONRPCRequest request, McpSchema.InitializeRequest params,
                     String userSessionId) {
    McpStreamableServerSession.McpStreamableServerSessionInit init;
    try {
      init = sessionFactory.startSession(params);
    } catch (RuntimeException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    Connection connection = new Connection(init.session().getId(), userSessionId,
        McpHttp.transportContext(userSessionId), init.session());
    connections.add(connection);
    MonoFutures.toFuture(McpHttp.inContext(init.initResult(), connection.transportContext()))
        .onSuccess(result -> {
          if (ctx.response().closed()) {
            // Nobody learnt the session id, so nobody could ever use or delete it.
            connections.close(connection);
            return;
          }
          ctx.response().putHeader(HttpHeaders.MCP_SESSION_ID, connection.id());
          streams.open(ctx.response(), McpHttp.accepts(ctx.request(), McpHttp.TEXT_EVENT_STREAM), () -> { })
              .reply(McpHttp.encode(mapper, McpSchema.JSONRPCResponse.result(request.id(), result)),
                  McpHttp.accepts(ctx.request(), McpHttp.APPLICATION_JSON));
          LOG.debug("Streamable MCP session {} opened for user session {}", connection.id(), userSessionId);
        })
        .onFailure(err -> {
          connections.close(connection);
          McpHttp.jsonRpcError(ctx, err instanceof McpError ? 400 : 500, request.id(), errorCode(err),
              err instanceof McpError ? err.getMessage() : "Initialization failed");
        });
  }

  private void answer(RoutingContext ctx, Connection connection, McpSchema.JSONRPCRequest request) {
    if (!acceptsAnswer(ctx.request())) {
      HttpErrors.send(ctx, McpHttp.notAcceptable("application/json or text/event-stream"));
      return;
    }
    SseResponse sse = streams.open(ctx.response(), McpHttp.accepts(ctx.request(), McpHttp.TEXT_EVENT_STREAM),
        () -> { });
    SseTransport transport = SseTransport.answering(sse, mapper, request.id(),
        McpHttp.accepts(ctx.request(), McpHttp.APPLICATION_JSON));
    McpHttp.inContext(connection.session().responseStream(request, transport), connection.transportContext())
        .subscribe(null, transport::fail);
  }

  /** The listening stream: where the server's own requests and notifications go outside any call. */
  private void listen(RoutingContext ctx) {
    if (!McpHttp.accepts(ctx.request(), McpHttp.TEXT_EVENT_STREAM)) {
      HttpErrors.send(ctx, McpHttp.notAcceptable(McpHttp.TEXT_EVENT_STREAM));
      return;
    }
    Connection connection = connectionOf(ctx);
    if (connection == null) {
      return;
    }
    AtomicReference<McpStreamableServerSession.McpStreamableServerSessionStream> listening = new AtomicReference<>();
    // The client leaving ends this stream only; the session stays, and the client may listen again.
    SseResponse sse = streams.open(ctx.response(), true, () -> releaseIfSet(listening));
    sse.start();
    listening.set(connection.session().listeningStream(SseTransport.stream(sse, mapper)));
    if (sse.isEnded()) {
      releaseIfSet(listening);
    }
  }

  private void delete(RoutingContext ctx) {
    Connection connection = connectionOf(ctx);
    if (connection != null) {
      connections.close(connection).onComplete(ar -> ctx.response().setStatusCode(204).end());
    }
  }

  /**
   * The connection of a request after initialize, which must speak a supported protocol version: without the
   * header a client speaks 2025-03-26 (the specification's rule). Initialize itself is exempt, as its version is
   * negotiated in the body.
   */
  private Connection connectionOf(RoutingContext ctx) {
    String version = ctx.request().getHeader(HttpHeaders.PROTOCOL_VERSION);
    if (version != null && !VERSIONS.contains(version)) {
      HttpErrors.send(ctx, ApiException.badRequest("Unsupported_Protocol_Version",
          "Unsupported MCP-Protocol-Version " + version + "; supported: " + String.join(", ", VERSIONS)));
      return null;
    }
    return connectionOf(ctx, ctx.request().getHeader(HttpHeaders.MCP_SESSION_ID), "the Mcp-Session-Id header");
  }

  private static boolean acceptsAnswer(HttpServerRequest request) {
    return McpHttp.accepts(request, McpHttp.APPLICATION_JSON) || McpHttp.accepts(request, McpHttp.TEXT_EVENT_STREAM);
  }

  private static void releaseIfSet(
      AtomicReference<McpStreamableServerSession.McpStreamableServerSessionStream> listening) {
    McpStreamableServerSession.McpStreamableServerSessionStream stream = listening.get();
    if (stream != null) {
      stream.releaseTransport();
    }
  }

  private static int errorCode(Throwable err) {
    return err instanceof McpError mcp && mcp.getJsonRpcError() != null ? mcp.getJsonRpcError().code()
        : McpSchema.ErrorCodes.INTERNAL_ERROR;
  }
}
