package dev.mcps.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.TestServers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The idle check keeps no answered request: a keep-alive connection sends far more requests per check period than
 * it has in flight, and each one kept would pin its whole context (body, session, response) in the heap.
 */
class IdleConnectionsRetentionTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    TestServers.await(vertx.close());
  }

  @Test
  void aKeepAliveConnectionThatSentAThousandAnsweredRequestsHoldsAtMostOneInTheIdleCheck() {
    Context loop = vertx.getOrCreateContext();
    // A timeout of an hour: the periodic check never runs during the test, so only the per-request pruning counts.
    IdleConnections idle = new IdleConnections(vertx, 3_600_000);
    Promise<HttpServer> listening = Promise.promise();
    loop.runOnContext(v -> {
      idle.start();
      vertx.createHttpServer()
          .connectionHandler(idle::opened)
          .requestHandler(idle.tracking(req -> req.response().end("ok")))
          .listen(0, "127.0.0.1").onComplete(listening);
    });
    int port = TestServers.await(listening.future()).actualPort();
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(1));

    Future<Void> all = Future.succeededFuture();
    for (int i = 0; i < 1000; i++) {
      all = all.compose(v -> client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
              .setPort(port).setURI("/"))
          .compose(req -> req.send())
          .compose(resp -> resp.body())
          .mapEmpty());
    }
    TestServers.await(all);

    Promise<Integer> held = Promise.promise();
    loop.runOnContext(v -> held.complete(idle.held()));
    assertThat(TestServers.await(held.future())).isLessThanOrEqualTo(1);
  }
}
