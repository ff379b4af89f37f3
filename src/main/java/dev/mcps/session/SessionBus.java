package dev.mcps.session;

import dev.mcps.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries the session across the event bus, where context locals do not travel: senders put the session id in the
 * {@value #SESSION_HEADER} header, and every consumer is registered through {@link #consumer}, the one wrapper
 * that restores the session before the handler runs. Failures go back as ReplyExceptions whose code is the HTTP
 * status and whose message is the error JSON (DESIGN.md §5).
 */
public final class SessionBus {

  public static final String SESSION_HEADER = "x-session-id";

  private static final Logger LOG = LoggerFactory.getLogger(SessionBus.class);

  private SessionBus() {
  }

  /** Delivery options that carry the current session, if any. */
  public static DeliveryOptions options() {
    SessionEnv s = SessionContext.current();
    return options(s == null ? null : s.sessionId());
  }

  /** Delivery options that carry the session {@code sessionId} (none when null). */
  public static DeliveryOptions options(String sessionId) {
    DeliveryOptions options = new DeliveryOptions();
    if (sessionId != null) {
      options.addHeader(SESSION_HEADER, sessionId);
    }
    return options;
  }

  /** A request that carries the current session. */
  public static <T> Future<T> request(Vertx vertx, String address, Object body) {
    return vertx.eventBus().<T>request(address, body, options()).map(Message::body);
  }

  /**
   * Registers {@code handler} on {@code address}. A message with a session header runs with that session in
   * context (404 when it no longer exists); one without runs with none. The handler's result is the reply.
   */
  public static <T> MessageConsumer<T> consumer(Vertx vertx, Sessions sessions, String address,
                                                Function<Message<T>, Future<?>> handler) {
    return vertx.eventBus().consumer(address, msg -> {
      ContextInternal delivered = ContextInternal.current();
      if (delivered.isWorkerContext()) {
        // A worker verticle instance runs one task at a time, and the duplicated contexts of its messages share that
        // instance's ordered queue: every callback of every message it took would wait behind all the others. Each
        // message gets a worker context of its own instead (same deployment and pool, its own queue): its own
        // callbacks stay in order, and unrelated messages run side by side on the pool. A fresh context costs a few
        // small objects; its event loop (Redis pipeline, HTTP connections) is handed out round-robin.
        ContextInternal own = delivered.unwrap().toBuilder()
            .withEventLoop(((VertxInternal) vertx).nettyEventLoopGroup().next()).build().duplicate();
        own.runOnContext(v -> handle(sessions, handler, msg));
      } else {
        handle(sessions, handler, msg);
      }
    });
  }

  private static <T> void handle(Sessions sessions, Function<Message<T>, Future<?>> handler, Message<T> msg) {
    String sessionId = msg.headers().get(SESSION_HEADER);
    Future<Object> result;
    if (sessionId == null) {
      result = invoke(handler, msg);
    } else {
      result = sessions.require(sessionId)
          .compose(session -> SessionContext.runWith(session, () -> invoke(handler, msg)));
    }
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply(ar.result());
      } else {
        fail(msg, ar.cause());
      }
    });
  }

  @SuppressWarnings("unchecked")
  private static <T> Future<Object> invoke(Function<Message<T>, Future<?>> handler, Message<T> msg) {
    try {
      return (Future<Object>) handler.apply(msg);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private static void fail(Message<?> msg, Throwable cause) {
    if (cause instanceof ApiException api) {
      msg.fail(api.status(), api.toJson().encode());
    } else if (cause instanceof ReplyException re && re.failureCode() >= 400) {
      msg.fail(re.failureCode(), re.getMessage());
    } else {
      LOG.error("Event-bus handler failed", cause);
      msg.fail(500, new JsonObject().put("error", "Internal_Error").put("message", "Internal server error").encode());
    }
  }
}
