package dev.mcps.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.Http;
import io.modelcontextprotocol.client.McpSyncClient;
import io.vertx.core.json.JsonObject;
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
  Http.Response post(Http http, String mcpSessionId, String body) {
    return http.post("/mcp", body, "Mcp-Session-Id", mcpSessionId, "Accept", BOTH);
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
