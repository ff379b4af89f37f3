package dev.mcps.limits;

import dev.mcps.ApiException;
import dev.mcps.logging.BurstLog;
import dev.mcps.session.SessionEnv;
import io.vertx.core.Future;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-user limits as the routes meet them (USER_RATE_LIMIT_PER_MINUTE, USER_MAX_CONCURRENT_TURNS): who a request
 * counts against, the 429 {@code Rate_Limited} past a limit, and what happens when the limiter's state cannot be
 * reached. A limit set to 0 costs nothing: the limiter is never called for it.
 *
 * <p>Unreachable state (Redis down or silent) fails open: the request goes on unlimited, and one WARN line per burst
 * says so. The request then meets the session store, which is the same Redis and answers 503 on its own; limiting
 * nothing for the seconds of an outage beats refusing every user because of it.
 */
public final class UserLimits {

  private static final Logger LOG = LoggerFactory.getLogger(UserLimits.class);

  public static final UserLimits OFF = new UserLimits(null, 0, 0, null);

  /** What a client refused a turn waits: turns last seconds, so sooner would mostly be refused again. */
  static final long TURN_RETRY_AFTER_SECONDS = 2;

  private final UserLimiter limiter;
  private final int ratePerMinute;
  private final int maxConcurrentTurns;
  private final BurstLog unreachable;

  /** {@code faults}: where the fail-open warnings go (one line per burst). */
  public UserLimits(UserLimiter limiter, int ratePerMinute, int maxConcurrentTurns, BurstLog.Scheduler faults) {
    this.limiter = limiter;
    this.ratePerMinute = ratePerMinute;
    this.maxConcurrentTurns = maxConcurrentTurns;
    this.unreachable = faults == null ? null : new BurstLog(LOG, BurstLog.WINDOW_MILLIS, faults);
  }

  public boolean limitsRequests() {
    return ratePerMinute > 0;
  }

  public boolean limitsTurns() {
    return maxConcurrentTurns > 0;
  }

  /**
   * Who a request counts against, the one rule every route uses: the user it names, else the owner of the session it
   * names, else (an anonymous session) that session. Null when it names neither (nothing to count against).
   */
  public static String subject(String namedUser, String sessionOwner, String sessionId) {
    String user = namedUser != null ? namedUser : sessionOwner;
    if (user != null) {
      return "user:" + user;
    }
    return sessionId == null ? null : "session:" + sessionId;
  }

  /**
   * The session a request acts in, {@code resolve}d with the request counted against its user: before the lookup when
   * the request names its user (a refused request costs the store nothing), after it when only the session tells
   * whose it is.
   */
  public Future<SessionEnv> admitting(String namedUser, Supplier<Future<SessionEnv>> resolve) {
    if (!limitsRequests()) {
      return resolve.get();
    }
    if (namedUser != null) {
      return admit(subject(namedUser, null, null)).compose(v -> resolve.get());
    }
    return resolve.get().compose(s -> admit(subject(null, s.userId(), s.sessionId())).map(s));
  }

  /** Counts one request against {@code subject}; fails with 429 {@code Rate_Limited} when its bucket is empty. */
  public Future<Void> admit(String subject) {
    if (!limitsRequests() || subject == null) {
      return Future.succeededFuture();
    }
    return limiter.tryRequest(subject).transform(ar -> {
      if (ar.failed()) {
        failedOpen("requests", ar.cause());
        return Future.succeededFuture();
      }
      UserLimiter.Decision d = ar.result();
      if (d.allowed()) {
        return Future.succeededFuture();
      }
      return Future.failedFuture(ApiException.rateLimited("Too many requests: at most " + ratePerMinute
          + " a minute per user; try again shortly", (d.retryAfterMillis() + 999) / 1000));
    });
  }

  /**
   * Runs {@code turn} in one of {@code subject}'s turn slots, which it gives back when the turn's future completes,
   * however it completes; 429 {@code Rate_Limited} when every slot is taken. {@code turn} is not started then.
   */
  public <T> Future<T> inTurnSlot(String subject, Supplier<Future<T>> turn) {
    if (!limitsTurns() || subject == null) {
      return turn.get();
    }
    return limiter.tryStartTurn(subject).transform(ar -> {
      UserLimiter.Lease lease;
      if (ar.failed()) {
        failedOpen("turns", ar.cause());
        lease = UserLimiter.Lease.NONE;
      } else if (ar.result().granted()) {
        lease = ar.result();
      } else {
        return Future.failedFuture(ApiException.rateLimited("Too many turns at once: at most " + maxConcurrentTurns
            + " running turns per user; try again when one has ended", TURN_RETRY_AFTER_SECONDS));
      }
      Future<T> running;
      try {
        running = turn.get();
      } catch (RuntimeException e) {
        running = Future.failedFuture(e);
      }
      return running.andThen(done -> lease.release());
    });
  }

  private void failedOpen(String what, Throwable err) {
    if (unreachable != null) {
      unreachable.warn(what, "Per-user limits not applied (" + what
          + "): their state is unreachable, requests go on unlimited: " + err);
    }
  }
}
