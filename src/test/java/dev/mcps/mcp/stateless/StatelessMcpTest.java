package dev.mcps.mcp.stateless;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.FakeJira;
import dev.mcps.testing.SseStream;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The MCP 2026-07-28 era on POST /mcp, over real HTTP: every request stands alone, is checked against its headers
 * and {@code _meta}, acts in the user session its own headers name, and asks the user through multi round-trip
 * requests when a Jira write needs confirming.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StatelessMcpTest {

  static final String VERSION = "2026-07-28";

  private Vertx vertx;
  private FakeJira jira;
  private Server server;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
    jira = FakeJira.start(vertx);
    // Eight HTTP verticles: a listen stream and the request that changes a list meet on different event loops.
    server = TestServers.start(Map.of("MCP_CONFORMANCE_TOOLS", "true", "HTTP_INSTANCES", "8"));
  }

  @AfterAll
  void stop() {
    TestServers.await(server.stop());
    jira.close();
    TestServers.await(vertx.close());
  }

  static JsonObject meta(JsonObject capabilities) {
    return new JsonObject().put("io.modelcontextprotocol/protocolVersion", VERSION)
        .put("io.modelcontextprotocol/clientCapabilities", capabilities)
        .put("io.modelcontextprotocol/clientInfo", new JsonObject().put("name", "test").put("version", "1"));
  }

  static JsonObject request(Object id, String method, JsonObject params) {
    return new JsonObject().put("jsonrpc", "2.0").put("id", id).put("method", method).put("params", params);
  }

  static JsonObject call(Object id, String tool, JsonObject arguments, JsonObject capabilities) {
    return request(id, "tools/call", new JsonObject().put("name", tool).put("arguments", arguments)
        .put("_meta", meta(capabilities)));
  }

  /** The standard headers a conforming client sends for {@code body}, then {@code extra} over them (null removes). */
  static Map<String, String> headers(JsonObject body, Map<String, String> extra) {
    Map<String, String> h = new HashMap<>();
    h.put("Content-Type", "application/json");
    h.put("Accept", "application/json, text/event-stream");
    h.put("MCP-Protocol-Version", VERSION);
    String method = body.getString("method");
    h.put("Mcp-Method", method);
    JsonObject params = body.getJsonObject("params", new JsonObject());
    Object name = "resources/read".equals(method) ? params.getValue("uri") : params.getValue("name");
    if (name instanceof String n && List.of("tools/call", "prompts/get", "resources/read").contains(method)) {
      h.put("Mcp-Name", n);
    }
    extra.forEach((k, v) -> {
      h.keySet().removeIf(existing -> existing.equalsIgnoreCase(k));
      if (v != null) {
        h.put(k, v);
      }
    });
    return h;
  }

  HttpResponse<String> post(JsonObject body, Map<String, String> extra) throws Exception {
    return send(http, server.port(), body, extra);
  }

  /** POSTs {@code body} to /mcp on {@code port} with the standard headers and {@code extra}. */
  static HttpResponse<String> send(HttpClient http, int port, JsonObject body, Map<String, String> extra)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/mcp"))
        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body.encode()));
    headers(body, extra).forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  JsonObject answer(JsonObject body, Map<String, String> extra) throws Exception {
    HttpResponse<String> r = post(body, extra);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
    return new JsonObject(r.body());
  }

  static String text(JsonObject answer) {
    return answer.getJsonObject("result").getJsonArray("content").getJsonObject(0).getString("text");
  }

  @Test
  void serverDiscoverNamesBothErasTheCapabilitiesAndTheServerAndMayBeCached() throws Exception {
    JsonObject r = answer(request(1, "server/discover", new JsonObject().put("_meta", meta(new JsonObject()))),
        Map.of());

    JsonObject result = r.getJsonObject("result");
    assertThat(r.getValue("id")).isEqualTo(1);
    assertThat(result.getJsonArray("supportedVersions").getList()).startsWith(VERSION).contains("2025-11-25");
    assertThat(result.getJsonObject("capabilities").fieldNames()).contains("tools", "prompts");
    assertThat(result.getString("resultType")).isEqualTo("complete");
    assertThat(result.getJsonObject("_meta").getJsonObject("io.modelcontextprotocol/serverInfo").getString("name"))
        .isEqualTo("mcp-session-server");
    assertThat(result.getLong("ttlMs")).isEqualTo(300_000L);
    assertThat(result.getString("cacheScope")).isEqualTo("public");
    assertThat(result.getString("instructions")).contains("X-User-Id");
  }

  @Test
  void aRequestWithoutMetaOrWithoutItsRequiredFieldsIsRefusedWith400InvalidParamsAndItsOwnId() throws Exception {
    JsonObject noCapabilities = meta(new JsonObject());
    noCapabilities.remove("io.modelcontextprotocol/clientCapabilities");
    JsonObject noVersion = meta(new JsonObject());
    noVersion.remove("io.modelcontextprotocol/protocolVersion");
    JsonObject badLevel = meta(new JsonObject()).put("io.modelcontextprotocol/logLevel", "loud");

    for (JsonObject params : List.of(new JsonObject(), new JsonObject().put("_meta", noCapabilities),
        new JsonObject().put("_meta", noVersion), new JsonObject().put("_meta", badLevel),
        new JsonObject().put("_meta", "not an object"))) {
      HttpResponse<String> r = post(request("req-7", "tools/list", params), Map.of());
      JsonObject body = new JsonObject(r.body());
      assertThat(r.statusCode()).as(params.encode()).isEqualTo(400);
      assertThat(body.getString("id")).isEqualTo("req-7");
      assertThat(body.getJsonObject("error").getInteger("code")).isEqualTo(-32602);
      assertThat(body.getJsonObject("error").getString("message")).contains("_meta").doesNotContain("Exception");
    }
  }

  @Test
  void headersThatDisagreeWithTheBodyOrAreMissingAreRefusedWith400HeaderMismatch() throws Exception {
    JsonObject list = request(1, "tools/list", new JsonObject().put("_meta", meta(new JsonObject())));
    JsonObject get = call(2, "notes_get", new JsonObject(), new JsonObject());
    JsonObject otherVersion = request(3, "tools/list", new JsonObject().put("_meta",
        meta(new JsonObject()).put("io.modelcontextprotocol/protocolVersion", "2099-01-01")));

    List<HttpResponse<String>> refused = List.of(
        post(list, Map.of("Mcp-Method", "prompts/list")),
        post(list, drop("Mcp-Method")),
        post(get, Map.of("Mcp-Name", "notes_set")),
        post(get, drop("Mcp-Name")),
        post(otherVersion, Map.of("MCP-Protocol-Version", VERSION)),
        post(get, Map.of("Mcp-Name", "=?base64?not base64!?=")));

    for (HttpResponse<String> r : refused) {
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(new JsonObject(r.body()).getJsonObject("error").getInteger("code")).isEqualTo(-32020);
    }
  }

  private static Map<String, String> drop(String header) {
    Map<String, String> h = new HashMap<>();
    h.put(header, null);
    return h;
  }

  @Test
  void aBase64OrWhitespacePaddedMcpNameAndLowercaseHeaderNamesAreAccepted() throws Exception {
    JsonObject get = call(4, "notes_get", new JsonObject(), new JsonObject());
    String encoded = "=?base64?" + Base64.getEncoder().encodeToString("notes_get".getBytes(StandardCharsets.UTF_8))
        + "?=";

    for (Map<String, String> extra : List.of(Map.of("Mcp-Name", encoded), Map.of("Mcp-Name", "  notes_get  "),
        Map.of("mcp-name", "notes_get", "X-User-Id", "padded"))) {
      Map<String, String> h = new HashMap<>(extra);
      h.putIfAbsent("X-User-Id", "padded");
      JsonObject r = answer(get, h);
      assertThat(r.containsKey("result")).as(r.encode()).isTrue();
    }
  }

  @Test
  void anUnsupportedVersionIsRefusedWith400AndTheSupportedVersions() throws Exception {
    JsonObject discover = request(5, "server/discover", new JsonObject().put("_meta",
        meta(new JsonObject()).put("io.modelcontextprotocol/protocolVersion", "1900-01-01")));

    HttpResponse<String> r = post(discover, Map.of("MCP-Protocol-Version", "1900-01-01"));

    JsonObject error = new JsonObject(r.body()).getJsonObject("error");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(error.getInteger("code")).isEqualTo(-32022);
    assertThat(error.getJsonObject("data").getString("requested")).isEqualTo("1900-01-01");
    assertThat(error.getJsonObject("data").getJsonArray("supported").getList()).contains(VERSION, "2025-11-25");
  }

  @Test
  void removedAndUnknownMethodsAre404MethodNotFound() throws Exception {
    for (String method : List.of("initialize", "ping", "logging/setLevel", "resources/subscribe", "no/such")) {
      HttpResponse<String> r = post(request(6, method, new JsonObject().put("_meta", meta(new JsonObject()))),
          Map.of());
      assertThat(r.statusCode()).as(method).isEqualTo(404);
      assertThat(new JsonObject(r.body()).getJsonObject("error").getInteger("code")).isEqualTo(-32601);
    }
  }

  @Test
  void eachUserSeesOnlyTheirOwnNotesAndASessionToolWithoutAUserIsRefused() throws Exception {
    String alice = "alice-" + UUID.randomUUID();
    String bob = "bob-" + UUID.randomUUID();

    JsonObject set = answer(call(10, "notes_set", new JsonObject().put("key", "secret").put("value", "alice only"),
        new JsonObject()), Map.of("X-User-Id", alice));
    JsonObject aliceGet = answer(call(11, "notes_get", new JsonObject(), new JsonObject()), Map.of("X-User-Id", alice));
    JsonObject bobGet = answer(call(12, "notes_get", new JsonObject(), new JsonObject()), Map.of("X-User-Id", bob));
    HttpResponse<String> nobody = post(call(13, "notes_get", new JsonObject(), new JsonObject()), Map.of());

    assertThat(set.getJsonObject("result").getBoolean("isError")).isFalse();
    assertThat(text(aliceGet)).contains("alice only");
    assertThat(text(bobGet)).doesNotContain("alice only");
    assertThat(nobody.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(nobody.body()).getJsonObject("error").getJsonObject("data").getString("error"))
        .isEqualTo("User_Required");
  }

  @Test
  void anotherUsersSessionIdIsRefusedWith403() throws Exception {
    String alice = "alice-" + UUID.randomUUID();
    String aliceSession = aliceSession(alice);

    HttpResponse<String> r = post(call(14, "notes_get", new JsonObject(), new JsonObject()),
        Map.of("X-Session-Id", aliceSession, "X-User-Id", "mallory-" + UUID.randomUUID()));

    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).doesNotContain("alice only");
  }

  private String aliceSession(String alice) throws Exception {
    answer(call(15, "notes_set", new JsonObject().put("key", "k").put("value", "alice only"), new JsonObject()),
        Map.of("X-User-Id", alice));
    HttpResponse<String> sessions = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
            + "/admin/sessions")).header("Authorization", "Bearer " + TestServers.ADMIN_TOKEN).build(),
        HttpResponse.BodyHandlers.ofString());
    JsonArray list = new JsonObject(sessions.body()).getJsonArray("sessions");
    return list.stream().map(JsonObject.class::cast).filter(s -> alice.equals(s.getString("userId")))
        .findFirst().orElseThrow().getString("sessionId");
  }

  @Test
  void aPlainInitializeStillOpensASessionEraConnectionOnTheSameEndpoint() throws Exception {
    JsonObject init = request(20, "initialize", new JsonObject().put("protocolVersion", "2025-11-25")
        .put("capabilities", new JsonObject()).put("clientInfo", new JsonObject().put("name", "old").put("version", "1")));
    Map<String, String> legacy = new HashMap<>();
    legacy.put("MCP-Protocol-Version", null);
    legacy.put("Mcp-Method", null);
    legacy.put("X-User-Id", "legacy-" + UUID.randomUUID());

    HttpResponse<String> r = post(init, legacy);

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Mcp-Session-Id")).isPresent();
    assertThat(r.body()).contains("\"protocolVersion\":\"2025-11-25\"");
  }

  private FakeJira.Account jiraUser(String prefix, String projectPrefix) {
    return jira.account(prefix, projectPrefix);
  }

  @Test
  void aJiraCreateAsksAnElicitingClientToConfirmAndReachesJiraOnlyOnTheAcceptedRetry() throws Exception {
    FakeJira.Account u = jiraUser("conf", "PC");
    String project = u.project();
    Map<String, String> h = u.headers();
    JsonObject args = new JsonObject().put("projectKey", project).put("summary", "Confirmed").put("issueType", "Task");
    JsonObject eliciting = new JsonObject().put("elicitation", new JsonObject());

    JsonObject first = answer(call(30, "jira_create_issue", args, eliciting), h).getJsonObject("result");

    assertThat(first.getString("resultType")).isEqualTo("input_required");
    JsonObject ask = first.getJsonObject("inputRequests").getJsonObject("confirm");
    assertThat(ask.getString("method")).isEqualTo("elicitation/create");
    assertThat(ask.getJsonObject("params").getString("message")).contains(project).contains("Confirmed");
    assertThat(jira.creates(project)).as("nothing reached Jira yet").isZero();

    JsonObject done = answer(retry(31, args, eliciting, first.getString("requestState")), h).getJsonObject("result");

    assertThat(done.getString("resultType")).isEqualTo("complete");
    assertThat(done.getBoolean("isError")).as(done.encode()).isFalse();
    assertThat(jira.creates(project)).isEqualTo(1);
  }

  @Test
  void aDeclinedConfirmationChangesNothingInJiraAndAClientThatCannotElicitIsNotAsked() throws Exception {
    FakeJira.Account u = jiraUser("decl", "PD");
    String project = u.project();
    Map<String, String> h = u.headers();
    JsonObject args = new JsonObject().put("projectKey", project).put("summary", "Maybe").put("issueType", "Task");
    JsonObject eliciting = new JsonObject().put("elicitation", new JsonObject());
    JsonObject first = answer(call(32, "jira_create_issue", args, eliciting), h).getJsonObject("result");

    JsonObject declined = answer(retry(33, args, eliciting, first.getString("requestState"),
        new JsonObject().put("action", "decline")), h).getJsonObject("result");
    JsonObject direct = answer(call(34, "jira_create_issue", args, new JsonObject()), h).getJsonObject("result");

    assertThat(declined.getBoolean("isError")).isTrue();
    assertThat(declined.getJsonArray("content").getJsonObject(0).getString("text")).contains("nothing was changed");
    assertThat(direct.getString("resultType")).isEqualTo("complete");
    assertThat(direct.getBoolean("isError")).isFalse();
    assertThat(jira.creates(project)).as("only the call of the client that cannot elicit").isEqualTo(1);
  }

  @Test
  void aRequestStateIsRefusedWhenAlteredPresentedByAnotherUserOrOnOtherArguments() throws Exception {
    FakeJira.Account u = jiraUser("stat", "PS");
    String project = u.project();
    Map<String, String> h = u.headers();
    JsonObject args = new JsonObject().put("projectKey", project).put("summary", "Guarded").put("issueType", "Task");
    JsonObject eliciting = new JsonObject().put("elicitation", new JsonObject());
    String state = answer(call(40, "jira_create_issue", args, eliciting), h).getJsonObject("result")
        .getString("requestState");
    char last = state.charAt(state.length() - 2);
    String altered = state.substring(0, state.length() - 2) + (last == 'A' ? 'B' : 'A') + state.charAt(state.length() - 1);
    Map<String, String> mallory = new HashMap<>(h);
    mallory.put("X-User-Id", "mallory-" + UUID.randomUUID());

    List<JsonObject> refused = List.of(
        answer(retry(41, args, eliciting, altered), h),
        answer(retry(42, args, eliciting, state), mallory),
        answer(retry(43, args.copy().put("summary", "Something else"), eliciting, state), h),
        answer(retry(44, args, eliciting, "AAAA"), h));

    for (JsonObject r : refused) {
      assertThat(r.getJsonObject("error").getInteger("code")).as(r.encode()).isEqualTo(-32602);
      assertThat(r.getJsonObject("error").getString("message")).contains("requestState");
    }
    assertThat(jira.creates(project)).isZero();
  }

  /** The retry of a jira_create_issue that was asked to confirm: the state it got, and the user's acceptance. */
  static JsonObject retry(int id, JsonObject args, JsonObject caps, String state) {
    return retry(id, args, caps, state,
        new JsonObject().put("action", "accept").put("content", new JsonObject().put("confirm", true)));
  }

  static JsonObject retry(int id, JsonObject args, JsonObject caps, String state, JsonObject answer) {
    JsonObject r = call(id, "jira_create_issue", args, caps);
    r.getJsonObject("params").put("requestState", state)
        .put("inputResponses", new JsonObject().put("confirm", answer));
    return r;
  }

  @Test
  void progressStreamsAsSseBeforeTheResultOnlyWhenTheRequestCarriesAProgressToken() throws Exception {
    JsonObject plain = call(50, "test_tool_with_progress", new JsonObject(), new JsonObject());
    JsonObject withToken = call(51, "test_tool_with_progress", new JsonObject(), new JsonObject());
    withToken.getJsonObject("params").getJsonObject("_meta").put("progressToken", "p-51");

    HttpResponse<String> json = post(plain, Map.of());
    HttpResponse<String> sse = post(withToken, Map.of());

    assertThat(json.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
    assertThat(sse.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
    List<JsonObject> events = sse.body().lines().filter(l -> l.startsWith("data: "))
        .map(l -> new JsonObject(l.substring(6))).toList();
    assertThat(events).hasSizeGreaterThan(1);
    assertThat(events.subList(0, events.size() - 1))
        .allMatch(e -> "notifications/progress".equals(e.getString("method"))
            && "p-51".equals(e.getJsonObject("params").getString("progressToken")));
    assertThat(events.get(events.size() - 1).getValue("id")).isEqualTo(51);
  }

  @Test
  void logMessagesReachOnlyARequestThatAskedForThemAtItsLevel() throws Exception {
    JsonObject silent = call(52, "test_logging_tool", new JsonObject(), new JsonObject());
    JsonObject verbose = call(53, "test_logging_tool", new JsonObject(), new JsonObject());
    verbose.getJsonObject("params").getJsonObject("_meta").put("io.modelcontextprotocol/logLevel", "debug");

    HttpResponse<String> quiet = post(silent, Map.of());
    HttpResponse<String> chatty = post(verbose, Map.of());

    assertThat(quiet.body()).doesNotContain("notifications/message");
    assertThat(chatty.body()).contains("notifications/message");
  }

  @Test
  void closingTheResponseStreamCancelsTheJiraCallAtJira() throws Exception {
    FakeJira.Account u = jiraUser("canc", "PX");
    String project = u.project();
    Map<String, String> h = u.headers();
    int abortedBefore = jira.stalledAborted();
    jira.stallNext("/rest/api/3/issue", 1);
    JsonObject create = call(60, "jira_create_issue", new JsonObject().put("projectKey", project)
        .put("summary", "Never").put("issueType", "Task"), new JsonObject());

    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      StringBuilder head = new StringBuilder("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
      headers(create, h).forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      byte[] body = create.encode().getBytes(StandardCharsets.UTF_8);
      head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.UTF_8));
      out.write(body);
      out.flush();
      TestServers.awaitCondition(() -> jira.creates(project) > 0);
    }

    TestServers.awaitCondition(20, () -> jira.stalledAborted() == abortedBefore + 1);
  }

  @Test
  void aListenStreamIsAcknowledgedFirstAndGetsOnlyTheChangesItAskedForTaggedWithItsId() throws Exception {
    JsonObject listen = request("sub-1", "subscriptions/listen", new JsonObject().put("_meta", meta(new JsonObject()))
        .put("notifications", new JsonObject().put("toolsListChanged", true)));
    StringBuilder head = new StringBuilder("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    headers(listen, Map.of()).forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
    byte[] body = listen.encode().getBytes(StandardCharsets.UTF_8);
    head.append("Content-Length: ").append(body.length).append("\r\n\r\n");

    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(15_000);
      socket.getOutputStream().write(head.toString().getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().write(body);
      InputStream in = socket.getInputStream();
      JsonObject ack = SseStream.nextData(in);
      answer(call(70, "test_trigger_prompt_change", new JsonObject(), new JsonObject()), Map.of());
      answer(call(71, "test_trigger_tool_change", new JsonObject(), new JsonObject()), Map.of());
      JsonObject change = SseStream.nextData(in);

      assertThat(ack.getString("method")).isEqualTo("notifications/subscriptions/acknowledged");
      assertThat(ack.getJsonObject("params").getJsonObject("_meta").getString("io.modelcontextprotocol/subscriptionId"))
          .isEqualTo("sub-1");
      assertThat(change.getString("method")).as("the prompt change was not sent").isEqualTo(
          "notifications/tools/list_changed");
      assertThat(change.getJsonObject("params").getJsonObject("_meta")
          .getString("io.modelcontextprotocol/subscriptionId")).isEqualTo("sub-1");
    }
  }

  @Test
  void listenStreamsPastTheLimitAre429AndAGracefulStopEndsTheOpenOneWithItsClosingResult() throws Exception {
    Server small = TestServers.start(Map.of("MCP_MAX_LISTEN_STREAMS", "1"));
    boolean stopped = false;
    try {
      JsonObject listen = request("only", "subscriptions/listen", new JsonObject()
          .put("_meta", meta(new JsonObject())).put("notifications", new JsonObject().put("toolsListChanged", true)));
      try (Socket first = openListen(small, listen)) {
        JsonObject ack = SseStream.nextData(first.getInputStream());
        HttpResponse<String> second = send(http, small.port(), listen.copy().put("id", "second"), Map.of());

        assertThat(ack.getString("method")).isEqualTo("notifications/subscriptions/acknowledged");
        assertThat(second.statusCode()).isEqualTo(429);
        assertThat(second.headers().firstValue("Retry-After")).isPresent();
        assertThat(new JsonObject(second.body()).getJsonObject("error").getJsonObject("data").getString("error"))
            .isEqualTo("Too_Many_Streams");
      }
      TestServers.awaitCondition(() -> small.mcp().stateless().listening() == 0);
      try (Socket again = openListen(small, listen.copy().put("id", "again"))) {
        InputStream in = again.getInputStream();
        assertThat(SseStream.nextData(in).getString("method")).isEqualTo("notifications/subscriptions/acknowledged");

        TestServers.await(small.stop());
        stopped = true;

        JsonObject closing = SseStream.nextData(in);
        assertThat(closing.getString("id")).isEqualTo("again");
        assertThat(closing.getJsonObject("result").getJsonObject("_meta")
            .getString("io.modelcontextprotocol/subscriptionId")).isEqualTo("again");
      }
    } finally {
      if (!stopped) {
        TestServers.await(small.stop());
      }
    }
  }

  private static Socket openListen(Server server, JsonObject listen) throws Exception {
    StringBuilder head = new StringBuilder("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    headers(listen, Map.of()).forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
    byte[] body = listen.encode().getBytes(StandardCharsets.UTF_8);
    head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
    Socket socket = new Socket("127.0.0.1", server.port());
    socket.setSoTimeout(15_000);
    socket.getOutputStream().write(head.toString().getBytes(StandardCharsets.UTF_8));
    socket.getOutputStream().write(body);
    return socket;
  }

}
