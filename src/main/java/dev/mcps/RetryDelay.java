package dev.mcps;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How long to wait before trying an HTTP call again that the server throttled or failed (Jira, the LLM providers):
 * the server's {@code Retry-After} (seconds or an HTTP date) when it sent one, else an exponential backoff; plus up
 * to a fifth of jitter; never more than the cap.
 */
public final class RetryDelay {

  private RetryDelay() {
  }

  /**
   * @param attempt        the attempt that just failed, from 1
   * @param firstBackoffMs the wait after the first failure when there is no Retry-After (doubles each attempt)
   */
  public static long millis(String retryAfter, int attempt, long firstBackoffMs, long maxMs) {
    long base = retryAfterMillis(retryAfter);
    if (base < 0) {
      base = firstBackoffMs << Math.min(attempt - 1, 6);
    }
    // Jitter spreads out the retries of the many callers that were throttled at the same moment.
    long jitter = ThreadLocalRandom.current().nextLong(0, 1 + Math.max(1, base / 5));
    return Math.min(maxMs, base + jitter);
  }

  /** Retry-After in milliseconds, or -1 when absent or unreadable. */
  static long retryAfterMillis(String retryAfter) {
    if (retryAfter == null || retryAfter.isBlank()) {
      return -1;
    }
    try {
      return Math.max(0, Math.round(Double.parseDouble(retryAfter.trim()) * 1000));
    } catch (NumberFormatException notSeconds) {
      try {
        return Math.max(0, Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(retryAfter.trim(),
            DateTimeFormatter.RFC_1123_DATE_TIME)).toMillis());
      } catch (RuntimeException notADate) {
        return -1;
      }
    }
  }
}
