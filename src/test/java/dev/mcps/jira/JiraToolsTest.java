package dev.mcps.jira;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.config.ServerConfig;
import dev.mcps.session.JiraCredentials;
import dev.mcps.testing.FakeJira;
import dev.mcps.testing.TestServers;
import dev.mcps.tools.SessionTools;
import dev.mcps.tools.Tool;
import dev.mcps.tools.ToolCalls;
import dev.mcps.tools.ToolCatalog;
import dev.mcps.tools.ToolResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Jira tools against a fake Jira that records which credentials every request carried. */
class JiraToolsTest {

  private Vertx vertx;
  private JiraToolsHarness harness;
  private FakeJira jira;
  private JiraClient client;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    harness = new JiraToolsHarness(vertx);
    jira = FakeJira.start(vertx);
    deploy(config(false, false));
  }

  @AfterEach
  void tearDown() {
    jira.close();
    TestServers.await(vertx.close());
  }

  private ServerConfig.Jira config(boolean useEnv, boolean readOnly) {
    // A generous timeout: 150 concurrent calls on a slow, busy CI machine must not fail on timing.
    return config(useEnv, readOnly, 10_000);
  }

  private ServerConfig.Jira config(boolean useEnv, boolean readOnly, int timeoutMs) {
    return new ServerConfig.Jira(List.of("127.0.0.1"), useEnv, jira.baseUrl(), "env@example.com", "env-token",
        true, readOnly, timeoutMs, 3, 1500);
  }

  private void deploy(ServerConfig.Jira config) {
    client = new JiraClient(vertx, config.timeoutMs(), config.maxAttempts(), config.maxRetryDelayMs());
    JiraTools tools = new JiraTools(client, new JiraCredentialsSource(config));
    harness.deploy(client, Stream.concat(SessionTools.all(harness.sessions).stream(), tools.all().stream()).toList(),
        config.readOnly());
  }

  /** A session of {@code user} holding that user's Jira credentials for the fake. */
  private String session(String user) {
    jira.addUser(user + "@example.com", "token-" + user, project(user));
    return harness.session(user, new JiraCredentials(jira.baseUrl(), user + "@example.com", "token-" + user));
  }

  private static String project(String user) {
    return "P" + user.toUpperCase().replaceAll("[^A-Z0-9]", "");
  }

  private ToolResult call(String sessionId, String tool, JsonObject args) {
    return harness.call(sessionId, tool, args);
  }

  @Test
  void fiftyConcurrentUsersEachReachJiraWithExactlyTheirOwnCredentials() {
    Map<String, String> sessionOf = new ConcurrentHashMap<>();
    Map<String, String> keyOf = new ConcurrentHashMap<>();
    for (int u = 0; u < 50; u++) {
      String user = "user" + u;
      sessionOf.put(user, session(user));
      keyOf.put(user, jira.addIssue(project(user), "Issue of " + user, "Owned by " + user));
    }
    List<Future<ToolResult>> calls = new ArrayList<>();
    List<String> expectedOwner = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      for (String user : sessionOf.keySet()) {
        String id = sessionOf.get(user);
        String key = keyOf.get(user);
        calls.add(ToolCalls.call(vertx, id, "jira_get_issue", new JsonObject().put("issueKey", key)));
        calls.add(ToolCalls.call(vertx, id, "jira_add_comment",
            new JsonObject().put("issueKey", key).put("body", "comment by " + user)));
        calls.add(ToolCalls.call(vertx, id, "jira_search",
            new JsonObject().put("jql", "project = " + project(user))));
        expectedOwner.addAll(List.of(user, user, user));
      }
    }
    TestServers.await(Future.all(calls));

    for (int i = 0; i < calls.size(); i++) {
      ToolResult r = calls.get(i).result();
      assertThat(r.isError()).as(r.text()).isFalse();
      String user = expectedOwner.get(i);
      assertThat(r.text()).contains(keyOf.get(user));
      for (String other : keyOf.keySet()) {
        if (!other.equals(user)) {
          assertThat(r.text()).doesNotContain("Issue of " + other + "\n").doesNotContain("by " + other + ")");
        }
      }
    }
    List<FakeJira.Recorded> requests = jira.requests();
    assertThat(requests).hasSize(calls.size());
    long mismatches = requests.stream().filter(r -> {
      String owner = r.email().substring(0, r.email().indexOf('@'));
      boolean rightToken = r.token().equals("token-" + owner);
      boolean ownData = r.path().contains(project(owner) + "-") || r.query().getOrDefault("jql", "")
          .equals("project = " + project(owner));
      return !(rightToken && ownData);
    }).count();
    assertThat(mismatches).isZero();
  }

  @Test
  void readsAnIssueAsCompactTextWithStructuredContent() {
    String id = session("reader");
    String key = jira.addIssue(project("reader"), "Login fails", "Steps:\nopen the page");
    call(id, "jira_add_comment", new JsonObject().put("issueKey", key).put("body", "Seen on staging"));

    ToolResult r = call(id, "jira_get_issue", new JsonObject().put("issueKey", key.toLowerCase()));

    assertThat(r.text()).startsWith(key + ": Login fails").contains("Status: To Do").contains("Priority: Medium")
        .contains("Description:\nSteps:\nopen the page").contains("Seen on staging");
    assertThat(r.structured().getString("status")).isEqualTo("To Do");
    assertThat(r.structured().getJsonArray("comments")).hasSize(1);
    assertThat(r.text()).doesNotContain("token-reader");
  }

  @Test
  void descriptionsAndCommentsAreSentAsAdf() {
    String id = session("writer");
    ToolResult created = call(id, "jira_create_issue", new JsonObject().put("projectKey", project("writer"))
        .put("summary", "New thing").put("issueType", "Task")
        .put("description", "First paragraph\nsecond line\n\n- one\n- two\n\nAfter the list"));
    String key = created.structured().getString("key");
    call(id, "jira_add_comment", new JsonObject().put("issueKey", key).put("body", "Hello\n\n* a bullet"));

    JsonObject description = jira.requests().stream().filter(r -> r.method().equals("POST")
        && r.path().equals("/rest/api/3/issue")).findFirst().orElseThrow().body()
        .getJsonObject("fields").getJsonObject("description");
    JsonObject comment = jira.requests().stream().filter(r -> r.path().endsWith("/comment")).findFirst()
        .orElseThrow().body().getJsonObject("body");

    assertThat(created.text()).isEqualTo("Created " + key + ".");
    assertThat(description).isEqualTo(new JsonObject("""
        {"type":"doc","version":1,"content":[
          {"type":"paragraph","content":[{"type":"text","text":"First paragraph"},{"type":"hardBreak"},
                                         {"type":"text","text":"second line"}]},
          {"type":"bulletList","content":[
            {"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"one"}]}]},
            {"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"two"}]}]}]},
          {"type":"paragraph","content":[{"type":"text","text":"After the list"}]}]}"""));
    assertThat(comment.getJsonArray("content")).hasSize(2);
    assertThat(comment.getJsonArray("content").getJsonObject(1).getString("type")).isEqualTo("bulletList");
  }

  @Test
  void updateAndTransitionChangeTheIssue() {
    String id = session("mover");
    String key = jira.addIssue(project("mover"), "Old title", "old");

    ToolResult update = call(id, "jira_update_issue", new JsonObject().put("issueKey", key)
        .put("fields", new JsonObject().put("summary", "New title").put("description", "new text")));
    ToolResult transitions = call(id, "jira_get_transitions", new JsonObject().put("issueKey", key));
    ToolResult moved = call(id, "jira_transition_issue", new JsonObject().put("issueKey", key)
        .put("transition", "done").put("comment", "Finished"));
    ToolResult wrong = call(id, "jira_transition_issue", new JsonObject().put("issueKey", key)
        .put("transition", "Teleport"));

    assertThat(update.isError()).isFalse();
    assertThat(jira.issue(key).getJsonObject("fields").getString("summary")).isEqualTo("New title");
    assertThat(jira.issue(key).getJsonObject("fields").getJsonObject("description").getString("type")).isEqualTo("doc");
    assertThat(transitions.text()).contains("In Progress (id 21)").contains("Done (id 31)");
    assertThat(moved.text()).isEqualTo("Moved " + key + " with 'Done' to Done.");
    assertThat(jira.issue(key).getJsonObject("fields").getJsonObject("status").getString("name")).isEqualTo("Done");
    assertThat(jira.issue(key).getJsonObject("fields").getJsonObject("comment").getInteger("total")).isEqualTo(1);
    assertThat(wrong.isError()).isTrue();
    assertThat(wrong.text()).contains("'transition'").contains("To Do, In Progress, Done");
  }

  @Test
  void searchPagesWithNextPageTokenAndAsksForFields() {
    String id = session("searcher");
    for (int i = 0; i < 5; i++) {
      jira.addIssue(project("searcher"), "Issue " + i, "d");
    }

    ToolResult first = call(id, "jira_search", new JsonObject().put("jql", "project = " + project("searcher"))
        .put("maxResults", 2));
    String token = first.structured().getString("nextPageToken");
    ToolResult second = call(id, "jira_search", new JsonObject().put("jql", "project = " + project("searcher"))
        .put("maxResults", 2).put("nextPageToken", token));
    ToolResult tooMany = call(id, "jira_search", new JsonObject().put("jql", "x").put("maxResults", 51));

    assertThat(first.structured().getJsonArray("issues")).hasSize(2);
    assertThat(first.text()).contains("Issue 0").contains("Issue 1").contains("nextPageToken=" + token);
    assertThat(second.text()).contains("Issue 2").contains("Issue 3").doesNotContain("Issue 0");
    assertThat(jira.requests()).allMatch(r -> !r.path().equals("/rest/api/3/search"));
    assertThat(jira.requests().get(0).query()).containsKey("fields");
    assertThat(tooMany.isError()).isTrue();
    assertThat(tooMany.text()).contains("'maxResults'");
  }

  @Test
  void listsOnlyTheUsersProjects() {
    String id = session("lister");
    session("stranger");
    ToolResult r = call(id, "jira_list_projects", new JsonObject());
    assertThat(r.text()).contains(project("lister")).doesNotContain(project("stranger"));
  }

  @Test
  void jiraErrorsBecomeClearToolErrors() {
    String id = session("errors");
    String key = jira.addIssue(project("errors"), "x", "y");
    JsonObject get = new JsonObject().put("issueKey", key);

    jira.failNext("/rest/api/3/issue/" + key, 403, 1, null);
    assertThat(call(id, "jira_get_issue", get).text()).startsWith("Jira denied access (403)");

    assertThat(call(id, "jira_get_issue", new JsonObject().put("issueKey", "ABC-1")).text())
        .isEqualTo("Issue ABC-1 not found");

    jira.failNext("/rest/api/3/issue/" + key, 500, 1, null);
    assertThat(call(id, "jira_get_issue", get).text()).isEqualTo("Jira is unavailable (500)");

    ToolResult bad = call(id, "jira_create_issue", new JsonObject().put("projectKey", "NOPE").put("summary", "s")
        .put("issueType", "Task"));
    assertThat(bad.text()).startsWith("Jira rejected the request (400)").contains("project: valid project is required");

    assertThat(call(id, "jira_get_issue", new JsonObject().put("issueKey", "../../etc")).text())
        .contains("'issueKey'");
    assertThat(jira.requests()).noneMatch(r -> r.path().contains(".."));
  }

  @Test
  void rejectedCredentialsAreReportedWithoutTheToken() {
    String id = session("wrongpw");
    TestServers.await(harness.sessions.update(id, s -> s.setJiraCredentials(
        new JiraCredentials(jira.baseUrl(), "wrongpw@example.com", "not-the-SECRET"))));

    ToolResult r = call(id, "jira_get_issue", new JsonObject().put("issueKey", "PWRONGPW-1"));

    assertThat(r.isError()).isTrue();
    assertThat(r.text()).isEqualTo("Jira rejected the credentials (401): check the email and API token");
    assertThat(r.toJson().encode()).doesNotContain("SECRET");
  }

  @Test
  void rateLimitsAreRetriedHonouringRetryAfterThenGivenUp() {
    String id = session("throttled");
    String key = jira.addIssue(project("throttled"), "x", "y");

    jira.failNext("/rest/api/3/issue/" + key, 429, 1, "1");
    long t0 = System.currentTimeMillis();
    ToolResult retried = call(id, "jira_get_issue", new JsonObject().put("issueKey", key));
    long took = System.currentTimeMillis() - t0;
    assertThat(retried.isError()).as(retried.text()).isFalse();
    assertThat(took).as("waited for Retry-After: 1").isGreaterThanOrEqualTo(1000);
    assertThat(jira.requests().stream().filter(r -> r.path().endsWith(key)).count()).isEqualTo(2);

    jira.failNext("/rest/api/3/issue/" + key, 503, 3, "0");
    assertThat(call(id, "jira_get_issue", new JsonObject().put("issueKey", key)).text())
        .isEqualTo("Jira is unavailable (503)");
    jira.failNext("/rest/api/3/issue/" + key, 429, 3, null);
    assertThat(call(id, "jira_get_issue", new JsonObject().put("issueKey", key)).text())
        .isEqualTo("Jira rate limit exceeded (429); try again later");
  }

  @Test
  void aStalledJiraTimesOutIntoAToolError() {
    deploy(config(false, false, 700));
    String id = session("stalled");
    String key = jira.addIssue(project("stalled"), "x", "y");
    jira.stallNext("/rest/api/3/issue/" + key, 1);

    ToolResult r = call(id, "jira_get_issue", new JsonObject().put("issueKey", key));

    assertThat(r.isError()).isTrue();
    assertThat(r.text()).isEqualTo("Jira did not answer within 0.7 s");
  }

  @Test
  void withoutSessionCredentialsTheEnvironmentIsUsedOnlyWhenEnabled() {
    String id = TestServers.await(harness.sessions.forUser("nocreds", null)).sessionId();
    jira.addUser("env@example.com", "env-token", "PENV");
    String key = jira.addIssue("PENV", "env issue", "d");

    ToolResult off = call(id, "jira_get_issue", new JsonObject().put("issueKey", key));
    assertThat(off.text()).startsWith("Jira credentials not available");
    assertThat(jira.requests()).isEmpty();

    deploy(config(true, false));
    ToolResult on = call(id, "jira_get_issue", new JsonObject().put("issueKey", key));
    assertThat(on.text()).startsWith(key + ": env issue");
    assertThat(jira.requests().get(0).email()).isEqualTo("env@example.com");

    String own = session("hasown");
    jira.addIssue(project("hasown"), "own", "d");
    call(own, "jira_get_issue", new JsonObject().put("issueKey", project("hasown") + "-1"));
    assertThat(jira.requests().get(1).email()).as("the session's own credentials come first")
        .isEqualTo("hasown@example.com");
  }

  @Test
  void readOnlyModeNeitherListsNorRunsWriteTools() {
    deploy(config(false, true));
    String id = session("ro");
    String key = jira.addIssue(project("ro"), "x", "y");

    Throwable refused = TestServers.await(ToolCalls.call(vertx, id, "jira_add_comment",
        new JsonObject().put("issueKey", key).put("body", "x")).transform(ar -> Future.succeededFuture(ar.cause())));
    ToolCatalog readOnly = new ToolCatalog(new JiraTools(client, new JiraCredentialsSource(config(false, true))).all(),
        true);

    assertThat(refused).isNotNull();
    assertThat(readOnly.tools()).extracting(Tool::name).containsExactlyInAnyOrder("jira_get_issue", "jira_search",
        "jira_list_projects", "jira_get_transitions");
    assertThat(jira.requests()).isEmpty();
    assertThat(call(id, "jira_get_issue", new JsonObject().put("issueKey", key)).isError()).isFalse();
  }

  @Test
  void adfIsReadBackAsPlainText() {
    JsonObject doc = Adf.fromText("Intro\n\n- a\n- b");
    assertThat(Adf.toText(doc)).isEqualTo("Intro\n- a\n- b");
    assertThat(Adf.toText(new JsonObject().put("type", "doc").put("content", new JsonArray()))).isEmpty();
    assertThat(Adf.toText("legacy plain")).isEqualTo("legacy plain");
  }
}
