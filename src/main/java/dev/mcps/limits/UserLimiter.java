package dev.mcps.limits;

import io.vertx.core.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The per-user limits' state: one token bucket of requests and a set of running-turn leases per subject (a user, or
 * an anonymous session; see {@link UserLimits#subject}). The memory implementation counts on this instance; the Redis
 * one on every instance sharing the Redis. A failed future means the state could not be reached (the caller decides
 * what that means, see {@link UserLimits}); a refusal is an answer, not a failure.
 */
public interface UserLimiter {

  /** Whether one more request is admitted; when not, how long until the bucket has a token again. */
  record Decision(boolean allowed, long retryAfterMillis) {

    public static final Decision ALLOWED = new Decision(true, 0);

    public static Decision refused(long retryAfterMillis) {
      return new Decision(false, retryAfterMillis);
    }
  }

  /** A running turn's slot, or the refusal of one. Released once, when the turn ends; a refusal holds nothing. */
  interface Lease {

    Lease NONE = new Lease() {
      @Override
      public boolean granted() {
        return false;
      }

      @Override
      public void release() {
      }
    };

    boolean granted();

    /** Gives the slot back; further calls do nothing. Never fails (a lost release lapses with the lease's expiry). */
    void release();

    /** A granted slot that {@code giveBack} returns, on the lease's first release only. */
    static Lease granted(Runnable giveBack) {
      AtomicBoolean released = new AtomicBoolean();
      return new Lease() {
        @Override
        public boolean granted() {
          return true;
        }

        @Override
        public void release() {
          if (released.compareAndSet(false, true)) {
            giveBack.run();
          }
        }
      };
    }
  }

  /** Takes one token from the subject's bucket when it has one. */
  Future<Decision> tryRequest(String subject);

  /** Takes one of the subject's turn slots when one is free ({@link Lease#NONE} when all are taken). */
  Future<Lease> tryStartTurn(String subject);
}
