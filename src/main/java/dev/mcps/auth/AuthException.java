package dev.mcps.auth;

import dev.mcps.ApiException;

/**
 * A request refused for who it is (401) or for what its token lacks (403), with the {@code WWW-Authenticate} value
 * that tells the client what to do (RFC 6750 §3, RFC 9728 §5.1). Its message never holds the credential.
 */
public final class AuthException extends ApiException {

  private final String challenge;
  /** What the audit trail records as the reason (short, fixed words). */
  private final String reason;

  public AuthException(int status, String code, String message, String challenge, String reason) {
    super(status, code, message);
    this.challenge = challenge;
    this.reason = reason;
  }

  public String challenge() {
    return challenge;
  }

  public String reason() {
    return reason;
  }
}
