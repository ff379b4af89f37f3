package dev.mcps.bench;

/**
 * Latencies in microseconds, in log-linear buckets like HdrHistogram's: exact below 128 µs, then 64 buckets per power
 * of two, so any recorded value is known to within 1/64 (1.6%) whatever its size — 1,408 longs cover up to 60 s.
 * Recording is an array increment, cheap enough for every call of a load run. Not thread-safe: each event loop keeps
 * its own and they are {@linkplain #add(LatencyHistogram) added} after the run.
 */
final class LatencyHistogram {

  private static final int LINEAR = 128;
  private static final int SUB_BUCKETS = 64;
  private static final int SUB_BITS = 6;
  static final long MAX_MICROS = 60_000_000L;

  private final long[] counts = new long[index(MAX_MICROS) + 1];
  private long total;
  private long max;
  private double sum;

  void record(long micros) {
    long v = Math.max(0, Math.min(micros, MAX_MICROS));
    counts[index(v)]++;
    total++;
    sum += v;
    if (v > max) {
      max = v;
    }
  }

  void add(LatencyHistogram other) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
    total += other.total;
    sum += other.sum;
    max = Math.max(max, other.max);
  }

  long count() {
    return total;
  }

  long max() {
    return max;
  }

  double mean() {
    return total == 0 ? 0 : sum / total;
  }

  /**
   * The value at the given percentile (0–100], reported as the highest value its bucket can hold, so a percentile is
   * never under-reported; 0 when nothing was recorded.
   */
  long percentile(double percentile) {
    if (total == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(percentile / 100.0 * total));
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.min(highestInBucket(i), max);
      }
    }
    return max;
  }

  static int index(long v) {
    if (v < LINEAR) {
      return (int) v;
    }
    int shift = (63 - Long.numberOfLeadingZeros(v)) - SUB_BITS;
    return LINEAR + (shift - 1) * SUB_BUCKETS + (int) ((v >>> shift) - SUB_BUCKETS);
  }

  static long highestInBucket(int index) {
    if (index < LINEAR) {
      return index;
    }
    int shift = (index - LINEAR) / SUB_BUCKETS + 1;
    long mantissa = (index - LINEAR) % SUB_BUCKETS + SUB_BUCKETS;
    return ((mantissa + 1) << shift) - 1;
  }
}
