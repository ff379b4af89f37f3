package dev.mcps.stats;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Finished chat turns and the peak of active sessions, by the minute, for the console's live chart
 * ({@code GET /admin/stats}). The memory implementation keeps this instance's; the Redis one those of every instance
 * sharing the Redis, so that each of them shows the same numbers, and a page opened now shows the last hour, not
 * only what it saw itself. A turn is counted once it has run (or failed) in the agent loop: refusals before it (400,
 * 404, 429) are no turns, and an Idempotency-Key replay is the first turn's outcome, not a new turn. Active sessions
 * are sampled by each instance's session verticle every few seconds (the count /health shows); a minute keeps the
 * highest sample any instance took in it.
 */
public interface TurnStats {

  /** How many minutes a reader may ask for, the current one included (the memory ring keeps as many). */
  int MAX_MINUTES = 60;
  long MINUTE_MILLIS = 60_000;

  /** Counts nothing, reports zeros (components tested on their own). */
  TurnStats NONE = new TurnStats() {
    @Override
    public void record(boolean failed) {
    }

    @Override
    public void recordActive(long sessions) {
    }

    @Override
    public long now() {
      return System.currentTimeMillis();
    }

    @Override
    public Future<List<Minute>> counts(long[] window) {
      return Future.succeededFuture(java.util.Arrays.stream(window).mapToObj(m -> new Minute(m * MINUTE_MILLIS, 0, 0))
          .toList());
    }
  };

  /**
   * One minute: its start (epoch millis), the turns that finished in it, how many of those failed, and the most
   * active sessions sampled in it ({@code null} when no instance took a sample then, e.g. before any was running).
   */
  record Minute(long start, long turns, long failed, Long activeSessions) {

    /** A minute in which no active-sessions sample was taken. */
    public Minute(long start, long turns, long failed) {
      this(start, turns, failed, null);
    }

    public JsonObject toJson() {
      return new JsonObject().put("start", start).put("turns", turns).put("failed", failed)
          .put("activeSessions", activeSessions);
    }
  }

  /** The last minutes as seen at {@code now}: oldest first, the current (partial) minute last. */
  record Recent(long now, List<Minute> minutes) {

    public JsonArray toJson() {
      JsonArray out = new JsonArray();
      minutes.forEach(m -> out.add(m.toJson()));
      return out;
    }
  }

  /**
   * Counts one finished turn in the current minute. Fire and forget: never fails, never holds up the turn; a count
   * that cannot be kept is lost (and logged, one line per burst).
   */
  void record(boolean failed);

  /**
   * Notes a sample of the active sessions in the current minute, which keeps its highest. Fire and forget, like
   * {@link #record}.
   */
  void recordActive(long sessions);

  /**
   * The last {@code n} minutes (1..{@value #MAX_MINUTES}), oldest first, the current one last, zero-filled; failed
   * when the counts cannot be read (the caller maps that to 503).
   */
  default Future<Recent> lastMinutes(int n) {
    if (n < 1 || n > MAX_MINUTES) {
      return Future.failedFuture(new IllegalArgumentException("minutes must be 1.." + MAX_MINUTES));
    }
    long now = now();
    long first = epochMinute(now) - n + 1;
    return counts(java.util.stream.LongStream.range(first, first + n).toArray())
        .map(minutes -> new Recent(now, minutes));
  }

  /** This counter's clock, epoch millis. */
  long now();

  /** The counts of these minutes (minutes since the epoch), in their order, zero where none finished. */
  Future<List<Minute>> counts(long[] window);

  /** Minutes since the epoch: the bucket a time falls in. */
  static long epochMinute(long millis) {
    return Math.floorDiv(millis, MINUTE_MILLIS);
  }
}
