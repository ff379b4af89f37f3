package dev.mcps.provider;

/**
 * How hard a provider tries: {@code timeoutMs} bounds each HTTP attempt (no answer in time → 504 Provider_Timeout),
 * {@code maxAttempts} bounds the tries of a throttled (429) or failing (5xx) call, {@code maxRetryDelayMs} caps one
 * wait between tries, whatever the provider's {@code Retry-After} asks.
 */
public record CallPolicy(long timeoutMs, int maxAttempts, long maxRetryDelayMs) {

  /** An LLM turn may legitimately take a minute or two before the first byte of a non-streamed answer. */
  public static final CallPolicy DEFAULT = new CallPolicy(120_000, 3, 20_000);

  public CallPolicy {
    if (timeoutMs <= 0 || maxAttempts < 1 || maxRetryDelayMs < 0) {
      throw new IllegalArgumentException("timeoutMs > 0, maxAttempts >= 1 and maxRetryDelayMs >= 0 are required");
    }
  }
}
