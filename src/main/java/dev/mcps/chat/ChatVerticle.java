package dev.mcps.chat;

import dev.mcps.ApiException;
import dev.mcps.session.SessionBus;
import dev.mcps.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;

/**
 * Serves {@value #ADDRESS}: the /chat route and other services send the /chat request JSON here and get the /chat
 * 200 JSON back, or a ReplyException with the HTTP status and error JSON (DESIGN.md §5). A sender that wants the
 * turn's steps as they happen names an address in the {@value #STREAM_HEADER} header; each step is sent there as
 * {@code {event, data}}. Deployed as a worker verticle unless WORKER_VERTICLES=false: a turn is delivered on a worker
 * context of its own (see {@link SessionBus#consumer}), so turns never queue behind one another, reads its request
 * there, and runs its I/O on an event loop with its heavy steps (a long conversation's encoding, a provider SDK that
 * may block) back on the worker pool ({@link TurnThreads}): they never stall the event loops that serve HTTP.
 */
public final class ChatVerticle extends VerticleBase {

  public static final String ADDRESS = "mcps.chat.turn";
  public static final String STREAM_HEADER = "x-stream-address";
  /**
   * A sender that will only write the reply to HTTP asks for it already encoded: a JSON text Buffer instead of a
   * JsonObject, which local delivery would otherwise deep-copy (the whole history) just to be encoded once more.
   */
  public static final String ENCODED_REPLY_HEADER = "x-reply-encoded";
  /** The request's {@code Idempotency-Key} (DESIGN.md §4), for HTTP and event-bus senders alike. */
  public static final String IDEMPOTENCY_KEY_HEADER = "idempotency-key";
  /**
   * Set by the HTTP front when the caller's token lacks JIRA_WRITE_SCOPE: what the model is told when it calls a Jira
   * write tool in this turn (an internal header; HTTP clients cannot set it).
   */
  public static final String JIRA_WRITES_REFUSED_HEADER = "x-jira-writes-refused";

  private final Sessions sessions;
  private final ChatService chat;

  public ChatVerticle(Sessions sessions, ChatService chat) {
    this.sessions = sessions;
    this.chat = chat;
  }

  @Override
  public Future<?> start() {
    return SessionBus.<Object>consumer(vertx, sessions, ADDRESS, msg -> {
      if (!(msg.body() instanceof JsonObject body)) {
        return Future.failedFuture(ApiException.badRequest("Invalid_Json", "The message body must be a JSON object"));
      }
      String stream = msg.headers().get(STREAM_HEADER);
      TurnEvents events = stream == null ? TurnEvents.NONE
          : (event, data) -> vertx.eventBus().send(stream, new JsonObject().put("event", event).put("data", data));
      boolean encoded = msg.headers().contains(ENCODED_REPLY_HEADER);
      return chat.handle(body, events, encoded, msg.headers().get(IDEMPOTENCY_KEY_HEADER),
          msg.headers().get(JIRA_WRITES_REFUSED_HEADER)).map(reply -> encoded ? reply.encoded() : reply.json());
    }).completion();
  }
}
