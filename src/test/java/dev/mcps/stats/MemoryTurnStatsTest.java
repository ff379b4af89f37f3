package dev.mcps.stats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.limits.HandClock;
import dev.mcps.testing.TestServers;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The memory ring of minute buckets, on a clock the test moves. */
class MemoryTurnStatsTest {

  /** 2026-01-01T00:00:00Z, a minute boundary. */
  private static final long START = 1_767_225_600_000L;

  private final HandClock clock = new HandClock(START);
  private final MemoryTurnStats stats = new MemoryTurnStats(clock);

  private List<TurnStats.Minute> last(int n) {
    return TestServers.await(stats.lastMinutes(n)).minutes();
  }

  @Test
  void turnsLandInTheMinuteTheyFinishedInAndTheCurrentMinuteIsLast() {
    clock.advance(10_000);
    stats.record(false);
    stats.record(true);
    clock.advance(60_000);
    stats.record(false);

    List<TurnStats.Minute> minutes = last(3);

    assertThat(minutes).containsExactly(
        new TurnStats.Minute(START - 60_000, 0, 0),
        new TurnStats.Minute(START, 2, 1),
        new TurnStats.Minute(START + 60_000, 1, 0));
    assertThat(TestServers.await(stats.lastMinutes(3)).now()).isEqualTo(START + 70_000);
  }

  @Test
  void aMinuteKeepsItsHighestActiveSessionSampleAndAMinuteWithoutSamplesHasNone() {
    clock.advance(5_000);
    stats.recordActive(4);
    stats.recordActive(9);
    stats.record(false);
    stats.recordActive(2);
    clock.advance(60_000);
    stats.recordActive(0);

    assertThat(last(3)).containsExactly(
        new TurnStats.Minute(START - 60_000, 0, 0, null),
        new TurnStats.Minute(START, 1, 0, 9L),
        new TurnStats.Minute(START + 60_000, 0, 0, 0L));
    assertThat(last(1).get(0).toJson().encode()).isEqualTo(
        "{\"start\":" + (START + 60_000) + ",\"turns\":0,\"failed\":0,\"activeSessions\":0}");
    assertThat(last(3).get(0).toJson().containsKey("activeSessions")).as("null, present: no sample then").isTrue();
    assertThat(last(3).get(0).toJson().getValue("activeSessions")).isNull();
  }

  @Test
  void anActiveSessionSampleAnHourOldIsNotTheCurrentMinutes() {
    stats.recordActive(50);
    clock.advance(60 * 60_000);
    stats.record(false);

    assertThat(last(1)).containsExactly(new TurnStats.Minute(START + 60 * 60_000, 1, 0, null));
  }

  @Test
  void aMinuteJustPastItsEndIsNoLongerTheCurrentOne() {
    clock.advance(59_999);
    stats.record(false);
    assertThat(last(1)).containsExactly(new TurnStats.Minute(START, 1, 0));

    clock.advance(1);

    assertThat(last(1)).containsExactly(new TurnStats.Minute(START + 60_000, 0, 0));
    assertThat(last(2).get(0)).isEqualTo(new TurnStats.Minute(START, 1, 0));
  }

  @Test
  void aBucketAnHourOldIsNeitherReportedAsCurrentNorAddedToTheNewMinute() {
    stats.record(true);
    stats.record(false);

    clock.advance(60 * 60_000);
    assertThat(last(60)).as("the old minute has left the window, its slot is the current minute's")
        .allMatch(m -> m.turns() == 0 && m.failed() == 0);

    stats.record(false);
    assertThat(last(1)).containsExactly(new TurnStats.Minute(START + 60 * 60_000, 1, 0));
  }

  @Test
  void afterAQuietStretchOnlyTheMinutesWithTurnsShowAny() {
    for (int i = 0; i < 90; i++) {
      if (i % 30 == 0) {
        stats.record(false);
      }
      clock.advance(60_000);
    }

    List<TurnStats.Minute> minutes = last(60);

    assertThat(minutes).hasSize(60);
    assertThat(minutes.get(59).start()).isEqualTo(START + 90 * 60_000);
    List<Long> withTurns = new ArrayList<>();
    minutes.stream().filter(m -> m.turns() > 0).forEach(m -> withTurns.add((m.start() - START) / 60_000));
    assertThat(withTurns).containsExactly(60L);
    for (int i = 1; i < minutes.size(); i++) {
      assertThat(minutes.get(i).start() - minutes.get(i - 1).start()).isEqualTo(60_000);
    }
  }

  @Test
  void manyThreadsRecordingAtOnceLoseNoTurn() throws Exception {
    int threads = 8;
    int each = 20_000;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> running = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      boolean failing = t % 2 == 0;
      Thread thread = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        for (int i = 0; i < each; i++) {
          stats.record(failing);
        }
      });
      thread.start();
      running.add(thread);
    }
    go.countDown();
    for (Thread thread : running) {
      thread.join();
    }

    assertThat(last(1)).containsExactly(new TurnStats.Minute(START, (long) threads * each, (long) threads / 2 * each));
  }

  @Test
  void onlyOneToSixtyMinutesCanBeAskedFor() {
    assertThat(stats.lastMinutes(0).failed()).isTrue();
    assertThat(stats.lastMinutes(61).failed()).isTrue();
    assertThat(last(60)).hasSize(60);
  }
}
