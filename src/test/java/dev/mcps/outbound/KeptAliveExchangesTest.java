package dev.mcps.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Thousands of exchanges over kept-alive, pooled connections to a Vert.x server, each of which must end in time:
 * answers with and without bodies (200, 204, 400, 401, 404), some given before the request body was read, requests
 * with and without bodies, from a plain thread, from several threads at once and from event-loop contexts other
 * than the connection's. A response whose events are lost leaves its exchange waiting for the deadline.
 */
class KeptAliveExchangesTest {

  private static final long PER_EXCHANGE_MS = 5_000;

  /** What the fake answers, chosen by the request path. */
  private enum Kind {
    OK("/ok", 200, true, true),
    BAD_REQUEST("/bad", 400, true, true),
    UNAUTHORIZED_EARLY("/unauthorized", 401, true, false),
    NOT_FOUND_EMPTY("/missing", 404, false, true),
    NO_CONTENT("/none", 204, false, true),
    NOT_FOUND_EARLY("/gone", 404, true, false);

    final String path;
    final int status;
    final boolean hasBody;
    final boolean readsRequestFirst;

    Kind(String path, int status, boolean hasBody, boolean readsRequestFirst) {
      this.path = path;
      this.status = status;
      this.hasBody = hasBody;
      this.readsRequestFirst = readsRequestFirst;
    }

    String body(String id) {
      return hasBody ? "{\"answer\":\"" + name() + "\",\"id\":\"" + id + "\"}" : "";
    }

    static Kind of(String path) {
      for (Kind k : values()) {
        if (k.path.equals(path)) {
          return k;
        }
      }
      throw new IllegalArgumentException(path);
    }
  }

  private Vertx vertx;
  private HttpServer server;
  private BoundedHttpClient client;
  private String base;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    server = vertx.createHttpServer().requestHandler(this::answer);
    await(server.listen(0, "127.0.0.1"));
    base = "http://127.0.0.1:" + server.actualPort();
    client = new BoundedHttpClient(vertx, PER_EXCHANGE_MS, 1 << 20, 4);
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    await(vertx.close());
  }

  private void answer(HttpServerRequest req) {
    Kind kind = Kind.of(req.path());
    String id = req.getHeader("X-Id");
    if (kind.readsRequestFirst) {
      req.body().onSuccess(b -> reply(req, kind, id));
    } else {
      reply(req, kind, id);
    }
  }

  private static void reply(HttpServerRequest req, Kind kind, String id) {
    req.response().setStatusCode(kind.status).putHeader("Content-Type", "application/json");
    if (kind.hasBody) {
      req.response().end(kind.body(id));
    } else {
      req.response().end();
    }
  }

  @Test
  void sequentialExchangesFromOneThreadAllEnd() throws Exception {
    for (int i = 0; i < 1_000; i++) {
      exchange("s" + i, i).toCompletionStage().toCompletableFuture().get(PER_EXCHANGE_MS * 2, TimeUnit.MILLISECONDS);
    }
  }

  @Test
  void concurrentExchangesFromThreadsAndContextsAllEnd() throws Exception {
    int threads = 4;
    int contexts = 4;
    int each = 125;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<CompletableFuture<Void>> all = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        int worker = t;
        all.add(CompletableFuture.runAsync(() -> {
          for (int i = 0; i < each; i++) {
            try {
              exchange("t" + worker + "-" + i, worker + i).toCompletionStage().toCompletableFuture()
                  .get(PER_EXCHANGE_MS * 2, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }
        }, pool));
      }
      for (int c = 0; c < contexts; c++) {
        ContextInternal context = ((VertxInternal) vertx).createEventLoopContext();
        Promise<Void> done = Promise.promise();
        int worker = c;
        context.runOnContext(v -> chain(worker, 0, each, done));
        all.add(done.future().toCompletionStage().toCompletableFuture());
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
          .get(PER_EXCHANGE_MS * each, TimeUnit.MILLISECONDS);
    } finally {
      pool.shutdownNow();
    }
  }

  private void chain(int worker, int i, int each, Promise<Void> done) {
    if (i == each) {
      done.complete();
      return;
    }
    exchange("c" + worker + "-" + i, worker * 7 + i)
        .onSuccess(v -> chain(worker, i + 1, each, done))
        .onFailure(done::fail);
  }

  /** One exchange: its kind and whether the request has a body follow from {@code n}; checks the answer. */
  private Future<Void> exchange(String id, int n) {
    Kind kind = Kind.values()[n % Kind.values().length];
    boolean withBody = (n / Kind.values().length) % 2 == 0;
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("X-Id", id);
    Buffer body = null;
    if (withBody) {
      headers.add("Content-Type", "application/json");
      body = Buffer.buffer("{\"question\":\"" + "q".repeat(n % 3 == 0 ? 200_000 : 200) + "\"}");
    }
    long start = System.nanoTime();
    return client.send(withBody ? HttpMethod.POST : HttpMethod.GET, base + kind.path, headers, body)
        .transform(ar -> {
          long ms = (System.nanoTime() - start) / 1_000_000;
          if (ar.failed()) {
            return Future.failedFuture(new AssertionError(
                "exchange " + id + " (" + kind + (withBody ? ", with a body" : "") + ") failed after " + ms + " ms",
                ar.cause()));
          }
          UpstreamResponse r = ar.result();
          try {
            assertThat(r.status()).as(id).isEqualTo(kind.status);
            assertThat(r.body().toString(StandardCharsets.UTF_8)).as(id).isEqualTo(kind.body(id));
          } catch (AssertionError e) {
            return Future.failedFuture(e);
          }
          return Future.succeededFuture();
        });
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
