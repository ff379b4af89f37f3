package dev.mcps.tools;

import dev.mcps.ApiException;
import dev.mcps.session.SessionBus;
import dev.mcps.session.SessionContext;
import dev.mcps.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes tool calls sent to {@value #ADDRESS} ({@code {name, arguments}} with the {@code x-session-id} header),
 * with the caller's session restored by {@link SessionBus}. MCP clients and the chat loop both end here. The tools
 * do no blocking work (Jira is reached with the non-blocking web client), so this runs on event loops; several
 * instances share the address.
 */
public final class ToolsVerticle extends VerticleBase {

  public static final String ADDRESS = "mcps.tools.call";
  /** Published: the id of a call to stop ({@link ToolCalls#cancel}). */
  public static final String CANCEL_ADDRESS = "mcps.tools.cancel";

  private static final Logger LOG = LoggerFactory.getLogger(ToolsVerticle.class);

  private final Sessions sessions;
  private final ToolCatalog catalog;
  /** The cancellable calls this instance is running, by call id. */
  private final Map<String, Promise<Void>> cancellable = new ConcurrentHashMap<>();

  public ToolsVerticle(Sessions sessions, ToolCatalog catalog) {
    this.sessions = sessions;
    this.catalog = catalog;
  }

  @Override
  public Future<?> start() {
    vertx.eventBus().<String>consumer(CANCEL_ADDRESS, msg -> {
      Promise<Void> cancel = cancellable.get(msg.body());
      if (cancel != null) {
        cancel.tryComplete();
      }
    });
    return SessionBus.<JsonObject>consumer(vertx, sessions, ADDRESS,
        msg -> cancellable(msg.headers().get(ToolCalls.CALL_ID_HEADER), () -> execute(msg.body()))).completion();
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
    if (SessionContext.current() == null) {
      return Future.failedFuture(ApiException.badRequest("Missing_Session", "Tool calls need a session"));
    }
    String name = request == null ? null : request.getString("name");
    Tool tool = name == null ? null : catalog.find(name);
    if (tool == null) {
      return Future.failedFuture(new ApiException(404, "Unknown_Tool", catalog.refusal(name)));
    }
    Future<ToolResult> result;
    try {
      result = tool.call(request.getJsonObject("arguments", new JsonObject()));
    } catch (ToolArguments.Invalid e) {
      result = Future.failedFuture(e);
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
    }).map(ToolResult::toJson);
  }
}
