package dev.mcps.logging;

import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;

/**
 * Warnings that come in bursts (a Redis outage fails every request) written as one line per window with a count,
 * instead of one line per request: the first of a kind is written at once, the others of that window are counted,
 * and at the window's end one line says how many there were and shows the last. A kind that stays quiet for a whole
 * window starts over: its next warning is written at once again.
 */
public final class BurstLog {

  /** The window an outage is summarized over. */
  public static final long WINDOW_MILLIS = 10_000;

  /** Runs a task later (a Vert.x timer in the server, a hand-cranked clock in tests). */
  @FunctionalInterface
  public interface Scheduler {
    void after(long millis, Runnable task);
  }

  private final Logger log;
  private final long windowMillis;
  private final Scheduler scheduler;
  private final ConcurrentHashMap<String, Burst> bursts = new ConcurrentHashMap<>();

  public BurstLog(Logger log, long windowMillis, Scheduler scheduler) {
    this.log = log;
    this.windowMillis = windowMillis;
    this.scheduler = scheduler;
  }

  /**
   * A scheduler on Vert.x timers that run on a context of their own: the summary speaks for many requests, so it
   * must not carry the session of whichever request happened to start the window.
   */
  public static Scheduler vertxScheduler(Vertx vertx) {
    ContextInternal quiet = ((VertxInternal) vertx).createEventLoopContext();
    return (millis, task) -> quiet.setTimer(millis, id -> task.run());
  }

  /** Writes {@code message} now, or counts it when a warning of this {@code kind} was written in this window. */
  public void warn(String kind, String message) {
    Burst burst = bursts.computeIfAbsent(kind, k -> new Burst());
    synchronized (burst) {
      if (burst.open) {
        burst.suppressed++;
        burst.last = message;
        return;
      }
      burst.open = true;
    }
    log.warn(message);
    scheduler.after(windowMillis, () -> closeWindow(kind, burst));
  }

  private void closeWindow(String kind, Burst burst) {
    long count;
    String last;
    synchronized (burst) {
      count = burst.suppressed;
      last = burst.last;
      burst.suppressed = 0;
      burst.last = null;
      if (count == 0) {
        burst.open = false;
        bursts.remove(kind, burst);
        return;
      }
    }
    // Still going: this line stands for the window just ended, and a new window is already counting.
    log.warn("{} more like this in the last {} s, the last: {}", count, windowMillis / 1000, last);
    scheduler.after(windowMillis, () -> closeWindow(kind, burst));
  }

  /** One kind's state: a window is open while its first line is written and the rest are being counted. */
  private static final class Burst {
    boolean open;
    long suppressed;
    String last;
  }
}
