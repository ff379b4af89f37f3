package dev.mcps.metrics;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.metrics.ClientMetrics;
import io.vertx.core.spi.metrics.DatagramSocketMetrics;
import io.vertx.core.spi.metrics.EventBusMetrics;
import io.vertx.core.spi.metrics.HttpClientMetrics;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.PoolMetrics;
import io.vertx.core.spi.metrics.TCPMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;

/**
 * Vert.x metrics (Micrometer's) with the server side made safe for connections accepted while a server binds.
 *
 * <p>Vert.x 5.0.7 starts accepting on a port before it creates that server's metrics (they are created in the
 * bind's completion). A connection accepted in between gets no socket metric, yet its requests find the metrics
 * created by then and hand them that missing socket metric: Micrometer's HTTP server metrics throw a
 * NullPointerException inside Vert.x, and the request is never answered. A load balancer's health checks and retried
 * requests hit exactly that window whenever an instance starts. Here every server-side call that carries a missing
 * socket or request metric is dropped instead: such a connection is simply not measured, and is served.
 */
public final class BindRaceSafeMetrics implements VertxMetricsFactory {

  private final VertxMetricsFactory delegate;

  public BindRaceSafeMetrics(VertxMetricsFactory delegate) {
    this.delegate = delegate;
  }

  @Override
  public VertxMetrics metrics(VertxOptions options) {
    VertxMetrics metrics = delegate.metrics(options);
    return metrics == null ? null : new Safe(metrics);
  }

  @Override
  public MetricsOptions newOptions() {
    return delegate.newOptions();
  }

  @Override
  public MetricsOptions newOptions(MetricsOptions options) {
    return delegate.newOptions(options);
  }

  @Override
  public MetricsOptions newOptions(JsonObject json) {
    return delegate.newOptions(json);
  }

  /** Everything as the delegate does, the server metrics wrapped. */
  private record Safe(VertxMetrics d) implements VertxMetrics {

    @Override
    public EventBusMetrics createEventBusMetrics() {
      return d.createEventBusMetrics();
    }

    @Override
    @SuppressWarnings("unchecked")
    public HttpServerMetrics<?, ?, ?> createHttpServerMetrics(HttpServerOptions options, SocketAddress local) {
      HttpServerMetrics<?, ?, ?> m = d.createHttpServerMetrics(options, local);
      return m == null ? null : new SafeHttpServer((HttpServerMetrics<Object, Object, Object>) m);
    }

    @Override
    public ClientMetrics<?, ?, ?> createClientMetrics(SocketAddress remote, String type, String namespace) {
      return d.createClientMetrics(remote, type, namespace);
    }

    @Override
    public HttpClientMetrics<?, ?, ?> createHttpClientMetrics(HttpClientOptions options) {
      return d.createHttpClientMetrics(options);
    }

    @Override
    @SuppressWarnings("unchecked")
    public TCPMetrics<?> createNetServerMetrics(NetServerOptions options, SocketAddress local) {
      TCPMetrics<?> m = d.createNetServerMetrics(options, local);
      return m == null ? null : new SafeTcp((TCPMetrics<Object>) m);
    }

    @Override
    public TCPMetrics<?> createNetClientMetrics(NetClientOptions options) {
      return d.createNetClientMetrics(options);
    }

    @Override
    public DatagramSocketMetrics createDatagramSocketMetrics(DatagramSocketOptions options) {
      return d.createDatagramSocketMetrics(options);
    }

    @Override
    public PoolMetrics<?, ?> createPoolMetrics(String type, String name, int maxSize) {
      return d.createPoolMetrics(type, name, maxSize);
    }

    @Override
    public void vertxCreated(Vertx vertx) {
      d.vertxCreated(vertx);
    }

    @Override
    public boolean isMetricsEnabled() {
      return d.isMetricsEnabled();
    }

    @Override
    public void close() {
      d.close();
    }
  }

  /** A TCP server's metrics that skip a connection without a socket metric. */
  static class SafeTcp implements TCPMetrics<Object> {

    private final TCPMetrics<Object> d;

    SafeTcp(TCPMetrics<Object> d) {
      this.d = d;
    }

    @Override
    public Object connected(SocketAddress remote, String remoteName) {
      return d.connected(remote, remoteName);
    }

    @Override
    public void disconnected(Object socket, SocketAddress remote) {
      if (socket != null) {
        d.disconnected(socket, remote);
      }
    }

    @Override
    public void bytesRead(Object socket, SocketAddress remote, long bytes) {
      if (socket != null) {
        d.bytesRead(socket, remote, bytes);
      }
    }

    @Override
    public void bytesWritten(Object socket, SocketAddress remote, long bytes) {
      if (socket != null) {
        d.bytesWritten(socket, remote, bytes);
      }
    }

    @Override
    public void exceptionOccurred(Object socket, SocketAddress remote, Throwable err) {
      if (socket != null) {
        d.exceptionOccurred(socket, remote, err);
      }
    }

    @Override
    public void close() {
      d.close();
    }
  }

  /** An HTTP server's metrics: a request of an unmeasured connection is not measured either. */
  static final class SafeHttpServer extends SafeTcp implements HttpServerMetrics<Object, Object, Object> {

    private final HttpServerMetrics<Object, Object, Object> d;

    SafeHttpServer(HttpServerMetrics<Object, Object, Object> d) {
      super(d);
      this.d = d;
    }

    @Override
    public Object requestBegin(Object socket, HttpRequest request) {
      return socket == null ? null : d.requestBegin(socket, request);
    }

    @Override
    public void requestEnd(Object request, HttpRequest req, long bytesRead) {
      if (request != null) {
        d.requestEnd(request, req, bytesRead);
      }
    }

    @Override
    public void requestReset(Object request) {
      if (request != null) {
        d.requestReset(request);
      }
    }

    @Override
    public void responseBegin(Object request, HttpResponse response) {
      if (request != null) {
        d.responseBegin(request, response);
      }
    }

    @Override
    public Object responsePushed(Object socket, HttpMethod method, String uri, HttpResponse response) {
      return socket == null ? null : d.responsePushed(socket, method, uri, response);
    }

    @Override
    public void responseEnd(Object request, HttpResponse response, long bytesWritten) {
      if (request != null) {
        d.responseEnd(request, response, bytesWritten);
      }
    }

    @Override
    public Object connected(Object socket, Object request, ServerWebSocket webSocket) {
      return socket == null || request == null ? null : d.connected(socket, request, webSocket);
    }

    @Override
    public void disconnected(Object webSocket) {
      if (webSocket != null) {
        d.disconnected(webSocket);
      }
    }

    @Override
    public void requestRouted(Object request, String route) {
      if (request != null) {
        d.requestRouted(request, route);
      }
    }
  }
}
