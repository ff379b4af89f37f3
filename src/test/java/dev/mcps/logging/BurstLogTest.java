package dev.mcps.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Driven by a hand-cranked scheduler: "the window ends" is a call, never a wait. */
class BurstLogTest {

  private final Logger logger = (Logger) LoggerFactory.getLogger("burst-probe");
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  private final List<Runnable> due = new ArrayList<>();
  private final List<Long> delays = new ArrayList<>();
  private final BurstLog log = new BurstLog(logger, 10_000, (millis, task) -> {
    delays.add(millis);
    due.add(task);
  });

  @BeforeEach
  void capture() {
    lines.start();
    logger.addAppender(lines);
  }

  @AfterEach
  void release() {
    logger.detachAppender(lines);
  }

  /** Runs what was scheduled so far, as the end of the window would. */
  private void endWindow() {
    List<Runnable> now = new ArrayList<>(due);
    due.clear();
    now.forEach(Runnable::run);
  }

  private List<String> written() {
    return lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  void aBurstOfOneErrorIsOneLineAtOnceAndOneLineWithTheCountWhenTheWindowEnds() {
    for (int i = 0; i < 14_305; i++) {
      log.warn("store-down", "store failed #" + i);
    }
    assertThat(written()).containsExactly("store failed #0");
    assertThat(delays).containsExactly(10_000L);

    endWindow();

    assertThat(written()).containsExactly("store failed #0",
        "14304 more like this in the last 10 s, the last: store failed #14304");
  }

  @Test
  void anOutageThatGoesOnWritesOneLinePerWindowAndAQuietWindowEndsTheBurst() {
    log.warn("k", "first");
    log.warn("k", "second");
    endWindow();
    log.warn("k", "third");
    endWindow();
    endWindow();
    log.warn("k", "after the quiet");

    assertThat(written()).containsExactly("first", "1 more like this in the last 10 s, the last: second",
        "1 more like this in the last 10 s, the last: third", "after the quiet");
  }

  @Test
  void differentKindsOfErrorAreCountedApart() {
    log.warn("timeout", "timed out");
    log.warn("refused", "connection refused");
    log.warn("timeout", "timed out again");

    assertThat(written()).containsExactly("timed out", "connection refused");
    endWindow();
    assertThat(written()).endsWith("1 more like this in the last 10 s, the last: timed out again");
    assertThat(written()).hasSize(3);
  }

  @Test
  void aSingleErrorIsWrittenOnceAndNothingFollowsIt() {
    log.warn("once", "just this");
    endWindow();
    assertThat(written()).containsExactly("just this");
  }
}
