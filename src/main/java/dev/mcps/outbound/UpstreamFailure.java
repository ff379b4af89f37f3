package dev.mcps.outbound;

import java.net.URI;

/**
 * Why an outbound exchange ended without an answer. The message is safe to show: it names the deadline, the cap or
 * where a redirect pointed (scheme, host and port only — a Location may carry anything), never a header we sent.
 */
public final class UpstreamFailure extends RuntimeException {

  public enum Kind {
    /** The whole exchange (connect, headers, body) did not finish in time; the request was reset. */
    DEADLINE,
    /** The body was announced or streamed past the cap; the request was reset. */
    TOO_LARGE,
    /** A 3xx: never followed, so credentials never travel to wherever it points. */
    REDIRECT,
    /** The connection could not be made or broke. */
    TRANSPORT,
    /** The caller gave up on the call (a cancelled tool call); the request was reset. */
    CANCELLED
  }

  private final Kind kind;
  private final int status;

  private UpstreamFailure(Kind kind, int status, String message, Throwable cause) {
    super(message, cause, false, false);
    this.kind = kind;
    this.status = status;
  }

  static UpstreamFailure deadline(long deadlineMs) {
    return new UpstreamFailure(Kind.DEADLINE, 0, "did not answer within " + seconds(deadlineMs) + " s", null);
  }

  static UpstreamFailure tooLarge(long maxBytes) {
    return new UpstreamFailure(Kind.TOO_LARGE, 0, "answered with more than " + maxBytes + " bytes", null);
  }

  static UpstreamFailure redirect(int status, String requestUrl, String location) {
    return new UpstreamFailure(Kind.REDIRECT, status, "answered with a redirect (" + status + ") to "
        + origin(requestUrl, location) + "; redirects are not followed", null);
  }

  static UpstreamFailure cancelled() {
    return new UpstreamFailure(Kind.CANCELLED, 0, "call was cancelled", null);
  }

  static UpstreamFailure transport(Throwable cause) {
    return cause instanceof UpstreamFailure f ? f
        : new UpstreamFailure(Kind.TRANSPORT, 0, cause.getClass().getSimpleName(), cause);
  }

  public Kind kind() {
    return kind;
  }

  /** The 3xx status of a {@link Kind#REDIRECT}, else 0. */
  public int status() {
    return status;
  }

  /** Only {@code scheme://host[:port]} of the target: its path or query might hold something not ours to repeat. */
  private static String origin(String requestUrl, String location) {
    if (location == null || location.isBlank()) {
      return "nowhere (no Location)";
    }
    try {
      URI target = URI.create(requestUrl).resolve(location.trim());
      if (target.getHost() == null) {
        return "an unusable location";
      }
      return target.getScheme() + "://" + target.getHost() + (target.getPort() < 0 ? "" : ":" + target.getPort());
    } catch (IllegalArgumentException e) {
      return "an unusable location";
    }
  }

  private static String seconds(long ms) {
    return ms % 1000 == 0 ? String.valueOf(ms / 1000) : String.valueOf(ms / 1000.0);
  }
}
