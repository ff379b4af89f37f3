package dev.mcps.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

  @Test
  void bucketsAreContiguousAndWithinOnePointSixPercent() {
    long previousHighest = -1;
    for (int i = 0; i <= LatencyHistogram.index(LatencyHistogram.MAX_MICROS); i++) {
      long highest = LatencyHistogram.highestInBucket(i);
      long lowest = previousHighest + 1;
      assertThat(LatencyHistogram.index(lowest)).isEqualTo(i);
      assertThat(LatencyHistogram.index(highest)).isEqualTo(i);
      assertThat((double) (highest - lowest)).isLessThanOrEqualTo(Math.max(0, lowest / 64.0));
      previousHighest = highest;
    }
  }

  @Test
  void percentilesOfAUniformSpread() {
    LatencyHistogram h = new LatencyHistogram();
    for (long v = 1; v <= 10_000; v++) {
      h.record(v);
    }

    assertThat(h.count()).isEqualTo(10_000);
    assertThat(h.percentile(50)).isBetween(5_000L, 5_000L + 5_000 / 64);
    assertThat(h.percentile(99)).isBetween(9_900L, 9_900L + 9_900 / 64);
    assertThat(h.percentile(100)).isEqualTo(10_000);
    assertThat(h.max()).isEqualTo(10_000);
    assertThat(h.mean()).isEqualTo(5_000.5);
  }

  @Test
  void addMergesAndEmptyReportsZero() {
    LatencyHistogram a = new LatencyHistogram();
    LatencyHistogram b = new LatencyHistogram();
    assertThat(a.percentile(99)).isZero();

    a.record(100);
    b.record(3_000_000);
    b.record(LatencyHistogram.MAX_MICROS * 2);
    a.add(b);

    assertThat(a.count()).isEqualTo(3);
    assertThat(a.percentile(1)).isEqualTo(100);
    assertThat(a.max()).isEqualTo(LatencyHistogram.MAX_MICROS);
  }
}
