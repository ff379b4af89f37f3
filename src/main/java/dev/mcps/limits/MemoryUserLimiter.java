package dev.mcps.limits;

import io.vertx.core.Future;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The limits of one instance (the memory store). Every event loop of the instance calls it at once: each subject's
 * state is an immutable value replaced inside {@link ConcurrentHashMap#compute}, so two loops never both take the
 * last token or the last slot. Memory stays bounded by the active subjects: a bucket that has refilled is the same as
 * no bucket and is dropped by a sweep (at most one a refill period, run by whichever call comes due), and a subject's
 * leases disappear with its last running turn.
 */
public final class MemoryUserLimiter implements UserLimiter {

  private final TokenBucket bucket;
  private final int maxTurns;
  private final long leaseMillis;
  private final Clock clock;
  private final ConcurrentHashMap<String, TokenBucket.State> buckets = new ConcurrentHashMap<>();
  /** Per subject: lease id → expiry (epoch millis). Each map is immutable once stored. */
  private final ConcurrentHashMap<String, Map<String, Long>> turns = new ConcurrentHashMap<>();
  private final AtomicLong lastSweep;

  /**
   * @param ratePerMinute requests a minute per subject; 0 = never called for requests
   * @param maxTurns      turns at once per subject; 0 = never called for turns
   * @param leaseMillis   how long a slot is held when its turn never says it ended (a bug, not a path)
   */
  public MemoryUserLimiter(int ratePerMinute, int maxTurns, long leaseMillis, Clock clock) {
    this.bucket = ratePerMinute > 0 ? new TokenBucket(ratePerMinute) : null;
    this.maxTurns = maxTurns;
    this.leaseMillis = leaseMillis;
    this.clock = clock;
    this.lastSweep = new AtomicLong(clock.millis());
  }

  @Override
  public Future<Decision> tryRequest(String subject) {
    long now = clock.millis();
    sweepIfDue(now);
    Decision[] decision = new Decision[1];
    buckets.compute(subject, (k, s) -> {
      TokenBucket.State current = s == null ? bucket.full(now) : bucket.refilled(s, now);
      if (bucket.hasToken(current)) {
        decision[0] = Decision.ALLOWED;
        return bucket.take(current);
      }
      decision[0] = Decision.refused(bucket.untilNextToken(current));
      return current;
    });
    return Future.succeededFuture(decision[0]);
  }

  @Override
  public Future<Lease> tryStartTurn(String subject) {
    long now = clock.millis();
    String id = UUID.randomUUID().toString();
    boolean[] granted = {false};
    turns.compute(subject, (k, held) -> {
      Map<String, Long> live = new HashMap<>();
      if (held != null) {
        held.forEach((lease, expiry) -> {
          if (expiry > now) {
            live.put(lease, expiry);
          }
        });
      }
      if (live.size() < maxTurns) {
        live.put(id, now + leaseMillis);
        granted[0] = true;
      }
      return live.isEmpty() ? null : Map.copyOf(live);
    });
    return Future.succeededFuture(granted[0] ? Lease.granted(() -> release(subject, id)) : Lease.NONE);
  }

  private void release(String subject, String id) {
    turns.computeIfPresent(subject, (k, held) -> {
      if (!held.containsKey(id)) {
        return held;
      }
      Map<String, Long> rest = new HashMap<>(held);
      rest.remove(id);
      return rest.isEmpty() ? null : Map.copyOf(rest);
    });
  }

  /** Subjects with state held (for tests of the memory bound). */
  int trackedSubjects() {
    return buckets.size() + turns.size();
  }

  private void sweepIfDue(long now) {
    long last = lastSweep.get();
    if (now - last < bucket.refillMillis() || !lastSweep.compareAndSet(last, now)) {
      return;
    }
    // Removes a state only if it is still the one tested: a bucket taken from meanwhile is a new value and stays.
    buckets.entrySet().removeIf(e -> bucket.fullBy(e.getValue(), now));
  }
}
