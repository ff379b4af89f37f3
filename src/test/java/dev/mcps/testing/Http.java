package dev.mcps.testing;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A small real-HTTP client for tests (java.net.http over loopback). */
public final class Http {

  /** A response with its raw text, so tests can check that nothing secret appears anywhere in it. */
  public record Response(int status, String body, java.net.http.HttpHeaders headers) {
    public JsonObject json() {
      return new JsonObject(body);
    }
  }

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;

  public Http(int port) {
    this.base = "http://127.0.0.1:" + port;
  }

  public Response get(String path, String... headers) {
    return send(builder(path, headers).GET().build());
  }

  public Response delete(String path, String... headers) {
    return send(builder(path, headers).DELETE().build());
  }

  public Response post(String path, String body, String... headers) {
    return send(builder(path, headers).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  public Response post(String path, JsonObject body, String... headers) {
    return post(path, body.encode(), headers);
  }

  public CompletableFuture<Response> postAsync(String path, JsonObject body, String... headers) {
    HttpRequest req = builder(path, headers).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build();
    return client.sendAsync(req, HttpResponse.BodyHandlers.ofString())
        .thenApply(r -> new Response(r.statusCode(), r.body(), r.headers()));
  }

  public static String[] admin() {
    return new String[] {"Authorization", "Bearer " + TestServers.ADMIN_TOKEN};
  }

  private HttpRequest.Builder builder(String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return b;
  }

  private Response send(HttpRequest req) {
    try {
      HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body(), r.headers());
    } catch (Exception e) {
      throw new IllegalStateException("HTTP " + req.method() + " " + req.uri() + " failed: " + e, e);
    }
  }
}
