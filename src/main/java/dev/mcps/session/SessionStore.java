package dev.mcps.session;

import dev.mcps.ApiException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.Consumer;

/**
 * Where sessions live. Two implementations ({@link MemorySessionStore}, {@link RedisSessionStore}) pass one shared
 * test suite. Every read returns a fresh {@link SessionEnv} snapshot; every operation that finds nothing answers
 * {@code null} rather than failing, and a failure means the store itself is in trouble.
 *
 * <p>"Live" means accessed within the idle timeout. Reads ({@link #get}, {@link #update}, history changes) are
 * accesses and slide the timeout; {@link #peek} and {@link #list} are not.
 */
public interface SessionStore {

  /** A session removed by the store (evicted at the cap, expired, or deleted), for the lifecycle events. */
  record Removed(String sessionId, String userId) {}

  /** The outcome of a create or get-or-create: the session, whether it is new, and who was evicted to make room. */
  record Resolved(SessionEnv session, boolean created, List<Removed> evicted) {}

  /** One page of sessions, most recently used first; each carries its {@link SessionEnv#historyLength()}. */
  record Page(long totalCount, List<SessionEnv> sessions) {}

  /** A cleanup sweep: how many sessions were tracked before and after, and which expired ones it removed. */
  record Sweep(long beforeCount, long afterCount, List<Removed> removed) {}

  String type();

  /**
   * Stores {@code fresh}; at the {@code SESSION_MAX} cap the least recently used 10% (at least one) go first. An
   * anonymous session (no userId) makes room only among anonymous or expired sessions, so that clients that name
   * nobody cannot push real users out; when there are none, it fails with {@link #sessionLimitReached()}.
   */
  Future<Resolved> create(SessionEnv fresh);

  /** The store is full of users' sessions and an anonymous one may not evict them. */
  static ApiException sessionLimitReached() {
    return new ApiException(503, "Session_Limit_Reached",
        "The server holds its maximum number of sessions (SESSION_MAX); name a user or try again later");
  }

  /**
   * The user's most recent live session, or {@code fresh} (which must carry that userId) when there is none.
   * Atomic: concurrent calls for one user end with one session.
   */
  Future<Resolved> getOrCreateForUser(SessionEnv fresh);

  /**
   * As {@link #getOrCreateForUser(SessionEnv)}, with the new session made only when one is needed: a returning user
   * (nearly every request) costs no fresh ids. A store that must send the candidate along (Redis, atomically) makes
   * it at once.
   */
  default Future<Resolved> getOrCreateForUser(String userId, java.util.function.Supplier<SessionEnv> fresh) {
    return getOrCreateForUser(fresh.get());
  }

  /** The live session, its timeout refreshed; null when unknown or expired. */
  Future<SessionEnv> get(String sessionId);

  /** The live session without touching it (admin views); carries its history length. */
  Future<SessionEnv> peek(String sessionId);

  /**
   * Applies {@code change} to the current state and saves it. Concurrent updates never lose a write: on a version
   * conflict the change is applied again to the newer state, so {@code change} must be a pure function of the
   * session it is given. Null when the session is unknown.
   */
  Future<SessionEnv> update(String sessionId, Consumer<SessionEnv> change);

  /**
   * The conversation history, oldest first; null when the session is unknown. The list and its messages are
   * read-only: a store may hand out what it holds, and changes go through {@link #appendHistory} or
   * {@link #replaceHistory}.
   */
  Future<List<JsonObject>> history(String sessionId);

  /**
   * Whether {@link #history} hands out the stored message objects themselves, the same ones from one read to the next
   * until they are replaced: a reader may then recognise a message by identity across turns (and keep what it
   * derived from it). False for a store that decodes the history on every read.
   */
  default boolean historyIsShared() {
    return false;
  }

  /** Appends atomically and returns the new length; null when the session is unknown. */
  Future<Integer> appendHistory(String sessionId, List<JsonObject> messages);

  /**
   * Stores one turn's messages atomically, at most once per {@code turnId}: when that turn id already landed, nothing
   * changes and the answer is the length recorded then; otherwise the {@code dropOldest} oldest messages are dropped
   * (all of them when there are fewer), the messages appended, and the turn id remembered (a short list of recent
   * ones, kept and deleted with the session). Answers the history's length; null when the session is unknown.
   * Because a repeat is harmless, a store settles a call whose outcome it could not see (a timeout, a dropped
   * connection) by making it again before it answers.
   */
  Future<Integer> appendTurn(String sessionId, String turnId, int dropOldest, List<JsonObject> messages);

  /**
   * Whether the turn {@code turnId} landed (among the recent ones {@link #appendTurn} remembers): the history length
   * it left, or null when it did not land or the session is unknown. Reads only.
   */
  Future<Integer> storedTurn(String sessionId, String turnId);

  /** Replaces the whole history; false when the session is unknown. */
  Future<Boolean> replaceHistory(String sessionId, List<JsonObject> messages);

  /** Empties the history and the notes in one step, keeping identity and credentials; false when unknown. */
  Future<Boolean> reset(String sessionId);

  /** Removes the session, its history and its user index; null when unknown. */
  Future<Removed> delete(String sessionId);

  Future<Page> list(int offset, int limit);

  /** Live sessions. */
  Future<Long> count();

  /** Drops every expired session that is still tracked. */
  Future<Sweep> sweep();

  /**
   * Takes the turn lock of a session ({@code mcps:lock:{id}} on Redis) for at most {@code ttlMillis}: the token
   * that releases it, or null while someone else holds it. The expiry frees the lock of an instance that died.
   */
  Future<String> tryLock(String sessionId, long ttlMillis);

  /** Releases the lock if {@code token} still owns it (never someone else's lock, after an expiry). */
  Future<Void> unlock(String sessionId, String token);

  /** Succeeds when the store answers. */
  Future<Void> ping();

  Future<Void> close();

  // --- Idempotency-Key records of /chat (DESIGN.md §4): opaque texts, kept under {@code mcps:idem:{scopedKey}} ---

  /**
   * Claims {@code scopedKey} for a turn about to run, with the record {@code pending}, for {@code ttlMillis}, unless
   * a record is already there. Atomic across instances: of concurrent claims exactly one succeeds. Null when
   * claimed, else the record found.
   */
  Future<String> claimIdempotency(String scopedKey, String pending, long ttlMillis);

  /**
   * Replaces the claim {@code pending} by the turn's outcome {@code record}, kept {@code ttlMillis}; nothing when the
   * claim is no longer there (expired, or released).
   */
  Future<Void> completeIdempotency(String scopedKey, String pending, String record, long ttlMillis);

  /** Drops the claim {@code pending} (its turn failed and stored nothing), so that a retry runs the turn again. */
  Future<Void> releaseIdempotency(String scopedKey, String pending);

  // --- Streamable MCP sessions (DESIGN.md §6): {@code mcps:mcp:{id}} and {@code mcps:mcp:{id}:events} ---

  /** One kept stream event: its store-assigned id (two numbers, {@code "a-b"}, growing) and its data. */
  record McpEvent(String id, String data) {}

  /** Stores (or overwrites) the state of an MCP session, a JSON text of ids only, for {@code ttlMillis}. */
  Future<Void> putMcpSession(String mcpSessionId, String json, long ttlMillis);

  /** The state, its expiry pushed to {@code ttlMillis} from now; null when unknown or expired. */
  Future<String> getMcpSession(String mcpSessionId, long ttlMillis);

  /**
   * Replaces the state only while it is still {@code expected} (compare-and-set, for changes made by several
   * instances); false when it changed or is gone.
   */
  Future<Boolean> replaceMcpSession(String mcpSessionId, String expected, String json, long ttlMillis);

  /** Pushes the expiry to {@code ttlMillis} from now; false when the state is gone. */
  Future<Boolean> touchMcpSession(String mcpSessionId, long ttlMillis);

  /** Removes the state and its events; false when there was no state. */
  Future<Boolean> deleteMcpSession(String mcpSessionId);

  /**
   * Appends one event of {@code stream} atomically: it gets the next id, only the {@code maxEvents} newest are kept,
   * and the events expire {@code ttlMillis} after the last append. Null (nothing kept) when the session is unknown.
   */
  Future<String> appendMcpEvent(String mcpSessionId, String stream, String data, int maxEvents, long ttlMillis);

  /**
   * The events of {@code stream} after the one with id {@code afterId}, oldest first; null when that event is not
   * (or no longer) kept, so that nobody can tell what was missed.
   */
  Future<List<McpEvent>> mcpEventsAfter(String mcpSessionId, String stream, String afterId);
}
