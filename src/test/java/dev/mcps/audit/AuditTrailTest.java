package dev.mcps.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.FakeJira;
import dev.mcps.testing.FakeLlmServer;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The audit trail (AUDIT_LOG=<file>) of a real server driven over HTTP, /chat (with a scripted model calling the
 * Jira tools against the fake Jira), MCP and /admin: one JSON line per event with its fields, and none of the
 * secrets the requests carried.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditTrailTest {

  private static final String PROVIDER_KEY = "audit-provider-key-SECRET-7d1e";
  private static final String WRONG_ADMIN_TOKEN = "wrong-admin-token-SECRET-90aa";
  private static final String ARGUMENT_MARKER = "comment-argument-MARKER-51c3";
  private static final Pattern ASK = Pattern.compile("(get|comment) ([A-Z][A-Z0-9]*-[0-9]+)");

  private Path dir;
  private Path auditFile;
  private Vertx side;
  private FakeJira jira;
  private FakeLlmServer anthropic;
  private Server server;
  private Http http;

  @BeforeAll
  void start() throws IOException {
    dir = Files.createTempDirectory("mcps-audit-test");
    auditFile = dir.resolve("audit.log");
    side = Vertx.vertx();
    jira = FakeJira.start(side);
    anthropic = FakeAnthropic.start(side, PROVIDER_KEY);
    anthropic.script(AuditTrailTest::model);
    server = TestServers.start(Map.of("AUDIT_LOG", auditFile.toString(),
        "ANTHROPIC_API_KEY", PROVIDER_KEY, "ANTHROPIC_BASE_URL", anthropic.baseUrl(),
        // No Jira change in a turn: the model's jira_add_comment is refused by the turn itself.
        "CHAT_MAX_WRITES_PER_TURN", "0"));
    http = new Http(server.port());
  }

  @AfterAll
  void stop() throws IOException {
    if (server != null) {
      TestServers.await(server.stop());
    }
    anthropic.close();
    jira.close();
    TestServers.await(side.close());
    Files.deleteIfExists(auditFile);
    Files.deleteIfExists(dir);
  }

  /** "get KEY" reads the issue, "comment KEY" comments on it; with a tool result in hand, the model answers. */
  private static JsonObject model(FakeLlmServer.Recorded request) {
    JsonArray messages = request.body().getJsonArray("messages");
    JsonObject last = messages.getJsonObject(messages.size() - 1);
    if (last.getValue("content") instanceof JsonArray blocks
        && "tool_result".equals(blocks.getJsonObject(0).getString("type"))) {
      return FakeAnthropic.message("end_turn", FakeAnthropic.text("done"));
    }
    Matcher ask = ASK.matcher(FakeAnthropic.textOf(last));
    if (!ask.find()) {
      return FakeAnthropic.message("end_turn", FakeAnthropic.text("hello"));
    }
    return ask.group(1).equals("get")
        ? FakeAnthropic.message("tool_use", FakeAnthropic.toolUse("t1", "jira_get_issue",
            new JsonObject().put("issueKey", ask.group(2))))
        : FakeAnthropic.message("tool_use", FakeAnthropic.toolUse("t1", "jira_add_comment",
            new JsonObject().put("issueKey", ask.group(2)).put("body", ARGUMENT_MARKER)));
  }

  @Test
  void everyAuditedEventIsOneJsonLineWithItsFieldsAndNoSecret() {
    String user = "auditor-" + UUID.randomUUID();
    String email = user + "@example.com";
    String token = "jira-token-" + user + "-SECRET";
    String newToken = "jira-token-2-" + user + "-SECRET";
    jira.addUser(email, token, "PAUD");
    String key = jira.addIssue("PAUD", "Audited issue", "text");

    // session_created, credentials_stored, tool_call ok with Jira's 200
    Http.Response first = chat(new JsonObject().put("userId", user).put("message", "get " + key)
        .put("jiraAuth", jiraAuth(email, token)));
    String sessionId = first.json().getString("sessionId");
    JsonObject created = awaitLine(l -> l.getString("event").equals("session_created")
        && sessionId.equals(l.getString("sessionId")));
    assertThat(created.getString("userId")).isEqualTo(user);
    JsonObject stored = awaitLine(l -> l.getString("event").equals("credentials_stored")
        && sessionId.equals(l.getString("sessionId")));
    assertThat(stored.getString("userId")).isEqualTo(user);
    assertThat(stored.getString("jiraHost")).isEqualTo("127.0.0.1");
    JsonObject ok = awaitLine(l -> isTool(l, sessionId, "jira_get_issue") && "ok".equals(l.getString("outcome")));
    assertThat(ok.getString("userId")).isEqualTo(user);
    assertThat(ok.getInteger("jiraStatus")).isEqualTo(200);
    assertThat(ok.getLong("durationMs")).isNotNull().isGreaterThanOrEqualTo(0L);

    // tool_call refused (no Jira change allowed in a turn here): the arguments are not written
    chat(new JsonObject().put("sessionId", sessionId).put("message", "comment " + key));
    JsonObject refused = awaitLine(l -> isTool(l, sessionId, "jira_add_comment"));
    assertThat(refused.getString("outcome")).isEqualTo("refused");
    assertThat(refused.containsKey("jiraStatus")).isFalse();

    // credentials_changed: the same user sends another token
    chat(new JsonObject().put("userId", user).put("message", "hi").put("jiraAuth", jiraAuth(email, newToken)));
    JsonObject changed = awaitLine(l -> l.getString("event").equals("credentials_changed")
        && sessionId.equals(l.getString("sessionId")));
    assertThat(changed.getString("userId")).isEqualTo(user);

    // MCP: headers X-User-Id and X-Jira-*, then a tool call over Streamable HTTP
    FakeJira.Account account = jira.account("mcp-auditor-", "PM");
    String mcpKey = jira.addIssue(account.project(), "Seen over MCP", "text");
    String mcpUser = account.headers().get("X-User-Id");
    McpSyncClient client = mcpClient(account.headers());
    try {
      McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest("jira_get_issue",
          Map.of("issueKey", mcpKey)));
      assertThat(result.isError()).isFalse();
    } finally {
      client.closeGracefully();
    }
    JsonObject mcpStored = awaitLine(l -> l.getString("event").equals("credentials_stored")
        && mcpUser.equals(l.getString("userId")));
    String mcpSession = mcpStored.getString("sessionId");
    awaitLine(l -> l.getString("event").equals("session_created") && mcpSession.equals(l.getString("sessionId")));
    JsonObject mcpCall = awaitLine(l -> isTool(l, mcpSession, "jira_get_issue"));
    assertThat(mcpCall.getString("outcome")).isEqualTo("ok");
    assertThat(mcpCall.getInteger("jiraStatus")).isEqualTo(200);

    // auth_failure: a wrong and a missing admin token
    assertThat(http.get("/admin/sessions", "Authorization", "Bearer " + WRONG_ADMIN_TOKEN).status()).isEqualTo(401);
    assertThat(http.get("/admin/sessions").status()).isEqualTo(401);
    JsonObject wrong = awaitLine(l -> l.getString("event").equals("auth_failure")
        && "wrong token".equals(l.getString("reason")));
    assertThat(wrong.getString("mode")).isEqualTo("admin_token");
    assertThat(wrong.getString("method")).isEqualTo("GET");
    assertThat(wrong.getString("path")).isEqualTo("/admin/sessions");
    assertThat(wrong.getString("remoteAddress")).isEqualTo("127.0.0.1");
    awaitLine(l -> l.getString("event").equals("auth_failure") && "missing token".equals(l.getString("reason")));

    // admin_action for each admin route, session_reset and session_deleted
    assertThat(http.get("/admin/sessions", Http.admin()).status()).isEqualTo(200);
    assertThat(http.get("/admin/sessions/" + sessionId, Http.admin()).status()).isEqualTo(200);
    assertThat(http.post("/admin/sessions/" + sessionId + "/reset", "", Http.admin()).status()).isEqualTo(200);
    assertThat(http.post("/admin/sessions/cleanup", "", Http.admin()).status()).isEqualTo(200);
    assertThat(http.delete("/admin/sessions/" + sessionId, Http.admin()).status()).isEqualTo(204);
    assertThat(http.delete("/admin/sessions/" + sessionId, Http.admin()).status()).isEqualTo(404);
    for (String action : List.of("list", "cleanup")) {
      assertThat(awaitLine(l -> isAdmin(l, action)).getInteger("status")).isEqualTo(200);
    }
    assertThat(awaitLine(l -> isAdmin(l, "get") && sessionId.equals(l.getString("sessionId")))
        .getInteger("status")).isEqualTo(200);
    assertThat(awaitLine(l -> isAdmin(l, "reset") && sessionId.equals(l.getString("sessionId")))
        .getInteger("status")).isEqualTo(200);
    awaitLine(l -> isAdmin(l, "delete") && sessionId.equals(l.getString("sessionId")) && l.getInteger("status") == 204);
    awaitLine(l -> isAdmin(l, "delete") && sessionId.equals(l.getString("sessionId")) && l.getInteger("status") == 404);
    awaitLine(l -> l.getString("event").equals("session_reset") && sessionId.equals(l.getString("sessionId")));
    JsonObject deleted = awaitLine(l -> l.getString("event").equals("session_deleted")
        && sessionId.equals(l.getString("sessionId")));
    assertThat(deleted.getString("reason")).isEqualTo("deleted");
    assertThat(deleted.getString("userId")).isEqualTo(user);
    assertThat(lines().stream().filter(l -> l.getString("event").equals("session_deleted")
        && sessionId.equals(l.getString("sessionId")))).hasSize(1);

    // Every line: the common fields; the file: none of the secrets used above, nor a tool argument
    for (JsonObject line : lines()) {
      assertThat(line.getString("instance")).isEqualTo(server.node().id());
      assertThat(Instant.parse(line.getString("time"))).isNotNull();
      assertThat(line.getString("time")).endsWith("Z");
    }
    String all = read();
    assertThat(all).doesNotContain(token, newToken, account.headers().get("X-Jira-Api-Token"),
        TestServers.ADMIN_TOKEN, WRONG_ADMIN_TOKEN, PROVIDER_KEY, ARGUMENT_MARKER, email, "SECRET");
  }

  @Test
  void resetsDeletesAndCleanupsAskedOnTheEventBusAreAuditedLikeTheAdminApis() {
    String sessionId = http.post("/chat", new JsonObject().put("userId", "bus-" + UUID.randomUUID())
        .put("message", "hello")).json().getString("sessionId");
    io.vertx.core.eventbus.EventBus bus = server.vertx().eventBus();
    JsonObject target = new JsonObject().put("sessionId", sessionId);
    TestServers.await(bus.request("mcps.sessions.reset", target));
    TestServers.await(bus.request("mcps.sessions.cleanup", new JsonObject()));
    TestServers.await(bus.request("mcps.sessions.delete", target));
    Throwable gone = TestServers.await(bus.request("mcps.sessions.delete", target)
        .map((Throwable) null).otherwise(err -> err));
    assertThat(gone).as("the second delete finds nothing").isNotNull();
    TestServers.await(bus.request("mcps.sessions.get", target).otherwiseEmpty());

    assertThat(awaitLine(l -> isAdmin(l, "reset") && sessionId.equals(l.getString("sessionId"))
        && "eventbus".equals(l.getString("remoteAddress"))).getInteger("status")).isEqualTo(200);
    awaitLine(l -> isAdmin(l, "cleanup") && "eventbus".equals(l.getString("remoteAddress")));
    awaitLine(l -> isAdmin(l, "delete") && sessionId.equals(l.getString("sessionId")) && l.getInteger("status") == 204
        && "eventbus".equals(l.getString("remoteAddress")));
    awaitLine(l -> isAdmin(l, "delete") && sessionId.equals(l.getString("sessionId")) && l.getInteger("status") == 404
        && "eventbus".equals(l.getString("remoteAddress")));
    assertThat(lines().stream().filter(l -> isAdmin(l, "get") && sessionId.equals(l.getString("sessionId"))))
        .as("reads on the bus are not admin actions").isEmpty();
  }

  @Test
  void aToolCallThatFailsAtJiraIsAnErrorWithJirasStatus() {
    String user = "auditor-err-" + UUID.randomUUID();
    String email = user + "@example.com";
    jira.addUser(email, "tok-" + user, "PERR");
    String key = jira.addIssue("PERR", "Failing issue", "text");
    JsonObject auth = jiraAuth(email, "tok-" + user);

    String sessionId = chat(new JsonObject().put("userId", user).put("message", "get PERR-999").put("jiraAuth", auth))
        .json().getString("sessionId");
    JsonObject notFound = awaitLine(l -> isTool(l, sessionId, "jira_get_issue"));
    assertThat(notFound.getString("outcome")).isEqualTo("error");
    assertThat(notFound.getInteger("jiraStatus")).isEqualTo(404);

    jira.failNext("/rest/api/3/issue/" + key, 500, 1, null);
    chat(new JsonObject().put("sessionId", sessionId).put("message", "get " + key));
    JsonObject failed = awaitLine(l -> isTool(l, sessionId, "jira_get_issue") && l.getInteger("jiraStatus") == 500);
    assertThat(failed.getString("outcome")).isEqualTo("error");
    assertThat(lines().stream().filter(l -> isTool(l, sessionId, "jira_get_issue"))).hasSize(2);
  }

  @Test
  void aToolCallTheMcpClientCancelsIsWrittenAsCancelled() throws Exception {
    FakeJira.Account account = jira.account("mcp-cancel-", "PC");
    String email = account.headers().get("X-Jira-Email");
    jira.stallNext("/rest/api/3/issue", 1);
    HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String mcpSession = raw.send(mcpRequest(null, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
            + "\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
            + "\"clientInfo\":{\"name\":\"raw\",\"version\":\"1\"}}}", account.headers()),
        HttpResponse.BodyHandlers.ofString()).headers().firstValue("Mcp-Session-Id").orElseThrow();
    CompletableFuture<HttpResponse<String>> call = raw.sendAsync(mcpRequest(mcpSession, "{\"jsonrpc\":\"2.0\","
        + "\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"jira_create_issue\",\"arguments\":{"
        + "\"projectKey\":\"" + account.project() + "\",\"summary\":\"Never\",\"issueType\":\"Task\"}}}", Map.of()),
        HttpResponse.BodyHandlers.ofString());
    TestServers.awaitCondition(10, () -> jira.requests().stream()
        .anyMatch(r -> r.method().equals("POST") && email.equals(r.email())));

    raw.send(mcpRequest(mcpSession, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
        + "\"params\":{\"requestId\":7}}", Map.of()), HttpResponse.BodyHandlers.discarding());

    JsonObject cancelled = awaitLine(l -> l.getString("event").equals("tool_call")
        && account.headers().get("X-User-Id").equals(l.getString("userId"))
        && "jira_create_issue".equals(l.getString("tool")));
    assertThat(cancelled.getString("outcome")).isEqualTo("cancelled");
    assertThat(cancelled.containsKey("jiraStatus")).as("Jira never answered").isFalse();
    call.cancel(true);
  }

  // --- helpers ---

  private Http.Response chat(JsonObject body) {
    Http.Response r = http.post("/chat", body);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r;
  }

  private JsonObject jiraAuth(String email, String token) {
    return new JsonObject().put("baseUrl", jira.baseUrl()).put("email", email).put("apiToken", token);
  }

  private McpSyncClient mcpClient(Map<String, String> headers) {
    HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport
        .builder("http://127.0.0.1:" + server.port()).endpoint("/mcp")
        .httpRequestCustomizer((req, method, uri, body, ctx) -> headers.forEach(req::header))
        .build();
    McpSyncClient client = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(30)).build();
    client.initialize();
    return client;
  }

  private HttpRequest mcpRequest(String mcpSession, String body, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/mcp"))
        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream").POST(HttpRequest.BodyPublishers.ofString(body));
    if (mcpSession != null) {
      b.header("Mcp-Session-Id", mcpSession);
    }
    headers.forEach(b::header);
    return b.build();
  }

  private static boolean isTool(JsonObject line, String sessionId, String tool) {
    return line.getString("event").equals("tool_call") && sessionId.equals(line.getString("sessionId"))
        && tool.equals(line.getString("tool"));
  }

  private static boolean isAdmin(JsonObject line, String action) {
    return line.getString("event").equals("admin_action") && action.equals(line.getString("action"));
  }

  /** The first line that matches, once the writer thread has put it in the file (bounded wait). */
  private JsonObject awaitLine(Predicate<JsonObject> match) {
    JsonObject[] found = new JsonObject[1];
    TestServers.awaitCondition(10, () -> {
      found[0] = lines().stream().filter(match).findFirst().orElse(null);
      return found[0] != null;
    });
    return found[0];
  }

  private List<JsonObject> lines() {
    return read().lines().map(JsonObject::new).toList();
  }

  private String read() {
    try {
      return Files.exists(auditFile) ? Files.readString(auditFile) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
