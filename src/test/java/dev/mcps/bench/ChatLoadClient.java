package dev.mcps.bench;

import static dev.mcps.bench.LoadRuns.fmt;
import static dev.mcps.bench.LoadRuns.ms;

import dev.mcps.bench.CallStats.ErrorKind;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A load generator for {@code POST /chat}: N users, each with at most one turn outstanding. In the closed loop (the
 * default) each user sends its next turn as soon as the last is answered, which measures the most turns a second the
 * server can do; latency there is mostly queueing (users ÷ throughput, Little's law). In the open loop
 * ({@code --rate}) the users together offer a fixed number of turns a second, which measures what a turn costs at a
 * given load. Against a server whose model is {@link ZeroDelayAnthropic}, every turn is one tool call: model →
 * {@code notes_get} → model. It warms up, measures a fixed window, and prints one line that scripts parse:
 *
 * <pre>RESULT section=chat store=… turns=… seconds=… throughput=… p50_ms=… p99_ms=… errors=…
 *   [server_p50_ms=… server_p99_ms=… provider_ms=… provider_calls_per_turn=…] users=… turns_per_user=…
 *   offered_rate=…|closed p90_ms=… p999_ms=… max_ms=… mean_ms=… warmup_s=… cpu_client_pct=… [cpu_NAME_pct=…]
 *   cpu_machine_pct=… err_KIND=…</pre>
 *
 * <p>The latency of a turn is what the user waits: request sent to answer read. With {@code --provider-stats}, the
 * fake provider's counters are read at both ends of the window, and the provider's own time — its mean service time
 * per request times {@value #PROVIDER_CALLS_PER_TURN} requests per turn — is subtracted from p50 and p99 to give
 * {@code server_p50_ms} and {@code server_p99_ms}: what our server added, loopback hops to the provider and back
 * included (they are part of the server's work on a turn). Subtracting a mean from a percentile is exact enough here
 * because the fake's time is tiny and all but constant. {@code provider_calls_per_turn} is the measured ratio, a check
 * that each turn really made one tool call.
 *
 * <p>Histories: every turn adds four messages to its session, and /chat returns the whole history, so turns get
 * heavier as a session ages. By default a user starts over under a new user id every 20 turns (a new session, an empty
 * history), which keeps every run — short or long — measuring the same mix of session ages (0 to 19 earlier turns),
 * one turn in 20 creating its session. {@code --turns-per-user=0} keeps the sessions growing instead.
 *
 * <p>Exit status: 0 after a run (errors are counted, not fatal), 1 when a user's first turn fails (the reason is
 * printed: e.g. 503 Provider_Not_Configured while the server has no provider), 2 on a bad command line.
 */
public final class ChatLoadClient {

  static final String TAG = "chat-load";
  /** Model → tool → model: the fake provider's script. */
  static final int PROVIDER_CALLS_PER_TURN = 2;
  private static final List<ErrorKind> CHAT_ERRORS = List.of(ErrorKind.HTTP, ErrorKind.TOOL, ErrorKind.TIMEOUT,
      ErrorKind.IO, ErrorKind.PROTOCOL, ErrorKind.SESSION_LOST);

  /** The provider's work during the window: requests answered and its mean time on one. */
  record ProviderTime(long requests, double meanMicros) {
  }

  /** The result of a run, as the RESULT line prints it; {@code provider} is null without --provider-stats. */
  record Result(ChatLoadOptions options, CallStats stats, Map<String, Double> cpuPercent, ProviderTime provider,
                double warmupSeconds) {

    long turns() {
      return stats.latencies.count();
    }

    double throughput() {
      return turns() / options.durationSeconds;
    }

    /** A turn-latency percentile less the provider's time on a turn, in microseconds. */
    double serverMicros(double percentile) {
      double providerMicros = provider == null ? 0 : PROVIDER_CALLS_PER_TURN * provider.meanMicros();
      return Math.max(0, stats.latencies.percentile(percentile) - providerMicros);
    }

    String line() {
      LatencyHistogram h = stats.latencies;
      StringBuilder out = new StringBuilder("RESULT section=chat")
          .append(" store=").append(options.store)
          .append(" turns=").append(turns())
          .append(" seconds=").append(fmt(options.durationSeconds, 2))
          .append(" throughput=").append(fmt(throughput(), 1))
          .append(" p50_ms=").append(ms(h.percentile(50)))
          .append(" p99_ms=").append(ms(h.percentile(99)))
          .append(" errors=").append(stats.totalErrors());
      if (provider != null) {
        out.append(" server_p50_ms=").append(ms(serverMicros(50)))
            .append(" server_p99_ms=").append(ms(serverMicros(99)))
            .append(" provider_ms=").append(ms(provider.meanMicros()))
            .append(" provider_calls_per_turn=")
            .append(turns() == 0 ? "0.00" : fmt((double) provider.requests() / turns(), 2));
      }
      out.append(" users=").append(options.users)
          .append(" turns_per_user=").append(options.turnsPerUser)
          .append(" offered_rate=").append(options.rate > 0 ? fmt(options.rate, 1) : "closed")
          .append(" p90_ms=").append(ms(h.percentile(90)))
          .append(" p999_ms=").append(ms(h.percentile(99.9)))
          .append(" max_ms=").append(ms(h.max()))
          .append(" mean_ms=").append(ms(h.mean()))
          .append(" warmup_s=").append(fmt(warmupSeconds, 1));
      cpuPercent.forEach((name, pct) -> out.append(" cpu_").append(name).append("_pct=").append(fmt(pct, 1)));
      for (ErrorKind kind : CHAT_ERRORS) {
        out.append(" err_").append(kind.label()).append('=').append(stats.errors[kind.ordinal()]);
      }
      return out.toString();
    }
  }

  private ChatLoadClient() {
  }

  public static void main(String[] args) {
    LoadRuns.main(TAG, ChatLoadOptions.USAGE, args, ChatLoadOptions::parse, options -> run(options).line());
  }

  static Result run(ChatLoadOptions options) throws FatalException, InterruptedException {
    Vertx vertx = LoadRuns.vertx(options.eventLoops);
    try {
      LoadClock clock = new LoadClock();
      List<ChatShard> shards = LoadRuns.deal(options.users, options.eventLoops).stream()
          .map(slots -> new ChatShard(options, clock, slots)).toList();
      ProviderStats providerStats = options.providerStats == null ? null : new ProviderStats(vertx, options);
      if (providerStats != null) {
        // Before any load: a wrong URL should stop the run now, not leave the RESULT line without its server figures.
        providerStats.read();
      }
      JsonObject[] window = new JsonObject[2];
      LoadRuns.Measured measured = LoadRuns.measure(vertx, shards, clock, options.warmup(),
          options.durationSeconds, options.callTimeoutMillis + 5_000, options.callTimeoutMillis + 10_000,
          options.cpuPids, TAG, new LoadRuns.Hooks() {
            @Override
            public void connected(double seconds) {
              log("%d users had their first turn on %s:%d%s in %.2f s; warm-up %s, then measuring %.1f s",
                  options.users, options.host, options.port, options.path, seconds, options.warmup().describe(),
                  options.durationSeconds);
            }

            @Override
            public void warmedUp(double seconds) {
              log("warmed up in %.1f s", seconds);
            }

            @Override
            public void windowStarts() throws InterruptedException {
              window[0] = providerStats == null ? null : providerStats.readQuietly();
            }

            @Override
            public void windowEnds() throws InterruptedException {
              window[1] = providerStats == null ? null : providerStats.readQuietly();
            }
          });
      ProviderTime provider = ProviderStats.between(window[0], window[1]);
      Result result = new Result(options, measured.stats(), measured.cpuPercent(), provider,
          measured.warmupSeconds());
      if (provider != null && result.turns() > 0) {
        double perTurn = (double) provider.requests() / result.turns();
        if (Math.abs(perTurn - PROVIDER_CALLS_PER_TURN) > 0.05 * PROVIDER_CALLS_PER_TURN) {
          log("the provider answered %.2f requests per turn, not %d: the server-added figures assume %d",
              perTurn, PROVIDER_CALLS_PER_TURN, PROVIDER_CALLS_PER_TURN);
        }
      }
      return result;
    } finally {
      LoadRuns.close(vertx, TAG);
    }
  }

  /** The fake provider's {@code GET /stats} counters, read from the main thread. */
  private static final class ProviderStats {

    private final HttpClient http;
    private final RequestOptions get;

    ProviderStats(Vertx vertx, ChatLoadOptions options) {
      this.http = vertx.createHttpClient();
      this.get = new RequestOptions().setMethod(HttpMethod.GET).setHost(options.providerStats.host())
          .setPort(options.providerStats.port()).setURI(options.providerStats.basePath()).setTimeout(5_000);
    }

    JsonObject read() throws FatalException, InterruptedException {
      String url = "http://" + get.getHost() + ":" + get.getPort() + get.getURI();
      McpSession.Reply reply = LoadRuns.await(McpSession.exchange(http, get, null), 10_000,
          "GET " + url + " did not answer");
      if (reply.status() != 200) {
        throw new FatalException("GET " + url + " (provider stats) answered " + reply.describe());
      }
      try {
        JsonObject stats = reply.body().toJsonObject();
        if (stats.getValue("requests") instanceof Number && stats.getValue("serviceNanos") instanceof Number) {
          return stats;
        }
      } catch (RuntimeException e) {
        // reported below
      }
      throw new FatalException("GET " + url + " (provider stats) is not {requests, serviceNanos, …}: "
          + reply.describe());
    }

    /** Inside the window a failed read only costs the server-added figures; the run itself goes on. */
    JsonObject readQuietly() throws InterruptedException {
      try {
        return read();
      } catch (FatalException e) {
        log("%s; the RESULT line will have no server-added latency", e.getMessage());
        return null;
      }
    }

    static ProviderTime between(JsonObject before, JsonObject after) {
      if (before == null || after == null) {
        return null;
      }
      long requests = after.getLong("requests") - before.getLong("requests");
      long nanos = after.getLong("serviceNanos") - before.getLong("serviceNanos");
      return new ProviderTime(requests, requests == 0 ? 0 : nanos / 1000.0 / requests);
    }
  }

  static void log(String format, Object... args) {
    System.err.println(TAG + ": " + String.format(Locale.ROOT, format, args));
  }
}
