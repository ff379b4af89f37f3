package dev.mcps.bench;

import java.util.concurrent.atomic.LongAdder;

/**
 * The run's phases, shared by every event loop. The window is unknown until every session has connected, so it starts
 * out empty ({@code Long.MAX_VALUE}) and the orchestrator publishes it through the volatile fields.
 */
final class LoadClock {

  volatile long measureStart = Long.MAX_VALUE;
  volatile long measureEnd = Long.MAX_VALUE;
  volatile boolean stopping;
  /** Successful calls or turns since the start, window or not: what the warm-up watches to see the rate settle. */
  final LongAdder completed = new LongAdder();

  boolean inWindow(long nanoTime) {
    return nanoTime >= measureStart && nanoTime < measureEnd;
  }
}
