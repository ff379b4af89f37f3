package dev.mcps.provider;

import dev.mcps.RetryDelay;
import dev.mcps.outbound.UpstreamFailure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way the providers call their API. An attempt that fails with 429 or 5xx, or that cannot connect, is tried
 * again up to {@link CallPolicy#maxAttempts()} times, after the provider's {@code Retry-After} or else an exponential
 * backoff, plus jitter ({@link RetryDelay}). Whatever ends the call becomes a {@link ProviderException} whose
 * text names the provider and holds nothing that looks like the credential: 401/403 → "rejected the API key", other
 * 4xx → the provider's own error text (scrubbed), 429/5xx/unreachable → 502, a redirect or an answer past
 * {@link CallPolicy#maxResponseBytes()} → 502 (not retried), no whole answer in time → 504.
 *
 * <p>Attempts report what went wrong as a {@link Failure}; anything else they fail with counts as "unreachable".
 */
public final class ProviderCalls {

  private static final Logger LOG = LoggerFactory.getLogger(ProviderCalls.class);

  /** Key shapes of the providers we speak to, and bearer tokens, wherever they appear in an error text. */
  private static final Pattern KEY_LIKE = Pattern.compile(
      "(?i)\\bbearer\\s+\\S+|\\bsk-[A-Za-z0-9_*.\\-]{4,}|\\b(?:AKIA|ASIA)[0-9A-Z]{12,}|\\b[A-Za-z0-9_\\-+/=]{40,}");
  /** A provider echoing even part of the key (OpenAI shows its first and last characters) loses its whole text. */
  private static final int ECHO_WINDOW = 6;
  private static final int MAX_DETAIL = 500;

  private final Vertx vertx;
  private final String provider;
  private final String credential;
  private final CallPolicy policy;
  private final String secret;

  /**
   * @param provider   the name users read ("Anthropic")
   * @param credential what a 401/403 says was rejected ("API key", "AWS credentials")
   * @param secret     the credential itself, so that no provider text that echoes it gets through; may be null
   */
  public ProviderCalls(Vertx vertx, String provider, String credential, CallPolicy policy, String secret) {
    this.vertx = vertx;
    this.provider = provider;
    this.credential = credential;
    this.policy = policy;
    this.secret = secret;
  }

  /**
   * Runs {@code attempt} until it succeeds or a failure ends the call, then reads the raw answer with
   * {@code readReply}. A reply that cannot be read is not retried (it would read the same way again): it fails the
   * call as a 502.
   */
  public <R, T> Future<T> run(Supplier<Future<R>> attempt, Function<R, T> readReply) {
    return attempt(attempt, 1).transform(ar -> {
      if (ar.failed()) {
        return Future.failedFuture(ar.cause());
      }
      try {
        return Future.succeededFuture(readReply.apply(ar.result()));
      } catch (ProviderException e) {
        return Future.failedFuture(e);
      } catch (RuntimeException e) {
        LOG.debug("{} answer could not be read", provider, e);
        return Future.failedFuture(new ProviderException(502, "Provider_Error",
            provider + " answered with a reply that could not be read"));
      }
    });
  }

  private <R> Future<R> attempt(Supplier<Future<R>> attempt, int number) {
    Future<R> sent;
    try {
      sent = attempt.get();
    } catch (RuntimeException e) {
      sent = Future.failedFuture(e);
    }
    return sent.recover(error -> {
      Failure failure = error instanceof Failure f ? f : Failure.transport(error);
      if (failure.retryable() && number < policy.maxAttempts()) {
        long delay = RetryDelay.millis(failure.retryAfter, number, 500, policy.maxRetryDelayMs());
        LOG.debug("{} attempt {} failed ({}); retry in {} ms", provider, number, failure.describe(), delay);
        return vertx.timer(Math.max(1, delay), TimeUnit.MILLISECONDS).compose(v -> attempt(attempt, number + 1));
      }
      if (failure.kind != Kind.STATUS || failure.status >= 500 || failure.status == 429) {
        LOG.warn("{} call failed after {} attempt(s): {}", provider, number, failure.describe());
      }
      return Future.failedFuture(toProviderException(failure));
    });
  }

  private ProviderException toProviderException(Failure f) {
    return switch (f.kind) {
      case TIMEOUT -> new ProviderException(504, "Provider_Timeout",
          provider + " did not answer within " + seconds(policy.timeoutMs()) + " s");
      case UNREACHABLE -> new ProviderException(502, "Provider_Error",
          provider + " could not be reached (" + f.getMessage() + ")");
      case STATUS -> new ProviderException(502, "Provider_Error", statusText(f.status, safe(f.detail)));
      case UNUSABLE -> new ProviderException(502, "Provider_Error", provider + " " + f.getMessage());
    };
  }

  private String statusText(int status, String detail) {
    if (status == 401 || status == 403) {
      return provider + " rejected the " + credential + " (" + status + ")";
    }
    if (status == 429) {
      return provider + " rate limit exceeded (429); try again later";
    }
    if (status >= 500) {
      return provider + " is unavailable (" + status + ")";
    }
    return provider + " rejected the request (" + status + ")" + (detail.isEmpty() ? "" : ": " + detail);
  }

  /** The provider's text without anything that is, or looks like, a credential. */
  String safe(String detail) {
    if (detail == null || detail.isBlank()) {
      return "";
    }
    if (echoesSecret(detail)) {
      return "";
    }
    String text = KEY_LIKE.matcher(detail.strip()).replaceAll("***");
    return text.length() > MAX_DETAIL ? text.substring(0, MAX_DETAIL) + "…" : text;
  }

  private boolean echoesSecret(String text) {
    if (secret == null || secret.length() < ECHO_WINDOW) {
      return false;
    }
    for (int i = 0; i + ECHO_WINDOW <= secret.length(); i++) {
      if (text.contains(secret.substring(i, i + ECHO_WINDOW))) {
        return true;
      }
    }
    return false;
  }

  private static String seconds(long ms) {
    return ms % 1000 == 0 ? String.valueOf(ms / 1000) : String.valueOf(ms / 1000.0);
  }

  private enum Kind { STATUS, TIMEOUT, UNREACHABLE, UNUSABLE }

  /** Why one attempt failed, as the transport saw it; the retry decision and the final text are made above. */
  public static final class Failure extends RuntimeException {

    private final Kind kind;
    private final int status;
    private final String retryAfter;
    private final String detail;

    private Failure(Kind kind, int status, String retryAfter, String detail, String message) {
      super(message, null, false, false);
      this.kind = kind;
      this.status = status;
      this.retryAfter = retryAfter;
      this.detail = detail;
    }

    /** The API answered {@code status}; {@code detail} is its own error text (scrubbed before anyone sees it). */
    public static Failure status(int status, String retryAfter, String detail) {
      return new Failure(Kind.STATUS, status, retryAfter, detail, "status " + status);
    }

    /**
     * An answer we refuse to use and that would come back the same on a retry (a redirect, a body past the cap);
     * {@code why} follows the provider's name in the error and must hold nothing secret.
     */
    public static Failure unusable(String why) {
      return new Failure(Kind.UNUSABLE, 0, null, null, why);
    }

    public static Failure timeout() {
      return new Failure(Kind.TIMEOUT, 0, null, null, "timeout");
    }

    /** A transport error: a timeout when it is one, else "could not be reached" (named by type, never by text). */
    public static Failure transport(Throwable cause) {
      if (cause instanceof Failure f) {
        return f;
      }
      if (cause instanceof UpstreamFailure u) {
        return switch (u.kind()) {
          case DEADLINE -> timeout();
          case REDIRECT -> unusable(u.getMessage());
          case TOO_LARGE -> unusable(u.getMessage() + " (PROVIDER_MAX_RESPONSE_BYTES)");
          case TRANSPORT -> u.getCause() != null ? transport(u.getCause())
              : new Failure(Kind.UNREACHABLE, 0, null, null, u.getMessage());
          case CANCELLED -> new Failure(Kind.UNREACHABLE, 0, null, null, u.getMessage());
        };
      }
      if (cause instanceof TimeoutException
          || (cause.getMessage() != null && cause.getMessage().toLowerCase().contains("timeout period"))) {
        return timeout();
      }
      String why = cause.getClass().getSimpleName();
      for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
        if (t instanceof io.netty.channel.ConnectTimeoutException) {
          why = "connection timed out";
          break;
        }
        if (t instanceof java.net.ConnectException) {
          why = "connection refused";
          break;
        }
        if (t instanceof java.net.UnknownHostException) {
          why = "unknown host";
          break;
        }
      }
      return new Failure(Kind.UNREACHABLE, 0, null, null, why);
    }

    boolean retryable() {
      return kind == Kind.UNREACHABLE || (kind == Kind.STATUS && (status == 429 || status >= 500));
    }

    String describe() {
      return kind == Kind.UNREACHABLE ? "unreachable: " + getMessage() : getMessage();
    }
  }
}
