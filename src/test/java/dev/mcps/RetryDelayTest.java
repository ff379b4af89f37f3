package dev.mcps;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

class RetryDelayTest {

  @Test
  void retryAfterSecondsIsHonouredWithAtMostOneFifthJitter() {
    for (int i = 0; i < 200; i++) {
      assertThat(RetryDelay.millis("2", 1, 500, 5000)).isBetween(2000L, 2400L);
    }
  }

  @Test
  void retryAfterAsAnHttpDateIsHonouredToo() {
    String inThreeSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now().plusSeconds(3));

    assertThat(RetryDelay.millis(inThreeSeconds, 1, 500, 5000)).isBetween(1000L, 3700L);
  }

  @Test
  void withoutRetryAfterTheBackoffDoublesAndNoDelayExceedsTheCap() {
    assertThat(RetryDelay.millis(null, 1, 500, 5000)).isBetween(500L, 600L);
    assertThat(RetryDelay.millis("soon", 2, 500, 5000)).isBetween(1000L, 1200L);
    assertThat(RetryDelay.millis("3600", 1, 500, 5000)).isEqualTo(5000L);
    assertThat(RetryDelay.millis(null, 30, 500, 5000)).isEqualTo(5000L);
  }
}
