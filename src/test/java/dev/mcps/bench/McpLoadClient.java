package dev.mcps.bench;

import dev.mcps.bench.CallStats.ErrorKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A closed-loop MCP load generator: N sessions, each with exactly one {@code tools/call} outstanding, over Streamable
 * HTTP or the legacy HTTP+SSE transport. It warms up, measures a fixed window, and prints one line that scripts parse:
 *
 * <pre>RESULT transport=… calls=… seconds=… throughput=… p50_ms=… p99_ms=… errors=… sessions=… p90_ms=… p999_ms=…
 *   max_ms=… mean_ms=… cpu_client_pct=… [cpu_NAME_pct=…] cpu_machine_pct=… err_KIND=…</pre>
 *
 * CPU figures are percent of one core over the measured window (so up to 100 × cores), as {@code top} shows them.
 * Exit status: 0 after a run (errors included — they are counted, not fatal), 1 when the sessions cannot connect,
 * 2 on a bad command line.
 *
 * <p>Run it with the test classpath: {@code java -cp target/test-classes:target/classes:$(cat cp.txt)
 * dev.mcps.bench.McpLoadClient --transport=streamable --url=http://127.0.0.1:3001 --tool=echo
 * --args='{"message":"hi"}'} ({@code scripts/bench.sh} does all of that).
 */
public final class McpLoadClient {

  /** The result of a run, as the RESULT line prints it. */
  record Result(LoadOptions.Transport transport, int sessions, double seconds, CallStats stats,
      Map<String, Double> cpuPercent) {

    long calls() {
      return stats.latencies.count();
    }

    double throughput() {
      return calls() / seconds;
    }

    String line() {
      LatencyHistogram h = stats.latencies;
      StringBuilder out = new StringBuilder("RESULT")
          .append(" transport=").append(transport.name().toLowerCase(Locale.ROOT))
          .append(" calls=").append(calls())
          .append(" seconds=").append(fmt(seconds, 2))
          .append(" throughput=").append(fmt(throughput(), 1))
          .append(" p50_ms=").append(ms(h.percentile(50)))
          .append(" p99_ms=").append(ms(h.percentile(99)))
          .append(" errors=").append(stats.totalErrors())
          .append(" sessions=").append(sessions)
          .append(" p90_ms=").append(ms(h.percentile(90)))
          .append(" p999_ms=").append(ms(h.percentile(99.9)))
          .append(" max_ms=").append(ms(h.max()))
          .append(" mean_ms=").append(fmt(h.mean() / 1000.0, 3));
      cpuPercent.forEach((name, pct) -> out.append(" cpu_").append(name).append("_pct=").append(fmt(pct, 1)));
      for (ErrorKind kind : ErrorKind.values()) {
        out.append(" err_").append(kind.label()).append('=').append(stats.errors[kind.ordinal()]);
      }
      return out.toString();
    }

    private static String ms(long micros) {
      return fmt(micros / 1000.0, 3);
    }

    private static String fmt(double v, int decimals) {
      return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
  }

  /** A run that cannot start: the message says which session and which handshake step failed. */
  static final class FatalException extends Exception {
    FatalException(String message) {
      super(message);
    }
  }

  private McpLoadClient() {
  }

  public static void main(String[] args) {
    LoadOptions options;
    try {
      options = LoadOptions.parse(args);
    } catch (IllegalArgumentException e) {
      if (!e.getMessage().isEmpty()) {
        System.err.println("mcp-load: " + e.getMessage());
      }
      System.err.print(LoadOptions.USAGE);
      System.exit(2);
      return;
    }
    int status;
    try {
      System.out.println(run(options).line());
      status = 0;
    } catch (FatalException e) {
      System.err.println("mcp-load: FATAL: " + e.getMessage());
      status = 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      status = 1;
    }
    System.out.flush();
    // Vert.x and Netty threads are not daemons; the run is over, so do not wait for them.
    System.exit(status);
  }

  static Result run(LoadOptions options) throws FatalException, InterruptedException {
    Vertx vertx = Vertx.vertx(new VertxOptions()
        .setEventLoopPoolSize(options.eventLoops)
        .setWorkerPoolSize(1)
        .setInternalBlockingPoolSize(1));
    try {
      return run(vertx, options);
    } finally {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        System.err.println("mcp-load: Vert.x did not close cleanly: " + e);
      }
    }
  }

  private static Result run(Vertx vertx, LoadOptions options) throws FatalException, InterruptedException {
    LoadClock clock = new LoadClock();
    List<LoadShard> shards = new ArrayList<>();
    for (int loop = 0; loop < options.eventLoops; loop++) {
      List<Integer> indexes = new ArrayList<>();
      for (int s = loop; s < options.sessions; s += options.eventLoops) {
        indexes.add(s);
      }
      if (!indexes.isEmpty()) {
        shards.add(new LoadShard(options, clock, indexes));
      }
    }

    long connectStart = System.nanoTime();
    // Deployed one by one from this (non-Vert.x) thread, each shard gets the next event loop.
    List<Future<String>> deployments = shards.stream().map(vertx::deployVerticle).toList();
    await(Future.all(deployments), McpSession.HANDSHAKE_TIMEOUT_MILLIS + 5_000,
        "the sessions did not connect within " + (McpSession.HANDSHAKE_TIMEOUT_MILLIS + 5_000) + " ms");
    log("%d %s sessions connected to %s:%d%s in %.2f s; warm-up %.1f s, then measuring %.1f s",
        options.sessions, options.transport.name().toLowerCase(Locale.ROOT), options.host, options.port, options.path,
        (System.nanoTime() - connectStart) / 1e9, options.warmupSeconds, options.durationSeconds);

    long start = System.nanoTime() + (long) (options.warmupSeconds * 1e9);
    long end = start + (long) (options.durationSeconds * 1e9);
    clock.measureStart = start;
    clock.measureEnd = end;
    sleepUntil(start);
    CpuSample before = CpuSample.take(options.cpuPids);
    sleepUntil(end);
    CpuSample after = CpuSample.take(options.cpuPids);
    clock.stopping = true;

    CallStats total = new CallStats();
    for (LoadShard shard : shards) {
      try {
        vertx.undeploy(shard.deploymentID()).toCompletionStage().toCompletableFuture()
            .get(options.callTimeoutMillis + 10_000, TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        log("a shard did not stop cleanly (%s); its figures are reported as they stand", e);
      }
      total.add(shard.stats);
    }
    Result result = new Result(options.transport, options.sessions, options.durationSeconds, total,
        after.percentSince(before));
    if (total.totalErrors() > 0) {
      log("errors in the window: %d (see err_* on the RESULT line; the first of each kind is printed above)",
          total.totalErrors());
    }
    return result;
  }

  private static void await(Future<?> future, long timeoutMillis, String timeoutMessage)
      throws FatalException, InterruptedException {
    try {
      future.toCompletionStage().toCompletableFuture().get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new FatalException(e.getCause() == null ? e.toString() : e.getCause().getMessage());
    } catch (TimeoutException e) {
      throw new FatalException(timeoutMessage);
    }
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left;
    while ((left = nanoTime - System.nanoTime()) > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  static void log(String format, Object... args) {
    System.err.println("mcp-load: " + String.format(Locale.ROOT, format, args));
  }

  /**
   * CPU time used so far by this JVM, by the watched processes and by the whole machine. Other processes are read
   * from {@code /proc/PID/stat} (utime + stime, every thread included) in USER_HZ ticks, which Linux fixes at 100 per
   * second on every architecture it exports them for.
   */
  private record CpuSample(long nanoTime, long clientNanos, Map<String, Long> processTicks, long machineBusyTicks) {

    private static final double TICKS_PER_SECOND = 100.0;

    static CpuSample take(Map<String, Long> pids) {
      Map<String, Long> ticks = new LinkedHashMap<>();
      pids.forEach((name, pid) -> ticks.put(name, readProcessTicks(pid)));
      long client = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
          ? os.getProcessCpuTime() : -1;
      return new CpuSample(System.nanoTime(), client, ticks, readMachineBusyTicks());
    }

    Map<String, Double> percentSince(CpuSample before) {
      double seconds = (nanoTime - before.nanoTime) / 1e9;
      Map<String, Double> out = new LinkedHashMap<>();
      if (clientNanos >= 0 && before.clientNanos >= 0) {
        out.put("client", 100.0 * (clientNanos - before.clientNanos) / 1e9 / seconds);
      }
      processTicks.forEach((name, ticks) -> {
        Long was = before.processTicks.get(name);
        if (ticks >= 0 && was != null && was >= 0) {
          out.put(name, 100.0 * (ticks - was) / TICKS_PER_SECOND / seconds);
        }
      });
      if (machineBusyTicks >= 0 && before.machineBusyTicks >= 0) {
        out.put("machine", 100.0 * (machineBusyTicks - before.machineBusyTicks) / TICKS_PER_SECOND / seconds);
      }
      return out;
    }

    private static long readProcessTicks(long pid) {
      try {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        // The command name (field 2) is in parentheses and may hold spaces; count fields after its closing one.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      } catch (IOException | RuntimeException e) {
        return -1;
      }
    }

    private static long readMachineBusyTicks() {
      try {
        String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
        String[] f = cpu.trim().split("\\s+");
        long busy = 0;
        // user nice system idle iowait irq softirq steal: everything but idle and iowait is work.
        for (int i = 1; i <= Math.min(8, f.length - 1); i++) {
          if (i != 4 && i != 5) {
            busy += Long.parseLong(f[i]);
          }
        }
        return busy;
      } catch (IOException | RuntimeException e) {
        return -1;
      }
    }
  }
}
