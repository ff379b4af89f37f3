package dev.mcps.testing;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * What the fake LLM APIs share: a Vert.x HTTP server on a free loopback port that records every request (headers,
 * HTTP version, JSON body), checks the credential it carried, answers with a test-supplied script (request → 200
 * body), and injects failures: the next N requests answer a status (with {@code Retry-After} and a message) or get
 * no answer at all. A subclass only knows its API: the route, where the credential is, and the error format.
 */
public abstract class FakeLlmServer implements AutoCloseable {

  /** One request as the fake saw it. */
  public record Recorded(String method, String path, String httpVersion, MultiMap headers, JsonObject body) {
    public String header(String name) {
      return headers.get(name);
    }
  }

  private record Failure(int status, String retryAfter, String message, AtomicInteger remaining) {}

  private final HttpServer server;
  private final ConcurrentLinkedQueue<Recorded> requests = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<HttpServerRequest> stalled = new ConcurrentLinkedQueue<>();
  private volatile String credential;
  private volatile Function<Recorded, JsonObject> script;

  protected FakeLlmServer(Vertx vertx, String credential) {
    this.credential = credential;
    this.script = r -> textReply("ok");
    this.server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> handle(req, b)));
    TestServers.await(server.listen(0, "127.0.0.1"));
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /** From now on, every request that gets through answers 200 with {@code script.apply(request)}. */
  public void script(Function<Recorded, JsonObject> script) {
    this.script = script;
  }

  /** Only this credential is accepted from now on; any other gets the API's 401/403. */
  public void acceptOnly(String credential) {
    this.credential = credential;
  }

  public void failNext(int status, int times, String retryAfter) {
    failNext(status, times, retryAfter, "injected failure " + status);
  }

  /** The next {@code times} requests answer {@code status} with {@code message} in the API's error format. */
  public void failNext(int status, int times, String retryAfter, String message) {
    failures.add(new Failure(status, retryAfter, message, new AtomicInteger(times)));
  }

  /** The next {@code times} requests get no answer at all (until the fake closes). */
  public void stallNext(int times) {
    failures.add(new Failure(0, null, null, new AtomicInteger(times)));
  }

  public List<Recorded> requests() {
    return new ArrayList<>(requests);
  }

  public Recorded request(int index) {
    return requests().get(index);
  }

  @Override
  public void close() {
    stalled.forEach(r -> r.connection().close());
    TestServers.await(server.close());
  }

  /** True when this API serves {@code method path}. */
  protected abstract boolean routes(String method, String path);

  /** The credential the request carried (API key, bearer token, SigV4 access key id), or null. */
  protected abstract String credentialOf(HttpServerRequest req);

  /** The status this API answers a bad credential with (401, or 403 for AWS). */
  protected abstract int rejectStatus();

  /** Writes an error in this API's format and ends the response. */
  protected abstract void sendError(HttpServerResponse response, int status, String message);

  /** The API's simplest successful answer: the text as the model's final reply. */
  protected abstract JsonObject textReply(String text);

  private void handle(HttpServerRequest req, Buffer raw) {
    JsonObject body = raw.length() == 0 ? null : raw.toJsonObject();
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(req.headers());
    Recorded recorded = new Recorded(req.method().name(), req.path(), req.version().alpnName(), headers, body);
    requests.add(recorded);

    if (!routes(recorded.method(), recorded.path())) {
      sendError(req.response(), 404, "No route for " + recorded.method() + " " + recorded.path());
      return;
    }
    String carried = credentialOf(req);
    if (carried == null || !carried.equals(credential)) {
      // Like the real APIs, the message may show part of what was sent: providers must not pass it on.
      sendError(req.response(), rejectStatus(), "Incorrect credential provided: " + carried);
      return;
    }
    for (Failure f : failures) {
      if (f.remaining().getAndDecrement() > 0) {
        if (f.status() == 0) {
          stalled.add(req);
          return;
        }
        if (f.retryAfter() != null) {
          req.response().putHeader("Retry-After", f.retryAfter());
        }
        sendError(req.response(), f.status(), f.message());
        return;
      }
    }
    JsonObject reply;
    try {
      reply = script.apply(recorded);
    } catch (RuntimeException e) {
      sendError(req.response(), 500, "fake script failed: " + e);
      return;
    }
    req.response().setStatusCode(200).putHeader("Content-Type", "application/json").end(reply.encode());
  }
}
