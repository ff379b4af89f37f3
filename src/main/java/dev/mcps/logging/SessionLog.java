package dev.mcps.logging;

/**
 * Log lines about a session written where that session is not (yet, or any more) the running code's context: its
 * creation, eviction, expiry, reset and deletion happen before a request enters the session or outside any request.
 * {@code SessionLog.about(id, () -> LOG.info(...))} gives those lines the session id the README promises.
 *
 * <p>The id is held only for the duration of the synchronous log call, on the logging thread, so it can never leak
 * into another request's lines.
 */
public final class SessionLog {

  private static final ThreadLocal<String> ABOUT = new ThreadLocal<>();

  private SessionLog() {
  }

  /** Runs {@code logCall} (one or more log statements) with {@code sessionId} as the session of its lines. */
  public static void about(String sessionId, Runnable logCall) {
    String outer = ABOUT.get();
    ABOUT.set(sessionId);
    try {
      logCall.run();
    } finally {
      if (outer == null) {
        ABOUT.remove();
      } else {
        ABOUT.set(outer);
      }
    }
  }

  /** The session a line is explicitly about, or null. */
  static String explicitSessionId() {
    return ABOUT.get();
  }
}
