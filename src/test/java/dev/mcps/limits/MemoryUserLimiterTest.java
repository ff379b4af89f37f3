package dev.mcps.limits;

import static dev.mcps.testing.TestServers.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MemoryUserLimiterTest extends UserLimiterContract {

  @Override
  protected MemoryUserLimiter limiter(int ratePerMinute, int maxTurns) {
    return new MemoryUserLimiter(ratePerMinute, maxTurns, LEASE_MILLIS, clock);
  }

  @Test
  void manyThreadsAtOnceNeverTakeMoreThanTheBucketHolds() throws Exception {
    MemoryUserLimiter limiter = limiter(100, 5);
    String who = subject();
    AtomicInteger allowed = new AtomicInteger();
    AtomicInteger slots = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    CountDownLatch go = new CountDownLatch(1);
    for (int t = 0; t < 16; t++) {
      pool.submit(() -> {
        go.await();
        for (int i = 0; i < 50; i++) {
          if (await(limiter.tryRequest(who)).allowed()) {
            allowed.incrementAndGet();
          }
          if (await(limiter.tryStartTurn(who)).granted()) {
            slots.incrementAndGet();
          }
        }
        return null;
      });
    }
    go.countDown();
    pool.shutdown();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

    assertThat(allowed.get()).isEqualTo(100);
    assertThat(slots.get()).isEqualTo(5);
  }

  @Test
  void theBucketsOfUsersWhoWentQuietAreForgotten() {
    MemoryUserLimiter limiter = limiter(10, 1);
    for (int i = 0; i < 1000; i++) {
      await(limiter.tryRequest(subject()));
    }
    assertThat(limiter.trackedSubjects()).isEqualTo(1000);

    clock.advance(60_000);
    await(limiter.tryRequest("user:still-here"));

    assertThat(limiter.trackedSubjects()).as("only the bucket just used").isEqualTo(1);
  }

  @Test
  void aUsersTurnStateIsGoneWithTheirLastTurn() {
    MemoryUserLimiter limiter = limiter(10, 2);
    UserLimiter.Lease lease = await(limiter.tryStartTurn("user:brief"));
    assertThat(limiter.trackedSubjects()).isEqualTo(1);

    lease.release();

    assertThat(limiter.trackedSubjects()).isZero();
  }
}
