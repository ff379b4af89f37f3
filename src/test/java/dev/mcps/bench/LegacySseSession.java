package dev.mcps.bench;

import dev.mcps.bench.CallStats.ErrorKind;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A session over the legacy HTTP+SSE transport (MCP 2024-11-05): a long-lived GET stream whose first event,
 * {@code endpoint}, names the URL to POST messages to; each POST is only acknowledged (202), and every response
 * arrives on the stream, matched to its call by JSON-RPC id. The stream has its own connection (from the shard's
 * stream client), the POSTs share keep-alive connections from the call client.
 */
final class LegacySseSession extends McpSession {

  /** One GET stream; a reconnect makes a new one, and events still arriving on an old one are ignored. */
  private final class Stream {
    HttpClientRequest request;
    final SseParser parser = new SseParser(this::onEvent);
    final Promise<String> endpoint = Promise.promise();
    final Promise<JsonObject> initialized = Promise.promise();
    boolean ended;

    void onEvent(String type, String data) {
      if (this != stream) {
        return;
      }
      if ("endpoint".equals(type)) {
        endpoint.tryComplete(data.trim());
      } else if ("message".equals(type)) {
        onMessage(data);
      }
    }

    void ended(String why) {
      if (ended) {
        return;
      }
      ended = true;
      endpoint.tryFail(why);
      initialized.tryFail(why);
      if (this == stream) {
        sessionLost(why);
      }
    }
  }

  private Stream stream;
  private RequestOptions post;

  LegacySseSession(LoadShard shard, int index) {
    super(shard, index);
  }

  @Override
  Future<Void> handshake() {
    Stream s = new Stream();
    stream = s;
    RequestOptions get = bindUser(request(HttpMethod.GET, options.path))
        .putHeader(HttpHeaders.ACCEPT, "text/event-stream");
    return shard.streams.request(get)
        .compose(req -> {
          s.request = req;
          return req.send();
        })
        .recover(e -> Future.failedFuture("GET " + options.path + " failed: " + e.getMessage()))
        .compose(resp -> {
          if (resp.statusCode() != 200) {
            return resp.body().transform(b -> Future.failedFuture("GET " + options.path + " answered HTTP "
                + resp.statusCode() + (b.succeeded() ? ": " + snippet(b.result().toString(StandardCharsets.UTF_8)) : "")));
          }
          resp.handler(s.parser::feed);
          resp.endHandler(v -> s.ended("the SSE stream ended"));
          resp.exceptionHandler(e -> s.ended("the SSE stream failed: " + e));
          return s.endpoint.future()
              .recover(e -> Future.failedFuture("GET " + options.path + " sent no endpoint event: " + e.getMessage()));
        })
        .compose(endpoint -> {
          post = messagePost(endpoint);
          return exchange(shard.calls, post, initializeRequest());
        })
        .compose(reply -> reply.ok()
            ? s.initialized.future()
            : Future.failedFuture("POST " + post.getURI() + " (initialize) answered " + reply.describe()))
        .compose(this::initializeResult)
        .compose(version -> exchange(shard.calls, post, initializedNotification()))
        .compose(reply -> {
          if (!reply.ok()) {
            return Future.failedFuture("POST " + post.getURI() + " (notifications/initialized) answered "
                + reply.describe());
          }
          return s.ended ? Future.failedFuture("the SSE stream ended during the handshake") : Future.succeededFuture();
        });
  }

  /** The endpoint event may be absolute or relative (the reference server sends {@code /message?sessionId=…}). */
  private RequestOptions messagePost(String endpoint) {
    URI resolved = URI.create("http://" + options.host + ":" + options.port + options.path).resolve(endpoint);
    String uri = resolved.getRawPath() + (resolved.getRawQuery() == null ? "" : "?" + resolved.getRawQuery());
    RequestOptions post = request(HttpMethod.POST, uri).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    if (options.messageEndpoint != null) {
      // Another instance than the stream's: each POST takes the cluster hop to the stream's owner.
      post.setHost(options.messageEndpoint.host()).setPort(options.messageEndpoint.port());
    }
    return post;
  }

  @Override
  void onResponse(long id, JsonObject response) {
    if (id == 0) {
      stream.initialized.tryComplete(response);
      return;
    }
    answer(id, response);
    finish(id, 0);
  }

  @Override
  void sendCall(long id, Buffer body) {
    exchange(shard.calls, post, body).onComplete(ar -> {
      if (ar.failed()) {
        fail(id, isTimeout(ar.cause()) ? ErrorKind.TIMEOUT : ErrorKind.IO, "tools/call POST failed: " + ar.cause());
        finish(id, IO_RETRY_DELAY_MILLIS);
      } else if (!ar.result().ok()) {
        // Accepted messages are answered on the stream; a refused one never will be.
        fail(id, ErrorKind.HTTP, "tools/call POST answered " + ar.result().describe());
        finish(id, 0);
      }
    });
  }

  @Override
  void sendAside(Buffer message) {
    exchange(shard.calls, post, message);
  }

  @Override
  Future<Void> close() {
    closing = true;
    Stream s = stream;
    if (s == null || s.request == null || s.ended) {
      return Future.succeededFuture();
    }
    s.ended = true;
    // Closing the stream's connection is how a legacy SSE client says goodbye; the server then drops the session.
    return s.request.connection().close().recover(e -> Future.succeededFuture());
  }
}
