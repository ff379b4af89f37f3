package dev.mcps.bench;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/** The load client's command line, parsed and checked before anything connects. */
final class LoadOptions {

  /**
   * Streamable HTTP and legacy SSE are sessions (initialize first); STATELESS is the MCP 2026-07-28 era: no initialize,
   * no session id, every request stands alone.
   */
  enum Transport { STREAMABLE, SSE, STATELESS }

  /** The protocol version a stateless request names when --protocol-version does not say otherwise. */
  static final String STATELESS_PROTOCOL_VERSION = "2026-07-28";
  static final String SESSION_PROTOCOL_VERSION = "2025-06-18";

  static final String USAGE = """
      usage: McpLoadClient --transport=streamable|sse|stateless --url=http://HOST:PORT --tool=NAME [options]
        --transport=stateless  MCP 2026-07-28 stateless requests: no initialize, no session; each of the --sessions
                               virtual users keeps one tools/call outstanding, every POST a request of its own with
                               MCP-Protocol-Version, Mcp-Method, Mcp-Name, the user header and params._meta; only
                               a 200 with the call's JSON-RPC result counts as answered
        --path=PATH            Streamable HTTP / stateless endpoint (default /mcp), or the legacy SSE GET endpoint
                               (default /sse)
        --args=JSON            tool arguments object (default {})
        --sessions=N           concurrent MCP sessions, one tools/call outstanding each (default 32)
        --warmup=SECONDS       calls made but not recorded: at least this long (default 5)
        --warmup-max=SECONDS   then on until the rate settles (3 probes of 3 s within 5% of the best), at most
                               this long (default: the --warmup, a fixed warm-up)
        --duration=SECONDS     measured window (default 15)
        --user-header=NAME     each session sends NAME: <user-prefix>-<n> on initialize / the SSE GET / (stateless)
                               every request
        --user-query=NAME      each session adds ?NAME=<user-prefix>-<n> to the initialize / SSE GET / (stateless)
                               every request's URL
        --user-prefix=TEXT     (default bench)
        --header='NAME: VALUE' sent on every request; repeatable
        --event-loops=N        Vert.x event loops of the client, 1 or 2 (default 1)
        --call-timeout=SECONDS a call unanswered this long counts as an error (default 10)
        --protocol-version=V   requested in initialize (default 2025-06-18); stateless: sent on every request
                               (default 2026-07-28)
        --cpu-pid=NAME:PID     also report the CPU use of that process over the measured window; repeatable
        --message-url=http://HOST:PORT  legacy SSE: POST the messages to this server rather than the stream's, as
                               a load balancer without stickiness would (the instances must share a cluster)
        --call-url=http://HOST:PORT  Streamable only: after initialize on --url, every later POST of the session
                               goes to this instance (a cluster without sticky routing; default: --url); stateless:
                               every POST goes there
      """;

  Transport transport;
  private String url;
  String host;
  int port;
  /** Where a Streamable session's posts after initialize go (another instance of a cluster); default host/port. */
  String callHost;
  int callPort;
  private String callUrl;
  String path;
  String tool;
  JsonObject toolArguments = new JsonObject();
  int sessions = 32;
  double warmupSeconds = 5;
  /** NaN until given: the warm-up is then fixed at {@link #warmupSeconds}. */
  double warmupMaxSeconds = Double.NaN;
  double durationSeconds = 15;
  String userHeader;
  String userQuery;
  String userPrefix = "bench";
  final Map<String, String> headers = new LinkedHashMap<>();
  int eventLoops = 1;
  long callTimeoutMillis = 10_000;
  /** Null until given: then {@link #SESSION_PROTOCOL_VERSION}, or {@link #STATELESS_PROTOCOL_VERSION} when stateless. */
  String protocolVersion;
  final Map<String, Long> cpuPids = new LinkedHashMap<>();
  /** Legacy SSE: where the POSTs go when not to the stream's server; null = the stream's. */
  Endpoint messageEndpoint;
  private String messageUrl;

  static LoadOptions parse(String[] args) {
    LoadOptions o = new LoadOptions();
    List<String> missing = new ArrayList<>();
    forEachOption(args, (name, value) -> {
      switch (name) {
        case "transport" -> o.transport = switch (value.toLowerCase(Locale.ROOT)) {
          case "streamable", "streamablehttp", "streamable-http" -> Transport.STREAMABLE;
          case "sse" -> Transport.SSE;
          case "stateless" -> Transport.STATELESS;
          default -> throw new IllegalArgumentException("--transport must be streamable, sse or stateless, got: "
              + value);
        };
        case "url" -> o.url = value;
        case "path" -> o.path = value;
        case "tool" -> o.tool = value;
        case "args" -> {
          try {
            o.toolArguments = new JsonObject(value);
          } catch (DecodeException | ClassCastException e) {
            throw new IllegalArgumentException("--args is not a JSON object: " + value);
          }
        }
        case "sessions" -> o.sessions = positiveInt(name, value);
        case "warmup" -> o.warmupSeconds = seconds(name, value, true);
        case "warmup-max" -> o.warmupMaxSeconds = seconds(name, value, true);
        case "duration" -> o.durationSeconds = seconds(name, value, false);
        case "user-header" -> o.userHeader = value;
        case "user-query" -> o.userQuery = value;
        case "user-prefix" -> o.userPrefix = value;
        case "header" -> {
          int colon = value.indexOf(':');
          if (colon <= 0) {
            throw new IllegalArgumentException("--header must be 'Name: value', got: " + value);
          }
          o.headers.put(value.substring(0, colon).trim(), value.substring(colon + 1).trim());
        }
        case "event-loops" -> o.eventLoops = eventLoops(value);
        case "call-timeout" -> o.callTimeoutMillis = (long) (seconds(name, value, false) * 1000);
        case "protocol-version" -> o.protocolVersion = value;
        case "cpu-pid" -> cpuPid(value, o.cpuPids);
        case "message-url" -> o.messageUrl = value;
        case "call-url" -> o.callUrl = value;
        default -> throw new IllegalArgumentException("unknown option --" + name);
      }
    });
    if (o.transport == null) {
      missing.add("--transport");
    }
    if (o.url == null) {
      missing.add("--url");
    }
    if (o.tool == null) {
      missing.add("--tool");
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("missing " + String.join(", ", missing));
    }
    Endpoint endpoint = endpoint("url", o.url);
    o.host = endpoint.host();
    o.port = endpoint.port();
    Endpoint calls = o.callUrl == null ? endpoint : endpoint("call-url", o.callUrl);
    o.callHost = calls.host();
    o.callPort = calls.port();
    if (o.path == null) {
      o.path = o.transport == Transport.SSE ? "/sse" : "/mcp";
    }
    if (o.protocolVersion == null) {
      o.protocolVersion = o.transport == Transport.STATELESS ? STATELESS_PROTOCOL_VERSION : SESSION_PROTOCOL_VERSION;
    }
    if (!o.path.startsWith("/")) {
      o.path = "/" + o.path;
    }
    o.path = endpoint.basePath() + o.path;
    if (o.messageUrl != null) {
      o.messageEndpoint = endpoint("message-url", o.messageUrl);
    }
    o.warmup();
    return o;
  }

  Warmup warmup() {
    return new Warmup(warmupSeconds, Double.isNaN(warmupMaxSeconds) ? warmupSeconds : warmupMaxSeconds);
  }

  String user(int session) {
    return userPrefix + "-" + session;
  }

  /** A URL option split up: the path, without a trailing slash, is a prefix for the client's own paths. */
  record Endpoint(String host, int port, String basePath) {
  }

  /** Calls {@code option(name, value)} for each {@code --name=value}; {@code -h}/{@code --help} ask for the usage. */
  static void forEachOption(String[] args, BiConsumer<String, String> option) {
    for (String arg : args) {
      if (arg.equals("-h") || arg.equals("--help")) {
        throw new IllegalArgumentException("");
      }
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("expected --name=value, got: " + arg);
      }
      option.accept(arg.substring(2, eq), arg.substring(eq + 1));
    }
  }

  static Endpoint endpoint(String name, String url) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--" + name + " is not a URL: " + url);
    }
    if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("--" + name + " must be http://HOST[:PORT][/prefix], got: " + url);
    }
    String basePath = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
    return new Endpoint(uri.getHost(), uri.getPort() < 0 ? 80 : uri.getPort(), basePath);
  }

  static int eventLoops(String value) {
    int n = positiveInt("event-loops", value);
    if (n > 2) {
      throw new IllegalArgumentException("--event-loops is 1 or 2: the client must leave the cores to the server");
    }
    return n;
  }

  /** {@code NAME:PID} into {@code pids}. */
  static void cpuPid(String value, Map<String, Long> pids) {
    int colon = value.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("--cpu-pid must be NAME:PID, got: " + value);
    }
    String label = value.substring(0, colon);
    if (!label.matches("[A-Za-z0-9_]+")) {
      throw new IllegalArgumentException("--cpu-pid name must be letters, digits or _, got: " + label);
    }
    pids.put(label, (long) positiveInt("cpu-pid", value.substring(colon + 1)));
  }

  static int positiveInt(String name, String value) {
    try {
      int n = Integer.parseInt(value);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException("--" + name + " must be a positive integer, got: " + value);
  }

  static double seconds(String name, String value, boolean zeroAllowed) {
    try {
      double s = Double.parseDouble(value);
      if (s > 0 || (zeroAllowed && s == 0)) {
        return s;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException("--" + name + " must be a " + (zeroAllowed ? "non-negative" : "positive")
        + " number of seconds, got: " + value);
  }
}
