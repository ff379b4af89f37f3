package dev.mcps.stats;

import dev.mcps.logging.BurstLog;
import dev.mcps.session.RedisSessionStore;
import io.vertx.core.Future;
import io.vertx.redis.client.Response;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The turns and active-session peaks of every instance sharing one Redis, kept beside the sessions (the store's
 * connections and deadline): {@code <prefix>stats:turns:<epochMinute>} is a hash with fields {@code ok},
 * {@code failed} and {@code active} (the highest sample of active sessions in that minute), which expires
 * {@value #TTL_SECONDS} s after its last change, so that operators can read a minute with
 * {@code HGETALL mcps:stats:turns:29407833}. Recording is one script (HINCRBY, or compare-and-HSET, and EXPIRE in
 * one round trip); reading the last n minutes is one script that HMGETs them all. Minutes are the recording
 * instance's clock.
 */
public final class RedisTurnStats implements TurnStats {

  private static final Logger LOG = LoggerFactory.getLogger(RedisTurnStats.class);

  /** Twice the longest window a reader can ask for: a minute outlives every chart that can show it. */
  static final long TTL_SECONDS = 2 * 60 * MAX_MINUTES;

  /** KEYS[1] the minute's hash; ARGV 1 the field (ok|failed), 2 its TTL in seconds. */
  static final String RECORD = """
      redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
      redis.call('EXPIRE', KEYS[1], ARGV[2])
      return 1
      """;
  private static final String RECORD_SHA = RedisSessionStore.scriptSha(RECORD);

  /** KEYS[1] the minute's hash; ARGV 1 the sample, 2 the TTL in seconds. Keeps the highest sample of the minute. */
  static final String RECORD_ACTIVE = """
      local seen = tonumber(redis.call('HGET', KEYS[1], 'active'))
      if seen == nil or tonumber(ARGV[1]) > seen then
        redis.call('HSET', KEYS[1], 'active', ARGV[1])
      end
      redis.call('EXPIRE', KEYS[1], ARGV[2])
      return 1
      """;
  private static final String RECORD_ACTIVE_SHA = RedisSessionStore.scriptSha(RECORD_ACTIVE);

  /**
   * KEYS: the minutes' hashes, oldest first. Reply: one {ok, failed, active} triple per key, zeros for missing counts
   * and -1 for a minute without an active-sessions sample (a Lua nil would end the reply's array early).
   */
  static final String READ = """
      local out = {}
      for i, key in ipairs(KEYS) do
        local v = redis.call('HMGET', key, 'ok', 'failed', 'active')
        out[i] = {tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or -1}
      end
      return out
      """;
  private static final String READ_SHA = RedisSessionStore.scriptSha(READ);

  private final RedisSessionStore redis;
  private final String prefix;
  private final Clock clock;
  private final BurstLog lost;

  /** {@code faults}: where lost counts are reported (one line per burst). */
  public RedisTurnStats(RedisSessionStore redis, String keyPrefix, Clock clock, BurstLog.Scheduler faults) {
    this.redis = redis;
    this.prefix = keyPrefix == null ? "mcps:" : keyPrefix;
    this.clock = clock;
    this.lost = new BurstLog(LOG, BurstLog.WINDOW_MILLIS, faults);
  }

  /** The hash of one minute (minutes since the epoch). */
  String minuteKey(long epochMinute) {
    return prefix + "stats:turns:" + epochMinute;
  }

  @Override
  public void record(boolean failed) {
    // A repeat after a fault could count the turn twice: sent again only if it surely never reached Redis.
    write(RECORD, RECORD_SHA, false, failed ? "failed" : "ok",
        "A turn was not counted (the turn itself is unaffected)");
  }

  @Override
  public void recordActive(long sessions) {
    // Keeping a maximum is idempotent: a repeat after a fault cannot skew it.
    write(RECORD_ACTIVE, RECORD_ACTIVE_SHA, true, Long.toString(sessions), "An active-sessions sample was not kept");
  }

  /** Runs a recording script on the current minute's hash, fire and forget; a failure is one warning per burst. */
  private void write(String script, String sha, boolean mayRunTwice, String value, String lostWhat) {
    String key = minuteKey(TurnStats.epochMinute(clock.millis()));
    try {
      redis.eval(script, sha, mayRunTwice, List.of(key), List.of(value, Long.toString(TTL_SECONDS)))
          .onFailure(err -> lost.warn(sha, lostWhat + " in " + key + ", the stats' Redis is unreachable: " + err));
    } catch (RuntimeException e) {
      lost.warn(sha, lostWhat + " in " + key + ": " + e);
    }
  }

  @Override
  public long now() {
    return clock.millis();
  }

  @Override
  public Future<List<Minute>> counts(long[] window) {
    List<String> keys = new ArrayList<>(window.length);
    for (long m : window) {
      keys.add(minuteKey(m));
    }
    return redis.eval(READ, READ_SHA, true, keys, List.of()).map(reply -> {
      List<Minute> minutes = new ArrayList<>(window.length);
      for (int i = 0; i < window.length; i++) {
        Response pair = reply.get(i);
        long ok = pair.get(0).toLong();
        long failed = pair.get(1).toLong();
        long active = pair.get(2).toLong();
        minutes.add(new Minute(window[i] * MINUTE_MILLIS, ok + failed, failed, active >= 0 ? active : null));
      }
      return minutes;
    });
  }
}
