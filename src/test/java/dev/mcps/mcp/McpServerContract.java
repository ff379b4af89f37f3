package dev.mcps.mcp;

import static dev.mcps.testing.Http.admin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcps.Server;
import dev.mcps.testing.FakeJira;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientSseClientTransport;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The whole server over MCP with the SDK's own clients, on both transports: tools, prompts, per-user isolation,
 * session recovery, the Jira tools against the fake Jira. Subclasses run it on memory and on a real Redis.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class McpServerContract {

  enum Kind { SSE, STREAMABLE }

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  protected Server server;
  private Vertx side;
  private FakeJira jira;
  private final List<Server> extra = new ArrayList<>();

  protected abstract Map<String, String> storeEnv();

  @BeforeAll
  void start() {
    side = Vertx.vertx();
    jira = FakeJira.start(side);
    server = startServer(Map.of());
  }

  @AfterAll
  void stop() {
    for (Server s : extra) {
      TestServers.await(s.stop());
    }
    TestServers.await(server.stop());
    jira.close();
    TestServers.await(side.close());
  }

  private Server startServer(Map<String, String> settings) {
    Map<String, String> env = new HashMap<>(storeEnv());
    env.put("MCP_KEEP_ALIVE_SECONDS", "1");
    env.putAll(settings);
    return TestServers.start(env);
  }

  private static String base(Server s) {
    return "http://127.0.0.1:" + s.port();
  }

  /** An initialized SDK client; {@code query} selects the session (userId=… or sessionId=…), headers are extra. */
  McpSyncClient client(Server s, Kind kind, String query, Map<String, String> headers) {
    McpSyncClient client;
    if (kind == Kind.SSE) {
      HttpClientSseClientTransport t = HttpClientSseClientTransport.builder(base(s))
          .sseEndpoint("/mcp/sse" + (query == null ? "" : "?" + query))
          .httpRequestCustomizer((req, method, uri, body, ctx) -> headers.forEach(req::header))
          .build();
      client = McpClient.sync(t).requestTimeout(TIMEOUT).build();
    } else {
      Map<String, String> all = new HashMap<>(headers);
      if (query != null) {
        String[] kv = query.split("=", 2);
        all.put(kv[0].equals("userId") ? "X-User-Id" : "X-Session-Id", kv[1]);
      }
      HttpClientStreamableHttpTransport t = HttpClientStreamableHttpTransport.builder(base(s)).endpoint("/mcp")
          .httpRequestCustomizer((req, method, uri, body, ctx) -> all.forEach(req::header))
          .build();
      client = McpClient.sync(t).requestTimeout(TIMEOUT).build();
    }
    client.initialize();
    return client;
  }

  McpSyncClient client(Kind kind, String user) {
    return client(server, kind, "userId=" + user, Map.of());
  }

  static String text(McpSchema.CallToolResult r) {
    return ((McpSchema.TextContent) r.content().get(0)).text();
  }

  static McpSchema.CallToolResult call(McpSyncClient c, String tool, Map<String, Object> args) {
    return c.callTool(new McpSchema.CallToolRequest(tool, args));
  }

  static String sessionOf(McpSyncClient c) {
    return new JsonObject(text(call(c, "session_info", Map.of()))).getString("sessionId");
  }

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void toolsAndPromptsWorkOverEachTransport(Kind kind) {
    McpSyncClient c = client(kind, unique("lister"));
    try {
      List<String> tools = c.listTools().tools().stream().map(McpSchema.Tool::name).toList();
      assertThat(tools).contains("session_info", "notes_set", "notes_get", "notes_delete", "jira_get_issue",
          "jira_search", "jira_create_issue", "jira_update_issue", "jira_add_comment", "jira_get_transitions",
          "jira_transition_issue", "jira_list_projects");
      assertThat(call(c, "notes_set", Map.of("key", "k", "value", "v")).isError()).isFalse();
      assertThat(text(call(c, "notes_get", Map.of("key", "k")))).isEqualTo("\"v\"");
      McpSchema.CallToolResult bad = call(c, "notes_set", Map.of("value", 1));
      assertThat(bad.isError()).isTrue();
      assertThat(text(bad)).contains("'key'");

      assertThat(c.listPrompts().prompts().stream().map(McpSchema.Prompt::name))
          .contains("jira_triage", "jira_standup");
      McpSchema.GetPromptResult prompt = c.getPrompt(new McpSchema.GetPromptRequest("jira_triage",
          Map.of("issueKey", "PROJ-9")));
      assertThat(((McpSchema.TextContent) prompt.messages().get(0).content()).text()).contains("PROJ-9");
      c.ping();
    } finally {
      c.closeGracefully();
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aCallToAnUnknownToolIsAnErrorNamingThatTool(Kind kind) {
    McpSyncClient c = client(kind, unique("typo"));
    try {
      assertThatThrownBy(() -> c.callTool(new McpSchema.CallToolRequest("jira_get_isue", Map.of("issueKey", "P-1"))))
          .isInstanceOf(io.modelcontextprotocol.spec.McpError.class)
          .hasMessageContaining("Unknown tool: jira_get_isue")
          .hasMessageNotContaining("invalid_tool_name");
    } finally {
      c.closeGracefully();
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aReadOnlyServerNeitherListsNorRunsWriteToolsAndSaysWhy(Kind kind) {
    Server readOnly = startServer(Map.of("JIRA_READ_ONLY", "true"));
    extra.add(readOnly);
    McpSyncClient c = client(readOnly, kind, "userId=" + unique("reader"), Map.of());
    try {
      List<String> tools = c.listTools().tools().stream().map(McpSchema.Tool::name).toList();
      assertThat(tools).contains("jira_get_issue", "notes_get").doesNotContain("jira_create_issue",
          "jira_update_issue", "jira_add_comment", "jira_transition_issue");

      int jiraCallsBefore = jira.requests().size();
      McpSchema.CallToolResult refused = call(c, "jira_create_issue", Map.of("projectKey", "P", "summary", "s"));

      assertThat(refused.isError()).isTrue();
      assertThat(text(refused)).isEqualTo("Tool jira_create_issue is refused: this server is read-only "
          + "(JIRA_READ_ONLY=true) and allows no Jira changes");
      assertThat(jira.requests()).as("nothing reached Jira").hasSize(jiraCallsBefore);
    } finally {
      c.closeGracefully();
    }
  }

  @Test
  void aHundredConcurrentClientsOfAHundredUsersOnlyEverReadTheirOwnNotes() throws Exception {
    int users = 100;
    int rounds = 10;
    String run = UUID.randomUUID().toString().substring(0, 6);
    Map<String, String> wrong = new ConcurrentHashMap<>();
    inParallel(users, u -> {
      String user = "iso-" + run + "-" + u;
      McpSyncClient c = client(u % 2 == 0 ? Kind.SSE : Kind.STREAMABLE, user);
      try {
        for (int r = 0; r < rounds; r++) {
          String value = user + "/round-" + r;
          call(c, "notes_set", Map.of("key", "mine", "value", value));
          String read = text(call(c, "notes_get", Map.of("key", "mine")));
          if (!read.equals("\"" + value + "\"")) {
            wrong.put(user + " round " + r, read);
          }
          JsonObject all = new JsonObject(text(call(c, "notes_get", Map.of())));
          if (all.size() != 1) {
            wrong.put(user + " all " + r, all.encode());
          }
        }
      } finally {
        c.closeGracefully();
      }
    });
    assertThat(wrong).isEmpty();
  }

  @Test
  void reconnectingWithTheSessionIdFindsTheSameNotesAndBothTransportsShareTheUsersSession() {
    String user = unique("returning");
    McpSyncClient first = client(Kind.STREAMABLE, user);
    call(first, "notes_set", Map.of("key", "remember", "value", "the milk"));
    String sessionId = sessionOf(first);
    first.closeGracefully();

    McpSyncClient again = client(server, Kind.SSE, "sessionId=" + sessionId, Map.of());
    McpSyncClient sameUser = client(Kind.SSE, user);
    try {
      assertThat(text(call(again, "notes_get", Map.of("key", "remember")))).isEqualTo("\"the milk\"");
      assertThat(sessionOf(again)).isEqualTo(sessionId);
      assertThat(sessionOf(sameUser)).isEqualTo(sessionId);
      assertThat(http().get("/admin/sessions/" + sessionId, admin()).json().getBoolean("hasMcpConnection")).isTrue();
    } finally {
      again.closeGracefully();
      sameUser.closeGracefully();
    }
  }

  @Test
  void connectingWithNeitherSessionNorUserCreatesAnAnonymousSession() {
    McpSyncClient c = client(server, Kind.STREAMABLE, null, Map.of());
    try {
      JsonObject info = new JsonObject(text(call(c, "session_info", Map.of())));
      assertThat(info.getString("userId")).isNull();
      assertThat(info.getString("sessionId")).hasSize(32);
    } finally {
      c.closeGracefully();
    }
  }

  @Test
  void anUnknownSessionIsRefusedWith404AndAnotherUsersWith403() throws Exception {
    String owner = unique("owner");
    McpSyncClient c = client(Kind.STREAMABLE, owner);
    String id = sessionOf(c);
    c.closeGracefully();
    HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String unknown = "0".repeat(32);

    HttpResponse<String> sse404 = raw.send(HttpRequest.newBuilder(URI.create(base(server) + "/mcp/sse?sessionId="
        + unknown)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> init404 = raw.send(initialize(base(server), Map.of("X-Session-Id", unknown)),
        HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> init403 = raw.send(initialize(base(server), Map.of("X-Session-Id", id,
        "X-User-Id", unique("intruder"))), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> origin403 = raw.send(initialize(base(server), Map.of("Origin", "https://evil.example")),
        HttpResponse.BodyHandlers.ofString());

    assertThat(sse404.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(sse404.body()).getString("error")).isEqualTo("Session_Not_Found");
    assertThat(init404.statusCode()).isEqualTo(404);
    assertThat(init403.statusCode()).isEqualTo(403);
    assertThat(origin403.statusCode()).isEqualTo(403);
  }

  static HttpRequest initialize(String base, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/mcp")).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
            + "\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
            + "\"clientInfo\":{\"name\":\"raw\",\"version\":\"1\"}}}"));
    headers.forEach(b::header);
    return b.build();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void jiraToolsActWithTheCredentialsSentAtConnect(Kind kind) {
    String user = unique("jira").replace("-", "");
    String project = "P" + user.toUpperCase().substring(4, 10).replaceAll("[^A-Z]", "X");
    jira.addUser(user + "@example.com", "tok-" + user, project);
    String key = jira.addIssue(project, "Connect-header issue", "details");
    Map<String, String> creds = Map.of("X-Jira-Base-Url", jira.baseUrl(), "X-Jira-Email", user + "@example.com",
        "X-Jira-Api-Token", "tok-" + user);
    McpSyncClient c = client(server, kind, "userId=" + user, creds);
    try {
      McpSchema.CallToolResult issue = call(c, "jira_get_issue", Map.of("issueKey", key));
      McpSchema.CallToolResult comment = call(c, "jira_add_comment", Map.of("issueKey", key, "body", "via MCP"));

      assertThat(text(issue)).startsWith(key + ": Connect-header issue");
      assertThat(comment.isError()).isFalse();
      assertThat(jira.requests().stream().filter(r -> r.path().contains(key)))
          .hasSize(2).allMatch(r -> r.email().equals(user + "@example.com") && r.token().equals("tok-" + user));
      assertThat(text(issue)).doesNotContain("tok-" + user);
    } finally {
      c.closeGracefully();
    }
  }

  /** A Jira user with one project and issue on the fake, and the X-Jira-* headers that carry their credentials. */
  private record JiraUser(String name, String project, String key, Map<String, String> headers) {}

  private JiraUser jiraUser(String prefix) {
    String name = unique(prefix).replace("-", "");
    String project = "P" + name.toUpperCase().replaceAll("[^A-Z0-9]", "").substring(0, 12);
    jira.addUser(name + "@example.com", "tok-" + name, project);
    String key = jira.addIssue(project, "Issue of " + name, "details of " + name);
    return new JiraUser(name, project, key, Map.of("X-Jira-Base-Url", jira.baseUrl(),
        "X-Jira-Email", name + "@example.com", "X-Jira-Api-Token", "tok-" + name));
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void everyJiraToolWorksEndToEndOverMcp(Kind kind) {
    JiraUser u = jiraUser("alltools");
    McpSyncClient c = client(server, kind, "userId=" + u.name(), u.headers());
    try {
      assertThat(text(call(c, "jira_list_projects", Map.of()))).contains(u.project());
      assertThat(text(call(c, "jira_search", Map.of("jql", "project = " + u.project(), "maxResults", 10))))
          .contains(u.key());
      McpSchema.CallToolResult made = call(c, "jira_create_issue", Map.of("projectKey", u.project(),
          "summary", "Made over MCP", "issueType", "Task", "description", "line one\n\n- bullet"));
      String created = String.valueOf(((Map<?, ?>) made.structuredContent()).get("key"));
      assertThat(text(made)).isEqualTo("Created " + created + ".");
      assertThat(jira.issue(created).getJsonObject("fields").getJsonObject("description").getJsonArray("content")
          .getJsonObject(1).getString("type")).isEqualTo("bulletList");
      assertThat(call(c, "jira_update_issue", Map.of("issueKey", u.key(), "fields", Map.of("summary", "Renamed")))
          .isError()).isFalse();
      assertThat(text(call(c, "jira_get_transitions", Map.of("issueKey", u.key())))).contains("Done");
      assertThat(text(call(c, "jira_transition_issue", Map.of("issueKey", u.key(), "transition", "Done",
          "comment", "closing")))).contains("to Done");
      assertThat(call(c, "jira_add_comment", Map.of("issueKey", u.key(), "body", "hello")).isError()).isFalse();
      String read = text(call(c, "jira_get_issue", Map.of("issueKey", u.key())));
      assertThat(read).contains("Renamed").contains("Status: Done").contains("closing").contains("hello");
      assertThat(jira.requests().stream().filter(r -> r.email() != null && r.email().startsWith(u.name())))
          .hasSizeGreaterThanOrEqualTo(9).allMatch(r -> r.token().equals("tok-" + u.name()));
    } finally {
      c.closeGracefully();
    }
  }

  @Test
  void fiftyConcurrentMcpUsersReachJiraWithExactlyTheirOwnCredentials() throws Exception {
    int users = 50;
    List<JiraUser> all = new ArrayList<>();
    for (int i = 0; i < users; i++) {
      all.add(jiraUser("conc"));
    }
    Map<String, String> wrong = new ConcurrentHashMap<>();
    inParallel(users, i -> {
      JiraUser u = all.get(i);
      McpSyncClient c = client(server, i % 2 == 0 ? Kind.SSE : Kind.STREAMABLE, "userId=" + u.name(), u.headers());
      try {
        for (int r = 0; r < 3; r++) {
          String issue = text(call(c, "jira_get_issue", Map.of("issueKey", u.key())));
          if (!issue.startsWith(u.key() + ": Issue of " + u.name())) {
            wrong.put(u.name() + " get " + r, issue);
          }
          call(c, "jira_add_comment", Map.of("issueKey", u.key(), "body", "by " + u.name()));
        }
      } finally {
        c.closeGracefully();
      }
    });
    assertThat(wrong).isEmpty();
    for (JiraUser u : all) {
      List<FakeJira.Recorded> mine = jira.requests().stream().filter(r -> r.path().contains(u.key())).toList();
      assertThat(mine).hasSize(6).allMatch(r -> r.email().equals(u.name() + "@example.com")
          && r.token().equals("tok-" + u.name()));
    }
  }

  @Test
  void aJiraBaseUrlOffTheAllowlistRefusesTheConnectionAndNothingReachesIt() throws Exception {
    int before = jira.requests().size();
    HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpResponse<String> r = raw.send(initialize(base(server), Map.of("X-User-Id", unique("evil"),
        "X-Jira-Base-Url", "https://attacker.example.com", "X-Jira-Email", "a@b.c", "X-Jira-Api-Token", "t")),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("Invalid_Jira_Base_Url");
    assertThat(new JsonObject(r.body()).getString("message"))
        .isEqualTo("X-Jira-Base-Url host attacker.example.com is not allowed (JIRA_ALLOWED_HOSTS)");
    assertThat(jira.requests()).hasSize(before);
  }

  @Test
  void whenTheUserSessionExpiresItsMcpStreamIsClosed() throws Exception {
    Server s = startServer(Map.of("SESSION_TIMEOUT_SECONDS", "1", "SESSION_CLEANUP_INTERVAL_SECONDS", "1"));
    extra.add(s);
    HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpResponse<java.util.stream.Stream<String>> stream = raw.send(HttpRequest.newBuilder(
            URI.create(base(s) + "/mcp/sse?userId=" + unique("expiring"))).build(),
        HttpResponse.BodyHandlers.ofLines());
    assertThat(stream.statusCode()).isEqualTo(200);
    CompletableFuture<Long> ended = CompletableFuture.supplyAsync(() -> stream.body().count());
    assertThat(ended.get(30, TimeUnit.SECONDS)).as("the stream ended").isPositive();
  }

  /** Runs {@code task(0..n-1)} on n threads at once (each an SDK sync client) and waits for all of them. */
  private static void inParallel(int n, java.util.function.IntConsumer task) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int k = i;
        done.add(pool.submit(() -> task.accept(k)));
      }
      for (Future<?> f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aStreamableSessionNobodyAddressesIsEndedButTheUserSessionStays() throws Exception {
    Server s = startServer(Map.of("MCP_SESSION_IDLE_SECONDS", "1"));
    extra.add(s);
    HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String user = unique("forgetful");
    HttpResponse<String> init = raw.send(initialize(base(s), Map.of("X-User-Id", user)),
        HttpResponse.BodyHandlers.ofString());
    String mcpSession = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
    HttpRequest list = HttpRequest.newBuilder(URI.create(base(s) + "/mcp")).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .header("Mcp-Session-Id", mcpSession)
        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}")).build();

    Http admin = new Http(s.port());
    String sessionId = admin.get("/admin/sessions?limit=1000", admin()).json().getJsonArray("sessions").stream()
        .map(o -> (JsonObject) o).filter(o -> user.equals(o.getString("userId"))).findFirst().orElseThrow()
        .getString("sessionId");
    assertThat(admin.get("/admin/sessions/" + sessionId, admin()).json().getBoolean("hasMcpConnection")).isTrue();

    // Watched through admin, which does not address the MCP session (any request to it would keep it alive).
    long deadline = System.currentTimeMillis() + 30_000;
    while (admin.get("/admin/sessions/" + sessionId, admin()).json().getBoolean("hasMcpConnection")
        && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }

    assertThat(raw.send(list, HttpResponse.BodyHandlers.discarding()).statusCode())
        .as("the idle MCP session was ended").isEqualTo(404);
    assertThat(admin.get("/admin/sessions/" + sessionId, admin()).status()).as("the user session stays").isEqualTo(200);
  }

  @Test
  void aUserSessionHoldsAtMostTheConnectionLimitAndAnEndedConnectionFreesItsSlot() throws Exception {
    Server s = startServer(Map.of("MCP_MAX_CONNECTIONS_PER_USER", "3"));
    extra.add(s);
    HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String user = unique("greedy");
    HttpRequest sse = HttpRequest.newBuilder(URI.create(base(s) + "/mcp/sse?userId=" + user)).build();
    HttpResponse<java.io.InputStream> stream = raw.send(sse, HttpResponse.BodyHandlers.ofInputStream());
    String first = raw.send(initialize(base(s), Map.of("X-User-Id", user)), HttpResponse.BodyHandlers.ofString())
        .headers().firstValue("Mcp-Session-Id").orElseThrow();
    assertThat(raw.send(initialize(base(s), Map.of("X-User-Id", user)), HttpResponse.BodyHandlers.discarding())
        .statusCode()).isEqualTo(200);
    assertThat(stream.statusCode()).isEqualTo(200);

    HttpResponse<String> refused = raw.send(initialize(base(s), Map.of("X-User-Id", user)),
        HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> refusedSse = raw.send(sse, HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> otherUser = raw.send(initialize(base(s), Map.of("X-User-Id", unique("modest"))),
        HttpResponse.BodyHandlers.ofString());

    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(new JsonObject(refused.body()).getString("error")).isEqualTo("Too_Many_Connections");
    assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    assertThat(refused.headers().firstValue("Mcp-Session-Id")).isEmpty();
    assertThat(refusedSse.statusCode()).isEqualTo(429);
    assertThat(otherUser.statusCode()).isEqualTo(200);

    // A DELETE frees its slot at once.
    HttpRequest delete = HttpRequest.newBuilder(URI.create(base(s) + "/mcp")).header("Mcp-Session-Id", first)
        .DELETE().build();
    assertThat(raw.send(delete, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(204);
    assertThat(raw.send(initialize(base(s), Map.of("X-User-Id", user)), HttpResponse.BodyHandlers.discarding())
        .statusCode()).isEqualTo(200);

    // A stream the client leaves frees its slot once the server has seen it go.
    stream.body().close();
    long deadline = System.currentTimeMillis() + 20_000;
    int status = 429;
    while (status == 429 && System.currentTimeMillis() < deadline) {
      status = raw.send(initialize(base(s), Map.of("X-User-Id", user)), HttpResponse.BodyHandlers.discarding())
          .statusCode();
      if (status == 429) {
        Thread.sleep(50);
      }
    }
    assertThat(status).isEqualTo(200);
  }

  @Test
  void aRequestNamingAnotherUserThanTheMcpSessionsIs403AndCannotDeleteIt() throws Exception {
    HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String owner = unique("owner");
    String mcpSession = raw.send(initialize(base(server), Map.of("X-User-Id", owner)),
        HttpResponse.BodyHandlers.ofString()).headers().firstValue("Mcp-Session-Id").orElseThrow();
    java.util.function.BiFunction<String, String, HttpRequest> notesGet = (header, value) -> {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base(server) + "/mcp"))
          .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
          .header("Mcp-Session-Id", mcpSession)
          .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
              + "\"params\":{\"name\":\"notes_get\",\"arguments\":{}}}"));
      return header == null ? b.build() : b.header(header, value).build();
    };

    HttpResponse<String> intruder = raw.send(notesGet.apply("X-User-Id", unique("intruder")),
        HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> otherSession = raw.send(notesGet.apply("X-Session-Id", "f".repeat(32)),
        HttpResponse.BodyHandlers.ofString());
    HttpResponse<Void> delete = raw.send(HttpRequest.newBuilder(URI.create(base(server) + "/mcp"))
        .header("Mcp-Session-Id", mcpSession).header("X-User-Id", unique("intruder")).DELETE().build(),
        HttpResponse.BodyHandlers.discarding());

    assertThat(intruder.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(intruder.body()).getString("error")).isEqualTo("Session_Forbidden");
    assertThat(otherSession.statusCode()).isEqualTo(403);
    assertThat(delete.statusCode()).isEqualTo(403);
    assertThat(raw.send(notesGet.apply("X-User-Id", owner), HttpResponse.BodyHandlers.discarding()).statusCode())
        .isEqualTo(200);
    assertThat(raw.send(notesGet.apply(null, null), HttpResponse.BodyHandlers.discarding()).statusCode())
        .as("neither header: the connection's own").isEqualTo(200);
  }

  @Test
  void malformedQueryStringsAndBadParamsGetCleanErrorsWithoutJavaText() throws Exception {
    List<String> bodies = new ArrayList<>();
    for (String request : List.of(
        "GET /mcp/sse?userId=%ZZ", "GET /mcp/sse?sessionId=%", "POST /mcp/message?sessionId=%",
        "POST /mcp?userId=%ZZ", "POST /mcp?sessionId=%")) {
      String[] answer = rawExchange(server.port(), request, "{}");
      assertThat(answer[0]).as(request).contains(" 400 ");
      assertThat(new JsonObject(answer[1]).getString("error")).as(request).isEqualTo("Invalid_Request");
      bodies.add(answer[1]);
    }
    HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpResponse<String> noParams = raw.send(HttpRequest.newBuilder(URI.create(base(server) + "/mcp"))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(noParams.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(noParams.body()).getJsonObject("error").getInteger("code")).isEqualTo(-32602);
    bodies.add(noParams.body());

    String mcpSession = raw.send(initialize(base(server), Map.of("X-User-Id", unique("sloppy"))),
        HttpResponse.BodyHandlers.ofString()).headers().firstValue("Mcp-Session-Id").orElseThrow();
    for (String request : List.of(
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"logging/setLevel\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"notes_get\",\"arguments\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"prompts/get\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"prompts/get\",\"params\":{\"name\":[]}}")) {
      HttpResponse<String> r = raw.send(HttpRequest.newBuilder(URI.create(base(server) + "/mcp"))
          .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
          .header("Mcp-Session-Id", mcpSession).POST(HttpRequest.BodyPublishers.ofString(request)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(request).isEqualTo(200);
      assertThat(new JsonObject(r.body()).getJsonObject("error").getInteger("code")).as(request).isEqualTo(-32602);
      bodies.add(r.body());
    }
    assertThat(bodies).allSatisfy(b -> assertThat(b).doesNotContain("java.", "Exception", "at dev."));
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aCancelledJiraCreateIsAbortedAtJiraAndGetsNoResult(Kind kind) throws Exception {
    JiraUser u = jiraUser("cancel");
    int abortedBefore = jira.stalledAborted();
    jira.stallNext("/rest/api/3/issue", 1);
    String create = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
        + "\"jira_create_issue\",\"arguments\":{\"projectKey\":\"" + u.project() + "\",\"summary\":\"Never\","
        + "\"issueType\":\"Task\"}}}";
    String cancel = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":7,"
        + "\"reason\":\"wrong project\"}}";
    String ping = "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}";
    Map<String, String> headers = new HashMap<>(u.headers());
    headers.put("X-User-Id", u.name());
    HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    if (kind == Kind.STREAMABLE) {
      String mcpSession = raw.send(initialize(base(server), headers), HttpResponse.BodyHandlers.ofString()).headers()
          .firstValue("Mcp-Session-Id").orElseThrow();
      CompletableFuture<HttpResponse<String>> call = raw.sendAsync(mcpPost(mcpSession, create),
          HttpResponse.BodyHandlers.ofString());
      awaitCreateReachedJira(u);

      assertThat(raw.send(mcpPost(mcpSession, cancel), HttpResponse.BodyHandlers.discarding()).statusCode())
          .isEqualTo(202);

      awaitAbortedAtJira(abortedBefore);
      HttpResponse<String> answered = call.get(10, TimeUnit.SECONDS);
      assertThat(answered.body()).as("no result for a cancelled request").doesNotContain("\"id\":7");
      assertThat(raw.send(mcpPost(mcpSession, ping), HttpResponse.BodyHandlers.ofString()).body()).contains("\"id\":8");
    } else {
      HttpResponse<java.io.InputStream> stream = raw.send(HttpRequest.newBuilder(URI.create(base(server)
          + "/mcp/sse?userId=" + u.name())).headers(u.headers().entrySet().stream()
          .flatMap(e -> java.util.stream.Stream.of(e.getKey(), e.getValue())).toArray(String[]::new)).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      try (java.io.BufferedReader lines = new java.io.BufferedReader(
          new java.io.InputStreamReader(stream.body(), java.nio.charset.StandardCharsets.UTF_8))) {
        String endpoint = base(server) + dataAfter(lines, "event: endpoint");
        postTo(raw, endpoint, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
            + "\"protocolVersion\":\"2024-11-05\",\"capabilities\":{},\"clientInfo\":{\"name\":\"raw\",\"version\":\"1\"}}}");
        assertThat(dataAfter(lines, "event: message")).contains("\"id\":1");
        postTo(raw, endpoint, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        postTo(raw, endpoint, create);
        awaitCreateReachedJira(u);

        assertThat(postTo(raw, endpoint, cancel)).isEqualTo(202);

        awaitAbortedAtJira(abortedBefore);
        assertThat(postTo(raw, endpoint, ping)).isEqualTo(202);
        // One stream, in order: the ping's answer is the next message, the cancelled call's never came.
        assertThat(dataAfter(lines, "event: message")).contains("\"id\":8");
      }
    }
    assertThat(jira.requests().stream().filter(r -> r.method().equals("POST") && r.path().equals("/rest/api/3/issue")
        && u.name().concat("@example.com").equals(r.email()))).as("one create attempt, never retried").hasSize(1);
  }

  private void awaitCreateReachedJira(JiraUser u) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 20_000;
    while (jira.requests().stream().noneMatch(r -> r.path().equals("/rest/api/3/issue")
        && u.name().concat("@example.com").equals(r.email())) && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
  }

  private void awaitAbortedAtJira(int before) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 20_000;
    while (jira.stalledAborted() == before && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    assertThat(jira.stalledAborted()).as("the stalled create was aborted").isEqualTo(before + 1);
  }

  private HttpRequest mcpPost(String mcpSession, String body) {
    return HttpRequest.newBuilder(URI.create(base(server) + "/mcp")).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .header("Mcp-Session-Id", mcpSession).POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  static int postTo(HttpClient raw, String url, String body) throws Exception {
    return raw.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /** The data of the next SSE event named by {@code eventLine}, skipping keep-alives and other events. */
  static String dataAfter(java.io.BufferedReader lines, String eventLine) throws java.io.IOException {
    String line;
    while ((line = lines.readLine()) != null && !line.equals(eventLine)) {
      // not the event we wait for
    }
    String data = lines.readLine();
    assertThat(data).startsWith("data: ");
    return data.substring("data: ".length());
  }

  /** One request on a bare socket (a malformed query cannot go through java.net.URI): status line and body. */
  private static String[] rawExchange(int port, String requestLine, String body) throws Exception {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      String request = requestLine + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json\r\n"
          + "Accept: application/json, text/event-stream\r\nContent-Length: " + body.length()
          + "\r\nConnection: close\r\n\r\n" + body;
      socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      String response = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      int split = response.indexOf("\r\n\r\n");
      return new String[] {response.substring(0, response.indexOf("\r\n")), response.substring(split + 4)};
    }
  }

  private Http http() {
    return new Http(server.port());
  }
}
