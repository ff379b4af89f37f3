package dev.mcps.bench;

import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.ProviderException;
import dev.mcps.provider.ProviderReply;
import dev.mcps.provider.ProviderRequest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A bare Anthropic Messages client behind the provider contract, for tests only: with it the chat benchmark can be
 * tested end to end — load client → our /chat → this → {@link ZeroDelayAnthropic} — without the server's own
 * Anthropic provider. It sends the canonical conversation as it is (canonical blocks are the Messages API's), makes no
 * retries and maps every failure to 502 Provider_Error.
 */
final class AnthropicStandIn implements LlmProvider {

  private final String host;
  private final int port;
  private final String apiKey;
  private volatile HttpClient http;

  AnthropicStandIn(String host, int port, String apiKey) {
    this.host = host;
    this.port = port;
    this.apiKey = apiKey;
  }

  @Override
  public String name() {
    return "anthropic";
  }

  @Override
  public boolean configured() {
    return true;
  }

  @Override
  public Future<ProviderReply> complete(ProviderRequest request) {
    List<JsonObject> tools = new ArrayList<>();
    for (JsonObject t : request.tools()) {
      tools.add(new JsonObject().put("name", t.getString("name")).put("description", t.getString("description"))
          .put("input_schema", t.getValue("inputSchema")));
    }
    JsonObject body = new JsonObject()
        .put("model", "bench")
        .put("max_tokens", 1024)
        .put("system", request.system())
        .put("messages", new JsonArray(new ArrayList<>(request.messages())))
        .put("tools", new JsonArray(tools));
    RequestOptions post = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port)
        .setURI("/v1/messages")
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader("x-api-key", apiKey)
        .putHeader("anthropic-version", "2023-06-01");
    return McpSession.exchange(http(), post, body.toBuffer())
        .recover(e -> Future.failedFuture(new ProviderException(502, "Provider_Error", "stand-in: " + e)))
        .compose(reply -> {
          if (reply.status() != 200) {
            return Future.failedFuture(new ProviderException(502, "Provider_Error", "stand-in: the API answered "
                + reply.describe()));
          }
          JsonObject answer = new JsonObject(reply.body().toString(StandardCharsets.UTF_8));
          List<JsonObject> content = new ArrayList<>();
          answer.getJsonArray("content").forEach(block -> content.add((JsonObject) block));
          return Future.succeededFuture(new ProviderReply(content, answer.getString("stop_reason")));
        });
  }

  /**
   * The client is made on first use, from the Vert.x of the server calling: the server creates its Vert.x itself,
   * after its providers, and a client of another Vert.x would complete the turn on that one's threads, outside the
   * server's contexts (and their session context).
   */
  private HttpClient http() {
    HttpClient client = http;
    if (client == null) {
      synchronized (this) {
        if (http == null) {
          Context context = Vertx.currentContext();
          if (context == null) {
            throw new IllegalStateException("the stand-in provider is called from outside Vert.x");
          }
          // Room for every turn of a load run at once, as a real provider client would have.
          http = context.owner().httpClientBuilder()
              .with(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true))
              .with(new PoolOptions().setHttp1MaxSize(256))
              .build();
        }
        client = http;
      }
    }
    return client;
  }
}
