package dev.mcps.jira;

import dev.mcps.RetryDelay;
import dev.mcps.session.JiraCredentials;
import dev.mcps.tools.ToolCancellation;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.impl.ClientPhase;
import io.vertx.ext.web.client.impl.HttpContext;
import io.vertx.ext.web.client.impl.WebClientInternal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jira Cloud REST v3 over the non-blocking web client, always with the credentials it is handed (never a global).
 * 429 and 503 are retried, honouring {@code Retry-After}, a bounded number of times with jitter; other failures
 * become a {@link JiraException} whose message is safe to show (no token, no Authorization header).
 */
public final class JiraClient {

  private static final Logger LOG = LoggerFactory.getLogger(JiraClient.class);
  private static final String CANCELLATION = "mcps.toolCancellation";

  private final Vertx vertx;
  private final WebClient client;
  private final long timeoutMs;
  private final int maxAttempts;
  private final long maxRetryDelayMs;

  public JiraClient(Vertx vertx, long timeoutMs, int maxAttempts, long maxRetryDelayMs) {
    this.vertx = vertx;
    this.client = WebClient.create(vertx, new WebClientOptions()
        .setConnectTimeout((int) Math.min(timeoutMs, 10_000))
        .setUserAgent("mcp-session-server")
        .setKeepAlive(true));
    ((WebClientInternal) client).addInterceptor(JiraClient::abortWhenCancelled);
    this.timeoutMs = timeoutMs;
    this.maxAttempts = maxAttempts;
    this.maxRetryDelayMs = maxRetryDelayMs;
  }

  public Future<JsonObject> get(JiraCredentials creds, String path, Map<String, String> query) {
    return send(creds, HttpMethod.GET, path, query, null);
  }

  public Future<JsonObject> post(JiraCredentials creds, String path, JsonObject body) {
    return send(creds, HttpMethod.POST, path, Map.of(), body);
  }

  public Future<JsonObject> put(JiraCredentials creds, String path, JsonObject body) {
    return send(creds, HttpMethod.PUT, path, Map.of(), body);
  }

  /** The response body as an object ({} for an empty 2xx body; an array body is wrapped as {"values": [...]}). */
  private Future<JsonObject> send(JiraCredentials creds, HttpMethod method, String path, Map<String, String> query,
                                  JsonObject body) {
    return attempt(creds, method, path, query, body, 1);
  }

  private Future<JsonObject> attempt(JiraCredentials creds, HttpMethod method, String path, Map<String, String> query,
                                     JsonObject body, int attempt) {
    if (ToolCancellation.isCancelled()) {
      // The caller gave up on this call (e.g. during a Retry-After wait): no further request reaches Jira.
      return Future.failedFuture(new JiraException(0, "The call was cancelled"));
    }
    HttpRequest<Buffer> request = client.requestAbs(method, creds.baseUrl() + path)
        .putHeader("Authorization", basic(creds))
        .putHeader("Accept", "application/json")
        .timeout(timeoutMs);
    query.forEach(request::addQueryParam);
    Future<HttpResponse<Buffer>> sent = body == null ? request.send() : request.sendJsonObject(body);
    return sent.transform(ar -> {
      if (ar.failed()) {
        return Future.failedFuture(unreachable(ar.cause()));
      }
      HttpResponse<Buffer> response = ar.result();
      int status = response.statusCode();
      if (status >= 200 && status < 300) {
        try {
          return Future.succeededFuture(parse(response.body()));
        } catch (JiraException e) {
          return Future.failedFuture(e);
        }
      }
      if ((status == 429 || status == 503) && attempt < maxAttempts) {
        long delay = RetryDelay.millis(response.getHeader("Retry-After"), attempt, 250, maxRetryDelayMs);
        LOG.debug("Jira answered {} to {} {}; retry {} in {} ms", status, method, path, attempt + 1, delay);
        return vertx.timer(Math.max(1, delay), TimeUnit.MILLISECONDS)
            .compose(v -> attempt(creds, method, path, query, body, attempt + 1));
      }
      return Future.failedFuture(error(status, response.body()));
    });
  }

  /**
   * A tool call its caller cancelled aborts its Jira request: the request is reset, so a create or update that Jira
   * has not read yet never happens. Interceptors of the prepare phase run on the caller's context, where the call's
   * cancellation is.
   */
  private static void abortWhenCancelled(HttpContext<?> ctx) {
    if (ctx.phase() == ClientPhase.PREPARE_REQUEST && ToolCancellation.current() != null) {
      ctx.set(CANCELLATION, ToolCancellation.current());
    } else if (ctx.phase() == ClientPhase.SEND_REQUEST && ctx.get(CANCELLATION) != null) {
      HttpClientRequest request = ctx.clientRequest();
      ctx.<Future<Void>>get(CANCELLATION).onSuccess(v -> request.reset());
    }
    ctx.next();
  }

  private JiraException unreachable(Throwable cause) {
    if (cause instanceof TimeoutException || (cause.getMessage() != null && cause.getMessage().contains("timeout"))) {
      return new JiraException(0, "Jira did not answer within " + (timeoutMs / 1000.0) + " s");
    }
    return new JiraException(0, "Jira could not be reached (" + cause.getClass().getSimpleName() + ")");
  }

  private static JiraException error(int status, Buffer body) {
    String details = jiraMessages(body);
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

  private static String basic(JiraCredentials c) {
    return "Basic " + Base64.getEncoder().encodeToString((c.email() + ":" + c.apiToken())
        .getBytes(StandardCharsets.UTF_8));
  }

  public void close() {
    client.close();
  }
}
