package dev.mcps.soak;

import dev.mcps.bench.SseParser;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One soak user's MCP client on one transport, one call at a time. {@link #call} connects first when there is no live
 * MCP session (at start, after the server said the session is gone, after the SSE stream ended), so a user whose
 * session was lost re-initializes on its next call, as a real client does. Every method runs on the driver's one
 * event loop.
 */
abstract class SoakMcp {

  /** A call that failed before a JSON-RPC response came back; {@code lost} = the MCP session is gone. */
  static final class Failure extends RuntimeException {
    final String kind;

    Failure(String kind, String message) {
      super(message, null, false, false);
      this.kind = kind;
    }
  }

  final Vertx vertx;
  final HttpClient calls;
  final String host;
  final int port;
  final long timeoutMs;
  final String userId;
  final MultiMap connectHeaders;
  boolean connected;
  long nextId = 1;

  SoakMcp(Vertx vertx, HttpClient calls, String host, int port, long timeoutMs, String userId,
          MultiMap connectHeaders) {
    this.vertx = vertx;
    this.calls = calls;
    this.host = host;
    this.port = port;
    this.timeoutMs = timeoutMs;
    this.userId = userId;
    this.connectHeaders = connectHeaders;
  }

  abstract String transport();

  /** Handshake: initialize (binding the user session and storing the Jira credentials), then initialized. */
  abstract Future<Void> connect();

  /** Sends one JSON-RPC request on the live session; the future holds its response message. */
  abstract Future<JsonObject> send(long id, JsonObject request);

  abstract Future<Void> close();

  /** {@code tools/call}, connecting first if needed; the future holds the JSON-RPC response (result or error). */
  final Future<JsonObject> call(String tool, JsonObject arguments) {
    Future<Void> ready = connected ? Future.succeededFuture() : connect()
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .recover(e -> Future.failedFuture(e instanceof Failure ? e : new Failure("connect", transport()
            + " connect failed: " + describe(e))));
    return ready.compose(v -> {
      long id = nextId++;
      JsonObject request = new JsonObject().put("jsonrpc", "2.0").put("id", id).put("method", "tools/call")
          .put("params", new JsonObject().put("name", tool).put("arguments", arguments));
      return send(id, request)
          .timeout(timeoutMs, TimeUnit.MILLISECONDS)
          .recover(e -> Future.failedFuture(e instanceof Failure ? e
              : new Failure(isTimeout(e) ? "timeout" : "io", transport() + " " + tool + " failed: " + describe(e))));
    });
  }

  JsonObject initializeRequest(String protocolVersion) {
    return new JsonObject().put("jsonrpc", "2.0").put("id", 0).put("method", "initialize")
        .put("params", new JsonObject().put("protocolVersion", protocolVersion)
            .put("capabilities", new JsonObject())
            .put("clientInfo", new JsonObject().put("name", "mcps-soak").put("version", "1.0")));
  }

  static Buffer initialized() {
    return Buffer.buffer("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
  }

  RequestOptions request(HttpMethod method, String uri) {
    return new RequestOptions().setMethod(method).setHost(host).setPort(port).setURI(uri)
        .setIdleTimeout(timeoutMs);
  }

  record Reply(int status, MultiMap headers, Buffer body) {
    boolean ok() {
      return status / 100 == 2;
    }

    String text() {
      String s = body.toString(StandardCharsets.UTF_8).replace('\n', ' ');
      return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }

    /** The JSON-RPC messages of a body: the JSON itself, or each {@code message} event of an event stream. */
    List<JsonObject> messages() {
      List<JsonObject> out = new ArrayList<>();
      String type = headers.get(HttpHeaders.CONTENT_TYPE);
      List<String> raw = new ArrayList<>();
      if (type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17)) {
        SseParser parser = new SseParser((event, data) -> {
          if ("message".equals(event)) {
            raw.add(data);
          }
        });
        parser.feed(body);
        parser.feed(new byte[] {'\n', '\n'}, 0, 2);
      } else if (body.length() > 0) {
        raw.add(body.toString(StandardCharsets.UTF_8));
      }
      for (String r : raw) {
        try {
          out.add(new JsonObject(r));
        } catch (RuntimeException ignored) {
          // Not a JSON-RPC object: the caller finds no response and says so.
        }
      }
      return out;
    }
  }

  Future<Reply> exchange(RequestOptions options, Buffer body) {
    // body() inside the request's callback, as in bench.McpSession.exchange (a late body() may never complete).
    return calls.request(options)
        .compose(req -> (body == null ? req.send() : req.send(body))
            .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), resp.headers(), b))));
  }

  static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  static boolean isTimeout(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.util.concurrent.TimeoutException || t.getClass().getSimpleName().contains("Timeout")) {
        return true;
      }
    }
    return false;
  }

  static boolean isResponse(JsonObject message, long id) {
    return !message.containsKey("method") && message.getValue("id") instanceof Number n && n.longValue() == id;
  }

  // ------------------------------------------------------------------------------------------------------------------

  /** Streamable HTTP (2025-11-25): every message is a POST to /mcp carrying the Mcp-Session-Id. */
  static final class Streamable extends SoakMcp {

    static final String PROTOCOL = "2025-11-25";
    private String sessionId;
    private String version = PROTOCOL;

    Streamable(Vertx vertx, HttpClient calls, String host, int port, long timeoutMs, String userId,
               MultiMap connectHeaders) {
      super(vertx, calls, host, port, timeoutMs, userId, connectHeaders);
    }

    @Override
    String transport() {
      return "streamable";
    }

    private RequestOptions post() {
      RequestOptions r = request(HttpMethod.POST, "/mcp")
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .putHeader(HttpHeaders.ACCEPT, "application/json, text/event-stream");
      if (sessionId != null) {
        r.putHeader("Mcp-Session-Id", sessionId).putHeader("MCP-Protocol-Version", version);
      }
      return r;
    }

    @Override
    Future<Void> connect() {
      sessionId = null;
      connected = false;
      RequestOptions init = post().putHeader("X-User-Id", userId);
      connectHeaders.forEach(init::putHeader);
      return exchange(init, initializeRequest(PROTOCOL).toBuffer())
          .compose(reply -> {
            if (!reply.ok()) {
              return Future.failedFuture(new Failure("connect", "streamable initialize answered HTTP "
                  + reply.status() + ": " + reply.text()));
            }
            for (JsonObject m : reply.messages()) {
              if (isResponse(m, 0)) {
                JsonObject result = m.getJsonObject("result");
                if (result == null) {
                  return Future.failedFuture(new Failure("connect", "streamable initialize failed: " + m.encode()));
                }
                version = result.getString("protocolVersion", PROTOCOL);
                sessionId = reply.headers().get("Mcp-Session-Id");
                return exchange(post(), initialized());
              }
            }
            return Future.failedFuture(new Failure("connect", "streamable initialize carried no response: "
                + reply.text()));
          })
          .compose(reply -> {
            if (!reply.ok()) {
              return Future.failedFuture(new Failure("connect", "streamable notifications/initialized answered HTTP "
                  + reply.status() + ": " + reply.text()));
            }
            connected = true;
            return Future.succeededFuture();
          });
    }

    @Override
    Future<JsonObject> send(long id, JsonObject request) {
      return exchange(post(), request.toBuffer()).compose(reply -> {
        if (reply.status() == 404 && sessionId != null) {
          // The spec's signal that the session is gone: initialize a new one on the next call.
          connected = false;
          return Future.failedFuture(new Failure("session_lost", "streamable session " + sessionId
              + " answered HTTP 404: " + reply.text()));
        }
        if (!reply.ok()) {
          return Future.failedFuture(new Failure("http_" + reply.status(), "streamable tools/call answered HTTP "
              + reply.status() + ": " + reply.text()));
        }
        for (JsonObject m : reply.messages()) {
          if (isResponse(m, id)) {
            return Future.succeededFuture(m);
          }
        }
        return Future.failedFuture(new Failure("protocol", "streamable tools/call answer held no response: "
            + reply.text()));
      });
    }

    @Override
    Future<Void> close() {
      if (sessionId == null || !connected) {
        return Future.succeededFuture();
      }
      connected = false;
      RequestOptions delete = request(HttpMethod.DELETE, "/mcp").putHeader("Mcp-Session-Id", sessionId)
          .putHeader("MCP-Protocol-Version", version);
      return exchange(delete, null).<Void>mapEmpty().recover(e -> Future.succeededFuture());
    }
  }

  // ------------------------------------------------------------------------------------------------------------------

  /** Legacy HTTP+SSE (2024-11-05): a GET stream names the POST endpoint; responses come back on the stream. */
  static final class LegacySse extends SoakMcp {

    static final String PROTOCOL = "2024-11-05";
    private final HttpClient streams;
    private Stream stream;

    private final class Stream {
      HttpClientRequest request;
      final Promise<String> endpoint = Promise.promise();
      final Map<Long, Promise<JsonObject>> pending = new HashMap<>();
      final SseParser parser = new SseParser(this::onEvent);
      String post;
      boolean ended;

      void onEvent(String type, String data) {
        if ("endpoint".equals(type)) {
          endpoint.tryComplete(data.trim());
        } else if ("message".equals(type)) {
          JsonObject m;
          try {
            m = new JsonObject(data);
          } catch (RuntimeException e) {
            return;
          }
          if (m.containsKey("method")) {
            answerServerRequest(this, m);
          } else if (m.getValue("id") instanceof Number n) {
            Promise<JsonObject> p = pending.remove(n.longValue());
            if (p != null) {
              p.tryComplete(m);
            }
          }
        }
      }

      void end(String why) {
        if (ended) {
          return;
        }
        ended = true;
        if (stream == this) {
          connected = false;
        }
        endpoint.tryFail(new Failure("session_lost", why));
        List<Promise<JsonObject>> waiting = new ArrayList<>(pending.values());
        pending.clear();
        waiting.forEach(p -> p.tryFail(new Failure("session_lost", why)));
      }
    }

    LegacySse(Vertx vertx, HttpClient calls, HttpClient streams, String host, int port, long timeoutMs,
              String userId, MultiMap connectHeaders) {
      super(vertx, calls, host, port, timeoutMs, userId, connectHeaders);
      this.streams = streams;
    }

    @Override
    String transport() {
      return "sse";
    }

    @Override
    Future<Void> connect() {
      connected = false;
      Stream old = stream;
      if (old != null && !old.ended) {
        old.end("replaced by a new stream");
        if (old.request != null) {
          old.request.connection().close();
        }
      }
      Stream s = new Stream();
      stream = s;
      RequestOptions get = new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(port)
          .setURI("/mcp/sse?userId=" + URLEncoder.encode(userId, StandardCharsets.UTF_8))
          .putHeader(HttpHeaders.ACCEPT, "text/event-stream");
      connectHeaders.forEach(get::putHeader);
      return streams.request(get)
          .compose(req -> {
            s.request = req;
            return req.send();
          })
          .compose(resp -> {
            if (resp.statusCode() != 200) {
              return resp.body().transform(b -> Future.failedFuture(new Failure("connect", "GET /mcp/sse answered HTTP "
                  + resp.statusCode() + (b.succeeded() ? ": " + b.result().toString(StandardCharsets.UTF_8) : ""))));
            }
            resp.handler(s.parser::feed);
            resp.endHandler(v -> s.end("the SSE stream ended"));
            resp.exceptionHandler(e -> s.end("the SSE stream failed: " + describe(e)));
            return s.endpoint.future();
          })
          .compose(endpoint -> {
            URI resolved = URI.create("http://" + host + ":" + port + "/mcp/sse").resolve(endpoint);
            s.post = resolved.getRawPath() + (resolved.getRawQuery() == null ? "" : "?" + resolved.getRawQuery());
            return roundTrip(s, 0, initializeRequest(PROTOCOL));
          })
          .compose(response -> {
            if (response.getJsonObject("result") == null) {
              return Future.failedFuture(new Failure("connect", "sse initialize failed: " + response.encode()));
            }
            return exchange(post(s), initialized());
          })
          .compose(reply -> {
            if (!reply.ok()) {
              return Future.failedFuture(new Failure("connect", "sse notifications/initialized answered HTTP "
                  + reply.status() + ": " + reply.text()));
            }
            if (s.ended) {
              return Future.failedFuture(new Failure("connect", "the SSE stream ended during the handshake"));
            }
            connected = true;
            return Future.<Void>succeededFuture();
          })
          .onFailure(e -> {
            // A half-open stream must not linger: its connection counts against the user's limit.
            s.end("handshake failed");
            if (s.request != null) {
              s.request.connection().close();
            }
          });
    }

    private RequestOptions post(Stream s) {
      return request(HttpMethod.POST, s.post).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    }

    /** POSTs a request (202) and waits for its response on the stream. */
    private Future<JsonObject> roundTrip(Stream s, long id, JsonObject request) {
      if (s.ended) {
        return Future.failedFuture(new Failure("session_lost", "the SSE stream has ended"));
      }
      Promise<JsonObject> response = Promise.promise();
      s.pending.put(id, response);
      exchange(post(s), request.toBuffer()).onComplete(ar -> {
        if (ar.failed()) {
          s.pending.remove(id);
          response.tryFail(new Failure("io", "sse POST failed: " + describe(ar.cause())));
        } else if (!ar.result().ok()) {
          s.pending.remove(id);
          Reply r = ar.result();
          if (r.status() == 404) {
            // The transport session is gone on the server: open a new stream on the next call.
            s.end("POST answered 404");
            if (s.request != null) {
              s.request.connection().close();
            }
            response.tryFail(new Failure("session_lost", "sse POST answered HTTP 404: " + r.text()));
          } else {
            response.tryFail(new Failure("http_" + r.status(), "sse POST answered HTTP " + r.status() + ": "
                + r.text()));
          }
        }
      });
      long timer = vertx.setTimer(timeoutMs, t -> response.tryFail(new Failure("timeout",
          "no sse response to id " + id + " within " + timeoutMs + " ms")));
      return response.future().onComplete(ar -> {
        vertx.cancelTimer(timer);
        if (ar.failed()) {
          s.pending.remove(id);
        }
      });
    }

    private void answerServerRequest(Stream s, JsonObject m) {
      Object id = m.getValue("id");
      if (id == null || s.post == null) {
        return;
      }
      JsonObject reply = new JsonObject().put("jsonrpc", "2.0").put("id", id);
      if ("ping".equals(m.getString("method"))) {
        reply.put("result", new JsonObject());
      } else {
        reply.put("error", new JsonObject().put("code", -32601).put("message", "Method not found"));
      }
      exchange(post(s), reply.toBuffer());
    }

    @Override
    Future<JsonObject> send(long id, JsonObject request) {
      return roundTrip(stream, id, request);
    }

    @Override
    Future<Void> close() {
      Stream s = stream;
      connected = false;
      if (s == null || s.ended) {
        return Future.succeededFuture();
      }
      s.end("closed by the client");
      return s.request == null ? Future.succeededFuture()
          : s.request.connection().close().recover(e -> Future.succeededFuture());
    }
  }
}
