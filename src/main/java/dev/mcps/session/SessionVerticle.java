package dev.mcps.session;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the session lifecycle over time: the periodic cleanup sweep (which publishes the expired events), a
 * session-count log line every 5 minutes, and a fresh count for the metrics gauge every few seconds. Idle expiry
 * itself is enforced by the stores on every read, so it does not wait for the sweep.
 */
public final class SessionVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SessionVerticle.class);
  private static final long COUNT_LOG_PERIOD_MS = 5 * 60 * 1000;
  private static final long GAUGE_PERIOD_MS = 5_000;

  private final Sessions sessions;
  private final long sweepPeriodMs;

  public SessionVerticle(Sessions sessions, long sweepPeriodMs) {
    this.sessions = sessions;
    this.sweepPeriodMs = sweepPeriodMs;
  }

  @Override
  public Future<?> start() {
    vertx.setPeriodic(sweepPeriodMs, id -> sessions.sweep()
        .onSuccess(s -> LOG.info("Session cleanup: {} expired session(s) removed, {} remain",
            s.removed().size(), s.afterCount()))
        .onFailure(err -> LOG.warn("Session cleanup failed: {}", err.getMessage())));
    vertx.setPeriodic(COUNT_LOG_PERIOD_MS, id -> sessions.count()
        .onSuccess(n -> LOG.info("Current active sessions: {}", n)));
    vertx.setPeriodic(GAUGE_PERIOD_MS, id -> sessions.count());
    return sessions.count().otherwiseEmpty();
  }
}
