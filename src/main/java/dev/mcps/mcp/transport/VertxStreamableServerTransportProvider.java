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
import io.modelcontextprotocol.spec.McpStreamableServerTransport;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.ProtocolVersions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
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

  record Connection(String id, McpSessionBinder.Binding binding, McpTransportContext transportContext,
                    McpStreamableServerSession session, AtomicBoolean userSessionGone, InFlight inFlight,
                    String protocolVersion) implements Connections.Bound {
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
    Object json = McpHttp.readJson(mapper, ctx);
    if (json == null) {
      return;
    }
    if (json instanceof List<?> batch) {
      batch(ctx, batch);
      return;
    }
    McpSchema.JSONRPCMessage message = McpHttp.message(mapper, ctx, json);
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
    // Notifications and responses are taken at once (the specification's 202): nothing done with them is the
    // client's to wait for.
    ctx.response().setStatusCode(202).end();
    accept(connection, message);
  }

  private void accept(Connection connection, McpSchema.JSONRPCMessage message) {
    if (McpHttp.ignored(message) || appliedCancellation(connection, message)) {
      return;
    }
    Mono<Void> accepted = message instanceof McpSchema.JSONRPCNotification notification
        ? connection.session().accept(notification)
        : connection.session().accept((McpSchema.JSONRPCResponse) message);
    McpHttp.inContext(accepted, connection.transportContext())
        .subscribe(null, err -> LOG.debug("Message on MCP session {} not taken: {}", connection.id(), err.toString()));
  }

  private void initialize(RoutingContext ctx, McpSchema.JSONRPCRequest request) {
    McpSchema.InitializeRequest params = initializeParams(ctx, request);
    if (params == null) {
      return;
    }
    if (!acceptsAnswer(ctx.request())) {
      HttpErrors.send(ctx, McpHttp.notAcceptable("application/json or text/event-stream"));
      return;
    }
    binder.bind(ctx.request())
        .onSuccess(binding -> start(ctx, request, params, binding))
        .onFailure(err -> McpHttp.refuse(ctx, err));
  }

  /** The initialize params, checked, or null after answering 400 with -32602 (and opening no MCP session). */
  private McpSchema.InitializeRequest initializeParams(RoutingContext ctx, McpSchema.JSONRPCRequest request) {
    String problem = JsonRpcParams.problem(request);
    if (problem == null) {
      try {
        return mapper.convertValue(request.params(), McpSchema.InitializeRequest.class);
      } catch (IllegalArgumentException e) {
        problem = "The params of initialize have a field of the wrong type";
      }
    }
    McpHttp.jsonRpcError(ctx, 400, request.id(), McpSchema.ErrorCodes.INVALID_PARAMS, problem);
    return null;
  }

  private void start(RoutingContext ctx, McpSchema.JSONRPCRequest request, McpSchema.InitializeRequest params,
                     McpSessionBinder.Binding binding) {
    McpStreamableServerSession.McpStreamableServerSessionInit init;
    try {
      init = sessionFactory.startSession(params);
    } catch (RuntimeException e) {
      neverOpened(binding);
      HttpErrors.send(ctx, e);
      return;
    }
    AtomicBoolean gone = new AtomicBoolean();
    Connection connection = new Connection(init.session().getId(), binding,
        McpHttp.transportContext(binding.userSessionId(), gone), init.session(), gone, new InFlight(),
        negotiated(params.protocolVersion()));
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
          LOG.debug("Streamable MCP session {} opened for user session {}", connection.id(),
              binding.userSessionId());
        })
        .onFailure(err -> {
          connections.close(connection);
          McpHttp.jsonRpcError(ctx, err instanceof McpError ? 400 : 500, request.id(), errorCode(err),
              err instanceof McpError ? err.getMessage() : "Initialization failed");
        });
  }

  /** The version the SDK answers initialize with: the client's when supported, else the latest. */
  private static String negotiated(String requested) {
    return VERSIONS.contains(requested) ? requested : VERSIONS.get(VERSIONS.size() - 1);
  }

  private void answer(RoutingContext ctx, Connection connection, McpSchema.JSONRPCRequest request) {
    if (!acceptsAnswer(ctx.request())) {
      HttpErrors.send(ctx, McpHttp.notAcceptable("application/json or text/event-stream"));
      return;
    }
    SseResponse sse = streams.open(ctx.response(), McpHttp.accepts(ctx.request(), McpHttp.TEXT_EVENT_STREAM),
        () -> { });
    SseTransport transport = SseTransport.answering(sse, mapper, request.id(),
        McpHttp.accepts(ctx.request(), McpHttp.APPLICATION_JSON), connection.userSessionGone());
    handle(connection, request, transport, transport::abandon, transport::fail);
  }

  /** Handles one request whose every message goes to {@code transport}, cancellable by the client. */
  private void handle(Connection connection, McpSchema.JSONRPCRequest request, McpStreamableServerTransport transport,
                      Runnable abandon, Consumer<Throwable> failed) {
    String problem = JsonRpcParams.problem(request);
    if (problem != null) {
      transport.sendMessage(McpHttp.invalidParams(request, problem)).subscribe();
      return;
    }
    Mono<Void> handling = McpHttp.inContext(connection.session().responseStream(transport).handle(request),
            connection.transportContext())
        .doFinally(signal -> endIfUserSessionGone(connection));
    connection.inFlight().run(request.id(), handling, abandon, failed);
  }

  /**
   * A JSON-RPC batch: accepted on sessions that negotiated 2025-03-26, whose specification requires it (later
   * revisions removed batching: -32600 there, as for any body that is not one message). Its notifications and
   * responses are taken at once; its requests are answered together by one {@link BatchAnswer}.
   */
  private void batch(RoutingContext ctx, List<?> batch) {
    Connection connection = connectionOf(ctx);
    if (connection == null) {
      return;
    }
    if (!ProtocolVersions.MCP_2025_03_26.equals(connection.protocolVersion())) {
      McpHttp.jsonRpcError(ctx, 400, null, McpSchema.ErrorCodes.INVALID_REQUEST,
          "Invalid Request: JSON-RPC batches are only accepted on sessions of protocol version 2025-03-26");
      return;
    }
    List<McpSchema.JSONRPCMessage> messages = batchMessages(batch);
    if (messages.isEmpty()) {
      McpHttp.jsonRpcError(ctx, 400, null, McpSchema.ErrorCodes.INVALID_REQUEST, "Invalid Request: a batch must "
          + "hold one or more JSON-RPC requests, notifications or responses, and no initialize");
      return;
    }
    List<McpSchema.JSONRPCRequest> requests = messages.stream()
        .filter(McpSchema.JSONRPCRequest.class::isInstance).map(McpSchema.JSONRPCRequest.class::cast).toList();
    if (!requests.isEmpty() && !acceptsAnswer(ctx.request())) {
      HttpErrors.send(ctx, McpHttp.notAcceptable("application/json or text/event-stream"));
      return;
    }
    messages.stream().filter(m -> !(m instanceof McpSchema.JSONRPCRequest)).forEach(m -> accept(connection, m));
    if (requests.isEmpty()) {
      ctx.response().setStatusCode(202).end();
      return;
    }
    BatchAnswer answer = new BatchAnswer(streams.open(ctx.response(),
        McpHttp.accepts(ctx.request(), McpHttp.TEXT_EVENT_STREAM), () -> { }), mapper,
        McpHttp.accepts(ctx.request(), McpHttp.APPLICATION_JSON), requests.size(), connection.userSessionGone());
    for (int i = 0; i < requests.size(); i++) {
      BatchAnswer.Member member = answer.member(i, requests.get(i).id());
      handle(connection, requests.get(i), member, member::abandon,
          err -> LOG.debug("Batch request of MCP session {} failed: {}", connection.id(), err.toString()));
    }
  }

  /** The batch's messages; none when an entry is not a message or is an initialize (which must come alone). */
  private List<McpSchema.JSONRPCMessage> batchMessages(List<?> batch) {
    List<McpSchema.JSONRPCMessage> messages = new ArrayList<>(batch.size());
    for (Object item : batch) {
      McpSchema.JSONRPCMessage message = McpHttp.toMessage(mapper, item);
      if (message == null || message instanceof McpSchema.JSONRPCRequest r
          && McpSchema.METHOD_INITIALIZE.equals(r.method())) {
        return List.of();
      }
      messages.add(message);
    }
    return messages;
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
