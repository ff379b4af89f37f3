package dev.mcps.testing;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;

/**
 * A pooled HTTP/1.1 client that sends exactly what a test gives it: any request target (also ones java.net.URI
 * refuses, such as {@code ?userId=%ZZ}), any header value, any body. For hostile-input tests. Event streams are not
 * read: their status and headers come back and the connection is closed.
 */
public final class WireClient implements AutoCloseable {

  /** A response; {@code body} is empty for an event stream. */
  public record Response(int status, MultiMap headers, String body) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public boolean isEventStream() {
      String type = headers.get("Content-Type");
      return type != null && type.startsWith("text/event-stream");
    }
  }

  private final Vertx vertx;
  private final HttpClient client;
  private final int port;

  public WireClient(int port, int poolSize) {
    this.vertx = Vertx.vertx();
    this.port = port;
    this.client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
        .setKeepAlive(true).setConnectTimeout(5000), new PoolOptions().setHttp1MaxSize(poolSize));
  }

  public int port() {
    return port;
  }

  /** Sends the request and waits for the whole answer (at most 30 s); {@code body} may be null. */
  public Response send(HttpMethod method, String target, MultiMap headers, Buffer body) {
    return TestServers.await(sendAsync(method, target, headers, body).timeout(30, TimeUnit.SECONDS));
  }

  public Future<Response> sendAsync(HttpMethod method, String target, MultiMap headers, Buffer body) {
    RequestOptions options = new RequestOptions().setMethod(method).setURI(target).setIdleTimeout(30_000);
    if (headers != null) {
      options.setHeaders(headers);
    }
    return client.request(options).compose(req -> (body == null ? req.send() : req.send(body)).compose(resp -> {
      String type = resp.getHeader("Content-Type");
      if (type != null && type.startsWith("text/event-stream")) {
        // An open stream never ends by itself: what the test wants is its status and headers.
        Response r = new Response(resp.statusCode(), MultiMap.caseInsensitiveMultiMap().addAll(resp.headers()), "");
        return req.connection().close().transform(v -> Future.succeededFuture(r));
      }
      return resp.body().map(b -> new Response(resp.statusCode(),
          MultiMap.caseInsensitiveMultiMap().addAll(resp.headers()), b.toString()));
    }));
  }

  @Override
  public void close() {
    TestServers.await(vertx.close());
  }
}
