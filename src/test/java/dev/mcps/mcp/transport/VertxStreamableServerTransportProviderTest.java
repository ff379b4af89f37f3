package dev.mcps.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.Http;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Streamable HTTP transport, driven by the SDK's own Streamable client and by raw HTTP. */
class VertxStreamableServerTransportProviderTest extends McpTransportContract {

  private static final String BOTH = "application/json, text/event-stream";

  @Override
  McpSyncClient client(McpTestServer server, String user) {
    return server.streamableClient(user);
  }

  @Override
  VertxMcpTransport<?> transport(McpTestServer server) {
    return server.streamable;
  }

  @Override
  Opened open(McpTestServer server, String user) {
    String session = initialize(new Http(server.port()), user);
    RawHttp listening = RawHttp.get(server.port(), "/mcp", "Mcp-Session-Id", session, "Accept", "text/event-stream",
        "Accept-Encoding", "gzip");
    assertThat(listening.status()).isEqualTo(200);
    assertThat(listening.header("Content-Type")).isEqualTo("text/event-stream");
    return new Opened(listening, session);
  }

  @Override
  Http.Response post(Http http, String mcpSessionId, String body, String... headers) {
    String[] all = java.util.Arrays.copyOf(headers, headers.length + 4);
    System.arraycopy(new String[] {"Mcp-Session-Id", mcpSessionId, "Accept", BOTH}, 0, all, headers.length, 4);
    return http.post("/mcp", body, all);
  }

  @Override
  JsonObject answer(Opened session, String request) {
    Http.Response response = post(http, session.mcpSessionId(), request);
    assertThat(response.status()).isEqualTo(200);
    return response.json();
  }

  @Test
  void aFailedBindRefusesInitializeWithTheBindersStatusAndJson() {
    Http.Response response = http.post("/mcp", Rpc.initialize(1, "2025-06-18"), "X-Session-Id", "unknown",
        "Accept", BOTH);
    assertThat(response.status()).isEqualTo(404);
    assertThat(response.headers().firstValue("Mcp-Session-Id")).isEmpty();
    assertThat(response.json().getString("error")).isEqualTo("Session_Not_Found");
  }

  @Test
  void aForeignOriginIsRefusedWith403AndALocalPageOnAnyPortIsAdmitted() {
    Http.Response foreign = http.post("/mcp", Rpc.initialize(1, "2025-06-18"), "X-User-Id", "x",
        "Origin", "http://evil.example", "Accept", BOTH);
    assertThat(foreign.status()).isEqualTo(403);
    assertThat(foreign.json().getString("error")).isEqualTo("Forbidden_Origin");
    assertThat(http.post("/mcp", Rpc.initialize(1, "2025-06-18"), "Origin", "http://localhost:5173",
        "Accept", BOTH).status()).isEqualTo(200);
  }

  @Test
  void anUnsupportedProtocolVersionIs400AndAnAbsentOneIsAcceptedAfterAnInitializeThatNegotiates() {
    Http.Response negotiated = http.post("/mcp", Rpc.initialize(1, "2099-01-01"), "X-User-Id", "victor",
        "MCP-Protocol-Version", "2099-01-01", "Accept", BOTH);
    assertThat(negotiated.status()).isEqualTo(200);
    assertThat(negotiated.json().getJsonObject("result").getString("protocolVersion")).isEqualTo("2025-11-25");

    String session = initialize(http, "victor");
    Http.Response unsupported = http.post("/mcp", Rpc.ping(2), "Mcp-Session-Id", session,
        "MCP-Protocol-Version", "1999-01-01");
    assertThat(unsupported.status()).isEqualTo(400);
    assertThat(unsupported.json().getString("error")).isEqualTo("Unsupported_Protocol_Version");
    assertThat(http.post("/mcp", Rpc.ping(3), "Mcp-Session-Id", session, "MCP-Protocol-Version", "2025-06-18")
        .status()).isEqualTo(200);
    assertThat(http.post("/mcp", Rpc.ping(4), "Mcp-Session-Id", session).status()).isEqualTo(200);
  }

  @Test
  void aMissingSessionIdIs400AnUnknownOneIs404AndADeletedOneIs404() {
    Http.Response missing = http.post("/mcp", Rpc.ping(1));
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.json().getString("error")).isEqualTo("Missing_Session_Id");
    assertThat(http.get("/mcp", "Accept", "text/event-stream").status()).isEqualTo(400);
    assertThat(http.delete("/mcp").status()).isEqualTo(400);

    Http.Response unknown = http.post("/mcp", Rpc.ping(1), "Mcp-Session-Id", "nope");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).isEqualTo("Mcp_Session_Not_Found");

    String session = initialize(http, "wendy");
    assertThat(http.delete("/mcp", "Mcp-Session-Id", session).status()).isEqualTo(204);
    assertThat(server.binder.unbound()).contains(new FakeBinder.Unbound("session-of-wendy", session));
    assertThat(http.post("/mcp", Rpc.ping(2), "Mcp-Session-Id", session).status()).isEqualTo(404);
    assertThat(http.get("/mcp", "Mcp-Session-Id", session, "Accept", "text/event-stream").status()).isEqualTo(404);
    assertThat(http.delete("/mcp", "Mcp-Session-Id", session).status()).isEqualTo(404);
  }

  @Test
  void aSingleAnswerIsPlainJsonAnSseOnlyClientGetsAnEventAndNotificationsGet202() {
    String session = initialize(http, "jack");
    Http.Response json = post(http, session, Rpc.callTool(2, "echo", "hi"));
    assertThat(json.status()).isEqualTo(200);
    assertThat(json.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(json.json().getJsonObject("result").getJsonArray("content").getJsonObject(0).getString("text"))
        .isEqualTo("hi @ session-of-jack");

    try (RawHttp sse = RawHttp.post(server.port(), "/mcp", Rpc.callTool(3, "echo", "there"),
        "Mcp-Session-Id", session, "Accept", "text/event-stream")) {
      assertThat(sse.status()).isEqualTo(200);
      assertThat(sse.header("Content-Type")).isEqualTo("text/event-stream");
      assertThat(sse.awaitLine("event: message"::equals, WAIT)).isNotNull();
      assertThat(sse.awaitLine(line -> line.contains("there @ session-of-jack"), WAIT)).isNotNull();
      assertThat(sse.awaitEnd(WAIT)).isTrue();
    }
    assertThat(http.post("/mcp", Rpc.initialized(), "Mcp-Session-Id", session).status()).isEqualTo(202);
  }

  @Test
  void aCallPendingForAKeepAliveIntervalTurnsIntoAnSseStream() throws Exception {
    String session = initialize(http, "kate");
    try (RawHttp call = RawHttp.post(server.port(), "/mcp", Rpc.callTool(2, "wait", ""),
        "Mcp-Session-Id", session, "Accept", BOTH)) {
      server.awaitWaitStarted("session-of-kate");
      assertThat(call.status()).isEqualTo(200);
      assertThat(call.header("Content-Type")).isEqualTo("text/event-stream");
      assertThat(call.awaitLine(": keepalive"::equals, WAIT)).isNotNull();
      server.release();
      assertThat(call.awaitLine(line -> line.contains("\"id\":2") && line.contains("released"), WAIT)).isNotNull();
      assertThat(call.awaitEnd(WAIT)).isTrue();
    }
  }

  @Test
  void aDroppedListeningStreamLeavesTheSessionUsable() {
    Opened session = open(server, "gina");
    session.stream().close();
    assertThat(post(http, session.mcpSessionId(), Rpc.ping(2)).status()).isEqualTo(200);
    assertThat(server.streamable.hasConnection("session-of-gina")).isTrue();
    try (RawHttp again = RawHttp.get(server.port(), "/mcp", "Mcp-Session-Id", session.mcpSessionId(),
        "Accept", "text/event-stream")) {
      assertThat(again.status()).isEqualTo(200);
    }
  }

  @Test
  void aClientDroppingMidCallDoesNotDisturbAConcurrentClient() throws Exception {
    McpSyncClient steady = server.streamableClient("steady");
    try {
      String session = initialize(http, "dropper");
      RawHttp call = RawHttp.post(server.port(), "/mcp", Rpc.callTool(2, "wait", ""),
          "Mcp-Session-Id", session, "Accept", BOTH);
      server.awaitWaitStarted("session-of-dropper");

      call.close();
      assertThat(Rpc.echo(steady, "during")).isEqualTo("during @ session-of-steady");
      server.release();
      assertThat(Rpc.echo(steady, "after")).isEqualTo("after @ session-of-steady");
      steady.ping();
      // Leaving a call is not ending the session: the dropper may come back.
      assertThat(post(http, session, Rpc.ping(3)).status()).isEqualTo(200);
      assertThat(server.unexpectedErrors).isEmpty();
    } finally {
      steady.closeGracefully();
    }
  }

  @Test
  void aMalformedQueryStringIs400InvalidRequest() {
    for (String path : List.of("/mcp?userId=%ZZ", "/mcp?sessionId=%")) {
      try (RawHttp bad = RawHttp.post(server.port(), path, Rpc.initialize(1, "2025-06-18"), "Accept", BOTH)) {
        assertThat(bad.status()).as(path).isEqualTo(400);
        assertThat(bad.awaitLine(line -> line.contains("Invalid_Request"), WAIT)).as(path).isNotNull();
      }
    }
  }

  @Test
  void initializeWithoutParamsIsInvalidParamsAndOpensNoSession() {
    Http.Response none = http.post("/mcp", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}",
        "X-User-Id", "nina", "Accept", BOTH);
    Http.Response noVersion = http.post("/mcp", Rpc.request(2, "initialize", new JsonObject()
        .put("capabilities", new JsonObject())), "X-User-Id", "nina", "Accept", BOTH);
    for (Http.Response r : List.of(none, noVersion)) {
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.json().getJsonObject("error").getInteger("code")).isEqualTo(McpSchema.ErrorCodes.INVALID_PARAMS);
      assertThat(r.body()).contains("initialize needs params").doesNotContain("java.", "Exception");
      assertThat(r.headers().firstValue("Mcp-Session-Id")).isEmpty();
    }
    assertThat(server.streamable.hasConnection("session-of-nina")).isFalse();
  }

  @Test
  void notificationsAre202AtOnceAlsoWithoutAListeningStream() {
    String session = initialize(http, "oscar");
    String roots = new JsonObject().put("jsonrpc", "2.0").put("method", "notifications/roots/list_changed").encode();
    String unknownResponse = new JsonObject().put("jsonrpc", "2.0").put("id", "nobody-asked")
        .put("result", new JsonObject()).encode();
    assertThat(post(http, session, roots).status()).isEqualTo(202);
    assertThat(post(http, session, unknownResponse).status()).isEqualTo(202);
    assertThat(post(http, session, Rpc.ping(2)).status()).isEqualTo(200);
  }

  @Test
  void aCancelledCallIsStoppedAndItsResponseEndsWithoutAResult() throws Exception {
    String session = initialize(http, "rita");
    try (RawHttp call = RawHttp.post(server.port(), "/mcp", Rpc.callTool(7, "wait", ""),
        "Mcp-Session-Id", session, "Accept", BOTH)) {
      server.awaitWaitStarted("session-of-rita");

      assertThat(post(http, session, cancelled(7)).status()).isEqualTo(202);

      server.awaitWaitCancelled("session-of-rita");
      assertThat(call.awaitLine(line -> line.contains("\"id\":7"), WAIT)).isNull();
      assertThat(call.awaitEnd(WAIT)).isTrue();
    }
    assertThat(post(http, session, Rpc.callTool(8, "echo", "next")).json().encode()).contains("next @ session-of-rita");
  }

  @Test
  void aBatchIsAnsweredInOrderOnA20250326SessionAndRefusedOnLaterOnes() {
    Http.Response init = http.post("/mcp", Rpc.initialize(1, "2025-03-26"), "X-User-Id", "sam", "Accept", BOTH);
    assertThat(init.json().getJsonObject("result").getString("protocolVersion")).isEqualTo("2025-03-26");
    String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();

    Http.Response batch = post(http, session, "[" + Rpc.initialized() + "," + Rpc.callTool(2, "echo", "one") + ","
        + Rpc.ping(3) + "," + Rpc.callTool(4, "echo", "two") + "]");
    Http.Response onlyNotifications = post(http, session, "[" + Rpc.initialized() + "]");
    Http.Response withInitialize = post(http, session, "[" + Rpc.initialize(5, "2025-03-26") + "]");

    assertThat(batch.status()).isEqualTo(200);
    io.vertx.core.json.JsonArray answers = new io.vertx.core.json.JsonArray(batch.body());
    assertThat(answers.stream().map(a -> ((JsonObject) a).getValue("id"))).containsExactly(2, 3, 4);
    assertThat(answers.getJsonObject(0).encode()).contains("one @ session-of-sam");
    assertThat(answers.getJsonObject(2).encode()).contains("two @ session-of-sam");
    assertThat(onlyNotifications.status()).isEqualTo(202);
    assertThat(withInitialize.json().getJsonObject("error").getInteger("code"))
        .isEqualTo(McpSchema.ErrorCodes.INVALID_REQUEST);

    String later = initialize(http, "sam");
    Http.Response refused = post(http, later, "[" + Rpc.ping(2) + "]");
    assertThat(refused.status()).isEqualTo(400);
    assertThat(refused.json().getJsonObject("error").getInteger("code")).isEqualTo(McpSchema.ErrorCodes.INVALID_REQUEST);
  }

  @Test
  void aCallThatFindsTheUserSessionGoneIs404AndEndsEveryMcpSessionOfIt() {
    String session = initialize(http, "walt");
    String sibling = initialize(http, "walt");

    Http.Response found = post(http, session, Rpc.callTool(2, "vanish", ""));

    assertThat(found.status()).isEqualTo(404);
    assertThat(found.json().getString("error")).isEqualTo("Mcp_Session_Not_Found");
    assertThat(post(http, session, Rpc.ping(3)).status()).isEqualTo(404);
    assertThat(post(http, sibling, Rpc.ping(4)).status()).isEqualTo(404);
    assertThat(server.streamable.hasConnection("session-of-walt")).isFalse();
    assertThat(server.binder.unbound()).contains(new FakeBinder.Unbound("session-of-walt", session),
        new FakeBinder.Unbound("session-of-walt", sibling));
  }

  static String cancelled(int requestId) {
    return new JsonObject().put("jsonrpc", "2.0").put("method", "notifications/cancelled")
        .put("params", new JsonObject().put("requestId", requestId).put("reason", "changed my mind")).encode();
  }

  /** A raw initialize + initialized handshake; the MCP session id. */
  private static String initialize(Http http, String user) {
    Http.Response response = http.post("/mcp", Rpc.initialize(1, "2025-06-18"), "X-User-Id", user, "Accept", BOTH);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(response.json().getJsonObject("result").getString("protocolVersion")).isEqualTo("2025-06-18");
    String session = response.headers().firstValue("Mcp-Session-Id").orElseThrow();
    assertThat(http.post("/mcp", Rpc.initialized(), "Mcp-Session-Id", session).status()).isEqualTo(202);
    return session;
  }
}
