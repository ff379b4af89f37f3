package dev.mcps.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.Http;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The legacy HTTP+SSE transport, driven by the SDK's own SSE client and by raw HTTP. */
class VertxSseServerTransportProviderTest extends McpTransportContract {

  @Override
  McpSyncClient client(McpTestServer server, String user) {
    return server.sseClient(user);
  }

  @Override
  VertxMcpTransport<?> transport(McpTestServer server) {
    return server.sse;
  }

  @Override
  Opened open(McpTestServer server, String user) {
    RawHttp stream = RawHttp.get(server.port(), "/mcp/sse?userId=" + user, "Accept-Encoding", "gzip");
    String endpoint = endpointOf(stream);
    Http own = new Http(server.port());
    assertThat(own.post(endpoint, Rpc.initialize(1, "2024-11-05")).status()).isEqualTo(202);
    assertThat(stream.awaitLine(line -> line.contains("\"id\":1") && line.contains("protocolVersion"), WAIT))
        .isNotNull();
    assertThat(own.post(endpoint, Rpc.initialized()).status()).isEqualTo(202);
    return new Opened(stream, endpoint.substring(endpoint.indexOf('=') + 1));
  }

  @Override
  Http.Response post(Http http, String mcpSessionId, String body, String... headers) {
    return http.post("/mcp/message?sessionId=" + mcpSessionId, body, headers);
  }

  @Override
  JsonObject answer(Opened session, String request) {
    assertThat(post(http, session.mcpSessionId(), request).status()).isEqualTo(202);
    String id = "\"id\":" + new JsonObject(request).getValue("id");
    String data = session.stream().awaitLine(line -> line.startsWith("data: ") && line.contains(id), WAIT);
    assertThat(data).isNotNull();
    return new JsonObject(data.substring("data: ".length()));
  }

  @Test
  void aFailedBindRefusesTheStreamWithTheBindersStatusAndJson() {
    Http.Response response = http.get("/mcp/sse?sessionId=unknown");
    assertThat(response.status()).isEqualTo(404);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(response.json().getString("error")).isEqualTo("Session_Not_Found");
  }

  @Test
  void aForeignOriginIsRefusedWith403AndALocalPageOnAnyPortIsAdmitted() {
    Http.Response foreign = http.get("/mcp/sse?userId=x", "Origin", "http://evil.example");
    assertThat(foreign.status()).isEqualTo(403);
    assertThat(foreign.json().getString("error")).isEqualTo("Forbidden_Origin");
    assertThat(http.post("/mcp/message?sessionId=x", Rpc.ping(1), "Origin", "null").status()).isEqualTo(403);
    try (RawHttp local = RawHttp.get(server.port(), "/mcp/sse?userId=x", "Origin", "http://localhost:5173")) {
      assertThat(local.status()).isEqualTo(200);
    }
  }

  @Test
  void anUnexpectedHostIsRefused() {
    try (RawHttp rebound = RawHttp.get(server.port(), "/mcp/sse?userId=x", "Host", "evil.example:8080")) {
      assertThat(rebound.status()).isEqualTo(421);
    }
  }

  @Test
  void aMessageWithoutSessionIdIs400AndWithAnUnknownOneIs404() {
    Http.Response missing = http.post("/mcp/message", Rpc.ping(1));
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.json().getString("error")).isEqualTo("Missing_Session_Id");
    Http.Response unknown = http.post("/mcp/message?sessionId=nope", Rpc.ping(1));
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).isEqualTo("Mcp_Session_Not_Found");
  }

  @Test
  void unboundIsCalledWhenTheClientDisconnects() throws Exception {
    Opened session = open(server, "gina");
    assertThat(server.sse.hasConnection("session-of-gina")).isTrue();
    session.stream().close();

    FakeBinder.Unbound expected = new FakeBinder.Unbound("session-of-gina", session.mcpSessionId());
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!server.binder.unbound().contains(expected) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(server.binder.unbound()).contains(expected);
    assertThat(server.sse.hasConnection("session-of-gina")).isFalse();
    assertThat(post(http, session.mcpSessionId(), Rpc.ping(2)).status()).isEqualTo(404);
  }

  @Test
  void aClientDroppingMidCallDoesNotDisturbAConcurrentClient() throws Exception {
    McpSyncClient steady = server.sseClient("steady");
    try {
      Opened dropper = open(server, "dropper");
      assertThat(post(http, dropper.mcpSessionId(), Rpc.callTool(2, "wait", "")).status()).isEqualTo(202);
      server.awaitWaitStarted("session-of-dropper");

      dropper.stream().close();
      assertThat(Rpc.echo(steady, "during")).isEqualTo("during @ session-of-steady");
      server.release();
      assertThat(Rpc.echo(steady, "after")).isEqualTo("after @ session-of-steady");
      steady.ping();
      assertThat(server.unexpectedErrors).isEmpty();
    } finally {
      steady.closeGracefully();
    }
  }

  @Test
  void aMalformedQueryStringIs400InvalidRequest() {
    try (RawHttp sse = RawHttp.get(server.port(), "/mcp/sse?userId=%ZZ");
         RawHttp message = RawHttp.post(server.port(), "/mcp/message?sessionId=%", Rpc.ping(1))) {
      for (RawHttp bad : List.of(sse, message)) {
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.awaitLine(line -> line.contains("Invalid_Request"), WAIT)).isNotNull();
      }
    }
  }

  @Test
  void initializeWithoutParamsIsInvalidParamsOnTheStream() {
    try (RawHttp stream = RawHttp.get(server.port(), "/mcp/sse?userId=tina")) {
      String endpoint = endpointOf(stream);
      assertThat(http.post(endpoint, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}").status())
          .isEqualTo(202);
      String data = stream.awaitLine(line -> line.startsWith("data: ") && line.contains("\"id\":1"), WAIT);
      assertThat(new JsonObject(data.substring("data: ".length())).getJsonObject("error").getInteger("code"))
          .isEqualTo(McpSchema.ErrorCodes.INVALID_PARAMS);
    }
  }

  @Test
  void aCancelledCallIsStoppedAndNoResultIsSent() throws Exception {
    Opened session = open(server, "uma");
    try (RawHttp stream = session.stream()) {
      assertThat(post(http, session.mcpSessionId(), Rpc.callTool(7, "wait", "")).status()).isEqualTo(202);
      server.awaitWaitStarted("session-of-uma");

      assertThat(post(http, session.mcpSessionId(), VertxStreamableServerTransportProviderTest.cancelled(7)).status())
          .isEqualTo(202);
      server.awaitWaitCancelled("session-of-uma");
      server.release();
      assertThat(post(http, session.mcpSessionId(), Rpc.ping(8)).status()).isEqualTo(202);

      // Answers go out on the one stream in order: the ping's comes, the cancelled call's never did before it.
      assertThat(stream.awaitLine(line -> line.contains("\"id\":7") || line.contains("\"id\":8"), WAIT))
          .contains("\"id\":8");
    }
  }

  @Test
  void aCallThatFindsTheUserSessionGoneIsAnsweredThenTheStreamIsClosed() {
    Opened session = open(server, "xena");
    try (RawHttp stream = session.stream()) {
      assertThat(post(http, session.mcpSessionId(), Rpc.callTool(2, "vanish", "")).status()).isEqualTo(202);

      String data = stream.awaitLine(line -> line.startsWith("data: ") && line.contains("\"id\":2"), WAIT);
      assertThat(new JsonObject(data.substring("data: ".length())).getJsonObject("error").getInteger("code"))
          .isEqualTo(-32001);
      assertThat(stream.awaitEnd(WAIT)).isTrue();
      assertThat(post(http, session.mcpSessionId(), Rpc.ping(3)).status()).isEqualTo(404);
      assertThat(server.sse.hasConnection("session-of-xena")).isFalse();
    }
  }

  @Test
  void aSingleInstanceNeverForwardsAndAnswersAnIdNamingAnotherNodeWith404() {
    Http.Response elsewhere = http.post("/mcp/message?sessionId=" + UUID.randomUUID() + "." + "a".repeat(32),
        Rpc.ping(1));
    assertThat(elsewhere.status()).isEqualTo(404);
    assertThat(elsewhere.json().getString("error")).isEqualTo("Mcp_Session_Not_Found");
  }

  private static String endpointOf(RawHttp stream) {
    assertThat(stream.status()).isEqualTo(200);
    assertThat(stream.header("Content-Type")).isEqualTo("text/event-stream");
    assertThat(stream.awaitLine("event: endpoint"::equals, WAIT)).isNotNull();
    String data = stream.awaitLine(line -> line.startsWith("data: "), WAIT);
    assertThat(data).startsWith("data: /mcp/message?sessionId=");
    return data.substring("data: ".length());
  }
}
