package dev.mcps.soak;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The soak's load and its verdict (run by {@code scripts/soak.sh}, which starts Redis, the fakes and the server).
 *
 * <p>{@code --users} users, each doing one thing at a time with a think time in between, for {@code --seconds}:
 * {@code /chat} turns (half of them asking the fake model for a Jira tool: {@code jira_get_issue} on the user's own
 * issue key, or {@code jira_search} on its project; the rest {@code notes_set}/{@code notes_get}) and MCP
 * {@code tools/call}s on Streamable HTTP and legacy SSE ({@code notes_set}, {@code notes_get}, {@code jira_get_issue},
 * {@code jira_search}). Each user has its own Jira credentials, sent as {@code jiraAuth} on the first turn of each chat
 * session and as {@code X-Jira-*} headers at each MCP connect. Every chat session is left for a new one after
 * {@code --turns-per-session} answered turns (a new chat user id), so no history grows without bound.
 *
 * <p>A request that fails (I/O, timeout, 5xx, 409, 429) is counted in {@code errors} and retried with exponential
 * backoff, a chat turn with the same {@code Idempotency-Key}, up to {@code --max-attempts}. Halfway through, the driver
 * asks the script to restart Redis (it writes {@code --restart-signal}; the script answers with
 * {@code --restart-done}). After warm-up (at {@code --warmup-pct} of the run, once every user has had a turn
 * answered, at the latest 40% into the run) and at the end the load pauses, the in-flight requests finish, and the
 * server's heap is read from {@code GET /health} right after {@code jcmd <pid> GC.run}; with {@code --dump-dir} the
 * server's class histograms are saved too, and the classes that grew most are logged.
 *
 * <p>At the end: each answered turn's message text (unique per turn) must be in its session's stored history in Redis
 * ({@code <prefix>session:<id>:history}) exactly once, else it is lost; the leaks are the answers this driver got with
 * another user's data marker plus the leaks the fakes saw (a Jira request for one user with another's credentials, a
 * model call carrying another user's data). Stdout gets exactly one line,
 * {@code soak: turns=N mcp_calls=N errors=N leaks=N lost=N heap_growth_pct=N}; stderr gets the details. Exit status
 * 0 when leaks=0, lost=0, heap_growth_pct<=20 and the run itself worked (the restart happened, both heap points were
 * measured, the fakes' counters were read, at least one turn and one MCP call were answered); 1 otherwise.
 */
public final class SoakDriver {

  static final String TAG = "soak";
  private static final int MAX_SAMPLES_PER_KIND = 5;
  private static final long DRAIN_TIMEOUT_MS = 60_000;

  enum ChatKind { JIRA_ISSUE, JIRA_SEARCH, NOTE_SET, NOTE_GET }

  enum McpKind { NOTE_SET, NOTE_GET, NOTES_ALL, JIRA_ISSUE, JIRA_SEARCH }

  // --- options ---
  private final String host;
  private final int port;
  private final int userCount;
  private final int seconds;
  private final int thinkMs;
  private final int turnsPerSession;
  private final int maxAttempts;
  private final long timeoutMs;
  private final int warmupPct;
  private final String jiraUrl;
  private final String providerStats;
  private final String jiraStats;
  private final String redisUrl;
  private final String keyPrefix;
  private final long serverPid;
  private final Path restartSignal;
  private final Path restartDone;
  private final String runId;
  private final Path dumpDir;
  private final long seed;
  private final SoakIdentity identity;

  private final Vertx vertx;
  private HttpClient http;
  private HttpClient streams;
  private final List<User> users = new ArrayList<>();

  // --- state, only touched on the driver's event loop ---
  private long turns;
  private long mcpCalls;
  private long errors;
  private long answerLeaks;
  private long staleNotes;
  private final Map<String, Long> errorKinds = new TreeMap<>();
  private final Map<String, Long> mcpByTransport = new TreeMap<>();
  /** Milliseconds of the answered requests, by kind (chat attempt, MCP call per transport), for the summary. */
  private final Map<String, List<Long>> latencies = new TreeMap<>();
  private final Map<String, List<String>> samples = new TreeMap<>();
  private final List<String> leakDetails = new ArrayList<>();
  /** Every chat session a turn was answered on: its id → the answered turns' unique texts. */
  private final Map<String, List<String>> answered = new LinkedHashMap<>();
  private final Map<String, Integer> sessionUser = new HashMap<>();
  private static final java.util.regex.Pattern HISTOGRAM_LINE =
      java.util.regex.Pattern.compile("\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(.+)");
  private Map<String, long[]> warmupHistogram;
  /** How many users have had at least one turn answered. */
  private int usersServed;
  private boolean paused;
  private boolean stopping;
  private int active;
  private long startNanos;
  private long restartRequestedNanos;
  private long restartDoneNanos;
  private long firstTurnAfterRestartNanos;
  private long errorsBeforeRestart = -1;
  private Long heapStart;
  private Long heapEnd;
  private final List<String> problems = new ArrayList<>();

  private SoakDriver(Map<String, String> a, Vertx vertx) {
    URI url = URI.create(require(a, "url"));
    this.host = url.getHost();
    this.port = url.getPort();
    this.userCount = Integer.parseInt(a.getOrDefault("users", "200"));
    this.seconds = Integer.parseInt(a.getOrDefault("seconds", "600"));
    this.thinkMs = Integer.parseInt(a.getOrDefault("think-ms", "500"));
    this.turnsPerSession = Integer.parseInt(a.getOrDefault("turns-per-session", "20"));
    this.maxAttempts = Integer.parseInt(a.getOrDefault("max-attempts", "10"));
    this.timeoutMs = Long.parseLong(a.getOrDefault("timeout-ms", "30000"));
    this.warmupPct = Integer.parseInt(a.getOrDefault("warmup-pct", "10"));
    this.jiraUrl = require(a, "jira-url");
    this.providerStats = require(a, "provider-stats");
    this.jiraStats = require(a, "jira-stats");
    this.redisUrl = require(a, "redis-url");
    this.keyPrefix = a.getOrDefault("key-prefix", "mcps:");
    this.serverPid = Long.parseLong(require(a, "server-pid"));
    this.restartSignal = Path.of(require(a, "restart-signal"));
    this.restartDone = Path.of(require(a, "restart-done"));
    this.dumpDir = a.containsKey("dump-dir") ? Path.of(a.get("dump-dir")) : null;
    this.runId = a.getOrDefault("run-id", Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36));
    this.seed = Long.parseLong(a.getOrDefault("seed", Long.toString(System.nanoTime())));
    this.identity = new SoakIdentity(require(a, "secret"));
    this.vertx = vertx;
    for (String u : List.of(require(a, "url"), jiraUrl, providerStats, jiraStats, redisUrl)) {
      if (!isLoopback(URI.create(u).getHost())) {
        throw new IllegalArgumentException("only loopback addresses are allowed, not " + u);
      }
    }
    if (userCount < 1 || seconds < 1 || thinkMs < 0 || turnsPerSession < 1 || maxAttempts < 1 || warmupPct < 1
        || warmupPct > 40) {
      // The warm-up reading must come before the restart, which is halfway.
      throw new IllegalArgumentException("users, seconds, turns-per-session and max-attempts must be >= 1, "
          + "think-ms >= 0, warmup-pct within 1..40");
    }
  }

  static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    return h.equals("localhost") || h.startsWith("127.") || h.equals("::1");
  }

  private static String require(Map<String, String> a, String name) {
    String v = a.get(name);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("--" + name + "=… is required");
    }
    return v;
  }

  public static void main(String[] args) {
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        System.err.println(TAG + ": unknown argument " + arg);
        System.exit(2);
      }
      a.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
    }
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2)
        .setInternalBlockingPoolSize(2));
    SoakDriver driver;
    try {
      driver = new SoakDriver(a, vertx);
    } catch (RuntimeException e) {
      System.err.println(TAG + ": " + e.getMessage());
      vertx.close();
      System.exit(2);
      return;
    }
    CompletableFuture<Integer> done = new CompletableFuture<>();
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> driver.run().onComplete(ar -> {
      if (ar.failed()) {
        System.err.println(TAG + ": FATAL: " + ar.cause());
        done.complete(1);
      } else {
        done.complete(ar.result());
      }
    }));
    int code;
    try {
      // Bounded: the window, the drains, the checks; a driver that hangs past this is itself a failure.
      code = done.get(driver.seconds + 900L, TimeUnit.SECONDS);
    } catch (Exception e) {
      System.err.println(TAG + ": FATAL: the driver did not finish: " + e);
      code = 1;
    }
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // Exiting anyway.
    }
    System.exit(code);
  }

  // --- the run ---------------------------------------------------------------------------------------------------

  private Future<Integer> run() {
    http = vertx.httpClientBuilder()
        .with(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_1_1).setKeepAlive(true)
            // Below the server's idle timeout, so the client never sends on a connection the server is closing.
            .setKeepAliveTimeout(20).setTcpNoDelay(true).setConnectTimeout(5_000))
        .with(new PoolOptions().setHttp1MaxSize(userCount + 16).setMaxWaitQueueSize(-1))
        .build();
    streams = vertx.httpClientBuilder()
        .with(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_1_1).setKeepAlive(false)
            .setTcpNoDelay(true).setConnectTimeout(5_000))
        .with(new PoolOptions().setHttp1MaxSize(userCount + 16).setMaxWaitQueueSize(-1))
        .build();
    Random seeds = new Random(seed);
    for (int i = 0; i < userCount; i++) {
      users.add(new User(i, seeds.nextLong()));
    }
    log("run " + runId + ": " + userCount + " users for " + seconds + " s against http://" + host + ":" + port
        + " (think " + thinkMs + " ms, a new chat session every " + turnsPerSession + " turns, seed " + seed + ")");
    return connectAll()
        .compose(v -> window())
        .compose(v -> finish());
  }

  /** Opens every user's two MCP sessions before the window, so both heap points see the same connections. */
  private Future<Void> connectAll() {
    Promise<Void> done = Promise.promise();
    List<SoakMcp> clients = new ArrayList<>();
    for (User u : users) {
      clients.add(u.streamable);
      clients.add(u.sse);
    }
    int[] next = {0};
    int[] finished = {0};
    int[] failed = {0};
    int parallel = Math.min(16, clients.size());
    Runnable[] pump = new Runnable[1];
    pump[0] = () -> {
      if (next[0] >= clients.size()) {
        return;
      }
      SoakMcp c = clients.get(next[0]++);
      c.connect().timeout(timeoutMs, TimeUnit.MILLISECONDS).onComplete(ar -> {
        if (ar.failed()) {
          failed[0]++;
          error("mcp_connect", c.transport() + " connect of " + c.userId + " failed: " + SoakMcp.describe(ar.cause()));
        }
        if (++finished[0] == clients.size()) {
          if (failed[0] * 2 > clients.size()) {
            // Not fatal: the users reconnect on their next call, and the result line shows what came of it.
            problems.add(failed[0] + " of " + clients.size() + " MCP connects failed before the window");
          }
          log("connected " + (clients.size() - failed[0]) + " of " + clients.size() + " MCP sessions");
          done.complete();
        } else {
          pump[0].run();
        }
      });
    };
    for (int i = 0; i < parallel; i++) {
      pump[0].run();
    }
    return done.future();
  }

  private Future<Void> window() {
    Promise<Void> over = Promise.promise();
    startNanos = System.nanoTime();
    long warmAt = startNanos + seconds * 1_000_000_000L * warmupPct / 100;
    long latestWarmAt = Math.max(warmAt, startNanos + seconds * 400_000_000L);
    long restartAt = startNanos + seconds * 500_000_000L;
    long endAt = startNanos + seconds * 1_000_000_000L;
    for (User u : users) {
      vertx.setTimer(1 + u.random.nextInt(Math.max(1, Math.min(2_000, thinkMs * 2 + 1))), t -> u.next());
    }
    boolean[] warmStarted = {false};
    boolean[] measuring = {false};
    long[] lastProgress = {startNanos};
    vertx.setPeriodic(250, timer -> {
      long now = System.nanoTime();
      // After warm-up: at --warmup-pct of the run, and not before every user has had a turn answered (on a cold
      // server with many users that takes a while, and until then the users' sessions do not all exist yet), but
      // at the latest a tenth of the run before halfway, so that the reading is never taken after the restart.
      boolean everyUserServed = usersServed == userCount;
      if (!warmStarted[0] && now >= warmAt && (everyUserServed || now >= latestWarmAt)) {
        warmStarted[0] = true;
        measuring[0] = true;
        log(String.format("warm-up point at t=%ds (%d of %d users have had a turn answered): pausing the load to "
            + "read the server's heap after a full GC ...", (now - startNanos) / 1_000_000_000L, usersServed,
            userCount));
        pauseAndMeasure("warmup").onComplete(ar -> {
          measuring[0] = false;
          if (ar.succeeded()) {
            heapStart = ar.result();
            log("heap after warm-up: " + mib(heapStart) + " MiB");
          } else {
            problems.add("the warm-up heap could not be measured: " + ar.cause().getMessage());
          }
        });
      }
      // Not while the load is paused for the warm-up reading: the restart must meet requests in flight.
      if (restartRequestedNanos == 0 && now >= restartAt && !measuring[0]) {
        restartRequestedNanos = now;
        errorsBeforeRestart = errors;
        log("halfway: asking the script to restart Redis (errors so far: " + errors + ")");
        vertx.executeBlocking(() -> Files.writeString(restartSignal, runId + "\n"))
            .onFailure(e -> problems.add("cannot write " + restartSignal + ": " + e));
      }
      if (restartRequestedNanos != 0 && restartDoneNanos == 0) {
        vertx.executeBlocking(() -> Files.exists(restartDone)).onSuccess(exists -> {
          if (exists && restartDoneNanos == 0) {
            restartDoneNanos = System.nanoTime();
            log("Redis is back after the restart (" + ms(restartDoneNanos - restartRequestedNanos)
                + " ms after the request); errors so far: " + errors);
          }
        });
      }
      if (now - lastProgress[0] >= 10_000_000_000L) {
        lastProgress[0] = now;
        log(String.format("t=%ds turns=%d mcp_calls=%d errors=%d answer_leaks=%d active=%d", (now - startNanos) / 1_000_000_000L,
            turns, mcpCalls, errors, answerLeaks, active));
      }
      if (now >= endAt && !measuring[0]) {
        vertx.cancelTimer(timer);
        stopping = true;
        log("the window is over: letting the requests in flight finish ...");
        drain().onComplete(d -> over.complete());
      }
    });
    return over.future();
  }

  private Future<Integer> finish() {
    return heapAfterGc()
        .compose(h -> histogram("end").map(h))
        .transform(ar -> {
          if (ar.succeeded()) {
            heapEnd = ar.result();
            log("heap at the end: " + mib(heapEnd) + " MiB");
          } else {
            problems.add("the final heap could not be measured: " + ar.cause().getMessage());
          }
          List<Future<Void>> closes = new ArrayList<>();
          for (User u : users) {
            closes.add(u.streamable.close());
            closes.add(u.sse.close());
          }
          return Future.join(closes).transform(x -> Future.<Void>succeededFuture());
        })
        .compose(v -> Future.all(stats(providerStats), stats(jiraStats)))
        .transform(ar -> {
          long fakeLeaks = 0;
          JsonObject provider = ar.succeeded() ? ar.result().resultAt(0) : null;
          JsonObject jira = ar.succeeded() ? ar.result().resultAt(1) : null;
          if (provider == null || jira == null) {
            problems.add("the fakes' counters could not be read (their leaks are unknown)");
          }
          if (provider != null) {
            fakeLeaks += provider.getLong("leaks", 0L);
            log("fake provider: " + provider.encode());
          }
          if (jira != null) {
            fakeLeaks += jira.getLong("leaks", 0L);
            log("fake jira: " + jira.encode());
          }
          long leaks = answerLeaks + fakeLeaks;
          return lostTurns().transform(lost -> {
            long lostCount;
            if (lost.succeeded()) {
              lostCount = lost.result();
            } else {
              problems.add("the stored histories could not be read: " + lost.cause().getMessage());
              lostCount = answered.values().stream().mapToLong(List::size).sum();
            }
            return Future.succeededFuture(report(leaks, lostCount));
          });
        });
  }

  private int report(long leaks, long lost) {
    Long growth = heapStart == null || heapEnd == null || heapStart <= 0 ? null
        : Math.round((heapEnd - heapStart) * 100.0 / heapStart);
    if (restartRequestedNanos == 0) {
      problems.add("Redis was never restarted (the run ended before halfway)");
    } else if (restartDoneNanos == 0 && !Files.exists(restartDone)) {
      problems.add("the script never confirmed the Redis restart (" + restartDone + ")");
    }
    if (turns == 0) {
      problems.add("no /chat turn was answered");
    }
    if (mcpCalls == 0) {
      problems.add("no MCP tool call was answered");
    }
    if (growth == null) {
      problems.add("heap_growth_pct is unknown (printed as 0)");
    }
    log("MCP calls answered by transport: " + mcpByTransport + "; users served: " + usersServed + " of " + userCount);
    latencies.forEach((kind, list) -> {
      List<Long> sorted = new ArrayList<>(list);
      sorted.sort(null);
      int n = sorted.size();
      log(String.format("latency of answered %s (ms): n=%d p50=%d p90=%d p99=%d max=%d", kind, n,
          sorted.get(n / 2), sorted.get(Math.min(n - 1, n * 9 / 10)), sorted.get(Math.min(n - 1, n * 99 / 100)),
          sorted.get(n - 1)));
    });
    log("errors by kind: " + errorKinds);
    samples.forEach((kind, list) -> list.forEach(s -> log("  e.g. [" + kind + "] " + s)));
    if (errorsBeforeRestart >= 0) {
      log("errors before the Redis restart: " + errorsBeforeRestart + ", from the restart on: "
          + (errors - errorsBeforeRestart) + (firstTurnAfterRestartNanos == 0 ? ""
          : "; first turn answered " + ms(firstTurnAfterRestartNanos - restartDoneNanos)
          + " ms after Redis was back"));
    }
    leakDetails.forEach(d -> log("  LEAK " + d));
    if (staleNotes > 0) {
      log("stale notes (an acknowledged notes_set not seen by a later notes_get; counted in errors): " + staleNotes);
    }
    log("chat sessions checked: " + answered.size() + "; heap " + (heapStart == null ? "?" : mib(heapStart)) + " -> "
        + (heapEnd == null ? "?" : mib(heapEnd)) + " MiB");
    problems.forEach(p -> log("PROBLEM: " + p));
    long pct = growth == null ? 0 : growth;
    System.out.println("soak: turns=" + turns + " mcp_calls=" + mcpCalls + " errors=" + errors + " leaks=" + leaks
        + " lost=" + lost + " heap_growth_pct=" + pct);
    System.out.flush();
    boolean pass = leaks == 0 && lost == 0 && pct <= 20 && problems.isEmpty();
    return pass ? 0 : 1;
  }

  // --- pausing and the heap -----------------------------------------------------------------------------------------

  private Future<Long> pauseAndMeasure(String name) {
    paused = true;
    return drain().compose(v -> heapAfterGc()).compose(h -> histogram(name).map(h))
        .onComplete(ar -> paused = false);
  }

  /** Completes once no user is in the middle of an action, or after {@link #DRAIN_TIMEOUT_MS}. */
  private Future<Void> drain() {
    Promise<Void> done = Promise.promise();
    long deadline = System.nanoTime() + DRAIN_TIMEOUT_MS * 1_000_000L;
    vertx.setPeriodic(20, t -> {
      if (active == 0 || System.nanoTime() > deadline) {
        if (active > 0) {
          log("still " + active + " users busy after " + DRAIN_TIMEOUT_MS + " ms; measuring anyway");
        }
        vertx.cancelTimer(t);
        done.complete();
      }
    });
    return done.future();
  }

  /** {@code jcmd <pid> GC.run}, then the heap in use from {@code GET /health}. */
  private Future<Long> heapAfterGc() {
    return vertx.executeBlocking(() -> {
      Process p = new ProcessBuilder("jcmd", Long.toString(serverPid), "GC.run").redirectErrorStream(true).start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("jcmd " + serverPid + " GC.run did not finish within 120 s");
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.exitValue() != 0) {
        throw new IOException("jcmd " + serverPid + " GC.run failed: " + out);
      }
      return out;
    }, false).compose(out -> get("/health")).compose(reply -> {
      JsonObject body;
      try {
        body = reply.toJsonObject();
      } catch (RuntimeException e) {
        return Future.failedFuture("GET /health is not JSON: " + reply);
      }
      JsonObject mem = body.getJsonObject("memoryUsage");
      Long used = mem == null ? null : mem.getLong("heapUsed");
      return used == null ? Future.failedFuture("GET /health has no memoryUsage.heapUsed: " + body.encode())
          : Future.succeededFuture(used);
    });
  }

  /**
   * Diagnostics, not part of the verdict: the server's class histogram ({@code jcmd <pid> GC.class_histogram}),
   * saved under {@code --dump-dir}; at the end, the classes whose instances grew most since the warm-up point.
   */
  private Future<Void> histogram(String name) {
    if (dumpDir == null) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> {
      Process p = new ProcessBuilder("jcmd", Long.toString(serverPid), "GC.class_histogram")
          .redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("jcmd GC.class_histogram did not finish within 120 s");
      }
      Files.createDirectories(dumpDir);
      Files.write(dumpDir.resolve("histogram-" + name + ".txt"), out);
      return new String(out, StandardCharsets.UTF_8);
    }, false).map(text -> {
      Map<String, long[]> classes = new HashMap<>();
      for (String line : text.split("\n")) {
        java.util.regex.Matcher m = HISTOGRAM_LINE.matcher(line);
        if (m.matches()) {
          classes.put(m.group(3).trim(), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        }
      }
      if (warmupHistogram == null) {
        warmupHistogram = classes;
        return null;
      }
      List<Map.Entry<String, long[]>> grown = new ArrayList<>();
      for (Map.Entry<String, long[]> e : classes.entrySet()) {
        long[] before = warmupHistogram.getOrDefault(e.getKey(), new long[2]);
        grown.add(Map.entry(e.getKey(), new long[] {e.getValue()[0] - before[0], e.getValue()[1] - before[1]}));
      }
      grown.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
      log("classes that grew most since the warm-up point (instances, bytes; full histograms in " + dumpDir + "):");
      for (int i = 0; i < Math.min(12, grown.size()) && grown.get(i).getValue()[1] > 0; i++) {
        log(String.format("  %+9d %+11d  %s", grown.get(i).getValue()[0], grown.get(i).getValue()[1],
            grown.get(i).getKey()));
      }
      return null;
    }).<Void>mapEmpty().recover(e -> {
      log("no class histogram (" + name + "): " + e.getMessage());
      return Future.succeededFuture();
    });
  }

  private Future<Buffer> get(String path) {
    return http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(port).setURI(path)
            .setIdleTimeout(timeoutMs))
        .compose(req -> req.send().compose(resp -> resp.body()));
  }

  private Future<JsonObject> stats(String url) {
    URI u = URI.create(url);
    return http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost(u.getHost()).setPort(u.getPort())
            .setURI(u.getRawPath()).setIdleTimeout(timeoutMs))
        .compose(req -> req.send().compose(resp -> resp.body()))
        .map(Buffer::toJsonObject)
        .otherwise(e -> {
          log("cannot read " + url + ": " + e);
          return null;
        });
  }

  // --- the lost-turn check ------------------------------------------------------------------------------------------

  /** Reads each session's stored history from Redis; a turn whose text is not there exactly once is lost. */
  private Future<Long> lostTurns() {
    Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(redisUrl));
    return redis.connect().compose(conn -> checkSessions(conn, new ArrayList<>(answered.keySet()), 0, new long[3])
        .eventually(() -> conn.close())).eventually(() -> {
          redis.close();
          return Future.succeededFuture();
        });
  }

  /** counts: [0] lost (missing or duplicated), [1] missing, [2] duplicated. */
  private Future<Long> checkSessions(RedisConnection conn, List<String> ids, int at, long[] counts) {
    if (at == ids.size()) {
      log("lost-turn check: " + counts[0] + " of " + answered.values().stream().mapToLong(List::size).sum()
          + " answered turns not stored exactly once (" + counts[1] + " missing, " + counts[2] + " duplicated)");
      return Future.succeededFuture(counts[0]);
    }
    String id = ids.get(at);
    String key = keyPrefix + "session:" + id + ":history";
    return conn.send(Request.cmd(Command.TYPE).arg(key)).compose(type -> {
      String t = type == null ? "none" : type.toString();
      if (t.equals("none")) {
        return Future.succeededFuture(List.<String>of());
      }
      if (!t.equals("list")) {
        return Future.failedFuture("the history key " + key + " is a " + t + ", not a list: this check reads lists");
      }
      return conn.send(Request.cmd(Command.LRANGE).arg(key).arg(0).arg(-1)).map(r -> {
        List<String> out = new ArrayList<>(r.size());
        for (Response e : r) {
          out.add(e.toString());
        }
        return out;
      });
    }).compose(history -> {
      List<String> texts = answered.get(id);
      int missing = 0;
      for (String text : texts) {
        int n = 0;
        for (String element : history) {
          for (int i = element.indexOf(text); i >= 0; i = element.indexOf(text, i + text.length())) {
            n++;
          }
        }
        if (n != 1) {
          counts[0]++;
          if (n == 0) {
            counts[1]++;
            missing++;
          } else {
            counts[2]++;
            if (counts[2] <= 10) {
              log("duplicated: '" + text + "' is " + n + " times in session " + id);
            }
          }
        }
      }
      if (missing > 0 && counts[1] - missing < 10) {
        log("missing: " + missing + " of " + texts.size() + " answered turns of session " + id + " (user "
            + sessionUser.get(id) + ", " + history.size() + " stored messages)"
            + (history.isEmpty() ? " — the history (or the session) is gone" : ""));
      }
      return checkSessions(conn, ids, at + 1, counts);
    });
  }

  // --- bookkeeping --------------------------------------------------------------------------------------------------

  private void error(String kind, String detail) {
    errors++;
    errorKinds.merge(kind, 1L, Long::sum);
    List<String> list = samples.computeIfAbsent(kind, k -> new ArrayList<>());
    if (list.size() < MAX_SAMPLES_PER_KIND) {
      list.add(String.format("t=%.1fs %s", startNanos == 0 ? 0.0 : (System.nanoTime() - startNanos) / 1e9, detail));
    }
  }

  private void latency(String kind, long sentAtNanos) {
    latencies.computeIfAbsent(kind, k -> new ArrayList<>()).add((System.nanoTime() - sentAtNanos) / 1_000_000L);
  }

  /** Counts a leak when {@code text}, received by {@code user}, holds another user's data marker. */
  private boolean leakCheck(int user, String where, String text) {
    int foreign = SoakIdentity.foreignOwner(text, user);
    if (foreign < 0) {
      return false;
    }
    answerLeaks++;
    if (leakDetails.size() < 20) {
      leakDetails.add(where + " for user " + user + " carried data of user " + foreign + ": " + clip(text, 300));
    }
    return true;
  }

  private static final long LOADED = System.nanoTime();

  private static void log(String message) {
    System.err.printf("%s: [%6.1fs] %s%n", TAG, (System.nanoTime() - LOADED) / 1e9, message);
  }

  private static String clip(String s, int n) {
    String one = s.replace('\n', ' ');
    return one.length() <= n ? one : one.substring(0, n) + "…";
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000L;
  }

  private static String mib(long bytes) {
    return String.format("%.1f", bytes / 1048576.0);
  }

  private long backoffMs(int failures) {
    long base = Math.min(5_000L, 200L << Math.min(5, Math.max(0, failures - 1)));
    return base / 2 + (long) (Math.random() * base / 2);
  }

  /** Text of a content value: a string, or the text of its text blocks. */
  static String text(Object content) {
    if (content instanceof String s) {
      return s;
    }
    StringBuilder out = new StringBuilder();
    if (content instanceof JsonArray a) {
      for (Object o : a) {
        if (o instanceof JsonObject b && b.getValue("text") instanceof String s) {
          out.append(s);
        }
      }
    }
    return out.toString();
  }

  /** The first block of the given type in message {@code at} of {@code history} with that role, or null. */
  private static JsonObject block(JsonArray history, int at, String role, String type) {
    if (at < 0 || !(history.getValue(at) instanceof JsonObject m) || !role.equals(m.getValue("role"))) {
      return null;
    }
    Object content = m.getValue("content");
    if (content instanceof String s && "text".equals(type)) {
      return new JsonObject().put("type", "text").put("text", s);
    }
    if (content instanceof JsonArray a) {
      for (Object o : a) {
        if (o instanceof JsonObject b && type.equals(b.getValue("type"))) {
          return b;
        }
      }
    }
    return null;
  }

  // --- one user -----------------------------------------------------------------------------------------------------

  private final class User {

    final int index;
    final String marker;
    final Random random;
    final SoakMcp streamable;
    final SoakMcp sse;
    int generation;
    String chatUserId;
    String chatSessionId;
    int turnsInSession;
    boolean credentialsStored;
    long seq;
    int failStreak;
    boolean served;
    /** MCP notes: the value last acknowledged per key, and the values of sets whose outcome is unknown. */
    final Map<String, String> notes = new HashMap<>();
    final Map<String, Set<String>> maybeNotes = new HashMap<>();

    User(int index, long seed) {
      this.index = index;
      this.marker = SoakIdentity.marker(index);
      this.random = new Random(seed);
      MultiMap jira = MultiMap.caseInsensitiveMultiMap()
          .add("X-Jira-Base-Url", jiraUrl)
          .add("X-Jira-Email", SoakIdentity.email(index))
          .add("X-Jira-Api-Token", identity.token(index));
      String mcpUser = marker + "mcp";
      this.streamable = new SoakMcp.Streamable(vertx, http, host, port, timeoutMs, mcpUser, jira);
      this.sse = new SoakMcp.LegacySse(vertx, http, streams, host, port, timeoutMs, mcpUser, jira);
      newChatSession();
    }

    private void newChatSession() {
      chatUserId = marker + "c" + generation++;
      chatSessionId = null;
      turnsInSession = 0;
      credentialsStored = false;
    }

    void next() {
      if (stopping) {
        return;
      }
      if (paused) {
        vertx.setTimer(100, t -> next());
        return;
      }
      active++;
      int roll = random.nextInt(100);
      Future<Boolean> action = roll < 50 ? chatTurn() : mcpCall(roll < 75 ? streamable : sse);
      action.onComplete(ar -> {
        active--;
        boolean ok = ar.succeeded() && ar.result();
        if (ar.failed()) {
          error("driver", "user " + index + ": " + ar.cause());
        }
        failStreak = ok ? 0 : failStreak + 1;
        long delay = thinkMs == 0 ? 0 : thinkMs / 2 + random.nextInt(thinkMs + 1);
        if (failStreak > 0) {
          delay = Math.max(delay, backoffMs(failStreak));
        }
        if (delay == 0) {
          vertx.runOnContext(v -> next());
        } else {
          vertx.setTimer(delay, t -> next());
        }
      });
    }

    // --- chat ---

    Future<Boolean> chatTurn() {
      long t = ++seq;
      int roll = random.nextInt(100);
      ChatKind kind = roll < 40 ? ChatKind.JIRA_ISSUE : roll < 50 ? ChatKind.JIRA_SEARCH
          : roll < 75 ? ChatKind.NOTE_SET : ChatKind.NOTE_GET;
      // Unique per turn in the whole run: the check at the end looks for exactly this text.
      String token = marker + "turn-" + runId + "-t" + t + "x";
      String issueKey = SoakIdentity.project(index) + "-" + t;
      String message = switch (kind) {
        case JIRA_ISSUE -> token + ": please summarize the jira issue " + issueKey;
        case JIRA_SEARCH -> token + ": run a jql search of my project";
        case NOTE_SET -> token + ": remember note=" + marker + "note-" + runId + "-" + t;
        case NOTE_GET -> token + ": what do my notes say?";
      };
      Promise<Boolean> done = Promise.promise();
      attempt(kind, token, message, issueKey, runId + "-u" + index + "-t" + t, 1, done);
      return done.future();
    }

    private void attempt(ChatKind kind, String token, String message, String issueKey, String idempotencyKey,
                         int attempt, Promise<Boolean> done) {
      JsonObject body = new JsonObject().put("message", message).put("userId", chatUserId);
      if (chatSessionId != null) {
        body.put("sessionId", chatSessionId);
      }
      if (!credentialsStored) {
        body.put("jiraAuth", new JsonObject().put("baseUrl", jiraUrl).put("email", SoakIdentity.email(index))
            .put("apiToken", identity.token(index)));
      }
      RequestOptions post = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port)
          .setURI("/chat").setIdleTimeout(timeoutMs)
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .putHeader("Idempotency-Key", idempotencyKey);
      String sentSession = chatSessionId;
      long sentAt = System.nanoTime();
      http.request(post)
          .compose(req -> req.send(body.toBuffer())
              .compose(resp -> resp.body().map(b -> new SoakMcp.Reply(resp.statusCode(), resp.headers(), b))))
          .timeout(timeoutMs + 5_000, TimeUnit.MILLISECONDS)
          .onComplete(ar -> {
            String retryKind;
            String detail;
            if (ar.succeeded() && ar.result().status() == 200) {
              latency("/chat turn", sentAt);
              answeredTurn(kind, token, message, issueKey, ar.result().body());
              done.complete(true);
              return;
            }
            if (ar.failed()) {
              retryKind = SoakMcp.isTimeout(ar.cause()) ? "chat_timeout" : "chat_io";
              detail = "user " + index + " turn attempt " + attempt + ": " + SoakMcp.describe(ar.cause());
            } else {
              SoakMcp.Reply r = ar.result();
              int status = r.status();
              detail = "user " + index + " turn attempt " + attempt + ": HTTP " + status + " " + r.text();
              if (status == 404 && sentSession != null) {
                // The session is gone (the turns answered on it will show up as lost): a new conversation.
                error("chat_session_lost", detail);
                newChatSession();
                done.complete(false);
                return;
              }
              boolean retryable = status >= 500 || status == 409 || status == 429 || status == 408;
              if (!retryable) {
                error("chat_http_" + status, detail);
                done.complete(false);
                return;
              }
              retryKind = "chat_http_" + status;
            }
            error(retryKind, detail);
            if (attempt >= maxAttempts || stopping) {
              done.complete(false);
              return;
            }
            vertx.setTimer(backoffMs(attempt), x -> attempt(kind, token, message, issueKey, idempotencyKey,
                attempt + 1, done));
          });
    }

    private void answeredTurn(ChatKind kind, String token, String message, String issueKey, Buffer raw) {
      turns++;
      if (!served) {
        served = true;
        usersServed++;
      }
      if (restartDoneNanos != 0 && firstTurnAfterRestartNanos == 0) {
        firstTurnAfterRestartNanos = System.nanoTime();
      }
      String text = raw.toString(StandardCharsets.UTF_8);
      leakCheck(index, "a /chat reply", text);
      JsonObject json;
      try {
        json = new JsonObject(text);
      } catch (RuntimeException e) {
        error("chat_bad_reply", "user " + index + ": the 200 body is not JSON: " + clip(text, 200));
        return;
      }
      String sessionId = json.getString("sessionId");
      if (sessionId == null) {
        error("chat_bad_reply", "user " + index + ": the 200 body has no sessionId: " + clip(text, 200));
        return;
      }
      answered.computeIfAbsent(sessionId, k -> new ArrayList<>()).add(token);
      sessionUser.put(sessionId, index);
      if (chatSessionId != null && !chatSessionId.equals(sessionId)) {
        error("chat_bad_reply", "user " + index + ": sent session " + chatSessionId + ", answered on " + sessionId);
      }
      chatSessionId = sessionId;
      credentialsStored = true;
      String problem = checkTurn(kind, message, issueKey, json);
      if (problem != null) {
        error("chat_bad_reply", "user " + index + ": " + problem);
      }
      if (++turnsInSession >= turnsPerSession) {
        newChatSession();
      }
    }

    /** What is wrong with a 200 turn, or null: the turn's four messages, the right tool, its own data. */
    private String checkTurn(ChatKind kind, String message, String issueKey, JsonObject json) {
      if (!(json.getValue("history") instanceof JsonArray history) || history.size() < 4) {
        return "the reply has no history of at least this turn's 4 messages";
      }
      int n = history.size();
      JsonObject asked = block(history, n - 4, "user", "text");
      JsonObject use = block(history, n - 3, "assistant", "tool_use");
      JsonObject result = block(history, n - 2, "user", "tool_result");
      JsonObject answer = block(history, n - 1, "assistant", "text");
      if (asked == null || !message.equals(asked.getString("text"))) {
        return "the history does not end with this turn's message: " + clip(history.getValue(n - 4) + "", 200);
      }
      String tool = switch (kind) {
        case JIRA_ISSUE -> "jira_get_issue";
        case JIRA_SEARCH -> "jira_search";
        case NOTE_SET -> "notes_set";
        case NOTE_GET -> "notes_get";
      };
      if (use == null || !tool.equals(use.getString("name"))) {
        return "expected a " + tool + " call, the model step was " + clip(history.getValue(n - 3) + "", 200);
      }
      if (result == null || answer == null) {
        return "the turn does not end with a tool result and an answer";
      }
      String resultText = text(result.getValue("content"));
      if (Boolean.TRUE.equals(result.getValue("is_error"))) {
        return tool + " failed: " + clip(resultText, 200);
      }
      String expected = switch (kind) {
        case JIRA_ISSUE -> marker + "issue-" + issueKey;
        case JIRA_SEARCH -> marker + "issue-" + SoakIdentity.project(index) + "-1";
        default -> null;
      };
      if (expected != null && !resultText.contains(expected)) {
        return tool + " did not return the user's issue (" + expected + "): " + clip(resultText, 200);
      }
      return null;
    }

    // --- MCP ---

    Future<Boolean> mcpCall(SoakMcp client) {
      int roll = random.nextInt(100);
      McpKind kind = roll < 35 ? McpKind.NOTE_SET : roll < 60 ? McpKind.NOTE_GET : roll < 70 ? McpKind.NOTES_ALL
          : roll < 90 ? McpKind.JIRA_ISSUE : McpKind.JIRA_SEARCH;
      long t = ++seq;
      String noteKey = "k" + random.nextInt(8);
      String noteValue = marker + "mcpnote-" + runId + "-" + t;
      String issueKey = SoakIdentity.project(index) + "-" + t;
      String tool;
      JsonObject args = new JsonObject();
      switch (kind) {
        case NOTE_SET -> {
          tool = "notes_set";
          args.put("key", noteKey).put("value", noteValue);
        }
        case NOTE_GET -> {
          tool = "notes_get";
          args.put("key", noteKey);
        }
        case NOTES_ALL -> tool = "notes_get";
        case JIRA_ISSUE -> {
          tool = "jira_get_issue";
          args.put("issueKey", issueKey);
        }
        default -> {
          tool = "jira_search";
          args.put("jql", "project = " + SoakIdentity.project(index) + " ORDER BY updated DESC").put("maxResults", 3);
        }
      }
      String where = client.transport() + " " + tool;
      long sentAt = System.nanoTime();
      boolean wasConnected = client.connected;
      return client.call(tool, args).transform(ar -> {
        if (ar.succeeded() && wasConnected) {
          latency(client.transport() + " tools/call", sentAt);
        }
        if (ar.failed()) {
          String kindName = ar.cause() instanceof SoakMcp.Failure f ? f.kind : "io";
          error("mcp_" + kindName, "user " + index + " " + where + ": " + ar.cause().getMessage());
          if (kind == McpKind.NOTE_SET) {
            maybeNotes.computeIfAbsent(noteKey, k -> new HashSet<>()).add(noteValue);
          }
          return Future.succeededFuture(false);
        }
        JsonObject response = ar.result();
        mcpCalls++;
        mcpByTransport.merge(client.transport(), 1L, Long::sum);
        String encoded = response.encode();
        leakCheck(index, "an MCP " + where + " result", encoded);
        JsonObject result = response.getJsonObject("result");
        if (result == null) {
          error("mcp_rpc_error", "user " + index + " " + where + ": " + clip(encoded, 300));
          if (kind == McpKind.NOTE_SET) {
            maybeNotes.computeIfAbsent(noteKey, k -> new HashSet<>()).add(noteValue);
          }
          return Future.succeededFuture(false);
        }
        String text = text(result.getValue("content"));
        boolean isError = Boolean.TRUE.equals(result.getValue("isError"));
        String problem = null;
        boolean stale = false;
        switch (kind) {
          case NOTE_SET -> {
            if (isError) {
              problem = "notes_set failed: " + clip(text, 200);
              maybeNotes.computeIfAbsent(noteKey, k -> new HashSet<>()).add(noteValue);
            } else {
              notes.put(noteKey, noteValue);
            }
          }
          case NOTE_GET -> {
            String known = notes.get(noteKey);
            Set<String> maybe = maybeNotes.getOrDefault(noteKey, Set.of());
            if (isError && !text.contains("No note named")) {
              problem = "notes_get failed: " + clip(text, 200);
            } else if (isError) {
              if (known != null) {
                problem = "notes_get " + noteKey + " found nothing, but " + known + " was acknowledged: "
                    + clip(text, 200);
                stale = true;
                staleNotes++;
              }
            } else {
              Object value = result.getJsonObject("structuredContent") != null
                  ? result.getJsonObject("structuredContent").getValue("value") : decode(text);
              if (!(value instanceof String s) || !(s.equals(known) || maybe.contains(s))) {
                problem = "notes_get " + noteKey + " returned " + clip(String.valueOf(value), 100)
                    + ", the last acknowledged value is " + known + (maybe.isEmpty() ? "" : " (or one of " + maybe + ")");
                stale = true;
                staleNotes++;
              }
            }
          }
          case NOTES_ALL -> {
            if (isError) {
              problem = "notes_get (all) failed: " + clip(text, 200);
            }
          }
          case JIRA_ISSUE, JIRA_SEARCH -> {
            String expected = kind == McpKind.JIRA_ISSUE ? marker + "issue-" + issueKey
                : marker + "issue-" + SoakIdentity.project(index) + "-1";
            if (isError || !text.contains(expected)) {
              problem = tool + (isError ? " failed: " : " did not return the user's issue: ") + clip(text, 200);
            }
          }
          default -> {
          }
        }
        if (problem != null) {
          error(stale ? "mcp_stale_note" : "mcp_bad_result", "user " + index + " " + client.transport() + ": "
              + problem);
          return Future.succeededFuture(false);
        }
        return Future.succeededFuture(true);
      });
    }
  }

  private static Object decode(String text) {
    try {
      return Json.decodeValue(text);
    } catch (RuntimeException e) {
      return text;
    }
  }
}
