package dev.mcps.limits;

import dev.mcps.session.RedisSessionStore;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The limits shared by every instance on one Redis (the store's connections, its deadline), one Lua script per
 * decision so that two instances never both take the last token or slot:
 * <ul>
 *   <li>{@code <prefix>ratelimit:<subject>} — a hash {@code u} (units in the bucket, 60 000 to a token, see
 *   {@link TokenBucket}) and {@code t} (when, epoch millis); it expires once the bucket would be full again, which is
 *   the same as no bucket.</li>
 *   <li>{@code <prefix>turns:<subject>} — a sorted set of running turns' lease ids scored by their expiry; a lease
 *   whose instance died mid-turn lapses by itself, and the key expires with its last lease.</li>
 * </ul>
 * Times are the instances' clocks, passed in: a clock that lags another's refills nothing rather than going back.
 */
public final class RedisUserLimiter implements UserLimiter {

  private static final Logger LOG = LoggerFactory.getLogger(RedisUserLimiter.class);

  /** KEYS[1] bucket; ARGV 1 rate a minute, 2 now. Reply: 0 = admitted, else milliseconds until the next token. */
  static final String TAKE_TOKEN = """
      local rate, now = tonumber(ARGV[1]), tonumber(ARGV[2])
      local unit = 60000
      local cap = rate * unit
      local s = redis.call('HMGET', KEYS[1], 'u', 't')
      local u, t = cap, now
      if s[1] then
        u, t = tonumber(s[1]), tonumber(s[2])
        if now > t then
          u = math.min(cap, u + (now - t) * rate)
          t = now
        end
      end
      if u < unit then
        return math.max(1, math.ceil((unit - u) / rate))
      end
      u = u - unit
      redis.call('HSET', KEYS[1], 'u', string.format('%.0f', u), 't', string.format('%.0f', t))
      redis.call('PEXPIRE', KEYS[1], math.ceil((cap - u) / rate) + 1000)
      return 0
      """;
  private static final String TAKE_TOKEN_SHA = RedisSessionStore.scriptSha(TAKE_TOKEN);

  /**
   * KEYS[1] leases; ARGV 1 max, 2 lease id, 3 now, 4 lease millis. Reply: 1 = granted, 0 = all slots taken. Running
   * it twice with one lease id grants once.
   */
  static final String TAKE_SLOT = """
      local max, id, now, ttl = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
      if redis.call('ZSCORE', KEYS[1], id) then return 1 end
      if redis.call('ZCARD', KEYS[1]) >= max then return 0 end
      redis.call('ZADD', KEYS[1], now + ttl, id)
      redis.call('PEXPIRE', KEYS[1], ttl)
      return 1
      """;
  private static final String TAKE_SLOT_SHA = RedisSessionStore.scriptSha(TAKE_SLOT);

  private final RedisSessionStore redis;
  private final String prefix;
  private final int ratePerMinute;
  private final int maxTurns;
  private final long leaseMillis;
  private final Clock clock;

  public RedisUserLimiter(RedisSessionStore redis, String keyPrefix, int ratePerMinute, int maxTurns,
                          long leaseMillis, Clock clock) {
    this.redis = redis;
    this.prefix = keyPrefix == null ? "mcps:" : keyPrefix;
    this.ratePerMinute = ratePerMinute;
    this.maxTurns = maxTurns;
    this.leaseMillis = leaseMillis;
    this.clock = clock;
  }

  String bucketKey(String subject) {
    return prefix + "ratelimit:" + subject;
  }

  String turnsKey(String subject) {
    return prefix + "turns:" + subject;
  }

  @Override
  public Future<Decision> tryRequest(String subject) {
    // A repeat after a fault could take a second token: not sent again unless it surely never reached Redis.
    return redis.eval(TAKE_TOKEN, TAKE_TOKEN_SHA, false, List.of(bucketKey(subject)),
            List.of(Integer.toString(ratePerMinute), Long.toString(clock.millis())))
        .map(reply -> {
          long wait = reply.toLong();
          return wait == 0 ? Decision.ALLOWED : Decision.refused(wait);
        });
  }

  @Override
  public Future<Lease> tryStartTurn(String subject) {
    String id = UUID.randomUUID().toString();
    String key = turnsKey(subject);
    return redis.eval(TAKE_SLOT, TAKE_SLOT_SHA, true, List.of(key),
            List.of(Integer.toString(maxTurns), id, Long.toString(clock.millis()), Long.toString(leaseMillis)))
        .map(reply -> reply.toInteger() == 1 ? Lease.granted(() -> release(key, id)) : Lease.NONE);
  }

  private void release(String key, String id) {
    redis.command(Request.cmd(Command.ZREM).arg(key).arg(id), true)
        .onFailure(err -> LOG.debug("Turn slot {} not released ({}); it lapses with its lease", key, err.toString()));
  }
}
