package dev.mcps.bench;

import dev.mcps.bench.CallStats.ErrorKind;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * A session over MCP Streamable HTTP: every message is a POST to one endpoint, carrying the {@code Mcp-Session-Id} the
 * server handed out on initialize; the server answers a request either with {@code application/json} or with a
 * {@code text/event-stream} that carries the response as a {@code message} event (possibly after server requests and
 * notifications) and then ends.
 */
class StreamableSession extends McpSession {

  private static final String ACCEPT = "application/json, text/event-stream";

  private String sessionId;
  /** The call POST: headers, target and idle timeout; set by the handshake. */
  RequestOptions post;

  StreamableSession(LoadShard shard, int index) {
    super(shard, index);
  }

  @Override
  Future<Void> handshake() {
    sessionId = null;
    RequestOptions init = bindUser(jsonPost());
    return exchange(shard.calls, init, initializeRequest())
        .recover(e -> Future.failedFuture("POST " + options.path + " (initialize) failed: " + e.getMessage()))
        .compose(reply -> {
          if (!reply.ok()) {
            return Future.failedFuture("POST " + options.path + " (initialize) answered " + reply.describe());
          }
          sessionId = reply.headers().get("Mcp-Session-Id");
          JsonObject response = responseToFirstRequest(reply.messages());
          return response != null ? initializeResult(response)
              : Future.failedFuture("POST " + options.path + " (initialize) carried no response to it: "
                  + reply.describe());
        })
        .compose(version -> {
          // With --call-url the session is served from here on by another instance than the one that started it.
          post = jsonPost().setHost(options.callHost).setPort(options.callPort)
              .putHeader("MCP-Protocol-Version", version);
          if (sessionId != null) {
            post.putHeader("Mcp-Session-Id", sessionId);
          }
          // Vert.x reads the options on each request and never keeps them, so one instance serves every call.
          post.setIdleTimeout(options.callTimeoutMillis);
          return exchange(shard.calls, post, initializedNotification());
        })
        .compose(reply -> reply.ok()
            ? Future.succeededFuture()
            : Future.failedFuture("POST " + options.path + " (notifications/initialized) answered " + reply.describe()));
  }

  RequestOptions jsonPost() {
    return request(HttpMethod.POST, options.path)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.ACCEPT, ACCEPT);
  }

  @Override
  void sendCall(long id, Buffer body) {
    shard.calls.request(post).onComplete(ar -> {
      if (ar.failed()) {
        ioFailure(id, ar.cause());
        return;
      }
      ar.result().send(body).onComplete(sent -> {
        if (sent.failed()) {
          ioFailure(id, sent.cause());
        } else {
          onCallResponse(id, sent.result());
        }
      });
    });
  }

  private void onCallResponse(long id, HttpClientResponse resp) {
    int status = resp.statusCode();
    resp.exceptionHandler(e -> ioFailure(id, e));
    if (status == 404 && sessionId != null) {
      // The spec's signal that the session is gone: the client must initialize a new one.
      resp.end();
      sessionLost("HTTP 404 for Mcp-Session-Id " + sessionId);
      return;
    }
    if (!answersCall(status)) {
      resp.body().onComplete(b -> {
        String text = b.succeeded() ? b.result().toString(StandardCharsets.UTF_8) : "";
        fail(id, ErrorKind.HTTP, "tools/call answered HTTP " + status + (text.isEmpty() ? "" : ": " + snippet(text)));
        finish(id, 0);
      });
      return;
    }
    String type = resp.getHeader(HttpHeaders.CONTENT_TYPE);
    if (type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17)) {
      SseParser parser = new SseParser((event, data) -> {
        if ("message".equals(event)) {
          onMessage(data);
        }
      });
      resp.handler(parser::feed);
      resp.endHandler(v -> {
        if (!isAnswered(id)) {
          fail(id, ErrorKind.PROTOCOL, "the tools/call event stream ended without the response");
        }
        finish(id, 0);
      });
    } else {
      resp.body().onSuccess(b -> {
        if (b.length() > 0) {
          onMessage(b.toString(StandardCharsets.UTF_8));
        }
        if (!isAnswered(id)) {
          fail(id, ErrorKind.PROTOCOL, "the tools/call answer (" + type + ") held no response: "
              + snippet(b.toString(StandardCharsets.UTF_8)));
        }
        finish(id, 0);
      });
    }
  }

  /** Whether a call POST answered with this status may carry the call's response (the rest are HTTP errors). */
  boolean answersCall(int status) {
    return status / 100 == 2;
  }

  private void ioFailure(long id, Throwable e) {
    if (isTimeout(e)) {
      fail(id, ErrorKind.TIMEOUT, "no answer to tools/call id " + id + " within " + options.callTimeoutMillis + " ms");
      finish(id, 0);
    } else {
      fail(id, ErrorKind.IO, "tools/call failed: " + e);
      finish(id, IO_RETRY_DELAY_MILLIS);
    }
  }

  @Override
  void onResponse(long id, JsonObject response) {
    answer(id, response);
  }

  @Override
  void sendAside(Buffer message) {
    exchange(shard.calls, post, message);
  }

  @Override
  Future<Void> close() {
    closing = true;
    if (sessionId == null || post == null) {
      return Future.succeededFuture();
    }
    RequestOptions delete = request(HttpMethod.DELETE, options.path)
        .putHeader("Mcp-Session-Id", sessionId)
        .putHeader("MCP-Protocol-Version", post.getHeaders().get("MCP-Protocol-Version"));
    return exchange(shard.calls, delete, null).<Void>mapEmpty().recover(e -> Future.succeededFuture());
  }
}
