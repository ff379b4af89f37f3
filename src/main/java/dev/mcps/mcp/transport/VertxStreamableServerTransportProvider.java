package dev.mcps.mcp.transport;

import dev.mcps.mcp.stateless.StatelessMcp;
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
import dev.mcps.cluster.Node;
import dev.mcps.session.SessionStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
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
 *
 * <p>With {@link SharedStreamableSessions} the session outlives this process: its state is in the store, and a
 * request naming a session this instance does not hold rebuilds it here from that state (the SDK session started
 * again with the stored initialize params, bound again to the stored user session, which must still exist). Shutdown
 * and the idle sweep then only drop this instance's copy; DELETE removes the stored state and tells every instance.
 * The listening stream is resumable (see {@link ListeningStream}), and a notification for a session whose listening
 * stream is held by another instance goes there over the event bus.
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

  /** Longer than any Mcp-Session-Id this server hands out: refused without asking the store. */
  private static final int MAX_SESSION_ID = 128;
  /** How long a notification waits for the instance holding the listening stream. */
  private static final long FORWARD_TIMEOUT_MILLIS = 5_000;

  private volatile McpStreamableServerSession.Factory sessionFactory;
  private final Vertx vertx;
  /** Null: sessions live only in this process. */
  private final SharedStreamableSessions shared;
  /** Sessions being rebuilt from the store here, so that concurrent requests rebuild one only once. */
  private final ConcurrentMap<String, Future<Connection>> rebuilding = new ConcurrentHashMap<>();
  private volatile StatelessMcp stateless;
  private final List<MessageConsumer<JsonObject>> consumers = new java.util.ArrayList<>();

  /** Sessions that live only in this process. Starts the keep-alive timer; {@link #closeGracefully()} stops it. */
  public VertxStreamableServerTransportProvider(Vertx vertx, McpSessionBinder binder, McpJsonMapper mapper,
                                                McpHttpSettings settings) {
    this(vertx, binder, mapper, settings, null);
  }

  /** @param shared where sessions are kept so that any instance serves them; null = this process only */
  public VertxStreamableServerTransportProvider(Vertx vertx, McpSessionBinder binder, McpJsonMapper mapper,
                                                McpHttpSettings settings, SharedStreamableSessions shared) {
    super(vertx, binder, mapper, settings, connection -> connection.session().delete());
    this.vertx = vertx;
    this.shared = shared;
    if (shared != null) {
      consumers.add(vertx.eventBus().consumer(Node.address(SharedStreamableSessions.STREAM_ADDRESS, shared.nodeId()),
          this::notifyHere));
      consumers.add(vertx.eventBus().consumer(SharedStreamableSessions.ENDED_ADDRESS, this::endedElsewhere));
    }
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
    java.util.function.Predicate<Connection> busy = c -> c.session().hasOpenStream() || c.session().hasListeningStream();
    if (shared == null) {
      return connections.closeIdle(idle.toMillis(), busy);
    }
    // A session with an open stream is in use though no request names it: its stored state must not lapse.
    connections.all().stream().filter(busy).forEach(c -> shared.touch(c.id(), () -> endedHere(c.id())));
    List<Connection> idleOnes = connections.idle(idle.toMillis(), busy);
    shared.retainTouched(connections.all().stream().map(Connection::id).collect(java.util.stream.Collectors.toSet()));
    // Alone, this instance knows the session is idle everywhere; in a cluster another instance may still be using
    // it, and the stored state's own expiry decides.
    return Future.all(idleOnes.stream().map(c -> connections.close(c).compose(v -> shared.clustered()
        ? Future.succeededFuture() : shared.delete(c.id()).otherwiseEmpty().mapEmpty())).toList()).mapEmpty();
  }

  @Override
  public void setSessionFactory(McpStreamableServerSession.Factory sessionFactory) {
    this.sessionFactory = sessionFactory;
  }

  /**
   * Reaches the client's listening stream wherever it is open: here, or on the instance the stored state names
   * (over the event bus). When none is open anywhere the notification is kept in the session's event store, for a
   * client that resumes with {@code Last-Event-ID}.
   */
  @Override
  public Mono<Void> notifyClient(String sessionId, String method, Object params) {
    Connection connection = connections.peek(sessionId);
    if (shared == null || connection != null && connection.session().hasListeningStream()) {
      return connection == null ? Mono.empty() : connection.session().sendNotification(method, params);
    }
    return MonoFutures.toMono(() -> route(sessionId, method, params));
  }

  private Future<Void> route(String sessionId, String method, Object params) {
    return shared.load(sessionId).compose(stored -> {
      if (stored == null) {
        return Future.succeededFuture();
      }
      String owner = stored.streamOwner();
      if (owner == null || owner.equals(shared.nodeId())) {
        return keep(sessionId, method, params);
      }
      JsonObject body = new JsonObject().put("mcpSessionId", sessionId).put("method", method)
          .put("params", encodeValue(params));
      return vertx.eventBus().request(Node.address(SharedStreamableSessions.STREAM_ADDRESS, owner), body,
              new DeliveryOptions().setSendTimeout(FORWARD_TIMEOUT_MILLIS))
          .<Void>mapEmpty()
          .recover(err -> {
            if (err instanceof ReplyException r && r.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
              // The owner took it and could not keep it either: nothing more to try.
              return Future.failedFuture(err);
            }
            if (err instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS) {
              // That instance is gone, and its stream with it: keep the event for the client's resume elsewhere.
              LOG.debug("Listening stream of MCP session {} was on node {}, which is gone", sessionId, owner);
              shared.releaseStream(sessionId, owner);
            }
            // Also after a timeout (a node that crashed is still listed until the cluster notices): kept here, the
            // event may reach the client twice, which beats never.
            return keep(sessionId, method, params);
          });
    });
  }

  /** Keeps a notification no open stream can take, for a later resume. */
  private Future<Void> keep(String sessionId, String method, Object params) {
    return shared.append(sessionId, McpHttp.encode(mapper,
        new McpSchema.JSONRPCNotification(McpSchema.JSONRPC_VERSION, method, params))).mapEmpty();
  }

  /** A notification forwarded by another instance for a listening stream this one holds (or held). */
  private void notifyHere(Message<JsonObject> message) {
    JsonObject body = message.body();
    String sessionId;
    String method;
    Object params;
    try {
      sessionId = body.getString("mcpSessionId");
      method = body.getString("method");
      String text = body.getString("params");
      params = text == null ? null : mapper.readValue(text, Object.class);
    } catch (java.io.IOException | RuntimeException e) {
      message.fail(400, "params is not JSON");
      return;
    }
    if (sessionId == null || method == null) {
      message.fail(400, "mcpSessionId and method are required");
      return;
    }
    Connection connection = connections.peek(sessionId);
    boolean live = connection != null && connection.session().hasListeningStream();
    Future<Void> done = live ? MonoFutures.toFuture(connection.session().sendNotification(method, params))
        : keep(sessionId, method, params);
    done.onComplete(ar -> {
      if (ar.succeeded()) {
        // false: the stream had ended meanwhile, and the event was kept for the client's resume instead.
        message.reply(new JsonObject().put("delivered", live));
      } else {
        message.fail(503, ar.cause().getMessage());
      }
    });
  }

  /** Another instance deleted the session: this instance's copy ends too (the stored state is gone already). */
  private void endedElsewhere(Message<JsonObject> message) {
    String sessionId = message.body().getString("mcpSessionId");
    if (sessionId != null) {
      endedHere(sessionId);
    }
  }

  private void endedHere(String sessionId) {
    Connection connection = connections.peek(sessionId);
    if (connection != null) {
      connections.close(connection);
    }
  }

  /** The consumers go first: notifications sent meanwhile are kept in the store rather than lost here. */
  @Override
  public Mono<Void> closeGracefully() {
    return Mono.defer(() -> {
      consumers.forEach(MessageConsumer::unregister);
      return super.closeGracefully();
    });
  }

  private String encodeValue(Object value) {
    try {
      return mapper.writeValueAsString(value);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  boolean ready() {
    return sessionFactory != null;
  }

  /** Serves the 2026-07-28 era's requests on the same endpoint; set once before the routes are mounted. */
  public void serveStateless(StatelessMcp stateless) {
    this.stateless = stateless;
  }

  private void post(RoutingContext ctx) {
    Object json = McpHttp.readJson(mapper, ctx);
    if (json == null || McpHttp.refusedWrite(ctx, json, writeTools)) {
      return;
    }
    if (stateless != null && json instanceof Map<?, ?> fields && StatelessMcp.claims(fields, ctx.request())) {
      stateless.serve(ctx, fields);
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
    withAdmittedConnection(ctx, message instanceof McpSchema.JSONRPCRequest r ? r.id() : null, connection -> {
      if (message instanceof McpSchema.JSONRPCRequest request) {
        answer(ctx, connection, request);
        return;
      }
      // Notifications and responses are taken at once (the specification's 202): nothing done with them is the
      // client's to wait for.
      ctx.response().setStatusCode(202).end();
      accept(connection, message);
    });
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
        .onFailure(err -> McpHttp.refuse(ctx, McpHttp.asJsonRpc(request.id(), err)));
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
        // Stored before the client learns the id: its next request may reach any instance.
        .compose(result -> shared == null ? Future.succeededFuture(result)
            : shared.save(connection.id(), params, connection.protocolVersion(), binding).map(result))
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
          if (err instanceof ApiException) {
            McpHttp.refuse(ctx, err);
            return;
          }
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
    if (shared != null && McpSchema.METHOD_LOGGING_SET_LEVEL.equals(request.method())
        && request.params() instanceof Map<?, ?> p && p.get("level") instanceof String level && level.length() < 32) {
      // The level is part of the session: an instance that rebuilds it later filters log messages the same way.
      shared.setLoggingLevel(connection.id(), level);
    }
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
    withAdmittedConnection(ctx, null, connection -> batch(ctx, batch, connection));
  }

  private void batch(RoutingContext ctx, List<?> batch, Connection connection) {
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
    String lastEventId;
    try {
      lastEventId = SharedStreamableSessions.lastEventId(ctx.request().getHeader("Last-Event-ID"));
    } catch (ApiException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    withAdmittedConnection(ctx, null, connection -> {
      if (shared == null) {
        listenHere(ctx, connection);
      } else {
        listenShared(ctx, connection, lastEventId);
      }
    });
  }

  private void listenHere(RoutingContext ctx, Connection connection) {
    AtomicReference<McpStreamableServerSession.McpStreamableServerSessionStream> listening = new AtomicReference<>();
    // The client leaving ends this stream only; the session stays, and the client may listen again.
    SseResponse sse = streams.open(ctx.response(), true, () -> releaseIfSet(listening));
    sse.start();
    listening.set(connection.session().listeningStream(SseTransport.stream(sse, mapper)));
    if (sse.isEnded()) {
      releaseIfSet(listening);
    }
  }

  /**
   * A resumable listening stream: this instance becomes the one notifications are routed to, then (with
   * {@code Last-Event-ID}) the missed events are replayed, then live events flow. The owner is recorded before the
   * replay is read, so an event lands in the replay, in the catch-up read made once the stream is attached, or on
   * this stream; one in two of them is written once. An unknown, trimmed or expired {@code Last-Event-ID} replays
   * nothing and the stream goes on. A store that cannot answer the replay refuses the stream with 503 (the client
   * retries) before anything was attached or streamed, so a listening stream already open stays as it was.
   */
  private void listenShared(RoutingContext ctx, Connection connection, String lastEventId) {
    String owner = shared.nodeId();
    AtomicReference<McpStreamableServerSession.McpStreamableServerSessionStream> listening = new AtomicReference<>();
    SseResponse sse = streams.open(ctx.response(), true, () -> {
      releaseIfSet(listening);
      shared.releaseStream(connection.id(), owner).onFailure(err -> LOG.debug("Stream owner of {} not released: {}",
          connection.id(), err.toString()));
    });
    Context context = vertx.getOrCreateContext();
    Future<List<SessionStore.McpEvent>> missed = shared.takeStream(connection.id())
        .<Void>mapEmpty()
        .recover(err -> {
          // Without the store this stream still serves what this instance sends; others cannot route here.
          LOG.debug("Stream owner of {} not recorded: {}", connection.id(), err.toString());
          return lastEventId == null ? Future.succeededFuture() : Future.failedFuture(err);
        })
        .compose(v -> lastEventId == null ? Future.succeededFuture(List.<SessionStore.McpEvent>of())
            : shared.after(connection.id(), lastEventId));
    missed.onComplete(ar -> {
      if (ar.failed()) {
        ApiException refusal = ar.cause() instanceof ApiException api ? api : ApiException.storeUnavailable();
        sse.refuse(refusal.status(), refusal.toJson().encode());
        return;
      }
      ListeningStream stream = new ListeningStream(sse, mapper, shared, connection.id(), context);
      // Attached before the client sees its stream open, so that nothing it triggers next misses the stream; live
      // events wait for the replay all the same.
      listening.set(connection.session().listeningStream(stream));
      sse.start();
      String upTo = stream.replay(ar.result());
      if (sse.isEnded()) {
        releaseIfSet(listening);
      }
      if (lastEventId == null) {
        stream.replayed(List.of());
        return;
      }
      // What was kept between the replay read and the stream's attachment; live events wait for it.
      shared.after(connection.id(), upTo != null ? upTo : lastEventId)
          .onComplete(caught -> stream.replayed(caught.succeeded() ? caught.result() : List.of()));
    });
  }

  private void delete(RoutingContext ctx) {
    withConnection(ctx, connection -> {
      Future<Boolean> forgotten = shared == null ? Future.succeededFuture(true) : shared.delete(connection.id());
      forgotten.onComplete(ar -> {
        if (ar.failed()) {
          // Nothing ended: a DELETE that reports success must leave no copy anywhere.
          McpHttp.refuse(ctx, ar.cause());
          return;
        }
        if (shared != null) {
          vertx.eventBus().publish(SharedStreamableSessions.ENDED_ADDRESS,
              new JsonObject().put("mcpSessionId", connection.id()));
        }
        connections.close(connection).onComplete(v -> ctx.response().setStatusCode(204).end());
      });
    });
  }

  /**
   * As {@link #withConnection}, with the request counted against the connection's user first: past their request
   * rate, a 429 whose JSON-RPC error answers {@code id}. (DELETE is not counted: ending a session must stay possible.)
   */
  private void withAdmittedConnection(RoutingContext ctx, Object id, Consumer<Connection> then) {
    withConnection(ctx, connection -> binder.admit(connection.binding()).onComplete(ar -> {
      if (ar.succeeded()) {
        then.accept(connection);
      } else {
        McpHttp.refuse(ctx, McpHttp.asJsonRpc(id, ar.cause()));
      }
    }));
  }

  /**
   * The connection of a request after initialize, which must speak a supported protocol version: without the
   * header a client speaks 2025-03-26 (the specification's rule). Initialize itself is exempt, as its version is
   * negotiated in the body.
   */
  private void withConnection(RoutingContext ctx, Consumer<Connection> then) {
    String version = ctx.request().getHeader(HttpHeaders.PROTOCOL_VERSION);
    if (version != null && !VERSIONS.contains(version)) {
      HttpErrors.send(ctx, ApiException.badRequest("Unsupported_Protocol_Version",
          "Unsupported MCP-Protocol-Version " + version + "; supported: " + String.join(", ", VERSIONS)));
      return;
    }
    String id = ctx.request().getHeader(HttpHeaders.MCP_SESSION_ID);
    if (shared == null || id == null || id.isBlank() || connections.peek(id) != null || id.length() > MAX_SESSION_ID) {
      Connection connection = connectionOf(ctx, id, "the Mcp-Session-Id header");
      if (connection != null) {
        if (shared != null) {
          shared.touch(connection.id(), () -> endedHere(connection.id()));
        }
        then.accept(connection);
      }
      return;
    }
    rebuild(ctx, id).onComplete(ar -> {
      if (ar.failed()) {
        McpHttp.refuse(ctx, ar.cause());
      } else {
        then.accept(ar.result());
      }
    });
  }

  /**
   * The session {@code id}, which this instance does not hold, rebuilt from the store: 404 when it is unknown or its
   * user session is gone, 403 when the request names another user session or user than the stored binding (checked
   * before anything is bound), 429 past the user's connection limit, 503 when the store does not answer.
   */
  private Future<Connection> rebuild(RoutingContext ctx, String id) {
    return shared.load(id).compose(stored -> {
      if (stored == null) {
        return Future.failedFuture(McpHttp.sessionNotFound());
      }
      ApiException foreign = McpHttp.foreignIdentity(ctx.request(), stored.binding());
      if (foreign != null) {
        return Future.failedFuture(foreign);
      }
      Promise<Connection> mine = Promise.promise();
      Future<Connection> running = rebuilding.putIfAbsent(id, mine.future());
      if (running != null) {
        return running;
      }
      Connection here = connections.peek(id);
      Future<Connection> built = here != null ? Future.succeededFuture(here) : start(id, stored);
      built.onComplete(ar -> {
        rebuilding.remove(id, mine.future());
        mine.handle(ar);
      });
      return mine.future();
    });
  }

  private Future<Connection> start(String id, SharedStreamableSessions.Stored stored) {
    return binder.rebind(stored.binding()).compose(binding -> {
      if (binding == null) {
        return Future.failedFuture(McpHttp.sessionNotFound());
      }
      McpStreamableServerSession session;
      try {
        // The SDK session is the client's again, with no new initialize: its info and capabilities are those stored.
        session = sessionFactory.startSession(stored.initialize()).session();
        if (stored.loggingLevel() != null) {
          session.setMinLoggingLevel(mapper.convertValue(stored.loggingLevel(), McpSchema.LoggingLevel.class));
        }
      } catch (RuntimeException e) {
        neverOpened(binding);
        return Future.failedFuture(e);
      }
      AtomicBoolean gone = new AtomicBoolean();
      Connection connection = new Connection(id, binding, McpHttp.transportContext(binding.userSessionId(), gone),
          session, gone, new InFlight(), stored.protocolVersion() != null ? stored.protocolVersion()
          : negotiated(stored.initialize().protocolVersion()));
      connections.add(connection);
      LOG.debug("Streamable MCP session {} rebuilt here for user session {}", id, binding.userSessionId());
      return Future.succeededFuture(connection);
    });
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
