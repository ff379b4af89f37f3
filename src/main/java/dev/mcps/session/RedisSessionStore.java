package dev.mcps.session;

import dev.mcps.session.RedisPipelines.Retry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Sessions in Redis, laid out as DESIGN.md §6 says, so that several instances share them and operators can read them
 * with redis-cli. Every change that touches more than one key is one Lua script (atomic, one round trip).
 *
 * <p>The scripts derive key names from the prefix they are given, so this store needs a single Redis node (not a
 * cluster). Times are this JVM's clock, passed in; Redis's own key expiry (PX = idle timeout) decides whether a
 * session still exists, the sorted-set score orders sessions for listing, counting, eviction and the sweep.
 *
 * <p>The session JSON is always the string encoded here: the scripts only {@code cjson.decode} it to read
 * {@code version} and {@code userId}, because re-encoding it in Lua would mangle large numbers in the notes.
 *
 * <p>Commands go through {@link RedisPipelines}: one connection per event loop, a deadline on every command, a failed
 * connection replaced. Each script says whether it may run twice; only those are repeated after a connection fault,
 * so a repeat never doubles a change. What a fault could leave behind is cleaned up here: a lock attempt whose answer
 * was lost releases its token, a release that cannot reach Redis keeps trying, and a turn's append carries its turn
 * id so that the repeat that settles it lands at most once. Every future completes on the caller's context.
 */
public final class RedisSessionStore implements SessionStore {

  /** Far more than one instance can meet: within an instance, updates of one session never race each other. */
  private static final int MAX_UPDATE_ATTEMPTS = 50;
  /** Conflicts up to here retry at once; later ones wait a little, so that instances fighting over one session part. */
  private static final int IMMEDIATE_RETRIES = 3;
  private static final int CONNECT_TIMEOUT_MILLIS = 1000;
  /**
   * The command deadline of the constructor that predates the setting (tests and tools that build a store directly);
   * a server passes STORE_TIMEOUT_MS.
   */
  private static final long DEFAULT_COMMAND_TIMEOUT_MILLIS = 10_000;
  /** How many turn ids a session remembers for {@link #appendTurn}: far more than one turn's retries need. */
  static final int RECENT_TURNS = 32;
  /** How long a lock release that cannot reach Redis goes on trying (past any turn lock's expiry). */
  private static final long RELEASE_PERSIST_MILLIS = 5 * 60_000;
  private static final long RELEASE_FIRST_BACKOFF_MILLIS = 100;
  private static final long RELEASE_MAX_BACKOFF_MILLIS = 2_000;

  private static final String PRELUDE = """
      local P, NOW, TTL = ARGV[1], ARGV[2], ARGV[3]
      local ZKEY = P .. 'sessions'
      local function skey(id) return P .. 'session:' .. id end
      local function hkey(id) return P .. 'session:' .. id .. ':history' end
      local function tkey(id) return P .. 'session:' .. id .. ':turns' end
      local function ukey(user) return P .. 'user:' .. user end
      local function user_in(s)
        if type(s) == 'table' and type(s.userId) == 'string' then return s.userId end
        return false
      end
      local function user_of(json)
        local ok, s = pcall(cjson.decode, json)
        if ok then return user_in(s) end
        return false
      end
      local function touch(id, user)
        redis.call('PEXPIRE', skey(id), TTL)
        redis.call('PEXPIRE', hkey(id), TTL)
        redis.call('PEXPIRE', tkey(id), TTL)
        redis.call('ZADD', ZKEY, NOW, id)
        if user then redis.call('SET', ukey(user), id, 'PX', TTL) end
      end
      local function remove(id)
        local json = redis.call('GET', skey(id))
        local user = false
        if json then user = user_of(json) end
        if user and redis.call('GET', ukey(user)) == id then redis.call('DEL', ukey(user)) end
        redis.call('DEL', skey(id), hkey(id), tkey(id))
        redis.call('ZREM', ZKEY, id)
        return user
      end
      local function push(id, first)
        for i = first, #ARGV, 1000 do
          redis.call('RPUSH', hkey(id), unpack(ARGV, i, math.min(i + 999, #ARGV)))
        end
      end
      -- Up to n of the least recently used sessions without a user (or already expired), for an anonymous insert.
      local function evict_anonymous(n, evicted)
        local from = 0
        while #evicted < 2 * n do
          local batch = redis.call('ZRANGE', ZKEY, from, from + 99)
          if #batch == 0 then break end
          local removed = 0
          for _, victim in ipairs(batch) do
            if #evicted < 2 * n then
              local vjson = redis.call('GET', skey(victim))
              if not vjson or not user_of(vjson) then
                evicted[#evicted + 1] = victim
                evicted[#evicted + 1] = remove(victim)
                removed = removed + 1
              end
            end
          end
          from = from + #batch - removed
        end
      end
      -- Returns false when an anonymous session finds no room: it never evicts a user's session.
      local function insert(id, json, user, max, evict)
        local evicted = {}
        if redis.call('ZCARD', ZKEY) >= tonumber(max) then
          if user then
            for _, victim in ipairs(redis.call('ZRANGE', ZKEY, 0, tonumber(evict) - 1)) do
              evicted[#evicted + 1] = victim
              evicted[#evicted + 1] = remove(victim)
            end
          else
            evict_anonymous(tonumber(evict), evicted)
            if #evicted == 0 then return false end
          end
        end
        redis.call('SET', skey(id), json, 'PX', TTL)
        redis.call('ZADD', ZKEY, NOW, id)
        if user then redis.call('SET', ukey(user), id, 'PX', TTL) end
        return evicted
      end
      """;

  // Common ARGV: 1 prefix, 2 now, 3 idle timeout (ms), 4 session id (or a script-specific value), then the rest.

  /**
   * ARGV 5 json, 6 userId or '', 7 cap, 8 how many to evict. Reply: flat (evicted id, its userId or nil) pairs, or nil
   * when an anonymous session finds no room.
   */
  private static final Script CREATE = new Script(Retry.ONLY_IF_UNSENT, """
      local user = false
      if ARGV[6] ~= '' then user = ARGV[6] end
      return insert(ARGV[4], ARGV[5], user, ARGV[7], ARGV[8])
      """);

  /** As CREATE. Reply: {0, json, history length} for the user's live session, or {1, evicted pairs...}. */
  private static final Script GET_OR_CREATE = new Script(Retry.AFTER_FAULT, """
      local user = ARGV[6]
      local current = redis.call('GET', ukey(user))
      if current then
        local json = redis.call('GET', skey(current))
        if json then
          touch(current, user)
          return {0, json, redis.call('LLEN', hkey(current))}
        end
      end
      local out = {1}
      for _, v in ipairs(insert(ARGV[4], ARGV[5], user, ARGV[7], ARGV[8])) do out[#out + 1] = v end
      return out
      """);

  /** Reply: {json, history length}, or nil. Makes the session its user's current one. */
  private static final Script GET = new Script(Retry.AFTER_FAULT, """
      local json = redis.call('GET', skey(ARGV[4]))
      if not json then return false end
      touch(ARGV[4], user_of(json))
      return {json, redis.call('LLEN', hkey(ARGV[4]))}
      """);

  /** Read-only. Reply: {json, score or nil, history length}, or nil. */
  private static final Script PEEK = new Script(Retry.AFTER_FAULT, """
      local json = redis.call('GET', skey(ARGV[4]))
      if not json then return false end
      return {json, redis.call('ZSCORE', ZKEY, ARGV[4]), redis.call('LLEN', hkey(ARGV[4]))}
      """);

  /**
   * Compare-and-set on the version. ARGV 5 expected version, 6 new json, 7 '1' to empty the history as well.
   * Reply: {1, history length} when saved, {0, current json} on a conflict, nil when the session is gone.
   */
  private static final Script SAVE_IF_VERSION = new Script(Retry.ONLY_IF_UNSENT, """
      local id = ARGV[4]
      local current = redis.call('GET', skey(id))
      if not current then return false end
      local s = cjson.decode(current)
      if tonumber(s.version or 0) ~= tonumber(ARGV[5]) then return {0, current} end
      redis.call('SET', skey(id), ARGV[6], 'PX', TTL)
      if ARGV[7] == '1' then redis.call('DEL', hkey(id)) end
      touch(id, user_in(s))
      return {1, redis.call('LLEN', hkey(id))}
      """);

  /** Reply: the history (possibly empty), or nil when the session is gone. */
  private static final Script HISTORY = new Script(Retry.AFTER_FAULT, """
      local json = redis.call('GET', skey(ARGV[4]))
      if not json then return false end
      touch(ARGV[4], user_of(json))
      return redis.call('LRANGE', hkey(ARGV[4]), 0, -1)
      """);

  /** ARGV 5.. messages. Reply: the new length, or nil when the session is gone. */
  private static final Script APPEND_HISTORY = new Script(Retry.ONLY_IF_UNSENT, """
      local json = redis.call('GET', skey(ARGV[4]))
      if not json then return false end
      push(ARGV[4], 5)
      touch(ARGV[4], user_of(json))
      return redis.call('LLEN', hkey(ARGV[4]))
      """);

  /**
   * ARGV 5 turn id, 6 how many of the oldest messages to drop, 7.. the turn's messages. Reply: the new length, or nil
   * when the session is gone. A turn id seen before changes nothing and answers the length recorded then, so the call
   * can be repeated when its outcome is unknown. The recent turn ids are a short list of "{turnId} {length}" entries.
   */
  private static final Script APPEND_TURN = new Script(Retry.SETTLE, """
      local id, mark = ARGV[4], ARGV[5] .. ' '
      local json = redis.call('GET', skey(id))
      if not json then return false end
      for _, seen in ipairs(redis.call('LRANGE', tkey(id), 0, -1)) do
        if string.sub(seen, 1, #mark) == mark then
          touch(id, user_of(json))
          return tonumber(string.sub(seen, #mark + 1))
        end
      end
      local drop = tonumber(ARGV[6])
      if drop > 0 then redis.call('LTRIM', hkey(id), drop, -1) end
      push(id, 7)
      local n = redis.call('LLEN', hkey(id))
      redis.call('LPUSH', tkey(id), mark .. n)
      redis.call('LTRIM', tkey(id), 0, %d)
      touch(id, user_of(json))
      return n
      """.formatted(RECENT_TURNS - 1));

  /** ARGV 5 turn id. Reply: the length that turn left, or nil when it did not land or the session is gone. */
  private static final Script STORED_TURN = new Script(Retry.AFTER_FAULT, """
      local id, mark = ARGV[4], ARGV[5] .. ' '
      if redis.call('EXISTS', skey(id)) == 0 then return false end
      for _, seen in ipairs(redis.call('LRANGE', tkey(id), 0, -1)) do
        if string.sub(seen, 1, #mark) == mark then return tonumber(string.sub(seen, #mark + 1)) end
      end
      return false
      """);

  /** ARGV 5.. messages. Reply: 1, or 0 when the session is gone. */
  private static final Script REPLACE_HISTORY = new Script(Retry.AFTER_FAULT, """
      local json = redis.call('GET', skey(ARGV[4]))
      if not json then return 0 end
      redis.call('DEL', hkey(ARGV[4]))
      push(ARGV[4], 5)
      touch(ARGV[4], user_of(json))
      return 1
      """);

  /** Reply: {userId or nil}, or nil when the session is gone. */
  private static final Script DELETE = new Script(Retry.ONLY_IF_UNSENT, """
      if not redis.call('GET', skey(ARGV[4])) then return false end
      return {remove(ARGV[4])}
      """);

  /**
   * Read-only. ARGV 4 lowest live score (exclusive, '(' prefixed), 5 offset, 6 limit.
   * Reply: {live count, then (json, score, history length) per listed session}.
   */
  private static final Script LIST = new Script(Retry.AFTER_FAULT, """
      local total = redis.call('ZCOUNT', ZKEY, ARGV[4], '+inf')
      local out = {total}
      local page = redis.call('ZREVRANGEBYSCORE', ZKEY, '+inf', ARGV[4], 'WITHSCORES', 'LIMIT', ARGV[5], ARGV[6])
      for i = 1, #page, 2 do
        local json = redis.call('GET', skey(page[i]))
        if json then
          out[#out + 1] = json
          out[#out + 1] = page[i + 1]
          out[#out + 1] = redis.call('LLEN', hkey(page[i]))
        end
      end
      return out
      """);

  /**
   * ARGV 4 highest expired score (inclusive). Also drops members whose key vanished while their score looks live
   * (deleted by hand, or Redis's clock running ahead of ours). Reply: {before, after, then (id, userId or nil)...}.
   */
  private static final Script SWEEP = new Script(Retry.AFTER_FAULT, """
      local before = redis.call('ZCARD', ZKEY)
      local gone = redis.call('ZRANGEBYSCORE', ZKEY, '-inf', ARGV[4])
      for _, id in ipairs(redis.call('ZRANGEBYSCORE', ZKEY, '(' .. ARGV[4], '+inf')) do
        if redis.call('EXISTS', skey(id)) == 0 then gone[#gone + 1] = id end
      end
      local out = {before, 0}
      for _, id in ipairs(gone) do
        out[#out + 1] = id
        out[#out + 1] = remove(id)
      end
      out[2] = redis.call('ZCARD', ZKEY)
      return out
      """);

  /** Deletes the lock only while it still holds the caller's token. ARGV 4 lock key, 5 token. */
  private static final Script UNLOCK = new Script(Retry.SETTLE, """
      if redis.call('GET', ARGV[4]) == ARGV[5] then return redis.call('DEL', ARGV[4]) end
      return 0
      """);

  private final Vertx vertx;
  /** Every command goes through here: one pipelined connection per event loop, each command with a deadline. */
  private final RedisPipelines redis;
  private final String prefix;
  private final long idleTimeoutMillis;
  private final int maxSessions;
  private final int evictPerCreate;
  private final SessionCodec codec;
  /** Tail of the pending updates per session id: this instance applies one session's updates one after another. */
  private final ConcurrentHashMap<String, Future<?>> updateLanes = new ConcurrentHashMap<>();

  /** With a {@value #DEFAULT_COMMAND_TIMEOUT_MILLIS} ms command deadline; {@code poolSize} is not used any more. */
  public RedisSessionStore(Vertx vertx, String redisUrl, String keyPrefix, int poolSize, long idleTimeoutMillis,
                           int maxSessions, SessionCodec codec) {
    this(vertx, redisUrl, keyPrefix, idleTimeoutMillis, maxSessions, codec, DEFAULT_COMMAND_TIMEOUT_MILLIS);
  }

  /**
   * {@code commandTimeoutMillis}: the deadline of every command (STORE_TIMEOUT_MS); a connection that misses it is
   * closed and replaced.
   */
  public RedisSessionStore(Vertx vertx, String redisUrl, String keyPrefix, long idleTimeoutMillis, int maxSessions,
                           SessionCodec codec, long commandTimeoutMillis) {
    this.vertx = vertx;
    this.prefix = keyPrefix == null ? "mcps:" : keyPrefix;
    this.idleTimeoutMillis = idleTimeoutMillis;
    this.maxSessions = maxSessions;
    this.evictPerCreate = Math.max(1, (int) Math.floor(maxSessions * 0.1));
    this.codec = codec;
    RedisOptions options = new RedisOptions().setConnectionString(redisUrl);
    // A stopped Redis must fail requests within a second, so that health checks and callers degrade quickly.
    options.getNetClientOptions().setConnectTimeout((int) Math.min(CONNECT_TIMEOUT_MILLIS, commandTimeoutMillis));
    this.redis = new RedisPipelines(vertx, options, commandTimeoutMillis);
  }

  private Future<Response> send(Request request, Retry retry) {
    return redis.send(request, retry);
  }

  @Override
  public String type() {
    return "redis";
  }

  @Override
  public Future<Resolved> create(SessionEnv fresh) {
    long now = now();
    JsonObject stored = codec.encode(fresh);
    return run(CREATE, now, fresh.sessionId(), stored.encode(), orEmpty(fresh.userId()), String.valueOf(maxSessions),
        String.valueOf(evictPerCreate))
        .map(reply -> {
          if (reply == null) {
            throw SessionStore.sessionLimitReached();
          }
          return new Resolved(codec.decode(stored, now), true, removedPairs(reply, 0));
        });
  }

  @Override
  public Future<Resolved> getOrCreateForUser(SessionEnv fresh) {
    if (fresh.userId() == null) {
      return Future.failedFuture(new IllegalArgumentException("getOrCreateForUser needs a session with a userId"));
    }
    long now = now();
    JsonObject stored = codec.encode(fresh);
    return run(GET_OR_CREATE, now, fresh.sessionId(), stored.encode(), fresh.userId(), String.valueOf(maxSessions),
        String.valueOf(evictPerCreate))
        .map(reply -> reply.get(0).toInteger() == 0
            ? new Resolved(decode(reply.get(1), now, reply.get(2)), false, List.of())
            : new Resolved(codec.decode(stored, now), true, removedPairs(reply, 1)));
  }

  @Override
  public Future<SessionEnv> get(String sessionId) {
    long now = now();
    return run(GET, now, sessionId).map(reply -> reply == null ? null : decode(reply.get(0), now, reply.get(1)));
  }

  @Override
  public Future<SessionEnv> peek(String sessionId) {
    return run(PEEK, now(), sessionId).map(reply -> {
      if (reply == null) {
        return null;
      }
      JsonObject json = new JsonObject(reply.get(0).toString());
      // The scripts write key and score together; a key without a score was made by hand in redis-cli.
      long lastAccess = reply.get(1) == null ? json.getLong("createdAt", 0L) : score(reply.get(1));
      SessionEnv s = codec.decode(json, lastAccess);
      s.setHistoryLength(reply.get(2).toInteger());
      return s;
    });
  }

  @Override
  public Future<SessionEnv> update(String sessionId, Consumer<SessionEnv> change) {
    return inLane(sessionId, () -> readAndSave(sessionId, change, false));
  }

  @Override
  public Future<Boolean> reset(String sessionId) {
    return inLane(sessionId, () -> readAndSave(sessionId, SessionEnv::clearNotes, true)).map(s -> s != null);
  }

  @Override
  public Future<List<JsonObject>> history(String sessionId) {
    return run(HISTORY, now(), sessionId).map(reply -> {
      if (reply == null) {
        return null;
      }
      List<JsonObject> out = new ArrayList<>(reply.size());
      for (Response message : reply) {
        out.add(new JsonObject(message.toString()));
      }
      return out;
    });
  }

  @Override
  public Future<Integer> appendHistory(String sessionId, List<JsonObject> messages) {
    List<String> args = args(now(), sessionId);
    messages.forEach(m -> args.add(m.encode()));
    return run(APPEND_HISTORY, args).map(reply -> reply == null ? null : reply.toInteger());
  }

  @Override
  public Future<Integer> appendTurn(String sessionId, String turnId, int dropOldest, List<JsonObject> messages) {
    List<String> args = args(now(), sessionId, turnId, String.valueOf(Math.max(0, dropOldest)));
    messages.forEach(m -> args.add(m.encode()));
    // When the first call's outcome is unknown (lost answer, dropped connection, missed deadline) the same call goes
    // once more, and the turn id makes sure it lands at most once: that settles the outcome before the answer.
    return run(APPEND_TURN, args).map(reply -> reply == null ? null : reply.toInteger());
  }

  @Override
  public Future<Integer> storedTurn(String sessionId, String turnId) {
    return run(STORED_TURN, now(), sessionId, turnId).map(reply -> reply == null ? null : reply.toInteger());
  }

  @Override
  public Future<Boolean> replaceHistory(String sessionId, List<JsonObject> messages) {
    List<String> args = args(now(), sessionId);
    messages.forEach(m -> args.add(m.encode()));
    return run(REPLACE_HISTORY, args).map(reply -> reply != null && reply.toInteger() == 1);
  }

  @Override
  public Future<Removed> delete(String sessionId) {
    return run(DELETE, now(), sessionId)
        .map(reply -> reply == null ? null : new Removed(sessionId, text(reply.get(0))));
  }

  @Override
  public Future<Page> list(int offset, int limit) {
    long now = now();
    return run(LIST, now, "(" + (now - idleTimeoutMillis), String.valueOf(Math.max(0, offset)),
        String.valueOf(Math.max(0, limit)))
        .map(reply -> {
          List<SessionEnv> sessions = new ArrayList<>();
          for (int i = 1; i + 2 < reply.size(); i += 3) {
            SessionEnv s = codec.decode(new JsonObject(reply.get(i).toString()), score(reply.get(i + 1)));
            s.setHistoryLength(reply.get(i + 2).toInteger());
            sessions.add(s);
          }
          return new Page(reply.get(0).toLong(), sessions);
        });
  }

  @Override
  public Future<Long> count() {
    long now = now();
    return send(Request.cmd(Command.ZCOUNT).arg(prefix + "sessions").arg("(" + (now - idleTimeoutMillis))
        .arg("+inf"), Retry.AFTER_FAULT).map(Response::toLong);
  }

  @Override
  public Future<Sweep> sweep() {
    long now = now();
    return run(SWEEP, now, String.valueOf(now - idleTimeoutMillis))
        .map(reply -> new Sweep(reply.get(0).toLong(), reply.get(1).toLong(), removedPairs(reply, 2)));
  }

  @Override
  public Future<String> tryLock(String sessionId, long ttlMillis) {
    String token = SessionEnv.randomId();
    return send(Request.cmd(Command.SET).arg(prefix + "lock:" + sessionId).arg(token).arg("NX").arg("PX")
        .arg(ttlMillis), Retry.ONLY_IF_UNSENT)
        .map(reply -> reply == null ? null : token)
        .recover(err -> {
          if (err instanceof RedisPipelines.RedisFault fault && fault.mayHaveRun()) {
            // The SET may have landed before its connection failed; only this token can release it, so release it
            // (and keep trying while Redis is out of reach).
            unlock(sessionId, token);
          }
          return Future.failedFuture(err);
        });
  }

  /**
   * Releases the lock; when Redis cannot be reached the release goes on in the background (with backoff, for a few
   * minutes) until it lands. Otherwise a turn that failed in an outage would leave its lock for the whole lock
   * expiry, and the session's next turn after the outage would wait for it. Releasing late is harmless: the script
   * deletes the lock only while it still holds this token.
   */
  @Override
  public Future<Void> unlock(String sessionId, String token) {
    return untilReleased(() -> run(UNLOCK, now(), prefix + "lock:" + sessionId, token).mapEmpty());
  }

  /**
   * Runs {@code release} (a script that deletes only what the caller holds, so running it late or twice is
   * harmless); when it fails it goes on in the background, with backoff, for a few minutes until it lands.
   */
  private Future<Void> untilReleased(Supplier<Future<Void>> release) {
    Future<Void> first = release.get();
    first.onFailure(err -> releaseLater(release, now() + RELEASE_PERSIST_MILLIS, RELEASE_FIRST_BACKOFF_MILLIS));
    return first;
  }

  private void releaseLater(Supplier<Future<Void>> release, long until, long backoff) {
    if (redis.isClosed() || now() + backoff > until) {
      return;
    }
    vertx.timer(backoff, TimeUnit.MILLISECONDS).compose(v -> release.get())
        .onFailure(err -> releaseLater(release, until, Math.min(RELEASE_MAX_BACKOFF_MILLIS, backoff * 2)));
  }

  @Override
  public Future<Void> ping() {
    return send(Request.cmd(Command.PING), Retry.AFTER_FAULT).mapEmpty();
  }

  @Override
  public Future<Void> close() {
    return redis.close();
  }

  // --- update: read, apply the change in Java, save if nobody saved in between ---

  private Future<SessionEnv> readAndSave(String sessionId, Consumer<SessionEnv> change, boolean clearHistory) {
    return send(Request.cmd(Command.GET).arg(prefix + "session:" + sessionId), Retry.AFTER_FAULT)
        .compose(json -> json == null
            ? Future.succeededFuture(null)
            : save(sessionId, json.toString(), change, clearHistory, 1));
  }

  private Future<SessionEnv> save(String sessionId, String currentJson, Consumer<SessionEnv> change,
                                  boolean clearHistory, int attempt) {
    long now = now();
    SessionEnv s;
    String json;
    long expected;
    try {
      s = codec.decode(new JsonObject(currentJson), now);
      expected = s.version();
      change.accept(s);
      s.setVersion(expected + 1);
      json = codec.encode(s).encode();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return run(SAVE_IF_VERSION, now, sessionId, String.valueOf(expected), json, clearHistory ? "1" : "0")
        .compose(reply -> {
          if (reply == null) {
            return Future.succeededFuture(null);
          }
          if (reply.get(0).toInteger() == 1) {
            s.setHistoryLength(reply.get(1).toInteger());
            return Future.succeededFuture(s);
          }
          if (attempt >= MAX_UPDATE_ATTEMPTS) {
            return Future.failedFuture(new IllegalStateException(
                "session " + sessionId + ": gave up after " + attempt + " conflicting concurrent updates"));
          }
          // The conflict reply carries the newer state, so a retry costs one round trip.
          String newer = reply.get(1).toString();
          if (attempt < IMMEDIATE_RETRIES) {
            return save(sessionId, newer, change, clearHistory, attempt + 1);
          }
          // The state may be stale after the pause: a conflict then just comes round once more.
          return vertx.timer(1 + ThreadLocalRandom.current().nextInt(Math.min(50, 2 * attempt)))
              .compose(v -> save(sessionId, newer, change, clearHistory, attempt + 1));
        });
  }

  /**
   * Runs {@code op} after every earlier update of the same session on this instance has finished. Without this,
   * N concurrent updates of one session would cost O(N²) compare-and-set attempts; with it, only other instances
   * can conflict.
   */
  private <T> Future<T> inLane(String sessionId, Supplier<Future<T>> op) {
    // The op runs, and its answer arrives, on the caller's context: not on the context of the update it waited for.
    ContextInternal caller = OnCaller.caller(vertx);
    PromiseInternal<T> done = caller.promise();
    Future<T> mine = done.future();
    Future<?> before = updateLanes.put(sessionId, mine);
    Runnable start = () -> {
      Future<T> f;
      try {
        f = op.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(done);
    };
    if (before == null && caller.isRunningOnContext()) {
      start.run();
    } else if (before == null) {
      caller.runOnContext(v -> start.run());
    } else {
      before.onComplete(ignored -> caller.runOnContext(v -> start.run()));
    }
    mine.onComplete(ar -> updateLanes.remove(sessionId, mine));
    return mine;
  }

  // --- scripts ---

  /** A Lua script sent by its SHA1, with its text at hand for a server that has not seen it (yet, or since a restart). */
  private record Script(String text, String sha, Retry retry) {
    /** {@code retry}: whether running it twice leaves what running it once does, and whether its outcome matters. */
    Script(Retry retry, String body) {
      this(PRELUDE + body, sha1(PRELUDE + body), retry);
    }
  }

  private List<String> args(long now, String first, String... more) {
    List<String> args = new ArrayList<>(4 + more.length);
    args.add(prefix);
    args.add(String.valueOf(now));
    args.add(String.valueOf(idleTimeoutMillis));
    args.add(first);
    args.addAll(List.of(more));
    return args;
  }

  private Future<Response> run(Script script, long now, String first, String... more) {
    return run(script, args(now, first, more));
  }

  private Future<Response> run(Script script, List<String> args) {
    return eval(script.text(), script.sha(), script.retry(), List.of(), args);
  }

  /**
   * Runs a Lua script that is not the store's own (the per-user limits keep their state beside the sessions) on the
   * store's connections, with its command deadline: by its SHA1, by its text when Redis does not know it (yet, or
   * since a restart). {@code mayRunTwice}: whether a repeat after a connection fault does no harm.
   */
  public Future<Response> eval(String text, String sha, boolean mayRunTwice, List<String> keys, List<String> args) {
    return eval(text, sha, mayRunTwice ? Retry.AFTER_FAULT : Retry.ONLY_IF_UNSENT, keys, args);
  }

  /** A single command on the store's connections (see {@link #eval}). */
  public Future<Response> command(Request request, boolean mayRunTwice) {
    return send(request, mayRunTwice ? Retry.AFTER_FAULT : Retry.ONLY_IF_UNSENT);
  }

  /** The SHA1 EVALSHA names a script by. */
  public static String scriptSha(String text) {
    return sha1(text);
  }

  private Future<Response> eval(String text, String sha, Retry retry, List<String> keys, List<String> args) {
    return send(scriptRequest(Command.EVALSHA, sha, keys, args), retry)
        .recover(err -> isNoScript(err)
            ? send(scriptRequest(Command.EVAL, text, keys, args), retry)
            : Future.failedFuture(err));
  }

  /** The store's own scripts declare no keys: they derive them from the prefix (single-node Redis, see above). */
  private static Request scriptRequest(Command command, String scriptOrSha, List<String> keys, List<String> args) {
    Request r = Request.cmd(command).arg(scriptOrSha).arg(keys.size());
    for (String k : keys) {
      r.arg(k);
    }
    for (String a : args) {
      r.arg(a);
    }
    return r;
  }

  private static boolean isNoScript(Throwable err) {
    String m = err.getMessage();
    return m != null && (m.startsWith("NOSCRIPT") || m.startsWith("ERR NOSCRIPT"));
  }

  private static String sha1(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is part of every JVM", e);
    }
  }

  // --- replies ---

  private SessionEnv decode(Response json, long lastAccess, Response historyLength) {
    SessionEnv s = codec.decode(new JsonObject(json.toString()), lastAccess);
    s.setHistoryLength(historyLength.toInteger());
    return s;
  }

  private static List<Removed> removedPairs(Response reply, int from) {
    List<Removed> out = new ArrayList<>();
    for (int i = from; i + 1 < reply.size(); i += 2) {
      out.add(new Removed(reply.get(i).toString(), text(reply.get(i + 1))));
    }
    return out;
  }

  private static String text(Response r) {
    return r == null ? null : r.toString();
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  /** Redis may render a score as "1.7e12"-style or with a fraction; ours are whole milliseconds. */
  private static long score(Response r) {
    return (long) Double.parseDouble(r.toString());
  }

  private static long now() {
    return System.currentTimeMillis();
  }

  // --- Idempotency-Key records: mcps:idem:{userId}:{key}, plain JSON text with a PX expiry ---

  /**
   * ARGV 4 key, 5 pending record, 6 ttl (ms). Reply: nil when claimed, else the record already there. Finding its
   * own claim counts as claimed, so a retry after a lost reply is safe.
   */
  private static final Script IDEM_CLAIM = new Script(Retry.SETTLE, """
      local current = redis.call('GET', ARGV[4])
      if current == ARGV[5] then return false end
      if current then return current end
      redis.call('SET', ARGV[4], ARGV[5], 'PX', ARGV[6])
      return false
      """);

  /** ARGV 4 key, 5 pending record, 6 outcome record, 7 ttl (ms): the outcome replaces the claim it belongs to. */
  private static final Script IDEM_COMPLETE = new Script(Retry.SETTLE, """
      if redis.call('GET', ARGV[4]) == ARGV[5] then redis.call('SET', ARGV[4], ARGV[6], 'PX', ARGV[7]) end
      return 0
      """);

  /** ARGV 4 key, 5 pending record: deleted only while it is still that claim. */
  private static final Script IDEM_RELEASE = new Script(Retry.AFTER_FAULT, """
      if redis.call('GET', ARGV[4]) == ARGV[5] then redis.call('DEL', ARGV[4]) end
      return 0
      """);

  @Override
  public Future<String> claimIdempotency(String scopedKey, String pending, long ttlMillis) {
    return run(IDEM_CLAIM, now(), prefix + "idem:" + scopedKey, pending, String.valueOf(ttlMillis))
        .map(reply -> reply == null ? null : reply.toString())
        .recover(err -> {
          if (err instanceof RedisPipelines.RedisFault fault && fault.mayHaveRun()) {
            // The claim may have landed; the caller answers 503, so a retry of the request (with a claim of its
            // own) would wait for a turn that never runs: only this claim's holder can release it.
            releaseIdempotency(scopedKey, pending);
          }
          return Future.failedFuture(err);
        });
  }

  @Override
  public Future<Void> completeIdempotency(String scopedKey, String pending, String record, long ttlMillis) {
    return run(IDEM_COMPLETE, now(), prefix + "idem:" + scopedKey, pending, record, String.valueOf(ttlMillis))
        .mapEmpty();
  }

  @Override
  public Future<Void> releaseIdempotency(String scopedKey, String pending) {
    // A release lost in an outage would leave the claim "running" for its whole expiry, and every retry of that
    // request would wait for it.
    return untilReleased(() -> run(IDEM_RELEASE, now(), prefix + "idem:" + scopedKey, pending).mapEmpty());
  }

  // --- Streamable MCP sessions: mcps:mcp:{id} (JSON text, PX = the MCP idle time) and mcps:mcp:{id}:events (a
  // capped Redis stream of {stream, data} entries; its ids are Redis's, growing, so "after this id" is a range) ---

  /** ARGV 4 mcp id, 5 ttl (ms). Reply: the state, its expiry pushed, or nil. */
  private static final Script MCP_GET = new Script(Retry.AFTER_FAULT, """
      local key = P .. 'mcp:' .. ARGV[4]
      local json = redis.call('GET', key)
      if json then redis.call('PEXPIRE', key, ARGV[5]) end
      return json
      """);

  /** ARGV 4 mcp id, 5 expected state, 6 new state, 7 ttl (ms). Reply: 1 when replaced. */
  private static final Script MCP_REPLACE = new Script(Retry.SETTLE, """
      local key = P .. 'mcp:' .. ARGV[4]
      local json = redis.call('GET', key)
      if json == ARGV[6] then redis.call('PEXPIRE', key, ARGV[7]) return 1 end
      if json ~= ARGV[5] then return 0 end
      redis.call('SET', key, ARGV[6], 'PX', ARGV[7])
      return 1
      """);

  /**
   * ARGV 4 mcp id, 5 stream, 6 data, 7 max events, 8 ttl (ms). Reply: the new event's id, or nil when the session is
   * unknown (an ended session gets no events key back). Never repeated: a repeat would keep the event twice.
   */
  private static final Script MCP_APPEND = new Script(Retry.ONLY_IF_UNSENT, """
      local key = P .. 'mcp:' .. ARGV[4]
      if redis.call('EXISTS', key) == 0 then return false end
      local events = key .. ':events'
      local id = redis.call('XADD', events, 'MAXLEN', ARGV[7], '*', 'stream', ARGV[5], 'data', ARGV[6])
      redis.call('PEXPIRE', events, ARGV[8])
      return id
      """);

  /**
   * Read-only. ARGV 4 mcp id, 5 stream, 6 the last event id the client saw. Reply: nil when that event is not kept,
   * else flat (id, data) pairs of the stream's later events.
   */
  private static final Script MCP_AFTER = new Script(Retry.AFTER_FAULT, """
      local events = P .. 'mcp:' .. ARGV[4] .. ':events'
      if #redis.call('XRANGE', events, ARGV[6], ARGV[6]) == 0 then return false end
      local out = {}
      for _, e in ipairs(redis.call('XRANGE', events, '(' .. ARGV[6], '+')) do
        local f, stream, data = e[2], nil, nil
        for i = 1, #f, 2 do
          if f[i] == 'stream' then stream = f[i + 1] elseif f[i] == 'data' then data = f[i + 1] end
        end
        if stream == ARGV[5] then
          out[#out + 1] = e[1]
          out[#out + 1] = data
        end
      end
      return out
      """);

  private String mcpKey(String mcpSessionId) {
    return prefix + "mcp:" + mcpSessionId;
  }

  @Override
  public Future<Void> putMcpSession(String mcpSessionId, String json, long ttlMillis) {
    return send(Request.cmd(Command.SET).arg(mcpKey(mcpSessionId)).arg(json).arg("PX").arg(ttlMillis),
        Retry.AFTER_FAULT).mapEmpty();
  }

  @Override
  public Future<String> getMcpSession(String mcpSessionId, long ttlMillis) {
    return run(MCP_GET, now(), mcpSessionId, String.valueOf(ttlMillis)).map(RedisSessionStore::text);
  }

  @Override
  public Future<Boolean> replaceMcpSession(String mcpSessionId, String expected, String json, long ttlMillis) {
    // Finding its own value counts as replaced: a repeat after a lost answer settles the first attempt's outcome.
    return run(MCP_REPLACE, now(), mcpSessionId, expected, json, String.valueOf(ttlMillis))
        .map(reply -> reply.toInteger() == 1);
  }

  @Override
  public Future<Boolean> touchMcpSession(String mcpSessionId, long ttlMillis) {
    return send(Request.cmd(Command.PEXPIRE).arg(mcpKey(mcpSessionId)).arg(ttlMillis), Retry.AFTER_FAULT)
        .map(reply -> reply.toInteger() == 1);
  }

  @Override
  public Future<Boolean> deleteMcpSession(String mcpSessionId) {
    return send(Request.cmd(Command.DEL).arg(mcpKey(mcpSessionId)).arg(mcpKey(mcpSessionId) + ":events"),
        Retry.AFTER_FAULT).map(reply -> reply.toInteger() > 0);
  }

  @Override
  public Future<String> appendMcpEvent(String mcpSessionId, String stream, String data, int maxEvents,
                                       long ttlMillis) {
    return run(MCP_APPEND, now(), mcpSessionId, stream, data, String.valueOf(Math.max(1, maxEvents)),
        String.valueOf(ttlMillis)).map(RedisSessionStore::text);
  }

  @Override
  public Future<List<McpEvent>> mcpEventsAfter(String mcpSessionId, String stream, String afterId) {
    return run(MCP_AFTER, now(), mcpSessionId, stream, afterId).map(reply -> {
      if (reply == null) {
        return null;
      }
      List<McpEvent> out = new ArrayList<>(reply.size() / 2);
      for (int i = 0; i + 1 < reply.size(); i += 2) {
        out.add(new McpEvent(reply.get(i).toString(), reply.get(i + 1).toString()));
      }
      return out;
    });
  }
}
