package dev.mcps.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.MultiMap;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.junit.jupiter.api.Test;

/**
 * The calls Vert.x 5.0.7 makes for a connection accepted while its server binds, replayed on the SPI: the request of
 * a connection without a socket metric. Micrometer's metrics throw on them (what hung the request); the guarded ones
 * skip them and still count every measured request.
 */
class BindRaceSafeMetricsTest {

  private static final SocketAddress LOCAL = SocketAddress.inetSocketAddress(3333, "127.0.0.1");
  private static final SocketAddress REMOTE = SocketAddress.inetSocketAddress(50_000, "127.0.0.1");

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final VertxOptions options = new VertxOptions()
      .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true));

  private static final HttpRequest REQUEST = new HttpRequest() {
    @Override
    public int id() {
      return 1;
    }

    @Override
    public String uri() {
      return "/health";
    }

    @Override
    public String absoluteURI() {
      return "http://127.0.0.1:3333/health";
    }

    @Override
    public HttpMethod method() {
      return HttpMethod.GET;
    }

    @Override
    public MultiMap headers() {
      return MultiMap.caseInsensitiveMultiMap();
    }

    @Override
    public SocketAddress remoteAddress() {
      return REMOTE;
    }
  };

  private static final HttpResponse RESPONSE = new HttpResponse() {
    @Override
    public int statusCode() {
      return 200;
    }

    @Override
    public MultiMap headers() {
      return MultiMap.caseInsensitiveMultiMap();
    }
  };

  @SuppressWarnings("unchecked")
  private static HttpServerMetrics<Object, Object, Object> server(VertxMetrics metrics) {
    return (HttpServerMetrics<Object, Object, Object>) metrics.createHttpServerMetrics(new HttpServerOptions(), LOCAL);
  }

  /** What Vert.x does for one request of a connection whose socket metric is {@code socket}. */
  private static void oneRequest(HttpServerMetrics<Object, Object, Object> m, Object socket) {
    Object request = m.requestBegin(socket, REQUEST);
    m.requestEnd(request, REQUEST, 0);
    m.requestRouted(request, "/health");
    m.responseBegin(request, RESPONSE);
    m.responseEnd(request, RESPONSE, 42);
    m.bytesRead(socket, REMOTE, 64);
    m.bytesWritten(socket, REMOTE, 42);
    m.disconnected(socket, REMOTE);
  }

  @Test
  void micrometersOwnServerMetricsThrowOnARequestOfAConnectionAcceptedBeforeTheyExisted() {
    HttpServerMetrics<Object, Object, Object> plain = server(new MicrometerMetricsFactory(registry).metrics(options));

    assertThatThrownBy(() -> plain.requestBegin(null, REQUEST)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void theGuardedMetricsServeThatRequestUnmeasuredAndCountTheOthers() {
    HttpServerMetrics<Object, Object, Object> safe = server(new BindRaceSafeMetrics(
        new MicrometerMetricsFactory(registry)).metrics(options));

    oneRequest(safe, null);
    Object socket = safe.connected(REMOTE, "127.0.0.1");
    oneRequest(safe, socket);

    assertThat(safe.requestBegin(null, REQUEST)).isNull();
    assertThat(registry.scrape()).contains("vertx_http_server_requests_total{")
        .containsPattern("vertx_http_server_requests_total\\{[^}]*\\} 1\\.0");
  }
}
