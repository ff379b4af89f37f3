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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A pooled HTTP/1.1 client that sends exactly what a test gives it: any request target (also ones java.net.URI
 * refuses, such as {@code ?userId=%ZZ}), any header value, any body. For hostile-input tests. Event streams are not
 * read: their status and headers come back and the connection is closed.
 */
public final class WireClient implements AutoCloseable {

  /** A response; {@code body} is empty for a GET event stream (never read: it does not end). */
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
  /** One connection per request: a retry after a closed pooled connection must not meet the same race again. */
  private final HttpClient fresh;
  private final int port;

  public WireClient(int port, int poolSize) {
    this.vertx = Vertx.vertx();
    this.port = port;
    this.client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
        .setKeepAlive(true).setConnectTimeout(5000), new PoolOptions().setHttp1MaxSize(poolSize));
    this.fresh = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
        .setKeepAlive(false).setConnectTimeout(5000), new PoolOptions().setHttp1MaxSize(poolSize));
  }

  public int port() {
    return port;
  }

  /**
   * Sends the request and waits for the whole answer (at most 30 s); {@code body} may be null. A pooled connection the
   * server closed just as the request went out (the keep-alive race every HTTP client has) is retried once on a
   * connection of its own, so a connection closed without an answer there is the server's doing.
   */
  public Response send(HttpMethod method, String target, MultiMap headers, Buffer body) {
    return TestServers.await(send(client, method, target, headers, body)
        .recover(err -> err instanceof io.vertx.core.http.HttpClosedException
            ? send(fresh, method, target, headers, body) : Future.failedFuture(err))
        .timeout(30, TimeUnit.SECONDS));
  }

  public Future<Response> sendAsync(HttpMethod method, String target, MultiMap headers, Buffer body) {
    return send(client, method, target, headers, body);
  }

  private static Future<Response> send(HttpClient client, HttpMethod method, String target, MultiMap headers,
                                       Buffer body) {
    RequestOptions options = new RequestOptions().setMethod(method).setURI(target).setIdleTimeout(30_000);
    if (headers != null) {
      options.setHeaders(headers);
    }
    return client.request(options).compose(req -> (body == null ? req.send() : req.send(body)).compose(resp -> {
      String type = resp.getHeader("Content-Type");
      // A GET stream stays open for server pushes; any other request's stream carries its answers and then ends.
      if (type != null && type.startsWith("text/event-stream") && method == HttpMethod.GET) {
        // An open stream never ends by itself: what the test wants is its status and headers.
        Response r = new Response(resp.statusCode(), MultiMap.caseInsensitiveMultiMap().addAll(resp.headers()), "");
        resp.exceptionHandler(closedByUs -> { });
        return req.connection().close().transform(v -> Future.succeededFuture(r));
      }
      return resp.body().map(b -> new Response(resp.statusCode(),
          MultiMap.caseInsensitiveMultiMap().addAll(resp.headers()), b.toString()));
    }));
  }

  /** An event stream kept open and read to the end, so the server never waits on it; keeps the latest text only. */
  public static final class EventStream {
    private final StringBuilder seen = new StringBuilder();
    private io.vertx.core.http.HttpConnection connection;

    private final List<String> leaks = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<String> forbidden;

    EventStream(List<String> forbidden) {
      this.forbidden = forbidden;
    }

    /** The chunks of the stream (first few) that contained one of the forbidden marks. */
    public List<String> leaks() {
      return List.copyOf(leaks);
    }

    private synchronized void append(String text) {
      if (leaks.size() < 5 && forbidden.stream().anyMatch(text::contains)) {
        leaks.add(text.length() > 500 ? text.substring(0, 500) : text);
      }
      seen.append(text);
      if (seen.length() > 65_536) {
        seen.delete(0, seen.length() - 16_384);
      }
    }

    /** The first group of {@code pattern} in the text seen, waiting up to 10 s for it. */
    public String await(java.util.regex.Pattern pattern) throws InterruptedException {
      long deadline = System.currentTimeMillis() + 10_000;
      while (System.currentTimeMillis() < deadline) {
        synchronized (this) {
          java.util.regex.Matcher m = pattern.matcher(seen);
          if (m.find()) {
            return m.group(1);
          }
        }
        Thread.sleep(10);
      }
      throw new IllegalStateException("the stream never carried " + pattern);
    }

    public void close() {
      if (connection != null) {
        connection.close();
      }
    }
  }

  /**
   * Opens {@code target} as an event stream (status 200 expected) and keeps draining it, noting any chunk that
   * contains one of {@code forbidden}.
   */
  public EventStream openEventStream(String target, MultiMap headers, List<String> forbidden) {
    EventStream stream = new EventStream(forbidden);
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setURI(target);
    if (headers != null) {
      options.setHeaders(headers);
    }
    // A connection of its own: a stream holds it for its life anyway, and a pooled one may be one the server is
    // closing after a hostile request (then the stream would fail with "Connection was closed" before it began).
    TestServers.await(fresh.request(options).compose(req -> req.send().map(resp -> {
      if (resp.statusCode() != 200) {
        throw new IllegalStateException("event stream " + target + " answered " + resp.statusCode());
      }
      stream.connection = req.connection();
      resp.handler(b -> stream.append(b.toString()));
      resp.exceptionHandler(closedByUs -> { });
      return stream;
    })));
    return stream;
  }

  @Override
  public void close() {
    TestServers.await(vertx.close());
  }
}
