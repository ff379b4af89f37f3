package dev.mcps.session;

import dev.mcps.ApiException;
import dev.mcps.audit.AuditLog;
import dev.mcps.logging.BurstLog;
import dev.mcps.logging.SessionLog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the rest of the server uses to find and change sessions: the store plus the rules around it (who may use
 * which session, lifecycle events on {@code mcps.session.events}, and failing fast with 503 when the store does not
 * answer). Thread-safe and non-blocking; one instance is shared by every verticle of a server. Every session change
 * goes through here, so this is also where the audit trail hears of sessions created, reset and deleted and of Jira
 * credentials stored, on the instance that made the change (once in a cluster, unlike the published events).
 */
public final class Sessions {

  public static final String EVENTS_ADDRESS = "mcps.session.events";
  /** The event types after which a session is gone for good. */
  public static final Set<String> ENDING_EVENTS = Set.of("expired", "evicted", "deleted");

  private static final Logger LOG = LoggerFactory.getLogger(Sessions.class);
  /** Room, past two store timeouts, for the second call that settles an append whose first outcome was lost. */
  private static final long SETTLE_MARGIN_MS = 500;

  private final Vertx vertx;
  private final SessionStore store;
  private final long storeTimeoutMs;
  private final boolean ownersOnly;
  private final AtomicLong lastKnownCount = new AtomicLong();
  /** An outage fails every request: one line per 10 s with a count, not one per request. */
  private final BurstLog storeFailures;
  private final AuditLog audit;

  /** Without an audit trail (components tested on their own). */
  public Sessions(Vertx vertx, SessionStore store, long storeTimeoutMs) {
    this(vertx, store, storeTimeoutMs, AuditLog.off(), false);
  }

  /**
   * @param ownersOnly whether a session must belong to the user a request names (with AUTH_MODE=jwt|header, where
   *                   the user is proven): a session of no user (made anonymously, or by another service on the bus)
   *                   is then nobody's to take over by its id
   */
  public Sessions(Vertx vertx, SessionStore store, long storeTimeoutMs, AuditLog audit, boolean ownersOnly) {
    this.ownersOnly = ownersOnly;
    this.vertx = vertx;
    this.audit = audit;
    this.store = store;
    this.storeTimeoutMs = storeTimeoutMs;
    this.storeFailures = new BurstLog(LOG, BurstLog.WINDOW_MILLIS, BurstLog.vertxScheduler(vertx));
  }

  public String storeType() {
    return store.type();
  }

  /**
   * The session a request names, by the rules of DESIGN.md §4: a sessionId must exist (404) and, when the request
   * also names a user, belong to that user (403); a userId alone gets that user's most recent live session or a
   * new one; neither is a 400.
   */
  public Future<SessionEnv> resolve(String sessionId, String userId, String productLabUserId) {
    if (sessionId != null) {
      return require(sessionId).map(s -> {
        if (userId != null && (s.userId() != null || ownersOnly) && !s.isOwnedBy(userId)) {
          throw new ApiException(403, "Session_Forbidden", "This session belongs to another user");
        }
        return s;
      });
    }
    if (userId == null) {
      return Future.failedFuture(ApiException.badRequest("Missing_User_ID", "Either sessionId or userId is required"));
    }
    return forUser(userId, productLabUserId);
  }

  /** The user's most recent live session, or a new one. */
  public Future<SessionEnv> forUser(String userId, String productLabUserId) {
    return guard(store.getOrCreateForUser(userId,
        () -> SessionEnv.newSession(userId, productLabUserId, System.currentTimeMillis()))).map(this::announce);
  }

  /** A new session for the user even when they have a live one; it becomes their most recent. */
  public Future<SessionEnv> createForUser(String userId, String productLabUserId) {
    SessionEnv fresh = SessionEnv.newSession(userId, productLabUserId, System.currentTimeMillis());
    return guard(store.create(fresh)).map(this::announce);
  }

  /** A new session that belongs to no user (MCP clients that name neither a session nor a user). */
  public Future<SessionEnv> createAnonymous() {
    SessionEnv fresh = SessionEnv.newSession(null, null, System.currentTimeMillis());
    return guard(store.create(fresh)).map(this::announce);
  }

  private SessionEnv announce(SessionStore.Resolved r) {
    for (SessionStore.Removed e : r.evicted()) {
      SessionLog.about(e.sessionId(),
          () -> LOG.info("Session limit reached: evicted least recently used session {}", e.sessionId()));
      publish("evicted", e.sessionId(), e.userId());
      audit.sessionDeleted(e.sessionId(), e.userId(), "evicted");
    }
    SessionEnv s = r.session();
    if (r.created()) {
      SessionLog.about(s.sessionId(), () -> LOG.info("Created session {} for user {}", s.sessionId(),
          s.userId() == null ? "anonymous" : s.userId()));
      publish("created", s.sessionId(), s.userId());
      audit.sessionCreated(s.sessionId(), s.userId());
    } else if (LOG.isDebugEnabled()) {
      SessionLog.about(s.sessionId(), () -> LOG.debug("Reusing session {} for user {}", s.sessionId(), s.userId()));
    }
    return s;
  }

  /** The live session, refreshed, or a 404. */
  public Future<SessionEnv> require(String sessionId) {
    if (!SessionEnv.isWellFormedId(sessionId)) {
      return Future.failedFuture(ApiException.sessionNotFound());
    }
    return guard(store.get(sessionId)).map(s -> {
      if (s == null) {
        throw ApiException.sessionNotFound();
      }
      return s;
    });
  }

  /** The live session, refreshed, or null. */
  public Future<SessionEnv> find(String sessionId) {
    return SessionEnv.isWellFormedId(sessionId) ? guard(store.get(sessionId)) : Future.succeededFuture();
  }

  /** The live session without refreshing it, or null (admin views). */
  public Future<SessionEnv> peek(String sessionId) {
    return SessionEnv.isWellFormedId(sessionId) ? guard(store.peek(sessionId)) : Future.succeededFuture();
  }

  /** Applies {@code change} without losing concurrent writes (see {@link SessionStore#update}); 404 when gone. */
  public Future<SessionEnv> update(String sessionId, Consumer<SessionEnv> change) {
    // What the change did to the Jira credentials, for the audit trail: the store may apply the change more than
    // once (a concurrent write retried), and the last application is the one that was stored.
    AtomicReference<JiraCredentials> before = new AtomicReference<>();
    AtomicBoolean credentialsChanged = new AtomicBoolean();
    Consumer<SessionEnv> marked = s -> {
      JiraCredentials had = s.jiraCredentials();
      try {
        change.accept(s);
      } catch (RuntimeException e) {
        throw new ChangeRejected(e);
      }
      before.set(had);
      credentialsChanged.set(s.jiraCredentials() != null && !s.jiraCredentials().equals(had));
    };
    return guard(store.update(sessionId, marked)).map(s -> {
      if (s == null) {
        throw ApiException.sessionNotFound().withSessionId(sessionId);
      }
      if (credentialsChanged.get()) {
        audit.credentialsStored(s.sessionId(), s.userId(), before.get() != null, host(s.jiraCredentials()));
      }
      return s;
    });
  }

  /** The host of the Jira base URL (the only part of the credentials the audit trail names). */
  private static String host(JiraCredentials credentials) {
    try {
      return java.net.URI.create(credentials.baseUrl()).getHost();
    } catch (RuntimeException e) {
      return null;
    }
  }

  public Future<List<JsonObject>> history(String sessionId) {
    return guard(store.history(sessionId)).map(h -> {
      if (h == null) {
        throw ApiException.sessionNotFound().withSessionId(sessionId);
      }
      return h;
    });
  }

  /** See {@link SessionStore#historyIsShared()}. */
  public boolean historyIsShared() {
    return store.historyIsShared();
  }

  public Future<Integer> appendHistory(String sessionId, List<JsonObject> messages) {
    return guard(store.appendHistory(sessionId, messages)).map(n -> {
      if (n == null) {
        throw ApiException.sessionNotFound().withSessionId(sessionId);
      }
      return n;
    });
  }

  /**
   * Stores one turn at most once (see {@link SessionStore#appendTurn}); 404 when the session is gone. It may take
   * up to twice the store timeout: a call whose outcome was lost is settled by a second one before the answer.
   */
  public Future<Integer> appendTurn(String sessionId, String turnId, int dropOldest, List<JsonObject> messages) {
    return guard(store.appendTurn(sessionId, turnId, dropOldest, messages), 2 * storeTimeoutMs + SETTLE_MARGIN_MS)
        .map(n -> {
          if (n == null) {
            throw ApiException.sessionNotFound().withSessionId(sessionId);
          }
          return n;
        });
  }

  /** The history length the turn {@code turnId} left, or null when it has not landed (see {@link SessionStore}). */
  public Future<Integer> storedTurn(String sessionId, String turnId) {
    return guard(store.storedTurn(sessionId, turnId));
  }

  public Future<Void> replaceHistory(String sessionId, List<JsonObject> messages) {
    return guard(store.replaceHistory(sessionId, messages)).map(ok -> {
      if (!ok) {
        throw ApiException.sessionNotFound().withSessionId(sessionId);
      }
      return null;
    });
  }

  /** Empties history and notes; false when the session does not exist. */
  public Future<Boolean> reset(String sessionId) {
    if (!SessionEnv.isWellFormedId(sessionId)) {
      return Future.succeededFuture(false);
    }
    return guard(store.reset(sessionId)).map(ok -> {
      if (ok) {
        SessionLog.about(sessionId, () -> LOG.info("Session {} reset", sessionId));
        publish("reset", sessionId, null);
        audit.sessionReset(sessionId);
      }
      return ok;
    });
  }

  /** False when the session does not exist. */
  public Future<Boolean> delete(String sessionId) {
    if (!SessionEnv.isWellFormedId(sessionId)) {
      return Future.succeededFuture(false);
    }
    return guard(store.delete(sessionId)).map(removed -> {
      if (removed == null) {
        return false;
      }
      SessionLog.about(sessionId, () -> LOG.info("Session {} deleted", sessionId));
      publish("deleted", sessionId, removed.userId());
      audit.sessionDeleted(sessionId, removed.userId(), "deleted");
      return true;
    });
  }

  public Future<SessionStore.Page> list(int offset, int limit) {
    return guard(store.list(offset, limit));
  }

  /** Live sessions; also remembered for the metrics gauge, which cannot wait for the store. */
  public Future<Long> count() {
    return guard(store.count()).onSuccess(lastKnownCount::set);
  }

  public long lastKnownCount() {
    return lastKnownCount.get();
  }

  public Future<SessionStore.Sweep> sweep() {
    return guard(store.sweep()).map(sweep -> {
      for (SessionStore.Removed r : sweep.removed()) {
        SessionLog.about(r.sessionId(), () -> LOG.info("Session {} expired", r.sessionId()));
        publish("expired", r.sessionId(), r.userId());
        audit.sessionDeleted(r.sessionId(), r.userId(), "expired");
      }
      lastKnownCount.set(sweep.afterCount());
      return sweep;
    });
  }

  /** The session's turn lock, waiting (polling with backoff) until it is free or {@code waitMillis} have passed. */
  public Future<String> lock(String sessionId, long ttlMillis, long waitMillis) {
    long deadline = System.currentTimeMillis() + waitMillis;
    return tryLock(sessionId, ttlMillis, deadline, 5);
  }

  private Future<String> tryLock(String sessionId, long ttlMillis, long deadline, long backoff) {
    Future<String> attempt = store.tryLock(sessionId, ttlMillis);
    return guard(attempt).recover(err -> {
      // Given up on, the attempt may still take the lock later: then nobody would release it but its expiry.
      attempt.onSuccess(late -> {
        if (late != null) {
          store.unlock(sessionId, late);
        }
      });
      return Future.failedFuture(err);
    }).compose(token -> {
      if (token != null) {
        return Future.succeededFuture(token);
      }
      if (System.currentTimeMillis() + backoff > deadline) {
        return Future.failedFuture(new ApiException(409, "Session_Busy",
            "Another turn of this session is still running", sessionId));
      }
      return vertx.timer(backoff, TimeUnit.MILLISECONDS)
          .compose(v -> tryLock(sessionId, ttlMillis, deadline, Math.min(100, backoff * 2)));
    });
  }

  public Future<Void> unlock(String sessionId, String token) {
    return guard(store.unlock(sessionId, token));
  }

  public Future<Void> ping() {
    return guard(store.ping());
  }

  public Future<Void> close() {
    return store.close();
  }

  private void publish(String type, String sessionId, String userId) {
    JsonObject event = new JsonObject().put("type", type).put("sessionId", sessionId);
    if (userId != null) {
      event.put("userId", userId);
    }
    vertx.eventBus().publish(EVENTS_ADDRESS, event);
  }

  /** Any store failure or silence becomes a fast 503 instead of a hung request. */
  private <T> Future<T> guard(Future<T> op) {
    return guard(op, storeTimeoutMs);
  }

  /** As {@link #guard(Future)}; the answer, the 503 included, comes on the caller's context (and session). */
  private <T> Future<T> guard(Future<T> op, long timeoutMs) {
    // An answer already in hand (the memory store) needs no deadline timer, and runs on the caller's thread.
    Future<T> bounded = op.isComplete() ? op : OnCaller.within(vertx, op, timeoutMs);
    return bounded.recover(err -> {
      if (err instanceof ApiException) {
        return Future.failedFuture(err);
      }
      if (err instanceof ChangeRejected rejected) {
        return Future.failedFuture(rejected.getCause());
      }
      storeFailures.warn(err.getClass().getName() + ": " + err.getMessage(),
          "Session store (" + store.type() + ") failed: " + err);
      return Future.failedFuture(ApiException.storeUnavailable());
    });
  }

  /** A change function refused the update: the caller's error, not the store's, so it is passed through as is. */
  private static final class ChangeRejected extends RuntimeException {
    ChangeRejected(RuntimeException cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }

  // --- Idempotency-Key records (see SessionStore) ---

  public Future<String> claimIdempotency(String scopedKey, String pending, long ttlMillis) {
    Future<String> attempt = store.claimIdempotency(scopedKey, pending, ttlMillis);
    return guard(attempt).recover(err -> {
      // As with the turn lock: a claim given up on may still land, and only this claim can release it.
      attempt.onSuccess(found -> {
        if (found == null) {
          store.releaseIdempotency(scopedKey, pending);
        }
      });
      return Future.failedFuture(err);
    });
  }

  public Future<Void> completeIdempotency(String scopedKey, String pending, String record, long ttlMillis) {
    return guard(store.completeIdempotency(scopedKey, pending, record, ttlMillis));
  }

  public Future<Void> releaseIdempotency(String scopedKey, String pending) {
    return guard(store.releaseIdempotency(scopedKey, pending));
  }

  // --- Streamable MCP session state and events (see SessionStore); a failing store is a 503 as everywhere ---

  public Future<Void> putMcpSession(String mcpSessionId, String json, long ttlMillis) {
    return guard(store.putMcpSession(mcpSessionId, json, ttlMillis));
  }

  public Future<String> getMcpSession(String mcpSessionId, long ttlMillis) {
    return guard(store.getMcpSession(mcpSessionId, ttlMillis));
  }

  public Future<Boolean> replaceMcpSession(String mcpSessionId, String expected, String json, long ttlMillis) {
    return guard(store.replaceMcpSession(mcpSessionId, expected, json, ttlMillis));
  }

  public Future<Boolean> touchMcpSession(String mcpSessionId, long ttlMillis) {
    return guard(store.touchMcpSession(mcpSessionId, ttlMillis));
  }

  public Future<Boolean> deleteMcpSession(String mcpSessionId) {
    return guard(store.deleteMcpSession(mcpSessionId));
  }

  /** Bounded by {@code timeoutMs}, shorter than the store's: a live stream waits for its append no longer. */
  public Future<String> appendMcpEvent(String mcpSessionId, String stream, String data, int maxEvents,
                                       long ttlMillis, long timeoutMs) {
    return guard(store.appendMcpEvent(mcpSessionId, stream, data, maxEvents, ttlMillis),
        Math.min(timeoutMs, storeTimeoutMs));
  }

  public Future<List<SessionStore.McpEvent>> mcpEventsAfter(String mcpSessionId, String stream, String afterId) {
    return guard(store.mcpEventsAfter(mcpSessionId, stream, afterId));
  }
}
