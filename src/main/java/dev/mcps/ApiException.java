package dev.mcps;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/**
 * A failure with a place in the public contract: an HTTP status, an error code from DESIGN.md §4 and a human
 * message. The one mapping to HTTP (and to event-bus ReplyExceptions) reads these; anything else is a 500 whose
 * details stay in the log.
 */
public class ApiException extends RuntimeException {

  private final int status;
  private final String code;
  private final String sessionId;
  /** When the client may try again (the HTTP Retry-After), in whole seconds; 0 = not said. */
  private final long retryAfterSeconds;

  public ApiException(int status, String code, String message) {
    this(status, code, message, null);
  }

  public ApiException(int status, String code, String message, String sessionId) {
    this(status, code, message, sessionId, 0);
  }

  public ApiException(int status, String code, String message, String sessionId, long retryAfterSeconds) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.sessionId = sessionId;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public String sessionId() {
    return sessionId;
  }

  /** Seconds the client should wait before trying again (sent as Retry-After); 0 when the error says nothing. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  public ApiException withSessionId(String id) {
    return new ApiException(status, code, getMessage(), id, retryAfterSeconds);
  }

  /**
   * The error JSON; {@code retryAfter} (seconds) is there when the error says when to come back, for event-bus
   * callers, who get no Retry-After header.
   */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("error", code).put("message", getMessage());
    if (sessionId != null) {
      json.put("sessionId", sessionId);
    }
    if (retryAfterSeconds > 0) {
      json.put("retryAfter", retryAfterSeconds);
    }
    return json;
  }

  /**
   * The API error an event-bus failure carries (DESIGN.md §5: the failure code is the HTTP status, the message the
   * error JSON), or null when {@code failure} is not such a reply.
   */
  public static ApiException fromReply(Throwable failure) {
    if (failure instanceof ApiException api) {
      return api;
    }
    if (failure instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE
        && re.failureCode() >= 400 && re.getMessage() != null && re.getMessage().startsWith("{")) {
      try {
        JsonObject json = new JsonObject(re.getMessage());
        return new ApiException(re.failureCode(), json.getString("error", "Error"), json.getString("message", ""),
            json.getString("sessionId"), json.getValue("retryAfter") instanceof Number n ? n.longValue() : 0);
      } catch (RuntimeException notJson) {
        return null;
      }
    }
    return null;
  }

  public static ApiException badRequest(String code, String message) {
    return new ApiException(400, code, message);
  }

  public static ApiException sessionNotFound() {
    return new ApiException(404, "Session_Not_Found", "Session not found with provided ID");
  }

  /** 429: a per-user limit (requests a minute, turns at once) is reached; come back in {@code retryAfterSeconds}. */
  public static ApiException rateLimited(String message, long retryAfterSeconds) {
    return new ApiException(429, "Rate_Limited", message, null, Math.max(1, retryAfterSeconds));
  }

  public static ApiException storeUnavailable() {
    return new ApiException(503, "Store_Unavailable", "The session store is unavailable; try again shortly");
  }
}
