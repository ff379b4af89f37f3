package dev.mcps.stats;

import io.vertx.core.Future;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The turns and active-session peaks of this instance (the memory store): a ring of {@value TurnStats#MAX_MINUTES} one-minute buckets, slot =
 * minute modulo the ring size. Every event loop and worker records at once: each slot holds an immutable bucket
 * replaced by compare-and-set, and a bucket of an older minute found in the current minute's slot is started over,
 * so a minute an hour old is never reported as the current one, and nothing grows.
 */
public final class MemoryTurnStats implements TurnStats {

  /** One minute's counts; {@code minute} says which minute the slot holds now; {@code active} -1: no sample yet. */
  private record Bucket(long minute, long ok, long failed, long active) {

    static Bucket empty(long minute) {
      return new Bucket(minute, 0, 0, -1);
    }

    Bucket plus(boolean failedTurn) {
      return failedTurn ? new Bucket(minute, ok, failed + 1, active) : new Bucket(minute, ok + 1, failed, active);
    }

    Bucket sampled(long sessions) {
      return sessions > active ? new Bucket(minute, ok, failed, sessions) : this;
    }
  }

  private final Clock clock;
  private final AtomicReferenceArray<Bucket> ring = new AtomicReferenceArray<>(MAX_MINUTES);

  public MemoryTurnStats(Clock clock) {
    this.clock = clock;
  }

  @Override
  public void record(boolean failed) {
    update(b -> b.plus(failed));
  }

  @Override
  public void recordActive(long sessions) {
    update(b -> b.sampled(sessions));
  }

  private void update(java.util.function.UnaryOperator<Bucket> change) {
    long minute = TurnStats.epochMinute(clock.millis());
    ring.updateAndGet(slot(minute), b -> {
      if (b == null || b.minute() < minute) {
        return change.apply(Bucket.empty(minute));
      }
      // A clock stepped back by an hour or more would wipe a newer minute: that one change is dropped instead.
      return b.minute() == minute ? change.apply(b) : b;
    });
  }

  @Override
  public long now() {
    return clock.millis();
  }

  @Override
  public Future<List<Minute>> counts(long[] window) {
    List<Minute> minutes = new ArrayList<>(window.length);
    for (long m : window) {
      Bucket b = ring.get(slot(m));
      boolean held = b != null && b.minute() == m;
      minutes.add(new Minute(m * MINUTE_MILLIS, held ? b.ok() + b.failed() : 0, held ? b.failed() : 0,
          held && b.active() >= 0 ? Long.valueOf(b.active()) : null));
    }
    return Future.succeededFuture(minutes);
  }

  private static int slot(long minute) {
    return (int) Math.floorMod(minute, (long) MAX_MINUTES);
  }
}
