package dev.mcps.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

class WarmupTest {

  @Test
  void aRateIsSteadyOnlyWhenItsLastThreeProbesLieWithinFivePercentOfEachOtherAndOfTheBest() {
    assertThat(Warmup.steady(List.of())).isFalse();
    assertThat(Warmup.steady(List.of(1000.0, 1000.0))).isFalse();
    assertThat(Warmup.steady(List.of(500.0, 970.0, 1000.0, 1020.0))).isTrue();
    // Still climbing as the JIT compiles: 10% over three probes is not settled.
    assertThat(Warmup.steady(List.of(900.0, 950.0, 1000.0))).isFalse();
    // Three close probes in a dip below what the server already did are not its steady state.
    assertThat(Warmup.steady(List.of(1000.0, 700.0, 710.0, 705.0))).isFalse();
    // Nothing completing is not a steady state, it is a stalled server.
    assertThat(Warmup.steady(List.of(0.0, 0.0, 0.0))).isFalse();
  }

  @Test
  void aFixedWarmupLastsExactlyItsMinimumWhateverTheRate() throws InterruptedException {
    long start = System.nanoTime();
    double took = Warmup.fixed(0.2).await(start, new LongAdder());

    assertThat(took).isBetween(0.2, 2.0);
  }

  @Test
  void aRateThatNeverSettlesIsCutOffAtTheMaximum() throws InterruptedException {
    LongAdder completed = new LongAdder();
    Thread accelerating = new Thread(() -> {
      // Each millisecond more calls than the one before: a rate that keeps climbing.
      for (int i = 1; !Thread.currentThread().isInterrupted(); i++) {
        completed.add(i);
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    accelerating.start();
    try {
      double took = new Warmup(0, 1.0).await(System.nanoTime(), completed);
      assertThat(took).isBetween(1.0, 3.0);
    } finally {
      accelerating.interrupt();
      accelerating.join();
    }
  }

  @Test
  void aMaximumBelowTheMinimumIsRefused() {
    assertThatThrownBy(() -> new Warmup(10, 5)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--warmup-max");
  }
}
