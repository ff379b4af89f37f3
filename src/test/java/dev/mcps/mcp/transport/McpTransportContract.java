package dev.mcps.mcp.transport;

import static dev.mcps.mcp.transport.McpTestServer.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcps.testing.Http;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** What both MCP transports promise alike; each subclass says how its wire reaches an MCP session. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class McpTransportContract {

  static final Duration WAIT = Duration.ofSeconds(5);

  /** An initialized MCP session of a user with its server-to-client stream open. */
  record Opened(RawHttp stream, String mcpSessionId) {
  }

  McpTestServer server;
  Http http;

  /** An SDK client of this transport, initialized, acting for this user. */
  abstract McpSyncClient client(McpTestServer server, String user);

  abstract VertxMcpTransport<?> transport(McpTestServer server);

  abstract Opened open(McpTestServer server, String user);

  /** POSTs one message to the session as this transport addresses it, with these extra headers. */
  abstract Http.Response post(Http http, String mcpSessionId, String body, String... headers);

  /** The JSON-RPC response to this request, wherever the transport delivers it. */
  abstract JsonObject answer(Opened session, String request);

  @BeforeAll
  void start() {
    server = new McpTestServer();
    http = new Http(server.port());
  }

  @AfterAll
  void stop() {
    server.close();
  }

  @Test
  void sdkClientInitializesListsToolsCallsAToolAndPings() {
    McpSyncClient client = client(server, "alice");
    try {
      assertThat(client.getServerInfo().name()).isEqualTo("mcp-transport-test");
      assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name).contains("echo", "wait");
      assertThat(Rpc.echo(client, "hello")).isEqualTo("hello @ session-of-alice");
      client.ping();
    } finally {
      client.closeGracefully();
    }
  }

  @Test
  void twoUsersEachSeeTheirOwnUserSessionInTheTool() {
    McpSyncClient alice = client(server, "alice");
    McpSyncClient bob = client(server, "bob");
    try {
      assertThat(Rpc.echo(alice, "a")).isEqualTo("a @ session-of-alice");
      assertThat(Rpc.echo(bob, "b")).isEqualTo("b @ session-of-bob");
      assertThat(Rpc.echo(alice, "a2")).isEqualTo("a2 @ session-of-alice");
    } finally {
      alice.closeGracefully();
      bob.closeGracefully();
    }
  }

  @Test
  void fiftyConcurrentClientsAreNeverMixedUp() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(50);
    try {
      List<Future<String>> answers = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        String user = "user" + i;
        answers.add(pool.submit(() -> {
          McpSyncClient client = client(server, user);
          try {
            return Rpc.echo(client, user) + "|" + Rpc.echo(client, user);
          } finally {
            client.closeGracefully();
          }
        }));
      }
      for (int i = 0; i < 50; i++) {
        String expected = "user" + i + " @ session-of-user" + i;
        assertThat(answers.get(i).get(60, TimeUnit.SECONDS)).isEqualTo(expected + "|" + expected);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void unknownToolsFailInTheSdkClientWithInvalidParams() {
    McpSyncClient client = client(server, "erin");
    try {
      assertThatThrownBy(() -> client.callTool(new McpSchema.CallToolRequest("no-such-tool", Map.of())))
          .isInstanceOfSatisfying(McpError.class,
              e -> assertThat(e.getJsonRpcError().code()).isEqualTo(McpSchema.ErrorCodes.INVALID_PARAMS));
    } finally {
      client.closeGracefully();
    }
  }

  @Test
  void unknownMethodsAndBadParamsComeBackAsJsonRpcErrors() {
    Opened session = open(server, "dave");
    try (RawHttp stream = session.stream()) {
      JsonObject unknown = answer(session, Rpc.request(7, "no/such/method", new JsonObject()));
      assertThat(unknown.getInteger("id")).isEqualTo(7);
      assertThat(unknown.getJsonObject("error").getInteger("code")).isEqualTo(McpSchema.ErrorCodes.METHOD_NOT_FOUND);
      JsonObject badParams = answer(session, Rpc.callTool(8, "no-such-tool", "x"));
      assertThat(badParams.getJsonObject("error").getInteger("code")).isEqualTo(McpSchema.ErrorCodes.INVALID_PARAMS);
    }
  }

  @Test
  void badBodiesGetJsonRpcErrorsAndAnOversizedOneIs413() {
    Opened session = open(server, "carol");
    try (RawHttp stream = session.stream()) {
      Http.Response notJson = post(http, session.mcpSessionId(), "{not json");
      assertThat(notJson.status()).isEqualTo(400);
      assertThat(notJson.json().getString("jsonrpc")).isEqualTo("2.0");
      assertThat(notJson.json().containsKey("id")).isTrue();
      assertThat(notJson.json().getValue("id")).isNull();
      assertThat(notJson.json().getJsonObject("error").getInteger("code")).isEqualTo(McpSchema.ErrorCodes.PARSE_ERROR);
      Http.Response notRpc = post(http, session.mcpSessionId(), "{\"hello\":\"world\"}");
      assertThat(notRpc.status()).isEqualTo(400);
      assertThat(notRpc.json().getJsonObject("error").getInteger("code"))
          .isEqualTo(McpSchema.ErrorCodes.INVALID_REQUEST);
      Http.Response batch = post(http, session.mcpSessionId(), "[" + Rpc.ping(1) + "]");
      assertThat(batch.json().getJsonObject("error").getInteger("code")).isEqualTo(McpSchema.ErrorCodes.INVALID_REQUEST);
      Http.Response huge = post(http, session.mcpSessionId(),
          Rpc.callTool(1, "echo", "x".repeat((int) McpTestServer.BODY_LIMIT)));
      assertThat(huge.status()).isEqualTo(413);
      assertThat(huge.json().getString("error")).isEqualTo("Payload_Too_Large");
    }
  }

  @Test
  void closeConnectionsOfEndsTheOpenStreamAndTheSessionAnswers404() {
    Opened session = open(server, "frank");
    try (RawHttp stream = session.stream()) {
      assertThat(transport(server).hasConnection("session-of-frank")).isTrue();

      await(transport(server).closeConnectionsOf("session-of-frank"));

      assertThat(stream.awaitEnd(WAIT)).isTrue();
      assertThat(transport(server).hasConnection("session-of-frank")).isFalse();
      assertThat(post(http, session.mcpSessionId(), Rpc.ping(2)).status()).isEqualTo(404);
      assertThat(server.binder.unbound())
          .contains(new FakeBinder.Unbound("session-of-frank", session.mcpSessionId()));
    }
  }

  @Test
  void keepAliveCommentsArriveOnAnIdleStream() {
    try (RawHttp stream = open(server, "hank").stream()) {
      assertThat(stream.awaitLine(": keepalive"::equals, WAIT)).isNotNull();
      assertThat(stream.awaitLine(": keepalive"::equals, WAIT)).isNotNull();
    }
  }

  @Test
  void closeGracefullyEndsEverySessionAndStreamAndRefusesNewRequests() {
    try (McpTestServer own = new McpTestServer()) {
      Opened session = open(own, "ivy");
      try (RawHttp stream = session.stream()) {
        own.closeGracefully();
        assertThat(stream.awaitEnd(WAIT)).isTrue();
      }
      assertThat(transport(own).hasConnection("session-of-ivy")).isFalse();
      assertThat(own.binder.unbound()).contains(new FakeBinder.Unbound("session-of-ivy", session.mcpSessionId()));
      Http.Response refused = post(new Http(own.port()), session.mcpSessionId(), Rpc.ping(2));
      assertThat(refused.status()).isEqualTo(503);
      assertThat(refused.json().getString("error")).isEqualTo("Server_Closing");
    }
  }

  @Test
  void requestsNamingAnotherUserOrSessionThanTheConnectionsAre403AndRequestsNamingNeitherWork() {
    Opened session = open(server, "olga");
    try (RawHttp stream = session.stream()) {
      Http.Response otherUser = post(http, session.mcpSessionId(), Rpc.ping(2), "X-User-Id", "mallory");
      Http.Response otherSession = post(http, session.mcpSessionId(), Rpc.ping(3),
          "X-Session-Id", "session-of-mallory");
      assertThat(otherUser.status()).isEqualTo(403);
      assertThat(otherUser.json().getString("error")).isEqualTo("Session_Forbidden");
      assertThat(otherSession.status()).isEqualTo(403);

      assertThat(post(http, session.mcpSessionId(), Rpc.ping(4), "X-User-Id", "olga",
          "X-Session-Id", "session-of-olga").status()).isBetween(200, 202);
      assertThat(answer(session, Rpc.ping(5)).containsKey("result")).isTrue();
      assertThat(transport(server).hasConnection("session-of-olga")).isTrue();
    }
  }

  @Test
  void missingOrMistypedParamsAreInvalidParamsInOurWordsAndTheSessionGoesOn() {
    Opened session = open(server, "paula");
    try (RawHttp stream = session.stream()) {
      List<String> bad = List.of(
          "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\"}",
          Rpc.request(12, "tools/call", new JsonObject().put("name", "echo").put("arguments", "text")),
          Rpc.request(13, "tools/call", new JsonObject().put("name", 5)),
          "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"prompts/get\"}",
          Rpc.request(15, "prompts/get", new JsonObject().put("name", "p").put("arguments", new io.vertx.core.json.JsonArray())),
          "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"logging/setLevel\"}",
          Rpc.request(17, "logging/setLevel", new JsonObject().put("level", "loud")),
          "{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"tools/call\",\"params\":[1]}",
          Rpc.request(21, "tools/call", new JsonObject().put("name", "echo").put("_meta", 5)));
      for (String request : bad) {
        JsonObject error = answer(session, request).getJsonObject("error");
        assertThat(error.getInteger("code")).as(request).isEqualTo(McpSchema.ErrorCodes.INVALID_PARAMS);
        assertThat(error.encode()).as(request).contains("params").doesNotContain("java.", "Exception", "at dev.");
      }
      assertThat(answer(session, Rpc.request(19, "logging/setLevel", new JsonObject().put("level", "error")))
          .containsKey("result")).isTrue();
      assertThat(answer(session, Rpc.callTool(20, "echo", "still here")).encode()).contains("still here");
    }
  }

  @Test
  void rootsListChangedIsTakenAndNoRootsRequestIsSentToAClientThatDeclaredNoRoots() {
    Opened session = open(server, "quinn");
    try (RawHttp stream = session.stream()) {
      String notification = new JsonObject().put("jsonrpc", "2.0").put("method", "notifications/roots/list_changed")
          .encode();
      assertThat(post(http, session.mcpSessionId(), notification).status()).isEqualTo(202);
      // A marker sent after it on the same stream: a roots/list request, had one been sent, would come first.
      transport(server).notifyClients(McpSchema.METHOD_NOTIFICATION_TOOLS_LIST_CHANGED, null).block(WAIT);
      assertThat(stream.awaitLine(line -> line.contains("roots/list\"") || line.contains("tools/list_changed"),
          WAIT)).contains("tools/list_changed");
    }
  }

  @Test
  void aHandlerFailureTheSdkDoesNotMapIsAPlainInternalErrorWithoutJavaText() {
    Opened session = open(server, "vera");
    try (RawHttp stream = session.stream()) {
      JsonObject error = answer(session, Rpc.callTool(30, "explode", "")).getJsonObject("error");
      assertThat(error.getInteger("code")).isEqualTo(McpSchema.ErrorCodes.INTERNAL_ERROR);
      assertThat(error.getString("message")).isEqualTo("Internal error");
      assertThat(error.encode()).doesNotContain("java.", "Exception", "at dev.");
    }
  }
}
