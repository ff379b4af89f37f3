package dev.mcps.tools;

import dev.mcps.ApiException;
import dev.mcps.audit.AuditLog;
import dev.mcps.session.SessionBus;
import dev.mcps.session.SessionContext;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes tool calls sent to {@value #ADDRESS} ({@code {name, arguments}} with the {@code x-session-id} header),
 * with the caller's session restored by {@link SessionBus}. MCP clients and the chat loop both end here; several
 * instances share the address. The session tools are a few map operations, so they run right here on event loops,
 * where a thread hop would cost more than the tool. With worker verticles ({@code WORKER_VERTICLES}) the Jira tools
 * are handed on to {@value #WORKER_ADDRESS}, served by instances of this class deployed as workers (see
 * {@link #front} and {@link #worker}): a large Jira answer is parsed and turned into ADF text there, off the event
 * loops that serve HTTP. Every call that runs here is one {@code tool_call} line of the audit trail, written where it
 * ran (by the worker for a call handed on).
 */
public final class ToolsVerticle extends VerticleBase {

  public static final String ADDRESS = "mcps.tools.call";
  /** Internal: the calls the event-loop instances hand on to the worker instances. */
  public static final String WORKER_ADDRESS = "mcps.tools.call.worker";
  /** Published: the id of a call to stop ({@link ToolCalls#cancel}). */
  public static final String CANCEL_ADDRESS = "mcps.tools.cancel";

  private static final Logger LOG = LoggerFactory.getLogger(ToolsVerticle.class);

  private final Sessions sessions;
  private final ToolCatalog catalog;
  private final AuditLog audit;
  /** Where this instance takes calls: {@link #ADDRESS} or {@link #WORKER_ADDRESS}. */
  private final String address;
  /** The tools whose calls this instance hands on to {@link #WORKER_ADDRESS} instead of running them. */
  private final Set<String> handedOn;
  /** The cancellable calls this instance is running, by call id. */
  private final Map<String, Promise<Void>> cancellable = new ConcurrentHashMap<>();

  /** Runs every tool of the catalog itself, on {@link #ADDRESS} (no worker verticles). */
  public ToolsVerticle(Sessions sessions, ToolCatalog catalog) {
    this(sessions, catalog, AuditLog.off());
  }

  /** As {@link #ToolsVerticle(Sessions, ToolCatalog)}, writing each call to {@code audit}. */
  public ToolsVerticle(Sessions sessions, ToolCatalog catalog, AuditLog audit) {
    this(sessions, catalog, audit, ADDRESS, Set.of());
  }

  private ToolsVerticle(Sessions sessions, ToolCatalog catalog, AuditLog audit, String address,
                        Set<String> handedOn) {
    this.sessions = sessions;
    this.catalog = catalog;
    this.audit = audit;
    this.address = address;
    this.handedOn = handedOn;
  }

  /** The event-loop side: takes every call on {@link #ADDRESS} and hands those of {@code onWorker} on. */
  public static ToolsVerticle front(Sessions sessions, ToolCatalog catalog, Set<String> onWorker) {
    return front(sessions, catalog, AuditLog.off(), onWorker);
  }

  /** As {@link #front(Sessions, ToolCatalog, Set)}, writing the calls it runs itself to {@code audit}. */
  public static ToolsVerticle front(Sessions sessions, ToolCatalog catalog, AuditLog audit, Set<String> onWorker) {
    return new ToolsVerticle(sessions, catalog, audit, ADDRESS, Set.copyOf(onWorker));
  }

  /** The worker side, to be deployed as a worker verticle: runs the calls handed on to {@link #WORKER_ADDRESS}. */
  public static ToolsVerticle worker(Sessions sessions, ToolCatalog catalog) {
    return worker(sessions, catalog, AuditLog.off());
  }

  /** As {@link #worker(Sessions, ToolCatalog)}, writing each call to {@code audit}. */
  public static ToolsVerticle worker(Sessions sessions, ToolCatalog catalog, AuditLog audit) {
    return new ToolsVerticle(sessions, catalog, audit, WORKER_ADDRESS, Set.of());
  }

  @Override
  public Future<?> start() {
    vertx.eventBus().<String>consumer(CANCEL_ADDRESS, msg -> {
      Promise<Void> cancel = cancellable.get(msg.body());
      if (cancel != null) {
        cancel.tryComplete();
      }
    });
    return SessionBus.<JsonObject>consumer(vertx, sessions, address, msg -> {
      String name = msg.body() == null ? null : msg.body().getString("name");
      if (name != null && handedOn.contains(name)) {
        return handOn(msg);
      }
      return cancellable(msg.headers().get(ToolCalls.CALL_ID_HEADER), () -> execute(msg.body()));
    }).completion();
  }

  /**
   * The call, run by a worker instance: the headers (session, call id) go along, so the worker restores the session
   * and can be cancelled as if it had been called directly; its reply or failure comes back as it is.
   */
  private Future<JsonObject> handOn(Message<JsonObject> msg) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(ToolCalls.TIMEOUT_MS)
        .setHeaders(MultiMap.caseInsensitiveMultiMap().addAll(msg.headers()));
    return vertx.eventBus().<JsonObject>request(WORKER_ADDRESS, msg.body(), options).map(Message::body);
  }

  /** Runs the call so that {@link ToolCalls#cancel} can reach it, when its caller named it. */
  private Future<JsonObject> cancellable(String callId, java.util.function.Supplier<Future<JsonObject>> call) {
    if (callId == null) {
      return call.get();
    }
    // The consumer runs each message on its own duplicated context (SessionBus), so the mark is this call's alone;
    // a promise of that context runs what waits on the cancellation (a Jira request's reset) where the call runs.
    Promise<Void> cancel = ((ContextInternal) vertx.getOrCreateContext()).promise();
    cancellable.put(callId, cancel);
    ToolCancellation.set(cancel.future());
    return call.get().onComplete(ar -> cancellable.remove(callId, cancel));
  }

  private Future<JsonObject> execute(JsonObject request) {
    String name = request == null ? null : request.getString("name");
    return run(catalog, audit, name, request == null ? null : request.getJsonObject("arguments"))
        .map(ToolResult::toJson);
  }

  /**
   * Runs {@code name} of {@code catalog} in the session of the current context, here or in a caller that already
   * holds the session (a stateless MCP request runs the session tools in place): a tool's own failures and a
   * caller's mistakes become tool errors; only a 5xx (the store down) stays a failure. The call, how it ended and
   * the status Jira answered (never its arguments) go to {@code audit}.
   */
  public static Future<ToolResult> run(ToolCatalog catalog, AuditLog audit, String name, JsonObject arguments) {
    SessionEnv session = SessionContext.current();
    if (session == null) {
      return Future.failedFuture(ApiException.badRequest("Missing_Session", "Tool calls need a session"));
    }
    long started = System.nanoTime();
    Tool tool = name == null ? null : catalog.find(name);
    if (tool == null) {
      audit.toolCall(session.sessionId(), session.userId(), name, AuditLog.Outcome.REFUSED, 0, null, "Unknown_Tool");
      return Future.failedFuture(new ApiException(404, "Unknown_Tool", catalog.refusal(name)));
    }
    if (!audit.enabled()) {
      return execute(tool, name, arguments);
    }
    return execute(tool, name, arguments).andThen(ar -> {
      long ms = (System.nanoTime() - started) / 1_000_000;
      AuditLog.Outcome outcome = ToolCancellation.isCancelled() ? AuditLog.Outcome.CANCELLED
          : ar.succeeded() && !ar.result().isError() ? AuditLog.Outcome.OK : AuditLog.Outcome.ERROR;
      String error = ar.failed() && ar.cause() instanceof ApiException api ? api.code() : null;
      audit.toolCall(session.sessionId(), session.userId(), name, outcome, ms,
          ar.succeeded() ? ar.result().jiraStatus() : null, error);
    });
  }

  private static Future<ToolResult> execute(Tool tool, String name, JsonObject arguments) {
    Future<ToolResult> result;
    try {
      result = tool.call(arguments == null ? new JsonObject() : arguments);
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    return result.recover(err -> {
      if (err instanceof ToolArguments.Invalid) {
        return Future.succeededFuture(ToolResult.error(err.getMessage()));
      }
      if (err instanceof ApiException api && api.status() < 500) {
        return Future.succeededFuture(ToolResult.error(api.getMessage()));
      }
      if (err instanceof ApiException api) {
        return Future.failedFuture(api);
      }
      LOG.error("Tool {} failed", name, err);
      return Future.succeededFuture(ToolResult.error("Tool " + name + " failed unexpectedly"));
    });
  }
}
