package dev.mcps.limits;

/**
 * The token bucket arithmetic both limiters share (the Redis script does the same sums): a bucket holds at most one
 * minute's worth of requests and refills continuously at the per-minute rate. Kept in whole units, 60 000 to a token,
 * so that a refill of {@code rate} tokens a minute is exactly {@code rate} units a millisecond: no rounding, and the
 * same numbers in Java longs and in Lua's doubles (exact up to 2^53, far above 10^7 tokens x 60 000).
 */
final class TokenBucket {

  static final long UNITS_PER_TOKEN = 60_000;

  /** Units in the bucket at {@code at} (epoch millis). */
  record State(long units, long at) {
  }

  private final long ratePerMinute;
  private final long capacity;

  TokenBucket(int ratePerMinute) {
    if (ratePerMinute <= 0) {
      throw new IllegalArgumentException("ratePerMinute must be positive");
    }
    this.ratePerMinute = ratePerMinute;
    this.capacity = ratePerMinute * UNITS_PER_TOKEN;
  }

  /** A bucket first seen now: full. */
  State full(long now) {
    return new State(capacity, now);
  }

  /** The bucket refilled up to {@code now}; a clock that went back (another instance's) refills nothing. */
  State refilled(State s, long now) {
    if (now <= s.at()) {
      return s;
    }
    long elapsed = now - s.at();
    long units = elapsed >= UNITS_PER_TOKEN ? capacity : Math.min(capacity, s.units() + elapsed * ratePerMinute);
    return new State(units, now);
  }

  boolean hasToken(State s) {
    return s.units() >= UNITS_PER_TOKEN;
  }

  State take(State s) {
    return new State(s.units() - UNITS_PER_TOKEN, s.at());
  }

  /** Milliseconds until a bucket without a token has one again (at least 1). */
  long untilNextToken(State s) {
    long missing = UNITS_PER_TOKEN - s.units();
    return Math.max(1, (missing + ratePerMinute - 1) / ratePerMinute);
  }

  /** Whether a bucket last changed at {@code s.at()} is full again by {@code now}: then it can be forgotten. */
  boolean fullBy(State s, long now) {
    return refilled(s, now).units() >= capacity;
  }

  /** How long after its last take a bucket is full again: the most its state needs to be kept. */
  long refillMillis() {
    return UNITS_PER_TOKEN;
  }
}
