package dev.mcps.limits;

import static dev.mcps.testing.TestServers.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What every {@link UserLimiter} does, on a hand-moved clock: a bucket of a minute's requests that refills at the
 * per-minute rate, and turn slots that come back when released or when their lease lapses.
 */
abstract class UserLimiterContract {

  static final long LEASE_MILLIS = 120_000;

  protected final HandClock clock = new HandClock(1_700_000_000_000L);

  /** A limiter of {@code ratePerMinute} requests and {@code maxTurns} turns per subject on {@link #clock}. */
  protected abstract UserLimiter limiter(int ratePerMinute, int maxTurns);

  static String subject() {
    return "user:" + UUID.randomUUID();
  }

  @Test
  void aFullBucketAdmitsAMinutesWorthThenRefusesUntilTheNextTokenArrives() {
    UserLimiter limiter = limiter(3, 1);
    String who = subject();

    for (int i = 0; i < 3; i++) {
      assertThat(await(limiter.tryRequest(who)).allowed()).as("request " + i).isTrue();
    }
    UserLimiter.Decision refused = await(limiter.tryRequest(who));
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.retryAfterMillis()).as("3 a minute: one token every 20 s").isEqualTo(20_000);

    clock.advance(19_999);
    UserLimiter.Decision almost = await(limiter.tryRequest(who));
    assertThat(almost.allowed()).isFalse();
    assertThat(almost.retryAfterMillis()).isEqualTo(1);

    clock.advance(1);
    assertThat(await(limiter.tryRequest(who)).allowed()).isTrue();
    assertThat(await(limiter.tryRequest(who)).allowed()).as("only one token came back").isFalse();
  }

  @Test
  void anIdleBucketRefillsToAMinutesWorthAndNoFurther() {
    UserLimiter limiter = limiter(2, 1);
    String who = subject();
    await(limiter.tryRequest(who));
    await(limiter.tryRequest(who));

    clock.advance(10 * 60_000);

    assertThat(await(limiter.tryRequest(who)).allowed()).isTrue();
    assertThat(await(limiter.tryRequest(who)).allowed()).isTrue();
    assertThat(await(limiter.tryRequest(who)).allowed()).isFalse();
  }

  @Test
  void eachSubjectHasItsOwnBucket() {
    UserLimiter limiter = limiter(1, 1);
    String alice = subject();
    String bob = subject();

    assertThat(await(limiter.tryRequest(alice)).allowed()).isTrue();
    assertThat(await(limiter.tryRequest(alice)).allowed()).isFalse();
    assertThat(await(limiter.tryRequest(bob)).allowed()).isTrue();
  }

  @Test
  void aTurnSlotIsRefusedWhileAllAreHeldAndComesBackWhenReleased() {
    UserLimiter limiter = limiter(1, 2);
    String who = subject();

    UserLimiter.Lease first = await(limiter.tryStartTurn(who));
    UserLimiter.Lease second = await(limiter.tryStartTurn(who));
    UserLimiter.Lease third = await(limiter.tryStartTurn(who));
    UserLimiter.Lease otherUser = await(limiter.tryStartTurn(subject()));

    assertThat(first.granted()).isTrue();
    assertThat(second.granted()).isTrue();
    assertThat(third.granted()).isFalse();
    assertThat(otherUser.granted()).isTrue();

    first.release();
    first.release();
    awaitGranted(limiter, who);
    assertThat(await(limiter.tryStartTurn(who)).granted()).as("a second release of one lease frees nothing more")
        .isFalse();
  }

  @Test
  void aLeaseNeverReleasedLapsesAfterItsLeaseTime() {
    UserLimiter limiter = limiter(1, 1);
    String who = subject();
    assertThat(await(limiter.tryStartTurn(who)).granted()).isTrue();

    clock.advance(LEASE_MILLIS - 1);
    assertThat(await(limiter.tryStartTurn(who)).granted()).isFalse();

    clock.advance(1);
    assertThat(await(limiter.tryStartTurn(who)).granted()).isTrue();
  }

  /** A release may travel (Redis): the slot is back once it landed. */
  protected void awaitGranted(UserLimiter limiter, String who) {
    dev.mcps.testing.TestServers.awaitCondition(() -> {
      UserLimiter.Lease lease = await(limiter.tryStartTurn(who));
      return lease.granted();
    });
  }
}
