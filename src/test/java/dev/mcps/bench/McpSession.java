package dev.mcps.bench;

import dev.mcps.bench.CallStats.ErrorKind;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One MCP session of the load: a handshake, then a loop that keeps exactly one {@code tools/call} outstanding. Every
 * method runs on the owning shard's event loop, so the state needs no locking.
 *
 * <p>A call has two moments: its <em>answer</em> (the JSON-RPC response arrives — the latency ends here) and its
 * <em>finish</em> (the session may send the next call). On the legacy SSE transport they coincide; on Streamable HTTP
 * the next call waits until the POST's response has ended, so the keep-alive connection is free again and a session
 * never holds two connections.
 */
abstract class McpSession {

  static final long HANDSHAKE_TIMEOUT_MILLIS = 15_000;
  /** The client's name and version, in initialize and in a stateless request's params._meta. */
  static final JsonObject CLIENT_INFO = new JsonObject().put("name", "mcp-load-client").put("version", "1.0");
  /** A pause after a failed connection, so a refused port does not turn the loop into a busy spin. */
  static final long IO_RETRY_DELAY_MILLIS = 50;
  private static final long RECONNECT_DELAY_MILLIS = 200;
  private static final long RECONNECT_RETRY_MILLIS = 1_000;

  final LoadShard shard;
  final LoadOptions options;
  final Vertx vertx;
  final int index;
  final String user;

  private long nextId = 1;
  boolean inflight;
  long inflightId = -1;
  private boolean answered;
  private long sentAt;
  boolean connected;
  boolean closing;
  private boolean reconnecting;
  private Promise<Void> idle;

  McpSession(LoadShard shard, int index) {
    this.shard = shard;
    this.options = shard.options;
    this.vertx = shard.vertx();
    this.index = index;
    this.user = options.user(index);
  }

  /** Connects and completes the MCP handshake; fails with a message that says which step went wrong. */
  abstract Future<Void> handshake();

  final Future<Void> connect() {
    return handshake()
        .timeout(HANDSHAKE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
        .recover(e -> Future.failedFuture(isTimeout(e)
            ? "the handshake did not finish within " + HANDSHAKE_TIMEOUT_MILLIS + " ms" : e.getMessage()))
        .onSuccess(v -> connected = true);
  }

  abstract void sendCall(long id, Buffer body);

  /** Sends a JSON-RPC message that answers nothing in the measurement (a reply to a server request). */
  abstract void sendAside(Buffer message);

  /** Ends the session politely (DELETE, or closing the stream). */
  abstract Future<Void> close();

  final void sendNext() {
    if (shard.clock.stopping || closing) {
      becomeIdle();
      return;
    }
    long id = nextId++;
    inflight = true;
    inflightId = id;
    answered = false;
    sentAt = System.nanoTime();
    sendCall(id, shard.callBody(id));
  }

  /** Records the response to the in-flight call; a late answer to an earlier call (after its timeout) is ignored. */
  final void answer(long id, JsonObject response) {
    if (!inflight || id != inflightId || answered) {
      return;
    }
    answered = true;
    long now = System.nanoTime();
    boolean inWindow = shard.clock.inWindow(now);
    JsonObject error = response.getJsonObject("error");
    if (error != null) {
      shard.stats.error(ErrorKind.RPC, inWindow, user + ": tools/call answered " + error.encode());
      return;
    }
    Object result = response.getValue("result");
    if (!(result instanceof JsonObject r)) {
      shard.stats.error(ErrorKind.PROTOCOL, inWindow, user + ": tools/call response has no result object: "
          + snippet(response.encode()));
      return;
    }
    Object resultType = r.getValue("resultType");
    if (resultType != null && !"complete".equals(resultType)) {
      // The 2026-07-28 era: anything but a complete result (more input needed…) is not a finished call.
      shard.stats.error(ErrorKind.PROTOCOL, inWindow, user + ": tools/call result is not complete: "
          + snippet(r.encode()));
      return;
    }
    if (Boolean.TRUE.equals(r.getValue("isError"))) {
      shard.stats.error(ErrorKind.TOOL, inWindow, user + ": tool reported an error: " + snippet(r.encode()));
      return;
    }
    shard.clock.completed.increment();
    if (inWindow) {
      shard.stats.success((now - sentAt) / 1_000);
    }
  }

  /** Counts a failure of the in-flight call unless it was already answered. */
  final void fail(long id, ErrorKind kind, String detail) {
    if (!inflight || id != inflightId || answered) {
      return;
    }
    answered = true;
    shard.stats.error(kind, shard.clock.inWindow(System.nanoTime()), user + ": " + detail);
  }

  final boolean isAnswered(long id) {
    return inflight && id == inflightId && answered;
  }

  /** The call is over: go on with the next one, after {@code delayMillis} when the last one could not connect. */
  final void finish(long id, long delayMillis) {
    if (!inflight || id != inflightId) {
      return;
    }
    inflight = false;
    if (delayMillis > 0) {
      vertx.setTimer(delayMillis, t -> sendNext());
    } else {
      sendNext();
    }
  }

  final void checkTimeout(long now) {
    if (inflight && !answered && now - sentAt > options.callTimeoutMillis * 1_000_000L) {
      long id = inflightId;
      fail(id, ErrorKind.TIMEOUT, "no answer to tools/call id " + id + " within " + options.callTimeoutMillis + " ms");
      finish(id, 0);
    }
  }

  /**
   * The server dropped the session: count it, abandon the call in flight and handshake again. The measurement goes on
   * with the new session; a server that keeps losing sessions shows it in the session_lost count.
   */
  final void sessionLost(String why) {
    if (closing || !connected) {
      return;
    }
    connected = false;
    shard.stats.error(ErrorKind.SESSION_LOST, shard.clock.inWindow(System.nanoTime()), user + ": " + why);
    inflight = false;
    reconnect(RECONNECT_DELAY_MILLIS);
  }

  private void reconnect(long delayMillis) {
    reconnecting = true;
    vertx.setTimer(delayMillis, t -> {
      if (shard.clock.stopping || closing) {
        reconnecting = false;
        becomeIdle();
        return;
      }
      connect().onComplete(ar -> {
        if (ar.succeeded()) {
          reconnecting = false;
          sendNext();
        } else {
          shard.stats.error(ErrorKind.SESSION_LOST, shard.clock.inWindow(System.nanoTime()),
              user + ": reconnect failed: " + ar.cause().getMessage());
          reconnect(RECONNECT_RETRY_MILLIS);
        }
      });
    });
  }

  /** Completes once the session has stopped sending (the clock says stop and its last call is over). */
  final Future<Void> whenIdle() {
    if (!inflight && !reconnecting) {
      return Future.succeededFuture();
    }
    if (idle == null) {
      idle = Promise.promise();
    }
    return idle.future();
  }

  private void becomeIdle() {
    if (idle != null) {
      idle.tryComplete();
    }
  }

  /**
   * Routes one JSON-RPC message from the server: responses go to {@link #onResponse}, server requests (ping, or
   * anything this client does not offer) are answered so the server never waits on us, notifications are ignored.
   */
  final void onMessage(String json) {
    JsonObject message;
    try {
      message = new JsonObject(json);
    } catch (RuntimeException e) {
      shard.stats.error(ErrorKind.PROTOCOL, shard.clock.inWindow(System.nanoTime()),
          user + ": not a JSON-RPC object: " + snippet(json));
      return;
    }
    if (message.containsKey("method")) {
      Object id = message.getValue("id");
      if (id != null) {
        JsonObject reply = new JsonObject().put("jsonrpc", "2.0").put("id", id);
        if ("ping".equals(message.getString("method"))) {
          reply.put("result", new JsonObject());
        } else {
          reply.put("error", new JsonObject().put("code", -32601).put("message", "Method not found"));
        }
        sendAside(reply.toBuffer());
      }
      return;
    }
    if (message.getValue("id") instanceof Number id) {
      onResponse(id.longValue(), message);
    }
  }

  abstract void onResponse(long id, JsonObject response);

  // --- building blocks for the subclasses ---

  /** A whole HTTP exchange, body read, for the handshake and the messages outside the measured loop. */
  record Reply(int status, MultiMap headers, Buffer body) {

    boolean ok() {
      return status / 100 == 2;
    }

    boolean isEventStream() {
      String type = headers.get(HttpHeaders.CONTENT_TYPE);
      return type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17);
    }

    /** The JSON-RPC messages of the body: the body itself, or the data of each {@code message} event. */
    List<String> messages() {
      List<String> out = new ArrayList<>();
      if (isEventStream()) {
        SseParser parser = new SseParser((type, data) -> {
          if ("message".equals(type)) {
            out.add(data);
          }
        });
        parser.feed(body);
        parser.feed(new byte[] {'\n', '\n'}, 0, 2);
      } else if (body.length() > 0) {
        out.add(body.toString(StandardCharsets.UTF_8));
      }
      return out;
    }

    String describe() {
      return "HTTP " + status + (body.length() == 0 ? "" : ": " + snippet(body.toString(StandardCharsets.UTF_8)));
    }
  }

  static Future<Reply> exchange(HttpClient client, RequestOptions request, Buffer body) {
    // The body is asked for inside the request's own callback, on the connection's context: chained from another
    // thread, a fast answer on a kept-alive connection can end before body() is called, which then never completes.
    return client.request(request)
        .compose(req -> (body == null ? req.send() : req.send(body))
            .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), resp.headers(), b))));
  }

  RequestOptions request(HttpMethod method, String uri) {
    RequestOptions request = new RequestOptions()
        .setMethod(method)
        .setHost(options.host)
        .setPort(options.port)
        .setURI(uri);
    options.headers.forEach(request::putHeader);
    return request;
  }

  /** The handshake request binds the session to its user: by header, by query parameter, or both. */
  RequestOptions bindUser(RequestOptions request) {
    if (options.userHeader != null) {
      request.putHeader(options.userHeader, user);
    }
    if (options.userQuery != null) {
      String uri = request.getURI();
      request.setURI(uri + (uri.contains("?") ? "&" : "?")
          + URLEncoder.encode(options.userQuery, StandardCharsets.UTF_8) + "="
          + URLEncoder.encode(user, StandardCharsets.UTF_8));
    }
    return request;
  }

  Buffer initializeRequest() {
    return new JsonObject()
        .put("jsonrpc", "2.0")
        .put("id", 0)
        .put("method", "initialize")
        .put("params", new JsonObject()
            .put("protocolVersion", options.protocolVersion)
            .put("capabilities", new JsonObject())
            .put("clientInfo", CLIENT_INFO.copy()))
        .toBuffer();
  }

  /** The JSON-RPC response to request id 0 among {@code messages} (a JSON body or SSE events), or null. */
  static JsonObject responseToFirstRequest(List<String> messages) {
    for (String message : messages) {
      JsonObject response;
      try {
        response = new JsonObject(message);
      } catch (RuntimeException e) {
        continue;
      }
      if (response.getValue("id") instanceof Number n && n.longValue() == 0 && !response.containsKey("method")) {
        return response;
      }
    }
    return null;
  }

  static Buffer initializedNotification() {
    return Buffer.buffer("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
  }

  /** The negotiated protocol version from an initialize response, or a failure naming what came back instead. */
  Future<String> initializeResult(JsonObject response) {
    if (response.getValue("error") != null) {
      return Future.failedFuture("initialize answered a JSON-RPC error: " + response.getValue("error"));
    }
    JsonObject result = response.getJsonObject("result");
    if (result == null) {
      return Future.failedFuture("initialize response has no result: " + snippet(response.encode()));
    }
    String version = result.getString("protocolVersion");
    return Future.succeededFuture(version == null ? options.protocolVersion : version);
  }

  static boolean isTimeout(Throwable e) {
    return e instanceof TimeoutException || e.getCause() instanceof TimeoutException;
  }

  static String snippet(String text) {
    String oneLine = text.replace('\n', ' ').replace('\r', ' ');
    return oneLine.length() <= 300 ? oneLine : oneLine.substring(0, 300) + "…";
  }
}
