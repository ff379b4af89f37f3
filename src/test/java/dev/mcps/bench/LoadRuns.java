package dev.mcps.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The course of a run both load clients share (connect, warm up, measure a window, stop, add up) and the helpers
 * around it. Everything here runs on the client's main thread, never on an event loop.
 */
final class LoadRuns {

  /** What a client does at the moments of a run; each one runs on the main thread. */
  interface Hooks {
    /** Every shard has connected, after {@code seconds}; the warm-up starts now. */
    default void connected(double seconds) {
    }

    /** The warm-up is over after {@code seconds}; the window opens now. */
    default void warmedUp(double seconds) {
    }

    /** The measured window opens (right after the CPU sample). */
    default void windowStarts() throws InterruptedException {
    }

    /** The measured window closes (right after the CPU sample). */
    default void windowEnds() throws InterruptedException {
    }
  }

  /**
   * What the shards counted in the window, the CPU use over it in % of one core per process, and how long the warm-up
   * before it took.
   */
  record Measured(CallStats stats, Map<String, Double> cpuPercent, double warmupSeconds) {
  }

  private LoadRuns() {
  }

  /**
   * A Vert.x for a load client: {@code eventLoops} event loops and as few other threads as it will take, so that the
   * client leaves the cores to the server under test.
   */
  /** One load run: the RESULT line for these options. */
  interface Run<O> {
    String resultLine(O options) throws FatalException, InterruptedException;
  }

  /**
   * The shared {@code main} of the load clients: parse (exit 2 with the usage), run, print the RESULT line (exit 0)
   * or the fatal reason (exit 1).
   */
  static <O> void main(String tag, String usage, String[] args, java.util.function.Function<String[], O> parse,
                       Run<O> run) {
    O options;
    try {
      options = parse.apply(args);
    } catch (IllegalArgumentException e) {
      if (!e.getMessage().isEmpty()) {
        System.err.println(tag + ": " + e.getMessage());
      }
      System.err.print(usage);
      System.exit(2);
      return;
    }
    int status;
    try {
      System.out.println(run.resultLine(options));
      status = 0;
    } catch (FatalException e) {
      System.err.println(tag + ": FATAL: " + e.getMessage());
      status = 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      status = 1;
    }
    System.out.flush();
    // Vert.x and Netty threads are not daemons; the run is over, so do not wait for them.
    System.exit(status);
  }

  static Vertx vertx(int eventLoops) {
    return Vertx.vertx(new VertxOptions()
        .setEventLoopPoolSize(eventLoops)
        .setWorkerPoolSize(1)
        .setInternalBlockingPoolSize(1));
  }

  static void close(Vertx vertx, String tag) throws InterruptedException {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      System.err.println(tag + ": Vert.x did not close cleanly: " + e);
    }
  }

  /**
   * Deploys the shards (one by one from this non-Vert.x thread, so each gets the next event loop, and each connects
   * its users), waits out the warm-up (fixed, or until the rate settles: {@link Warmup}), measures the window, then undeploys them (each lets its requests in flight
   * finish) and adds up what they counted. A shard that cannot connect makes the run fatal.
   */
  static Measured measure(Vertx vertx, List<? extends Shard> shards, LoadClock clock, Warmup warmup,
      double durationSeconds, long connectTimeoutMillis, long stopTimeoutMillis, Map<String, Long> cpuPids,
      String tag, Hooks hooks) throws FatalException, InterruptedException {
    long connectStart = System.nanoTime();
    List<Future<String>> deployments = shards.stream().map(vertx::deployVerticle).toList();
    await(Future.all(deployments), connectTimeoutMillis, "not every session or user had connected within "
        + connectTimeoutMillis + " ms");
    hooks.connected((System.nanoTime() - connectStart) / 1e9);

    double warmedUp = warmup.await(System.nanoTime(), clock.completed);
    long start = System.nanoTime();
    long end = start + (long) (durationSeconds * 1e9);
    clock.measureStart = start;
    clock.measureEnd = end;
    hooks.warmedUp(warmedUp);
    CpuSample before = CpuSample.take(cpuPids);
    hooks.windowStarts();
    sleepUntil(end);
    CpuSample after = CpuSample.take(cpuPids);
    hooks.windowEnds();
    clock.stopping = true;

    CallStats total = new CallStats(tag);
    for (Shard shard : shards) {
      try {
        vertx.undeploy(shard.deploymentID()).toCompletionStage().toCompletableFuture()
            .get(stopTimeoutMillis, TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        System.err.println(tag + ": a shard did not stop cleanly (" + e + "); its figures are reported as they stand");
      }
      total.add(shard.stats);
    }
    if (total.totalErrors() > 0) {
      System.err.println(tag + ": errors in the window: " + total.totalErrors()
          + " (see err_* on the RESULT line; the first of each kind is printed above)");
    }
    return new Measured(total, after.percentSince(before), warmedUp);
  }

  /** The indexes 0..count-1 dealt round-robin over {@code eventLoops} lists; empty lists are left out. */
  static List<List<Integer>> deal(int count, int eventLoops) {
    List<List<Integer>> out = new ArrayList<>();
    for (int loop = 0; loop < eventLoops; loop++) {
      List<Integer> indexes = new ArrayList<>();
      for (int i = loop; i < count; i += eventLoops) {
        indexes.add(i);
      }
      if (!indexes.isEmpty()) {
        out.add(indexes);
      }
    }
    return out;
  }

  /** Waits for a Vert.x future from the main thread; its failure (or the timeout) becomes a fatal run error. */
  static <T> T await(Future<T> future, long timeoutMillis, String timeoutMessage)
      throws FatalException, InterruptedException {
    try {
      return future.toCompletionStage().toCompletableFuture().get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new FatalException(e.getCause() == null ? e.toString() : e.getCause().getMessage());
    } catch (TimeoutException e) {
      throw new FatalException(timeoutMessage);
    }
  }

  static void sleepUntil(long nanoTime) throws InterruptedException {
    long left;
    while ((left = nanoTime - System.nanoTime()) > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  /** Microseconds as milliseconds with three decimals, the unit of every *_ms field. */
  static String ms(double micros) {
    return fmt(micros / 1000.0, 3);
  }

  static String fmt(double v, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }
}
