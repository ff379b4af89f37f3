package dev.mcps.bench;

import static dev.mcps.bench.LoadOptions.cpuPid;
import static dev.mcps.bench.LoadOptions.endpoint;
import static dev.mcps.bench.LoadOptions.eventLoops;
import static dev.mcps.bench.LoadOptions.forEachOption;
import static dev.mcps.bench.LoadOptions.positiveInt;
import static dev.mcps.bench.LoadOptions.seconds;

import dev.mcps.bench.LoadOptions.Endpoint;
import java.util.LinkedHashMap;
import java.util.Map;

/** The chat load client's command line, parsed and checked before anything connects. */
final class ChatLoadOptions {

  static final String USAGE = """
      usage: ChatLoadClient --url=http://HOST:PORT [options]
        --users=N               concurrent chat users, one turn outstanding each (default 64)
        --warmup=SECONDS        turns made but not recorded: at least this long (default 5)
        --warmup-max=SECONDS    then on until the rate settles (3 probes of 3 s within 5% of the best), at most
                                this long (default: the --warmup, a fixed warm-up)
        --duration=SECONDS      measured window (default 15)
        --rate=TURNS_PER_S      open loop: in the window the users together start this many turns a second, each
                                user on its own even schedule, and a turn's latency counts from when it was due, so
                                a server that falls behind shows it (the warm-up runs as a closed loop); 0 = closed
                                loop, each user's next turn as soon as the last is answered (default 0)
        --turns-per-user=N      after N turns a user starts over under a new user id, so with a new session and an
                                empty history; 0 = never, the history grows all run long (default 20)
        --message=TEXT          every turn's message (default "check my notes": no Jira words, so only the session
                                tools are offered)
        --user-prefix=TEXT      user ids are TEXT-<n> (default bench-chat)
        --provider-stats=URL    GET URL of the fake provider's counters (ZeroDelayAnthropic's /stats); with it the
                                RESULT line also has the latency our server added
        --store=LABEL           store=LABEL on the RESULT line (default -)
        --event-loops=N         Vert.x event loops of the client, 1 or 2 (default 1)
        --call-timeout=SECONDS  a turn unanswered this long counts as an error (default 30)
        --cpu-pid=NAME:PID      also report the CPU use of that process over the measured window; repeatable
      """;

  String host;
  int port;
  /** POST path of /chat, after the URL's own path. */
  String path;
  int users = 64;
  double warmupSeconds = 5;
  /** NaN until given: the warm-up is then fixed at {@link #warmupSeconds}. */
  double warmupMaxSeconds = Double.NaN;
  double durationSeconds = 15;
  int turnsPerUser = 20;
  /** Turns a second offered in all, in the open loop; 0 for the closed loop. */
  double rate;
  String message = "check my notes";
  String userPrefix = "bench-chat";
  /** The fake provider's counters: host, port, and the whole path (what {@code Endpoint} calls the base path). */
  Endpoint providerStats;
  String store = "-";
  int eventLoops = 1;
  long callTimeoutMillis = 30_000;
  final Map<String, Long> cpuPids = new LinkedHashMap<>();

  static ChatLoadOptions parse(String[] args) {
    ChatLoadOptions o = new ChatLoadOptions();
    String[] url = new String[1];
    forEachOption(args, (name, value) -> {
      switch (name) {
        case "url" -> url[0] = value;
        case "users" -> o.users = positiveInt(name, value);
        case "warmup" -> o.warmupSeconds = seconds(name, value, true);
        case "warmup-max" -> o.warmupMaxSeconds = seconds(name, value, true);
        case "duration" -> o.durationSeconds = seconds(name, value, false);
        case "rate" -> o.rate = rate(value);
        case "turns-per-user" -> o.turnsPerUser = value.equals("0") ? 0 : positiveInt(name, value);
        case "message" -> {
          if (value.isBlank()) {
            throw new IllegalArgumentException("--message must not be blank: /chat answers 400 Missing_Message");
          }
          o.message = value;
        }
        case "user-prefix" -> o.userPrefix = value;
        case "provider-stats" -> o.providerStats = endpoint(name, value);
        case "store" -> o.store = value;
        case "event-loops" -> o.eventLoops = eventLoops(value);
        case "call-timeout" -> o.callTimeoutMillis = (long) (seconds(name, value, false) * 1000);
        case "cpu-pid" -> cpuPid(value, o.cpuPids);
        default -> throw new IllegalArgumentException("unknown option --" + name);
      }
    });
    if (url[0] == null) {
      throw new IllegalArgumentException("missing --url");
    }
    Endpoint chat = endpoint("url", url[0]);
    o.host = chat.host();
    o.port = chat.port();
    o.path = chat.basePath() + "/chat";
    if (!o.store.matches("[A-Za-z0-9_.-]+")) {
      throw new IllegalArgumentException("--store must be letters, digits, _ . or -, got: " + o.store);
    }
    o.warmup();
    return o;
  }

  Warmup warmup() {
    return new Warmup(warmupSeconds, Double.isNaN(warmupMaxSeconds) ? warmupSeconds : warmupMaxSeconds);
  }

  private static double rate(String value) {
    try {
      double rate = Double.parseDouble(value);
      if (rate >= 0 && Double.isFinite(rate)) {
        return rate;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("--rate must be a number of turns a second, 0 or more, got: " + value);
  }

  /** Nanoseconds between two turns of one user in the open loop. */
  long userIntervalNanos() {
    return (long) (users * 1e9 / rate);
  }

  /**
   * The user id of slot {@code slot} in its {@code generation}-th life: slots 0..users-1 start as TEXT-0..TEXT-(users-1)
   * and each start-over moves a slot on by {@code users}, so no two lives of a run share an id (or a session).
   */
  String user(int slot, int generation) {
    return userPrefix + "-" + ((long) generation * users + slot);
  }
}
