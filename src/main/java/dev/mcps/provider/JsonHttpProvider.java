package dev.mcps.provider;

import dev.mcps.config.ServerConfig;
import dev.mcps.outbound.BoundedHttpClient;
import dev.mcps.outbound.UpstreamResponse;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.HttpMethod;

/**
 * A provider whose API is JSON over HTTP with an API key (Anthropic Messages, OpenAI Chat Completions), called with
 * the non-blocking web client. A subclass only converts: the canonical request to its JSON, its JSON to the
 * canonical reply, and says where the key goes. One POST is one attempt for {@link ProviderCalls}: a non-2xx answer
 * fails it with the status, {@code Retry-After} and the API's own error text. The body is encoded once, so retries
 * resend the same bytes.
 *
 * <p>The API key goes only where the configuration says: a redirect is never followed (it would re-send the key to
 * wherever it points) and fails the call as a 502. Each attempt has a total deadline and a cap on the answer's size
 * ({@link CallPolicy}), both enforced while the body streams in ({@link BoundedHttpClient}).
 */
public abstract class JsonHttpProvider implements LlmProvider, AutoCloseable {

  /** Connections to the API: every concurrent turn holds one for the length of a generation. */
  private static final int POOL_SIZE = 64;

  private final ServerConfig.Provider config;
  private final String displayName;
  private final String settings;
  private final ProviderCalls calls;
  private final BoundedHttpClient client;

  /**
   * @param displayName the name users read ("Anthropic")
   * @param settings    the settings to name when some are missing ("ANTHROPIC_API_KEY, ANTHROPIC_MODEL")
   */
  protected JsonHttpProvider(Vertx vertx, ServerConfig.Provider config, CallPolicy policy, String displayName,
                             String settings) {
    this.config = config;
    this.displayName = displayName;
    this.settings = settings;
    this.calls = new ProviderCalls(vertx, displayName, "API key", policy, config.apiKey());
    this.client = new BoundedHttpClient(vertx, policy.timeoutMs(), policy.maxResponseBytes(), POOL_SIZE);
  }

  /** The path after the base URL, e.g. {@code /v1/messages}. */
  protected abstract String path();

  /** The headers that carry the key (and any API version). */
  protected abstract MultiMap authHeaders(String apiKey);

  /** The request body on the wire; a provider may reuse what it encoded for earlier steps ({@link WireMemo}). */
  protected abstract Buffer requestBody(String model, ProviderRequest request);

  /** The API's 2xx JSON as canonical blocks; anything unexpected may throw (the call then fails as a 502). */
  protected abstract ProviderReply reply(JsonObject body);

  @Override
  public final boolean configured() {
    return config.usable();
  }

  @Override
  public final Future<ProviderReply> complete(ProviderRequest request) {
    if (!configured()) {
      return Future.failedFuture(new ProviderException(503, "Provider_Not_Configured",
          displayName + " is not configured (" + settings + ")"));
    }
    String base = config.baseUrl();
    String url = (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path();
    MultiMap headers = authHeaders(config.apiKey());
    Buffer body = requestBody(config.model(), request);
    return calls.run(() -> post(url, headers, body), raw -> reply(raw.toJsonObject()));
  }

  private Future<Buffer> post(String url, MultiMap authHeaders, Buffer body) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(authHeaders)
        .add("Content-Type", "application/json")
        .add("Accept", "application/json")
        .add("User-Agent", "mcp-session-server");
    return client.send(HttpMethod.POST, url, headers, body)
        .transform(ar -> ar.succeeded() ? answer(ar.result())
            : Future.failedFuture(ProviderCalls.Failure.transport(ar.cause())));
  }

  private static Future<Buffer> answer(UpstreamResponse response) {
    int status = response.status();
    if (status < 200 || status >= 300) {
      return Future.failedFuture(ProviderCalls.Failure.status(status, response.header("Retry-After"),
          errorText(response.body())));
    }
    return Future.succeededFuture(response.body());
  }

  /** {@code {"error":{"message"}}} (Anthropic, OpenAI), {@code {"error":"..."}} (Ollama) or {@code {"message"}}. */
  private static String errorText(Buffer body) {
    if (body == null || body.length() == 0) {
      return "";
    }
    try {
      JsonObject json = body.toJsonObject();
      Object error = json.getValue("error");
      if (error instanceof JsonObject e && e.getValue("message") instanceof String m) {
        return m;
      }
      if (error instanceof String s) {
        return s;
      }
      return json.getValue("message") instanceof String m ? m : "";
    } catch (RuntimeException notJson) {
      return "";
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
