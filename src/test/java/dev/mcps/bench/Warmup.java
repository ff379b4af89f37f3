package dev.mcps.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * How long a run warms up: at least {@code minSeconds}, then until the completion rate has settled — the last
 * {@value #STEADY_PROBES} probes of {@value #PROBE_SECONDS} s each within {@value #STEADY_SPREAD_PCT}% of one another
 * and of the best probe so far — and at most {@code maxSeconds}. A fixed warm-up measures a JVM server mid-JIT on a slow machine (we saw a
 * server still gaining 10% a minute after start on 2 slow cores), which says more about the machine's compile threads
 * than about the server; a settled rate is the figure a long-running deployment sees. {@code min == max} is a fixed
 * warm-up.
 */
record Warmup(double minSeconds, double maxSeconds) {

  static final double PROBE_SECONDS = 3;
  static final int STEADY_PROBES = 3;
  static final double STEADY_SPREAD_PCT = 5;

  Warmup {
    if (maxSeconds < minSeconds) {
      throw new IllegalArgumentException("--warmup-max must not be below --warmup");
    }
  }

  static Warmup fixed(double seconds) {
    return new Warmup(seconds, seconds);
  }

  /** "10.0 s", or "10.0 to 120.0 s, until the rate settles". */
  String describe() {
    return minSeconds == maxSeconds ? String.format(java.util.Locale.ROOT, "%.1f s", minSeconds)
        : String.format(java.util.Locale.ROOT, "%.1f to %.1f s, until the rate settles", minSeconds, maxSeconds);
  }

  /** Waits out the warm-up from {@code startNanos}, watching {@code completed}; returns the seconds it took. */
  double await(long startNanos, LongAdder completed) throws InterruptedException {
    long min = startNanos + (long) (minSeconds * 1e9);
    long max = startNanos + (long) (maxSeconds * 1e9);
    LoadRuns.sleepUntil(min);
    List<Double> rates = new ArrayList<>();
    long probeStart = System.nanoTime();
    long before = completed.sum();
    while (!steady(rates) && System.nanoTime() < max) {
      long probeEnd = Math.min(max, probeStart + (long) (PROBE_SECONDS * 1e9));
      LoadRuns.sleepUntil(probeEnd);
      long now = System.nanoTime();
      long count = completed.sum();
      rates.add((count - before) / ((now - probeStart) / 1e9));
      probeStart = now;
      before = count;
    }
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /**
   * Whether the last {@value #STEADY_PROBES} rates exist, are not zero, and lie within the spread of one another and
   * of the best probe so far: three close probes in a dip (a burst of collections, a neighbour's build) are not the
   * steady state when the server has already done better.
   */
  static boolean steady(List<Double> rates) {
    if (rates.size() < STEADY_PROBES) {
      return false;
    }
    List<Double> last = rates.subList(rates.size() - STEADY_PROBES, rates.size());
    double lo = last.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    double best = rates.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    return best > 0 && (best - lo) * 100 <= STEADY_SPREAD_PCT * best;
  }
}
