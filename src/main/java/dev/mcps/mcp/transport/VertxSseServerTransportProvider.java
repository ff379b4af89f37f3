package dev.mcps.mcp.transport;

import dev.mcps.ApiException;
import dev.mcps.cluster.Node;
import dev.mcps.http.HttpErrors;
import dev.mcps.mcp.McpSessionBinder;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpServerSession;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import io.modelcontextprotocol.spec.ProtocolVersions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The legacy HTTP+SSE transport (MCP 2024-11-05) on Vert.x routes: {@code GET /mcp/sse} opens the stream and names,
 * in its first {@code endpoint} event, where to POST messages ({@code /mcp/message?sessionId=<transport id>}); each
 * POST is accepted with 202 and its answer goes out on the stream as a {@code message} event.
 *
 * <p>The stream is the connection: when it ends, from either side, the MCP session ends with it.
 */
public final class VertxSseServerTransportProvider extends VertxMcpTransport<VertxSseServerTransportProvider.Connection>
    implements McpServerTransportProvider {

  public static final String SSE_PATH = "/mcp/sse";
  public static final String MESSAGE_PATH = "/mcp/message";

  private static final Logger LOG = LoggerFactory.getLogger(VertxSseServerTransportProvider.class);

  record Connection(String id, McpSessionBinder.Binding binding, McpTransportContext transportContext,
                    SseResponse sse, McpServerSession session, AtomicBoolean userSessionGone, InFlight inFlight)
      implements Connections.Bound {
  }

  private volatile McpServerSession.Factory sessionFactory;
  private final SseRelay relay;

  /** A transport on an instance running alone. */
  public VertxSseServerTransportProvider(Vertx vertx, McpSessionBinder binder, McpJsonMapper mapper,
                                         McpHttpSettings settings) {
    this(vertx, binder, mapper, settings, new Node(vertx));
  }

  /**
   * Starts the keep-alive timer on {@code vertx}; {@link #closeGracefully()} stops it. On a clustered {@code node},
   * POSTs for streams held by other instances are forwarded to them (see {@link SseRelay}).
   */
  public VertxSseServerTransportProvider(Vertx vertx, McpSessionBinder binder, McpJsonMapper mapper,
                                         McpHttpSettings settings, Node node) {
    super(vertx, binder, mapper, settings,
        connection -> connection.session().closeGracefully().doFinally(signal -> connection.sse().end()));
    this.relay = new SseRelay(vertx, node);
  }

  /**
   * Adds {@code GET /mcp/sse} and {@code POST /mcp/message}, and on a cluster serves the POSTs other instances
   * forward here: call it on the context that should run them (each HTTP verticle does). Completes once other
   * instances can reach this one.
   */
  public Future<Void> mount(Router router) {
    router.get(SSE_PATH).handler(admission()).handler(this::connect).failureHandler(McpHttp::failure);
    router.post(MESSAGE_PATH).handler(admission()).handler(bodyHandler()).handler(this::message)
        .failureHandler(McpHttp::failure);
    return relay.serve(this::take);
  }

  @Override
  public List<String> protocolVersions() {
    return List.of(ProtocolVersions.MCP_2024_11_05);
  }

  @Override
  public void setSessionFactory(McpServerSession.Factory sessionFactory) {
    this.sessionFactory = sessionFactory;
  }

  /** Addressed by the SDK's session id, which is not the transport id in the endpoint URL. */
  @Override
  public Mono<Void> notifyClient(String sessionId, String method, Object params) {
    return Flux.fromIterable(connections.all())
        .filter(connection -> connection.session().getId().equals(sessionId))
        .flatMap(connection -> connection.session().sendNotification(method, params))
        .then();
  }

  @Override
  boolean ready() {
    return sessionFactory != null;
  }

  private void connect(RoutingContext ctx) {
    binder.bind(ctx.request())
        .onSuccess(binding -> open(ctx, binding))
        .onFailure(err -> McpHttp.refuse(ctx, err));
  }

  private void open(RoutingContext ctx, McpSessionBinder.Binding binding) {
    String id = relay.newId();
    String userSessionId = binding.userSessionId();
    SseResponse sse = streams.open(ctx.response(), true, () -> disconnected(id));
    McpServerSession session;
    try {
      session = sessionFactory.create(SseTransport.stream(sse, mapper));
    } catch (RuntimeException e) {
      neverOpened(binding);
      HttpErrors.send(ctx, e);
      sse.end();
      return;
    }
    AtomicBoolean gone = new AtomicBoolean();
    Connection connection = new Connection(id, binding, McpHttp.transportContext(userSessionId, gone), sse, session,
        gone, new InFlight());
    connections.add(connection);
    sse.event("endpoint", MESSAGE_PATH + "?sessionId=" + id);
    // The client may have left while the session was being set up, before the connection was registered.
    if (sse.isEnded()) {
      connections.close(connection);
    }
    LOG.debug("SSE MCP session {} opened for user session {}", id, userSessionId);
  }

  private void disconnected(String id) {
    Connection connection = connections.get(id);
    if (connection != null) {
      connections.close(connection);
    }
  }

  /** Only a token lacking JIRA_WRITE_SCOPE gets here: then the body is read once more, to see what it calls. */
  private boolean refusedWrite(RoutingContext ctx) {
    Object json;
    try {
      json = io.vertx.core.json.Json.decodeValue(ctx.body().buffer());
    } catch (RuntimeException unreadable) {
      return false;
    }
    Object plain = json instanceof io.vertx.core.json.JsonObject o ? o.getMap()
        : json instanceof io.vertx.core.json.JsonArray a ? a.getList().stream()
            .map(e -> e instanceof io.vertx.core.json.JsonObject o ? o.getMap() : e).toList() : json;
    return McpHttp.refusedWrite(ctx, plain, writeTools);
  }

  private void message(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String id = request.getParam("sessionId");
    String sessionHeader = request.getHeader("X-Session-Id");
    String userHeader = request.getHeader("X-User-Id");
    if (ctx.get(dev.mcps.auth.AuthRoutes.JIRA_WRITE_REFUSAL) != null && refusedWrite(ctx)) {
      return;
    }
    String owner = relay.ownerElsewhere(id);
    if (owner != null) {
      relay.forward(owner, id, sessionHeader, userHeader, ctx.body().buffer())
          .onSuccess(v -> ctx.response().setStatusCode(202).end())
          .onFailure(err -> McpHttp.refuse(ctx, err));
      return;
    }
    Future<Runnable> taken;
    try {
      taken = take(id, sessionHeader, userHeader, ctx.body().buffer());
    } catch (ApiException refused) {
      HttpErrors.send(ctx, refused);
      return;
    }
    taken.onComplete(ar -> {
      if (ar.failed()) {
        McpHttp.refuse(ctx, ar.cause());
        return;
      }
      // Answers travel on the stream, so the POST is done once the message is taken; a long tool call holds no POST.
      ctx.response().setStatusCode(202).end();
      ar.result().run();
    });
  }

  /**
   * Checks a POSTed message for a stream held here, the same way whether it was POSTed here or forwarded by another
   * instance: 400 (no id, not one JSON-RPC message), 404 (unknown or ended), 403 (the headers name another user
   * session or user than the stream's), thrown as an {@link ApiException}; then counts it against the stream's user
   * (a failed future: the 429 past their request rate, a JSON-RPC error). Returns the message's handling, to run
   * once the 202 went back.
   */
  private Future<Runnable> take(String id, String sessionHeader, String userHeader, Buffer body) {
    if (id == null || id.isBlank()) {
      throw McpHttp.missingSessionId("the sessionId query parameter");
    }
    Connection connection = connections.get(id);
    if (connection == null) {
      throw McpHttp.sessionNotFound();
    }
    ApiException foreign = McpHttp.foreignIdentity(sessionHeader, userHeader, connection.binding());
    if (foreign != null) {
      throw foreign;
    }
    McpSchema.JSONRPCMessage message = McpHttp.parse(mapper, body);
    Object requestId = message instanceof McpSchema.JSONRPCRequest r ? r.id() : null;
    return binder.admit(connection.binding()).<Runnable>map(v -> () -> handle(connection, message))
        .recover(err -> Future.failedFuture(McpHttp.asJsonRpc(requestId, err)));
  }

  private void handle(Connection connection, McpSchema.JSONRPCMessage message) {
    String problem = message instanceof McpSchema.JSONRPCRequest request ? JsonRpcParams.problem(request) : null;
    if (problem != null) {
      connection.sse().event("message",
          McpHttp.encode(mapper, McpHttp.invalidParams((McpSchema.JSONRPCRequest) message, problem)));
      return;
    }
    if (McpHttp.ignored(message) || appliedCancellation(connection, message)) {
      return;
    }
    Mono<Void> handling = McpHttp.inContext(connection.session().handle(message), connection.transportContext())
        .doFinally(signal -> endIfUserSessionGone(connection));
    Consumer<Throwable> failed = err -> LOG.debug("Message on SSE MCP session {} failed: {}", connection.id(),
        err.toString());
    if (message instanceof McpSchema.JSONRPCRequest request) {
      // A cancelled request's answer would go on the shared stream, so abandoning it needs nothing but the dispose.
      connection.inFlight().run(request.id(), handling, () -> { }, failed);
    } else {
      handling.subscribe(null, failed);
    }
  }
}
