package dev.mcps.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The embedded default store: one process, nothing to install. It keeps the same encoded form as Redis (credentials
 * encrypted), and hands out decoded copies, so no two requests ever share a mutable session object.
 *
 * <p>Single-session changes run inside {@link ConcurrentHashMap#compute}, which serializes them per key; changes
 * that touch several sessions or the user index (create, evict, delete, sweep) also hold the store's monitor, so
 * they are atomic with respect to each other. Everything is in-memory and fast, so the futures are already complete.
 */
public final class MemorySessionStore implements SessionStore {

  /** An immutable record of one session; replaced, never mutated. {@code turns}: recent turn ids, newest first. */
  private record Entry(JsonObject json, List<JsonObject> history, long lastAccess, String userId,
                       List<TurnMark> turns) {
    Entry(JsonObject json, List<JsonObject> history, long lastAccess, String userId) {
      this(json, history, lastAccess, userId, List.of());
    }

    Entry touched(long now) {
      return new Entry(json, history, now, userId, turns);
    }
  }

  /** A turn that landed, and the history's length right after it. */
  private record TurnMark(String turnId, int length) {}

  /** As many recent turn ids as the Redis store keeps. */
  private static final int RECENT_TURNS = RedisSessionStore.RECENT_TURNS;

  private final ConcurrentHashMap<String, Entry> sessions = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, String> currentByUser = new ConcurrentHashMap<>();
  private final long idleTimeoutMillis;
  private final int maxSessions;
  private final SessionCodec codec;

  public MemorySessionStore(long idleTimeoutMillis, int maxSessions, SessionCodec codec) {
    this.idleTimeoutMillis = idleTimeoutMillis;
    this.maxSessions = maxSessions;
    this.codec = codec;
  }

  @Override
  public String type() {
    return "memory";
  }

  @Override
  public synchronized Future<Resolved> create(SessionEnv fresh) {
    return insert(fresh);
  }

  @Override
  public Future<Resolved> getOrCreateForUser(SessionEnv fresh) {
    return getOrCreateForUser(fresh.userId(), () -> fresh);
  }

  @Override
  public synchronized Future<Resolved> getOrCreateForUser(String userId, Supplier<SessionEnv> fresh) {
    long now = now();
    String current = currentByUser.get(userId);
    if (current != null) {
      Entry e = sessions.computeIfPresent(current, (id, old) -> isLive(old, now) ? old.touched(now) : old);
      if (e != null && e.lastAccess() == now) {
        return Future.succeededFuture(new Resolved(decode(e), false, List.of()));
      }
    }
    return insert(fresh.get());
  }

  /** Caller holds the monitor. */
  private Future<Resolved> insert(SessionEnv fresh) {
    long now = now();
    // Tracked (not only live) sessions count against the cap: expired ones are the oldest, so they are evicted first.
    List<Removed> evicted = List.of();
    if (sessions.size() >= maxSessions) {
      evicted = fresh.userId() == null ? evictForAnonymous(now) : evictLeastRecentlyUsed(e -> true);
      if (evicted.isEmpty()) {
        return Future.failedFuture(SessionStore.sessionLimitReached());
      }
    }
    fresh.setLastAccessTime(now);
    sessions.put(fresh.sessionId(), new Entry(codec.encode(fresh), List.of(), now, fresh.userId()));
    if (fresh.userId() != null) {
      currentByUser.put(fresh.userId(), fresh.sessionId());
    }
    return Future.succeededFuture(new Resolved(decode(sessions.get(fresh.sessionId())), true, evicted));
  }

  /** An anonymous session makes room only among anonymous sessions (and ones already expired), never a user's. */
  private List<Removed> evictForAnonymous(long now) {
    return evictLeastRecentlyUsed(e -> e.userId() == null || !isLive(e, now));
  }

  private List<Removed> evictLeastRecentlyUsed(Predicate<Entry> evictable) {
    int n = Math.max(1, (int) Math.floor(maxSessions * 0.1));
    List<Map.Entry<String, Entry>> oldest = sessions.entrySet().stream()
        .filter(e -> evictable.test(e.getValue()))
        .sorted(Comparator.comparingLong(e -> e.getValue().lastAccess()))
        .limit(n)
        .toList();
    List<Removed> out = new ArrayList<>(oldest.size());
    for (Map.Entry<String, Entry> e : oldest) {
      Removed r = remove(e.getKey());
      if (r != null) {
        out.add(r);
      }
    }
    return out;
  }

  @Override
  public Future<SessionEnv> get(String sessionId) {
    long now = now();
    Entry e = sessions.computeIfPresent(sessionId, (id, old) -> isLive(old, now) ? old.touched(now) : old);
    if (e == null || e.lastAccess() != now) {
      return Future.succeededFuture();
    }
    pointUserAt(e, sessionId);
    return Future.succeededFuture(decode(e));
  }

  /** Any access makes a session its user's current one (the user's most recently used session). */
  private void pointUserAt(Entry e, String sessionId) {
    if (e != null && e.userId() != null) {
      currentByUser.put(e.userId(), sessionId);
    }
  }

  @Override
  public Future<SessionEnv> peek(String sessionId) {
    Entry e = liveEntry(sessionId);
    return Future.succeededFuture(e == null ? null : decode(e));
  }

  @Override
  public Future<SessionEnv> update(String sessionId, Consumer<SessionEnv> change) {
    long now = now();
    SessionEnv[] result = new SessionEnv[1];
    // compute() holds this key's bin lock: the change sees the latest state and nobody writes in between.
    try {
      sessions.computeIfPresent(sessionId, (id, old) -> {
      if (!isLive(old, now)) {
        return old;
      }
      SessionEnv s = codec.decode(old.json(), now);
      change.accept(s);
      s.setVersion(s.version() + 1);
      result[0] = s;
      return new Entry(codec.encode(s), old.history(), now, old.userId(), old.turns());
      });
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    if (result[0] != null) {
      Entry current = sessions.getOrDefault(sessionId, EMPTY);
      result[0].setHistoryLength(current.history().size());
      pointUserAt(current, sessionId);
    }
    return Future.succeededFuture(result[0]);
  }

  private static final Entry EMPTY = new Entry(new JsonObject(), List.of(), 0, null);

  @Override
  public Future<List<JsonObject>> history(String sessionId) {
    long now = now();
    Entry e = sessions.computeIfPresent(sessionId, (id, old) -> isLive(old, now) ? old.touched(now) : old);
    if (e == null || e.lastAccess() != now) {
      return Future.succeededFuture();
    }
    pointUserAt(e, sessionId);
    // Stored messages are copied on the way in and never changed; handing out the immutable list itself saves a deep
    // copy of the whole history on every turn. Callers treat history as read-only (see SessionStore#history).
    return Future.succeededFuture(e.history());
  }

  @Override
  public boolean historyIsShared() {
    return true;
  }

  @Override
  public Future<Integer> appendHistory(String sessionId, List<JsonObject> messages) {
    return changeHistory(sessionId, old -> {
      List<JsonObject> h = new ArrayList<>(old.size() + messages.size());
      h.addAll(old);
      h.addAll(copies(messages));
      return h;
    }).map(e -> e == null ? null : e.history().size());
  }

  @Override
  public Future<Integer> storedTurn(String sessionId, String turnId) {
    Entry e = sessions.get(sessionId);
    if (e == null || !isLive(e, now())) {
      return Future.succeededFuture(null);
    }
    for (TurnMark seen : e.turns()) {
      if (seen.turnId().equals(turnId)) {
        return Future.succeededFuture(seen.length());
      }
    }
    return Future.succeededFuture(null);
  }

  @Override
  public Future<Integer> appendTurn(String sessionId, String turnId, int dropOldest, List<JsonObject> messages) {
    long now = now();
    Integer[] length = new Integer[1];
    // compute() holds this key's bin lock: the check for the turn id and the append are one step.
    Entry e = sessions.computeIfPresent(sessionId, (id, old) -> {
      if (!isLive(old, now)) {
        return old;
      }
      for (TurnMark seen : old.turns()) {
        if (seen.turnId().equals(turnId)) {
          length[0] = seen.length();
          return old.touched(now);
        }
      }
      List<JsonObject> kept = old.history().subList(Math.min(Math.max(0, dropOldest), old.history().size()),
          old.history().size());
      List<JsonObject> h = new ArrayList<>(kept.size() + messages.size());
      h.addAll(kept);
      h.addAll(copies(messages));
      length[0] = h.size();
      List<TurnMark> turns = new ArrayList<>(RECENT_TURNS);
      turns.add(new TurnMark(turnId, h.size()));
      turns.addAll(old.turns().subList(0, Math.min(old.turns().size(), RECENT_TURNS - 1)));
      return new Entry(old.json(), List.copyOf(h), now, old.userId(), List.copyOf(turns));
    });
    if (length[0] != null) {
      pointUserAt(e, sessionId);
    }
    return Future.succeededFuture(length[0]);
  }

  @Override
  public Future<Boolean> replaceHistory(String sessionId, List<JsonObject> messages) {
    return changeHistory(sessionId, old -> copies(messages)).map(e -> e != null);
  }

  private Future<Entry> changeHistory(String sessionId, java.util.function.UnaryOperator<List<JsonObject>> change) {
    long now = now();
    boolean[] changed = new boolean[1];
    Entry e = sessions.computeIfPresent(sessionId, (id, old) -> {
      if (!isLive(old, now)) {
        return old;
      }
      changed[0] = true;
      return new Entry(old.json(), List.copyOf(change.apply(old.history())), now, old.userId(), old.turns());
    });
    if (changed[0]) {
      pointUserAt(e, sessionId);
    }
    return Future.succeededFuture(changed[0] ? e : null);
  }

  @Override
  public Future<Boolean> reset(String sessionId) {
    long now = now();
    boolean[] done = new boolean[1];
    sessions.computeIfPresent(sessionId, (id, old) -> {
      if (!isLive(old, now)) {
        return old;
      }
      SessionEnv s = codec.decode(old.json(), now);
      s.clearNotes();
      s.setVersion(s.version() + 1);
      done[0] = true;
      return new Entry(codec.encode(s), List.of(), now, old.userId(), old.turns());
    });
    return Future.succeededFuture(done[0]);
  }

  @Override
  public synchronized Future<Removed> delete(String sessionId) {
    Entry e = liveEntry(sessionId);
    return Future.succeededFuture(e == null ? null : remove(sessionId));
  }

  /** Caller holds the monitor. */
  private Removed remove(String sessionId) {
    Entry e = sessions.remove(sessionId);
    if (e == null) {
      return null;
    }
    if (e.userId() != null) {
      currentByUser.remove(e.userId(), sessionId);
    }
    return new Removed(sessionId, e.userId());
  }

  @Override
  public Future<Page> list(int offset, int limit) {
    long now = now();
    List<Map.Entry<String, Entry>> live = sessions.entrySet().stream()
        .filter(e -> isLive(e.getValue(), now))
        .sorted(Comparator.comparingLong((Map.Entry<String, Entry> e) -> e.getValue().lastAccess()).reversed())
        .toList();
    List<SessionEnv> page = live.stream().skip(offset).limit(limit).map(e -> decode(e.getValue())).toList();
    return Future.succeededFuture(new Page(live.size(), page));
  }

  @Override
  public Future<Long> count() {
    return Future.succeededFuture(live(now()));
  }

  @Override
  public synchronized Future<Sweep> sweep() {
    long now = now();
    long before = sessions.size();
    List<Removed> removed = new ArrayList<>();
    for (Map.Entry<String, Entry> e : sessions.entrySet()) {
      if (!isLive(e.getValue(), now)) {
        Removed r = remove(e.getKey());
        if (r != null) {
          removed.add(r);
        }
      }
    }
    return Future.succeededFuture(new Sweep(before, sessions.size(), removed));
  }

  private record Lock(String token, long expiresAt) {}

  private final ConcurrentHashMap<String, Lock> locks = new ConcurrentHashMap<>();

  @Override
  public Future<String> tryLock(String sessionId, long ttlMillis) {
    String token = SessionEnv.randomId();
    long now = now();
    Lock held = locks.compute(sessionId, (id, old) ->
        old == null || old.expiresAt() <= now ? new Lock(token, now + ttlMillis) : old);
    return Future.succeededFuture(held.token().equals(token) ? token : null);
  }

  @Override
  public Future<Void> unlock(String sessionId, String token) {
    locks.computeIfPresent(sessionId, (id, old) -> old.token().equals(token) ? null : old);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> ping() {
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }

  private Entry liveEntry(String sessionId) {
    Entry e = sessions.get(sessionId);
    return e != null && isLive(e, now()) ? e : null;
  }

  private long live(long now) {
    return sessions.values().stream().filter(e -> isLive(e, now)).count();
  }

  private boolean isLive(Entry e, long now) {
    return now - e.lastAccess() < idleTimeoutMillis;
  }

  private SessionEnv decode(Entry e) {
    SessionEnv s = codec.decode(e.json(), e.lastAccess());
    s.setHistoryLength(e.history().size());
    return s;
  }

  private static List<JsonObject> copies(List<JsonObject> messages) {
    List<JsonObject> out = new ArrayList<>(messages.size());
    for (JsonObject m : messages) {
      out.add(m.copy());
    }
    return out;
  }

  private static long now() {
    return System.currentTimeMillis();
  }

  // --- Idempotency-Key records ---

  private record Idempotency(String record, long expiresAt) {}

  private final ConcurrentHashMap<String, Idempotency> idempotency = new ConcurrentHashMap<>();
  private volatile long idempotencyPurgedAt;

  @Override
  public Future<String> claimIdempotency(String scopedKey, String pending, long ttlMillis) {
    long now = now();
    purgeIdempotency(now);
    boolean[] claimed = new boolean[1];
    Idempotency held = idempotency.compute(scopedKey, (k, old) -> {
      if (old != null && old.expiresAt() > now) {
        return old;
      }
      claimed[0] = true;
      return new Idempotency(pending, now + ttlMillis);
    });
    return Future.succeededFuture(claimed[0] ? null : held.record());
  }

  @Override
  public Future<Void> completeIdempotency(String scopedKey, String pending, String record, long ttlMillis) {
    long now = now();
    idempotency.computeIfPresent(scopedKey, (k, old) ->
        old.record().equals(pending) && old.expiresAt() > now ? new Idempotency(record, now + ttlMillis) : old);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> releaseIdempotency(String scopedKey, String pending) {
    idempotency.computeIfPresent(scopedKey, (k, old) -> old.record().equals(pending) ? null : old);
    return Future.succeededFuture();
  }

  /** Expired records go at most once a minute, so that keys used once do not pile up. */
  private void purgeIdempotency(long now) {
    if (now - idempotencyPurgedAt > 60_000) {
      idempotencyPurgedAt = now;
      idempotency.values().removeIf(r -> r.expiresAt() <= now);
    }
  }

  // --- Streamable MCP sessions: the state text and a bounded list of events, each with an expiry ---

  private record McpState(String json, long expiresAt) {}

  private record McpEvents(java.util.ArrayDeque<McpEvent> events, long expiresAt) {}

  private final ConcurrentHashMap<String, McpState> mcpSessions = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, McpEvents> mcpEvents = new ConcurrentHashMap<>();
  /** One counter for every session's events: ids only need to grow within one session. */
  private final java.util.concurrent.atomic.AtomicLong mcpEventSeq = new java.util.concurrent.atomic.AtomicLong();
  private volatile long mcpPurgedAt;

  @Override
  public Future<Void> putMcpSession(String mcpSessionId, String json, long ttlMillis) {
    long now = now();
    purgeMcp(now);
    mcpSessions.put(mcpSessionId, new McpState(json, now + ttlMillis));
    return Future.succeededFuture();
  }

  @Override
  public Future<String> getMcpSession(String mcpSessionId, long ttlMillis) {
    long now = now();
    McpState state = mcpSessions.computeIfPresent(mcpSessionId,
        (id, old) -> old.expiresAt() > now ? new McpState(old.json(), now + ttlMillis) : null);
    return Future.succeededFuture(state == null ? null : state.json());
  }

  @Override
  public Future<Boolean> replaceMcpSession(String mcpSessionId, String expected, String json, long ttlMillis) {
    long now = now();
    boolean[] replaced = {false};
    mcpSessions.computeIfPresent(mcpSessionId, (id, old) -> {
      if (old.expiresAt() <= now) {
        return null;
      }
      if (!old.json().equals(expected)) {
        return old;
      }
      replaced[0] = true;
      return new McpState(json, now + ttlMillis);
    });
    return Future.succeededFuture(replaced[0]);
  }

  @Override
  public Future<Boolean> touchMcpSession(String mcpSessionId, long ttlMillis) {
    return getMcpSession(mcpSessionId, ttlMillis).map(json -> json != null);
  }

  @Override
  public Future<Boolean> deleteMcpSession(String mcpSessionId) {
    mcpEvents.remove(mcpSessionId);
    McpState state = mcpSessions.remove(mcpSessionId);
    return Future.succeededFuture(state != null && state.expiresAt() > now());
  }

  @Override
  public Future<String> appendMcpEvent(String mcpSessionId, String stream, String data, int maxEvents,
                                       long ttlMillis) {
    long now = now();
    McpState state = mcpSessions.get(mcpSessionId);
    if (state == null || state.expiresAt() <= now) {
      return Future.succeededFuture(null);
    }
    String[] id = new String[1];
    mcpEvents.compute(mcpSessionId, (k, old) -> {
      java.util.ArrayDeque<McpEvent> events = old == null || old.expiresAt() <= now ? new java.util.ArrayDeque<>()
          : new java.util.ArrayDeque<>(old.events());
      id[0] = mcpEventSeq.incrementAndGet() + "-0";
      events.addLast(new McpEvent(id[0], stream + "\n" + data));
      while (events.size() > Math.max(1, maxEvents)) {
        events.removeFirst();
      }
      return new McpEvents(events, now + ttlMillis);
    });
    return Future.succeededFuture(id[0]);
  }

  @Override
  public Future<List<McpEvent>> mcpEventsAfter(String mcpSessionId, String stream, String afterId) {
    McpEvents kept = mcpEvents.get(mcpSessionId);
    if (kept == null || kept.expiresAt() <= now()) {
      return Future.succeededFuture(null);
    }
    List<McpEvent> out = new ArrayList<>();
    boolean found = false;
    String prefix = stream + "\n";
    for (McpEvent e : kept.events()) {
      if (found && e.data().startsWith(prefix)) {
        out.add(new McpEvent(e.id(), e.data().substring(prefix.length())));
      }
      found |= e.id().equals(afterId);
    }
    return Future.succeededFuture(found ? out : null);
  }

  /** Expired MCP states and events go at most once a minute, as nobody may ever ask for them again. */
  private void purgeMcp(long now) {
    if (now - mcpPurgedAt > 60_000) {
      mcpPurgedAt = now;
      mcpSessions.values().removeIf(s -> s.expiresAt() <= now);
      mcpEvents.values().removeIf(e -> e.expiresAt() <= now);
    }
  }
}
