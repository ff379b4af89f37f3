package dev.mcps.provider;

/**
 * How hard a provider tries: {@code timeoutMs} is each HTTP attempt's total deadline — connect, headers and the whole
 * body; past it the request is reset (504 Provider_Timeout) —, {@code maxAttempts} bounds the tries of a throttled
 * (429) or failing (5xx) call, {@code maxRetryDelayMs} caps one wait between tries, whatever the provider's
 * {@code Retry-After} asks, and {@code maxResponseBytes} is the largest answer read (beyond it: 502 Provider_Error).
 */
public record CallPolicy(long timeoutMs, int maxAttempts, long maxRetryDelayMs, long maxResponseBytes) {

  /** {@code PROVIDER_MAX_RESPONSE_BYTES}' default: far above any real completion, far below a flood. */
  public static final long DEFAULT_MAX_RESPONSE_BYTES = 32L * 1024 * 1024;

  /** An LLM turn may legitimately take a minute or two before the first byte of a non-streamed answer. */
  public static final CallPolicy DEFAULT = new CallPolicy(120_000, 3, 20_000);

  public CallPolicy {
    if (timeoutMs <= 0 || maxAttempts < 1 || maxRetryDelayMs < 0 || maxResponseBytes <= 0) {
      throw new IllegalArgumentException(
          "timeoutMs > 0, maxAttempts >= 1, maxRetryDelayMs >= 0 and maxResponseBytes > 0 are required");
    }
  }

  public CallPolicy(long timeoutMs, int maxAttempts, long maxRetryDelayMs) {
    this(timeoutMs, maxAttempts, maxRetryDelayMs, DEFAULT_MAX_RESPONSE_BYTES);
  }
}
