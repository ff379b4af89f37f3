package dev.mcps.chat;

import dev.mcps.ApiException;
import dev.mcps.jira.JiraUrlPolicy;
import dev.mcps.limits.UserLimits;
import dev.mcps.session.SessionContext;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * A /chat request from start to end: validate, resolve the caller's session (DESIGN.md §4), store what the request
 * carries (Jira credentials, productLabUserId), then run the turn inside the session context (a replacing history is
 * applied by the turn, under its lock).
 * Bad input is rejected before any session is touched.
 */
public final class ChatService {

  private final Sessions sessions;
  private final AgentLoop loop;
  private final String defaultModel;
  private final JiraUrlPolicy jiraPolicy;
  private final IdempotentTurns idempotent;
  private final TurnThreads threads;
  private final UserLimits limits;

  /**
   * @param vertx          for the waits of a retried turn
   * @param keyTtlMillis   how long an Idempotency-Key's outcome is replayed (the session timeout)
   * @param turnTimeoutMs  the turn deadline, from which a running turn's claim on its key is sized
   */
  public ChatService(Vertx vertx, Sessions sessions, AgentLoop loop, String defaultModel, JiraUrlPolicy jiraPolicy,
                     long keyTtlMillis, long turnTimeoutMs) {
    this(vertx, sessions, loop, defaultModel, jiraPolicy, keyTtlMillis, turnTimeoutMs, TurnThreads.EVENT_LOOPS);
  }

  /** {@code threads}: where the turn runs once its request is read (worker verticles or not). */
  public ChatService(Vertx vertx, Sessions sessions, AgentLoop loop, String defaultModel, JiraUrlPolicy jiraPolicy,
                     long keyTtlMillis, long turnTimeoutMs, TurnThreads threads) {
    this(vertx, sessions, loop, defaultModel, jiraPolicy, keyTtlMillis, turnTimeoutMs, threads, UserLimits.OFF);
  }

  /**
   * {@code limits}: each request counts against its user's rate, and each turn that runs holds one of its user's turn
   * slots, here where every turn starts and ends, so that event-bus callers of {@code mcps.chat.turn} are limited as
   * /chat is.
   */
  public ChatService(Vertx vertx, Sessions sessions, AgentLoop loop, String defaultModel, JiraUrlPolicy jiraPolicy,
                     long keyTtlMillis, long turnTimeoutMs, TurnThreads threads, UserLimits limits) {
    this.limits = limits;
    this.threads = threads;
    this.sessions = sessions;
    this.loop = loop;
    this.defaultModel = defaultModel;
    this.jiraPolicy = jiraPolicy;
    // A turn first waits up to its deadline for the lock, then runs up to its deadline, then stores.
    this.idempotent = new IdempotentTurns(vertx, sessions, keyTtlMillis, 2 * turnTimeoutMs + 30_000);
  }

  /**
   * The turn's reply; also encoded when {@code encodeReply} (see {@link AgentLoop#run}). With an
   * {@code idempotencyKey} a retried request gets the first one's reply instead of a second turn.
   */
  public Future<TurnReply> handle(JsonObject body, TurnEvents events, boolean encodeReply, String idempotencyKey) {
    return handle(body, events, encodeReply, idempotencyKey, null);
  }

  /** @param writesRefused when not null, every Jira write tool the model calls is refused with these words */
  public Future<TurnReply> handle(JsonObject body, TurnEvents events, boolean encodeReply, String idempotencyKey,
                                  String writesRefused) {
    ChatRequest req;
    String key;
    try {
      req = ChatRequest.parse(body, defaultModel, jiraPolicy);
      key = idempotencyKey == null ? null : IdempotentTurns.checkKey(idempotencyKey);
      if (key != null && req.newSession()) {
        // A retry could not find the session its first attempt made, and would make another.
        throw ApiException.badRequest("Invalid_Request", "newSession cannot be retried with an Idempotency-Key: "
            + "send the first turn of a new session without one");
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    // The request was read where it arrived (a worker, with worker verticles); the rest is I/O, on an event loop.
    return threads.io(() -> limits.admitting(req.userId(),
            () -> req.newSession() ? sessions.createForUser(req.userId(), req.productLabUserId())
                : sessions.resolve(req.sessionId(), req.userId(), req.productLabUserId()))
        .compose(session -> {
          if (key == null) {
            return turn(session, req, events, encodeReply, null, writesRefused);
          }
          String fingerprint = IdempotentTurns.fingerprint(body);
          return idempotent.run(session, key, fingerprint, () -> turn(session, req, events, encodeReply,
              IdempotentTurns.turnId(session, key, fingerprint), writesRefused));
        }));
  }

  /** @param turnId the turn's id when it must land at most once across retries (an Idempotency-Key); else null */
  private Future<TurnReply> turn(SessionEnv resolved, ChatRequest req, TurnEvents events, boolean encodeReply,
                                 String turnId, String writesRefused) {
    // A replayed Idempotency-Key outcome runs no turn and takes no slot: only a turn that runs gets here.
    return limits.inTurnSlot(UserLimits.subject(req.userId(), resolved.userId(), resolved.sessionId()),
        () -> store(resolved, req).compose(session -> SessionContext.runWith(session,
            () -> loop.run(req.message(), req.model(), replacement(req), events, encodeReply, turnId,
                writesRefused))));
  }

  private Future<SessionEnv> store(SessionEnv session, ChatRequest req) {
    boolean changesSession = req.jiraAuth() != null
        || (req.productLabUserId() != null && !Objects.equals(req.productLabUserId(), session.productLabUserId()));
    return !changesSession ? Future.succeededFuture(session)
        : sessions.update(session.sessionId(), s -> {
          if (req.jiraAuth() != null) {
            s.setJiraCredentials(req.jiraAuth());
          }
          if (req.productLabUserId() != null) {
            s.setProductLabUserId(req.productLabUserId());
          }
        });
  }

  /**
   * The history that replaces the stored one, which the turn applies under its lock. As in the seed, only a non-empty
   * history does: clients that always send [] lose nothing.
   */
  private static java.util.List<JsonObject> replacement(ChatRequest req) {
    return req.history() == null || req.history().isEmpty() ? null : req.history();
  }
}
