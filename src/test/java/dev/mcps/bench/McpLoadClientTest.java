package dev.mcps.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcps.bench.CallStats.ErrorKind;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The load client against a small in-process MCP server that speaks both transports the way the spec allows, varying
 * what it may vary: Streamable answers alternate between JSON and event streams (split over several writes), the SSE
 * transport interleaves a server ping that must be answered.
 */
class McpLoadClientTest {

  private Vertx vertx;
  private HttpServer server;
  private final Set<String> users = ConcurrentHashMap.newKeySet();
  private final Map<String, HttpServerResponse> streams = new ConcurrentHashMap<>();
  private final AtomicInteger deletes = new AtomicInteger();
  private final AtomicInteger pingReplies = new AtomicInteger();
  private final AtomicInteger sessionIds = new AtomicInteger();
  private volatile boolean toolFails;
  private volatile int initializeStatus = 200;
  private final AtomicInteger initializes = new AtomicInteger();
  private final AtomicInteger statelessCalls = new AtomicInteger();
  /** Whether POST /mcp serves 2026-07-28 stateless requests (else they get the 400 of a missing session). */
  private volatile boolean statelessServed = true;
  /** Stateless calls after the first of each user: answered 202 (even ids) or with a JSON-RPC error (odd ids). */
  private volatile boolean statelessFails;

  @BeforeEach
  void startServer() throws Exception {
    vertx = Vertx.vertx();
    server = vertx.createHttpServer()
        .requestHandler(req -> req.body().onSuccess(body -> {
          try {
            route(req, body.length() == 0 ? null : body.toJsonObject());
          } catch (RuntimeException e) {
            req.response().setStatusCode(500).end(e.toString());
          }
        }))
        .listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stopServer() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private void route(HttpServerRequest req, JsonObject message) {
    String path = req.path();
    if (path.equals("/mcp")) {
      streamable(req, message);
    } else if (path.equals("/sse")) {
      users.add(req.getHeader("X-User-Id"));
      String id = "sse-" + sessionIds.incrementAndGet();
      HttpServerResponse stream = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
      streams.put(id, stream);
      stream.write("event: endpoint\ndata: /message?sessionId=" + id + "\n\n");
    } else if (path.equals("/message")) {
      HttpServerResponse stream = streams.get(req.getParam("sessionId"));
      if (stream == null) {
        req.response().setStatusCode(404).end();
        return;
      }
      req.response().setStatusCode(202).end();
      if (message.containsKey("method")) {
        JsonObject answer = answer(message);
        if (answer != null) {
          if (message.getLong("id") % 5 == 0) {
            stream.write("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"method\":\"ping\"}\n\n");
          }
          stream.write("event: message\ndata: " + answer.encode() + "\n\n");
        }
      } else if ("srv-1".equals(message.getValue("id"))) {
        pingReplies.incrementAndGet();
      }
    } else {
      req.response().setStatusCode(404).end();
    }
  }

  private void streamable(HttpServerRequest req, JsonObject message) {
    if (req.method().name().equals("DELETE")) {
      deletes.incrementAndGet();
      req.response().end();
      return;
    }
    String method = message.getString("method");
    if (statelessServed && "2026-07-28".equals(req.getHeader("MCP-Protocol-Version"))
        && req.getHeader("Mcp-Session-Id") == null) {
      stateless(req, message);
      return;
    }
    if ("initialize".equals(method)) {
      initializes.incrementAndGet();
      users.add(req.getHeader("X-User-Id"));
      req.response().putHeader("Mcp-Session-Id", "s-" + sessionIds.incrementAndGet());
      if (initializeStatus != 200) {
        req.response().setStatusCode(initializeStatus).end("{\"error\":\"Not_Found\"}");
        return;
      }
    } else if (req.getHeader("Mcp-Session-Id") == null || !"2025-06-18".equals(req.getHeader("MCP-Protocol-Version"))) {
      req.response().setStatusCode(400).end("missing session headers");
      return;
    }
    JsonObject answer = answer(message);
    if (answer == null) {
      req.response().setStatusCode(202).end();
    } else if (message.getLong("id") % 2 == 0) {
      req.response().putHeader("Content-Type", "application/json").end(answer.encode());
    } else {
      String event = "event: message\ndata: " + answer.encode() + "\n\n";
      int cut = event.length() / 2;
      HttpServerResponse resp = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
      resp.write(event.substring(0, cut));
      vertx.setTimer(1, t -> resp.end(event.substring(cut)));
    }
  }

  /** A 2026-07-28 request: headers that mirror the body, the client's _meta, the user on every request. */
  private void stateless(HttpServerRequest req, JsonObject message) {
    JsonObject params = message.getJsonObject("params");
    JsonObject meta = params.getJsonObject("_meta", new JsonObject());
    String user = req.getHeader("X-User-Id");
    if (!message.getString("method").equals(req.getHeader("Mcp-Method"))
        || !params.getString("name").equals(req.getHeader("Mcp-Name"))
        || !"2026-07-28".equals(meta.getString("io.modelcontextprotocol/protocolVersion"))
        || meta.getJsonObject("io.modelcontextprotocol/clientInfo") == null || user == null) {
      req.response().setStatusCode(400).end("bad stateless request");
      return;
    }
    users.add(user);
    statelessCalls.incrementAndGet();
    long id = message.getLong("id");
    if (statelessFails && id != 0) {
      if (id % 2 == 0) {
        req.response().setStatusCode(202).end();
      } else {
        req.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("jsonrpc", "2.0")
            .put("id", id).put("error", new JsonObject().put("code", -32603).put("message", "boom")).encode());
      }
      return;
    }
    JsonObject answer = answer(message);
    answer.getJsonObject("result").put("resultType", "complete");
    req.response().putHeader("Content-Type", "application/json").end(answer.encode());
  }

  private JsonObject answer(JsonObject message) {
    String method = message.getString("method");
    Object id = message.getValue("id");
    if (id == null) {
      return null;
    }
    JsonObject result = switch (method) {
      case "initialize" -> new JsonObject().put("protocolVersion", "2025-06-18").put("capabilities", new JsonObject());
      case "tools/call" -> new JsonObject()
          .put("content", new JsonObject().put("type", "text").put("text", "ok"))
          .put("isError", toolFails);
      default -> null;
    };
    JsonObject out = new JsonObject().put("jsonrpc", "2.0").put("id", id);
    return result == null
        ? out.put("error", new JsonObject().put("code", -32601).put("message", "no " + method))
        : out.put("result", result);
  }

  private LoadOptions options(String transport) {
    return LoadOptions.parse(new String[] {
        "--transport=" + transport, "--url=http://127.0.0.1:" + server.actualPort(), "--tool=notes_get",
        "--sessions=4", "--warmup=0.2", "--duration=1", "--user-header=X-User-Id", "--call-timeout=2"});
  }

  @Test
  void streamableSessionsCallInALoopAndSayGoodbye() throws Exception {
    McpLoadClient.Result result = McpLoadClient.run(options("streamable"));

    assertThat(result.stats().totalErrors()).isZero();
    assertThat(result.calls()).isGreaterThan(50);
    assertThat(result.line()).startsWith("RESULT transport=streamable calls=" + result.calls() + " seconds=1.00 ")
        .contains(" errors=0 ", " p50_ms=", " p99_ms=", " cpu_client_pct=");
    assertThat(users).containsExactlyInAnyOrder("bench-0", "bench-1", "bench-2", "bench-3");
    assertThat(deletes).hasValue(4);
  }

  @Test
  void legacySseSessionsMatchResponsesOnTheStreamAndAnswerPings() throws Exception {
    McpLoadClient.Result result = McpLoadClient.run(options("sse"));

    assertThat(result.stats().totalErrors()).isZero();
    assertThat(result.calls()).isGreaterThan(50);
    assertThat(pingReplies.get()).isPositive();
    assertThat(users).containsExactlyInAnyOrder("bench-0", "bench-1", "bench-2", "bench-3");
  }

  @Test
  void statelessUsersPostEachCallOnItsOwnWithoutASession() throws Exception {
    McpLoadClient.Result result = McpLoadClient.run(options("stateless"));

    assertThat(result.stats().totalErrors()).isZero();
    assertThat(result.calls()).isGreaterThan(50);
    assertThat(result.line()).startsWith("RESULT transport=stateless calls=" + result.calls() + " ");
    assertThat(users).containsExactlyInAnyOrder("bench-0", "bench-1", "bench-2", "bench-3");
    assertThat(initializes).hasValue(0);
    assertThat(deletes).hasValue(0);
    assertThat(statelessCalls.get()).isGreaterThan((int) result.calls());
  }

  @Test
  void statelessNon200AnswersAndJsonRpcErrorsAreErrors() throws Exception {
    statelessFails = true;

    McpLoadClient.Result result = McpLoadClient.run(options("stateless"));

    assertThat(result.calls()).isZero();
    assertThat(result.stats().errors[ErrorKind.HTTP.ordinal()]).isPositive();
    assertThat(result.stats().errors[ErrorKind.RPC.ordinal()]).isPositive();
  }

  @Test
  void aServerWithoutTheStatelessEraFailsTheRunAtOnce() {
    statelessServed = false;

    assertThatThrownBy(() -> McpLoadClient.run(options("stateless")))
        .isInstanceOf(FatalException.class)
        .hasMessageContaining("POST /mcp (stateless tools/call, 2026-07-28) answered HTTP 400");
  }

  @Test
  void toolErrorsAreCountedNotFatal() throws Exception {
    toolFails = true;

    McpLoadClient.Result result = McpLoadClient.run(options("streamable"));

    assertThat(result.calls()).isZero();
    assertThat(result.stats().errors[ErrorKind.TOOL.ordinal()]).isGreaterThan(50);
    assertThat(result.line()).contains(" err_tool=" + result.stats().errors[ErrorKind.TOOL.ordinal()]);
  }

  @Test
  void aFailedHandshakeIsFatalAndSaysWhy() {
    initializeStatus = 404;

    assertThatThrownBy(() -> McpLoadClient.run(options("streamable")))
        .isInstanceOf(FatalException.class)
        .hasMessageContaining("POST /mcp (initialize) answered HTTP 404");
  }
}
