package dev.mcps.bench;

import java.util.Locale;

/**
 * What one event loop saw during the measured window. Only its own event loop writes it; the orchestrator reads it
 * after the shard is undeployed, which orders those reads after every write.
 */
final class CallStats {

  enum ErrorKind {
    /** A non-2xx answer to a tools/call POST, or to a POST /chat. */
    HTTP,
    /** A JSON-RPC error response. */
    RPC,
    /** A tools/call result with {@code isError: true}, or a chat turn whose tool result was an error. */
    TOOL,
    /** No answer within --call-timeout. */
    TIMEOUT,
    /** The connection failed or closed under a call. */
    IO,
    /**
     * An answer that is not what the MCP transport specifies (no response in the stream, unparsable JSON…), or a
     * /chat 200 that is not the turn the chat client expects.
     */
    PROTOCOL,
    /**
     * The server forgot the session (404) or its SSE stream ended; the session re-handshakes (a chat user starts over
     * with a new user id).
     */
    SESSION_LOST;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The client's name, which prefixes what it prints: mcp-load or chat-load. */
  private final String tag;
  final LatencyHistogram latencies = new LatencyHistogram();
  final long[] errors = new long[ErrorKind.values().length];
  private final boolean[] reported = new boolean[ErrorKind.values().length];

  CallStats(String tag) {
    this.tag = tag;
  }

  /** A success inside the window. */
  void success(long micros) {
    latencies.record(micros);
  }

  /**
   * Counts an error when it falls inside the window; the first of each kind is printed whenever it happens, warm-up
   * included, since that one line is usually all it takes to see what the server objects to.
   */
  void error(ErrorKind kind, boolean inWindow, String detail) {
    if (inWindow) {
      errors[kind.ordinal()]++;
    }
    if (!reported[kind.ordinal()]) {
      reported[kind.ordinal()] = true;
      System.err.println(tag + ": first " + kind.label() + " error: " + detail);
    }
  }

  void add(CallStats other) {
    latencies.add(other.latencies);
    for (int i = 0; i < errors.length; i++) {
      errors[i] += other.errors[i];
    }
  }

  long totalErrors() {
    long n = 0;
    for (long e : errors) {
      n += e;
    }
    return n;
  }
}
