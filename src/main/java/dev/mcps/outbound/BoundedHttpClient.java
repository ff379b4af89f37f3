package dev.mcps.outbound;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.net.TrustOptions;

/**
 * HTTP to an upstream API (Jira, an LLM provider) that can neither leak credentials nor flood the server:
 * <ul>
 *   <li>redirects are never followed — a 3xx fails the exchange, so an {@code Authorization} header or API key is
 *       only ever sent to the URL we chose, never re-sent to another host or over a downgraded scheme;</li>
 *   <li>the body is read chunk by chunk and counted: a {@code Content-Length} above the cap fails at once, a body that
 *       streams past it is cut off there (the request is reset, which closes the connection);</li>
 *   <li>the whole exchange — connect, headers and body — has one deadline, after which the request is reset. An idle
 *       timeout alone lets an endless stream or a byte-every-few-seconds drip hold a call forever.</li>
 * </ul>
 * The body is never decompressed (no gzip bomb behind the cap). The future completes on the caller's context.
 */
public final class BoundedHttpClient implements AutoCloseable {

  private final Vertx vertx;
  private final HttpClientAgent client;
  private final long deadlineMs;
  private final long maxResponseBytes;

  /**
   * @param deadlineMs       the whole exchange's deadline
   * @param maxResponseBytes the largest body read
   * @param poolSize         connections per upstream host (LLM calls are long; a busy Jira site serves many users)
   */
  public BoundedHttpClient(Vertx vertx, long deadlineMs, long maxResponseBytes, int poolSize) {
    this(vertx, deadlineMs, maxResponseBytes, poolSize, null);
  }

  /** @param trust the certificates https upstreams are checked against; null = the JVM's */
  public BoundedHttpClient(Vertx vertx, long deadlineMs, long maxResponseBytes, int poolSize, TrustOptions trust) {
    if (deadlineMs <= 0 || maxResponseBytes <= 0) {
      throw new IllegalArgumentException("deadlineMs and maxResponseBytes must be positive");
    }
    this.vertx = vertx;
    this.deadlineMs = deadlineMs;
    this.maxResponseBytes = maxResponseBytes;
    this.client = vertx.httpClientBuilder()
        .with(new HttpClientOptions()
            .setConnectTimeout((int) Math.min(deadlineMs, 10_000))
            .setKeepAlive(true)
            .setDecompressionSupported(false)
            .setTrustOptions(trust))
        .with(new PoolOptions().setHttp1MaxSize(poolSize))
        .build();
  }

  public long deadlineMs() {
    return deadlineMs;
  }

  public long maxResponseBytes() {
    return maxResponseBytes;
  }

  /**
   * One exchange. Fails with an {@link UpstreamFailure}; any status that is not a redirect is an answer, its body
   * read within the cap.
   */
  public Future<UpstreamResponse> send(HttpMethod method, String absoluteUrl, MultiMap headers, Buffer body) {
    return send(method, absoluteUrl, headers, body, null);
  }

  /**
   * As {@link #send(HttpMethod, String, MultiMap, Buffer)}; when {@code abandon} (may be null) completes first, the
   * request is reset and the exchange fails as cancelled.
   */
  public Future<UpstreamResponse> send(HttpMethod method, String absoluteUrl, MultiMap headers, Buffer body,
                                       Future<Void> abandon) {
    ContextInternal caller = (ContextInternal) vertx.getOrCreateContext();
    Exchange exchange = new Exchange(caller.promise(), absoluteUrl);
    long timer = caller.setTimer(deadlineMs, id -> exchange.fail(UpstreamFailure.deadline(deadlineMs)));
    exchange.future().onComplete(ar -> vertx.cancelTimer(timer));
    if (abandon != null) {
      abandon.onComplete(ar -> exchange.fail(UpstreamFailure.cancelled()));
    }
    RequestOptions options;
    try {
      options = new RequestOptions()
          .setMethod(method)
          .setAbsoluteURI(absoluteUrl)
          .setHeaders(headers)
          .setFollowRedirects(false);
    } catch (RuntimeException badUrl) {
      exchange.fail(UpstreamFailure.transport(badUrl));
      return exchange.future();
    }
    // The response handlers must be in place before the thread that delivers the response can deliver its body.
    // Vert.x neither pauses nor buffers an HttpClientResponse: chunks and the end that arrive before handler() and
    // endHandler() are set are dropped, and a later handler setter throws IllegalStateException (a later body()
    // never completes). So the response listener is attached here, in the listener of request(), which Vert.x runs
    // on the request's context thread: the thread, or the ordered task queue, that the response head and body are
    // delivered through later. Chaining it from the caller instead (request(o).compose(send).onComplete(read), as
    // before) raced when the caller is not that context's thread (a test thread, a worker, another event loop): on
    // a kept-alive connection the whole exchange could complete between compose() and onComplete(), the listener
    // then ran a task later, found the response over and the exchange hung until the deadline.
    client.request(options).onComplete(requested -> {
      if (requested.failed()) {
        exchange.fail(UpstreamFailure.transport(requested.cause()));
        return;
      }
      HttpClientRequest request = requested.result();
      exchange.attach(request);
      Future<HttpClientResponse> answered = body == null ? request.send() : request.send(body);
      answered.onComplete(ar -> {
        if (ar.succeeded()) {
          exchange.read(ar.result());
        } else {
          exchange.fail(UpstreamFailure.transport(ar.cause()));
        }
      });
    });
    return exchange.future();
  }

  @Override
  public void close() {
    client.close();
  }

  /** One call's state: the request to reset when it must end early, and the body read so far. */
  private final class Exchange {

    private final PromiseInternal<UpstreamResponse> promise;
    private final String url;
    private volatile HttpClientRequest request;
    private long received;

    Exchange(PromiseInternal<UpstreamResponse> promise, String url) {
      this.promise = promise;
      this.url = url;
    }

    Future<UpstreamResponse> future() {
      return promise.future();
    }

    void attach(HttpClientRequest request) {
      this.request = request;
      if (promise.future().isComplete()) {
        request.reset(); // the deadline passed while connecting
      }
    }

    void fail(UpstreamFailure failure) {
      if (promise.tryFail(failure)) {
        HttpClientRequest r = request;
        if (r != null) {
          r.reset();
          closeConnectionOf(r);
        }
      }
    }

    /**
     * After the reset alone, a loaded full test run once saw the upstream never told of the close (JiraOutboundTest's
     * 100 MB answer, refused at 2 MB, waited 20 s for it). The connection is this exchange's alone (HTTP/1.1, one
     * request at a time), so closing it as well costs no other exchange and surely stops the upstream.
     */
    private void closeConnectionOf(HttpClientRequest r) {
      try {
        HttpConnection connection = r.connection();
        if (connection != null) {
          connection.close();
        }
      } catch (RuntimeException notConnected) {
        // Not connected yet: the reset already took the request out of the pool's queue.
      }
    }

    /** Called as soon as the headers are in, before any body chunk is delivered (see {@link #send}). */
    void read(HttpClientResponse response) {
      try {
        // First, so that the reset of an answer we refuse ends here instead of in Vert.x's "unhandled" error log.
        response.exceptionHandler(e -> fail(UpstreamFailure.transport(e)));
      } catch (IllegalStateException alreadyEnded) {
        // The body went by unread (the race described in send): fail now rather than wait for the deadline.
        fail(UpstreamFailure.transport(alreadyEnded));
        return;
      }
      int status = response.statusCode();
      if (status >= 300 && status < 400) {
        fail(UpstreamFailure.redirect(status, url, response.getHeader("Location")));
        return;
      }
      long announced = contentLength(response.getHeader("Content-Length"));
      if (announced > maxResponseBytes) {
        fail(UpstreamFailure.tooLarge(maxResponseBytes));
        return;
      }
      Buffer body = Buffer.buffer((int) Math.max(0, Math.min(announced, 64 * 1024)));
      response.handler(chunk -> {
        if (promise.future().isComplete()) {
          return;
        }
        received += chunk.length();
        if (received > maxResponseBytes) {
          fail(UpstreamFailure.tooLarge(maxResponseBytes));
        } else {
          body.appendBuffer(chunk);
        }
      });
      response.endHandler(v -> promise.tryComplete(new UpstreamResponse(status, response.headers(), body)));
    }

    private long contentLength(String header) {
      if (header == null) {
        return -1;
      }
      try {
        return Long.parseLong(header.trim());
      } catch (NumberFormatException e) {
        return -1;
      }
    }
  }
}
