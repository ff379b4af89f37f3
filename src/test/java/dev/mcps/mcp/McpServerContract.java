package dev.mcps.mcp;

import static dev.mcps.testing.Http.admin;
import static org.assertj.core.api.Assertions.assertThat;

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

  private Http http() {
    return new Http(server.port());
  }
}
