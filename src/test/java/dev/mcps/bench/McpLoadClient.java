package dev.mcps.bench;

import static dev.mcps.bench.LoadRuns.fmt;
import static dev.mcps.bench.LoadRuns.ms;

import dev.mcps.bench.CallStats.ErrorKind;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A closed-loop MCP load generator: N sessions, each with exactly one {@code tools/call} outstanding, over Streamable
 * HTTP or the legacy HTTP+SSE transport, or N virtual users making MCP 2026-07-28 stateless calls (no initialize, no
 * session: {@link StatelessSession}). It warms up, measures a fixed window, and prints one line that scripts parse:
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
      Map<String, Double> cpuPercent, double warmupSeconds) {

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
          .append(" mean_ms=").append(fmt(h.mean() / 1000.0, 3))
          .append(" warmup_s=").append(fmt(warmupSeconds, 1));
      cpuPercent.forEach((name, pct) -> out.append(" cpu_").append(name).append("_pct=").append(fmt(pct, 1)));
      for (ErrorKind kind : ErrorKind.values()) {
        out.append(" err_").append(kind.label()).append('=').append(stats.errors[kind.ordinal()]);
      }
      return out.toString();
    }
  }

  static final String TAG = "mcp-load";

  private McpLoadClient() {
  }

  public static void main(String[] args) {
    LoadRuns.main(TAG, LoadOptions.USAGE, args, LoadOptions::parse, options -> run(options).line());
  }

  static Result run(LoadOptions options) throws FatalException, InterruptedException {
    Vertx vertx = LoadRuns.vertx(options.eventLoops);
    try {
      LoadClock clock = new LoadClock();
      List<LoadShard> shards = LoadRuns.deal(options.sessions, options.eventLoops).stream()
          .map(indexes -> new LoadShard(options, clock, indexes)).toList();
      LoadRuns.Measured measured = LoadRuns.measure(vertx, shards, clock, options.warmup(),
          options.durationSeconds, McpSession.HANDSHAKE_TIMEOUT_MILLIS + 5_000, options.callTimeoutMillis + 10_000,
          options.cpuPids, TAG, new LoadRuns.Hooks() {
            @Override
            public void connected(double seconds) {
              log("%d %s sessions connected to %s:%d%s in %.2f s; warm-up %s, then measuring %.1f s",
                  options.sessions, options.transport.name().toLowerCase(Locale.ROOT), options.host, options.port,
                  options.path, seconds, options.warmup().describe(), options.durationSeconds);
            }

            @Override
            public void warmedUp(double seconds) {
              log("warmed up in %.1f s", seconds);
            }
          });
      return new Result(options.transport, options.sessions, options.durationSeconds, measured.stats(),
          measured.cpuPercent(), measured.warmupSeconds());
    } finally {
      LoadRuns.close(vertx, TAG);
    }
  }

  static void log(String format, Object... args) {
    System.err.println(TAG + ": " + String.format(Locale.ROOT, format, args));
  }
}
