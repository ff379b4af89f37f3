package dev.mcps.provider;

/**
 * A provider call that failed after its retries: {@code status} is what /chat answers (502 Provider_Error,
 * 504 Provider_Timeout, 503 Provider_Not_Configured). The message is safe to return: it never holds a key.
 */
public final class ProviderException extends RuntimeException {

  private final int status;
  private final String code;

  public ProviderException(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }
}
