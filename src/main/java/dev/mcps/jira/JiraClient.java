package dev.mcps.jira;

import dev.mcps.RetryDelay;
import dev.mcps.outbound.BoundedHttpClient;
import dev.mcps.outbound.UpstreamFailure;
import dev.mcps.outbound.UpstreamResponse;
import dev.mcps.session.JiraCredentials;
import dev.mcps.tools.ToolCancellation;
import io.netty.handler.codec.http.QueryStringEncoder;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jira Cloud REST v3 over a {@link BoundedHttpClient}, always with the credentials it is handed (never a global).
 * 429 and 503 are retried, honouring {@code Retry-After}, a bounded number of times with jitter; other failures
 * become a {@link JiraException} whose message is safe to show (no token, no Authorization header, see
 * {@link JiraSecrets}). Each HTTP exchange has a total deadline ({@code JIRA_TIMEOUT_MS}) and a body cap
 * ({@code JIRA_MAX_RESPONSE_BYTES}); a redirect is never followed, since it would carry the user's Authorization to
 * wherever Jira points it.
 */
public final class JiraClient {

  private static final Logger LOG = LoggerFactory.getLogger(JiraClient.class);
  /** Connections per Jira site: many users of one company share its site. */
  private static final int POOL_SIZE_PER_SITE = 32;
  public static final int DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
  private static final IntConsumer NO_ONE = status -> { };

  private final Vertx vertx;
  private final BoundedHttpClient client;
  private final int maxAttempts;
  private final long maxRetryDelayMs;

  public JiraClient(Vertx vertx, long timeoutMs, int maxAttempts, long maxRetryDelayMs) {
    this(vertx, timeoutMs, maxAttempts, maxRetryDelayMs, DEFAULT_MAX_RESPONSE_BYTES);
  }

  public JiraClient(Vertx vertx, long timeoutMs, int maxAttempts, long maxRetryDelayMs, long maxResponseBytes) {
    this(vertx, new BoundedHttpClient(vertx, timeoutMs, maxResponseBytes, POOL_SIZE_PER_SITE), maxAttempts,
        maxRetryDelayMs);
  }

  /** Over a client built elsewhere (a test's, trusting its own https Jira). */
  JiraClient(Vertx vertx, BoundedHttpClient client, int maxAttempts, long maxRetryDelayMs) {
    this.vertx = vertx;
    this.client = client;
    this.maxAttempts = maxAttempts;
    this.maxRetryDelayMs = maxRetryDelayMs;
  }

  public Future<JsonObject> get(JiraCredentials creds, String path, Map<String, String> query) {
    return get(creds, path, query, NO_ONE);
  }

  public Future<JsonObject> post(JiraCredentials creds, String path, JsonObject body) {
    return post(creds, path, body, NO_ONE);
  }

  public Future<JsonObject> put(JiraCredentials creds, String path, JsonObject body) {
    return put(creds, path, body, NO_ONE);
  }

  /** As {@link #get(JiraCredentials, String, Map)}; {@code answered} hears the status of every answer Jira gives. */
  public Future<JsonObject> get(JiraCredentials creds, String path, Map<String, String> query, IntConsumer answered) {
    return send(creds, HttpMethod.GET, path, query, null, answered);
  }

  /** As {@link #post(JiraCredentials, String, JsonObject)}; {@code answered} hears every status Jira answers. */
  public Future<JsonObject> post(JiraCredentials creds, String path, JsonObject body, IntConsumer answered) {
    return send(creds, HttpMethod.POST, path, Map.of(), body, answered);
  }

  /** As {@link #put(JiraCredentials, String, JsonObject)}; {@code answered} hears every status Jira answers. */
  public Future<JsonObject> put(JiraCredentials creds, String path, JsonObject body, IntConsumer answered) {
    return send(creds, HttpMethod.PUT, path, Map.of(), body, answered);
  }

  /**
   * The response body as an object ({} for an empty 2xx body; an array body is wrapped as {"values": [...]}).
   * {@code answered} is told each HTTP status Jira answers (a retried 429 included), which a success's result does
   * not carry: the caller's way to report it (the audit trail) without shared state.
   */
  private Future<JsonObject> send(JiraCredentials creds, HttpMethod method, String path, Map<String, String> query,
                                  JsonObject body, IntConsumer answered) {
    QueryStringEncoder url = new QueryStringEncoder(creds.baseUrl() + path);
    query.forEach(url::addParam);
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("Authorization", "Basic " + JiraSecrets.basicValue(creds))
        .add("Accept", "application/json")
        .add("User-Agent", "mcp-session-server");
    if (body != null) {
      headers.add("Content-Type", "application/json");
    }
    return attempt(creds, method, url.toString(), path, headers, body == null ? null : body.toBuffer(), 1, answered);
  }

  private Future<JsonObject> attempt(JiraCredentials creds, HttpMethod method, String url, String path,
                                     MultiMap headers, Buffer body, int attempt, IntConsumer answered) {
    if (ToolCancellation.isCancelled()) {
      // The caller gave up on this call (e.g. during a Retry-After wait): no further request reaches Jira.
      return Future.failedFuture(new JiraException(0, "The call was cancelled"));
    }
    // A cancelled tool call resets its request: a create or update Jira has not read yet never happens.
    return client.send(method, url, headers, body, ToolCancellation.current()).transform(ar -> {
      if (ar.failed()) {
        return Future.failedFuture(unreachable(ar.cause()));
      }
      UpstreamResponse response = ar.result();
      int status = response.status();
      answered.accept(status);
      if (status >= 200 && status < 300) {
        try {
          return Future.succeededFuture(parse(response.body()));
        } catch (JiraException e) {
          return Future.failedFuture(e);
        }
      }
      if ((status == 429 || status == 503) && attempt < maxAttempts) {
        long delay = RetryDelay.millis(response.header("Retry-After"), attempt, 250, maxRetryDelayMs);
        LOG.debug("Jira answered {} to {} {}; retry {} in {} ms", status, method, path, attempt + 1, delay);
        return vertx.timer(Math.max(1, delay), TimeUnit.MILLISECONDS)
            .compose(v -> attempt(creds, method, url, path, headers, body, attempt + 1, answered));
      }
      return Future.failedFuture(error(status, JiraSecrets.scrub(jiraMessages(response.body()), creds)));
    });
  }

  private JiraException unreachable(Throwable cause) {
    if (!(cause instanceof UpstreamFailure failure)) {
      return new JiraException(0, "Jira could not be reached (" + cause.getClass().getSimpleName() + ")");
    }
    return switch (failure.kind()) {
      case DEADLINE -> new JiraException(0, "Jira " + failure.getMessage());
      case TOO_LARGE -> new JiraException(0, "Jira's answer is larger than " + client.maxResponseBytes()
          + " bytes (JIRA_MAX_RESPONSE_BYTES); ask for less, e.g. fewer fields or results");
      case REDIRECT -> new JiraException(failure.status(), "Jira " + failure.getMessage()
          + " (the credentials are only sent to the session's Jira base URL; check it)");
      case TRANSPORT -> new JiraException(0, "Jira could not be reached (" + failure.getMessage() + ")");
      case CANCELLED -> new JiraException(0, "The call was cancelled");
    };
  }

  /** {@code details}: Jira's own error texts, already scrubbed of the credentials. */
  private static JiraException error(int status, String details) {
    String text = switch (status) {
      case 400 -> "Jira rejected the request (400)" + (details.isEmpty() ? "" : ": " + details);
      case 401 -> "Jira rejected the credentials (401): check the email and API token";
      case 403 -> "Jira denied access (403): the user lacks permission for this" + (details.isEmpty() ? "" : ": " + details);
      case 404 -> "Not found in Jira (404)" + (details.isEmpty() ? "" : ": " + details);
      case 429 -> "Jira rate limit exceeded (429); try again later";
      default -> status >= 500 ? "Jira is unavailable (" + status + ")"
          : "Jira answered " + status + (details.isEmpty() ? "" : ": " + details);
    };
    return new JiraException(status, text);
  }

  /** Jira's own error texts: {@code errorMessages} and the field errors of {@code errors}. */
  static String jiraMessages(Buffer body) {
    if (body == null || body.length() == 0) {
      return "";
    }
    try {
      JsonObject json = body.toJsonObject();
      List<String> parts = new ArrayList<>();
      JsonArray messages = json.getJsonArray("errorMessages", new JsonArray());
      messages.forEach(m -> parts.add(String.valueOf(m)));
      JsonObject errors = json.getJsonObject("errors", new JsonObject());
      errors.forEach(e -> parts.add(e.getKey() + ": " + e.getValue()));
      String joined = String.join("; ", parts);
      return joined.length() > 500 ? joined.substring(0, 500) + "…" : joined;
    } catch (RuntimeException notJson) {
      return "";
    }
  }

  private static JsonObject parse(Buffer body) {
    if (body == null || body.length() == 0) {
      return new JsonObject();
    }
    Object value;
    try {
      value = Json.decodeValue(body);
    } catch (RuntimeException e) {
      throw new JiraException(0, "Jira answered with something that is not JSON (is the base URL a Jira site?)");
    }
    if (value instanceof JsonArray array) {
      return new JsonObject().put("values", array);
    }
    if (!(value instanceof JsonObject object)) {
      throw new JiraException(0, "Jira answered with an unexpected JSON value");
    }
    return object;
  }

  public void close() {
    client.close();
  }
}
