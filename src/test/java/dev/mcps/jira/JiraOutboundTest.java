package dev.mcps.jira;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.config.ServerConfig;
import dev.mcps.outbound.BoundedHttpClient;
import dev.mcps.session.JiraCredentials;
import dev.mcps.testing.FakeJira;
import dev.mcps.testing.HostileUpstream;
import dev.mcps.testing.TestServers;
import dev.mcps.tools.ToolCalls;
import dev.mcps.tools.ToolResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Jira tools against a Jira gone bad ({@link HostileUpstream}): what they send it, what they let through, and what
 * it costs the server while it misbehaves. Also {@code JIRA_PROJECTS}, against the ordinary {@link FakeJira}.
 */
class JiraOutboundTest {

  private static final String EMAIL = "victim@example.com";
  private static final String TOKEN = "ATATT3xFfGF0-victim-token-7Q2mZ9";
  private static final String BASIC = Base64.getEncoder()
      .encodeToString((EMAIL + ":" + TOKEN).getBytes(StandardCharsets.UTF_8));

  private Vertx vertx;
  private JiraToolsHarness harness;
  private HostileUpstream hostile;
  private FakeJira jira;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    harness = new JiraToolsHarness(vertx);
    hostile = HostileUpstream.start();
    jira = FakeJira.start(vertx);
    deploy(10_000, 2 * 1024 * 1024, List.of());
  }

  @AfterEach
  void tearDown() {
    hostile.close();
    jira.close();
    TestServers.await(vertx.close());
  }

  private void deploy(int timeoutMs, int maxResponseBytes, List<String> projects) {
    deploy(new JiraClient(vertx, timeoutMs, 3, 1500, maxResponseBytes), projects);
  }

  private void deploy(JiraClient client, List<String> projects) {
    ServerConfig.Jira config = new ServerConfig.Jira(List.of("127.0.0.1"), false, null, null, null, true, false,
        10_000, 3, 1500);
    harness.deploy(client, new JiraTools(client, new JiraCredentialsSource(config), projects).all(), false);
  }

  private String sessionAt(String user, String baseUrl, String email, String token) {
    return harness.session(user, new JiraCredentials(baseUrl, email, token));
  }

  private String victimAt(String behaviour) {
    return sessionAt("victim-" + behaviour, hostile.baseUrl(behaviour), EMAIL, TOKEN);
  }

  private ToolResult call(String sessionId, String tool, JsonObject args) {
    return harness.call(sessionId, tool, args);
  }

  private static JsonObject issue(String key) {
    return new JsonObject().put("issueKey", key);
  }

  private static void assertNoCredentialIn(ToolResult r) {
    String all = r.toJson().encode();
    assertThat(all).doesNotContain(TOKEN).doesNotContain(BASIC).doesNotContain(TOKEN.substring(8, 20))
        .doesNotContain(BASIC.substring(10, 30));
  }

  // --- redirects ---

  @Test
  void aRedirectToAnotherHostOverPlainHttpIsAToolErrorAndTheTargetReceivesNothing() {
    String id = victimAt("redirect");

    ToolResult read = call(id, "jira_get_issue", issue("PROJ-1"));
    ToolResult write = call(id, "jira_add_comment", issue("PROJ-1").put("body", "hello"));

    String target = hostile.thief().substring(0, hostile.thief().indexOf("/collect"));
    assertThat(read.isError()).isTrue();
    assertThat(read.text()).isEqualTo("Jira answered with a redirect (302) to " + target + "; redirects are not "
        + "followed (the credentials are only sent to the session's Jira base URL; check it)");
    assertThat(write.isError()).isTrue();
    assertThat(write.text()).startsWith("Jira answered with a redirect (302)");
    assertNoCredentialIn(read);
    assertThat(hostile.thiefRequests()).as("the redirect target received nothing").isEmpty();
    // The target was reachable all along: a request made on purpose arrives (so "nothing" above means something).
    WebClient probe = WebClient.create(vertx);
    assertThat(TestServers.await(probe.getAbs(hostile.thief()).send()).statusCode()).isEqualTo(200);
    probe.close();
    assertThat(hostile.thiefRequests()).hasSize(1);
    assertThat(hostile.thiefRequests().get(0).get("Authorization")).isNull();
  }

  @Test
  void anHttpsJiraRedirectingToPlainHttpIsAToolErrorAndTheCredentialsStayOnTls() {
    try (HostileUpstream https = HostileUpstream.startWithTls()) {
      deploy(new JiraClient(vertx, new BoundedHttpClient(vertx, 10_000, 1024 * 1024, 4, https.trust()), 3, 1500),
          List.of());
      String downgrade = sessionAt("tls-1", https.baseUrl("redirect-downgrade"), EMAIL, TOKEN);
      String elsewhere = sessionAt("tls-2", https.baseUrl("redirect"), EMAIL, TOKEN);
      String sound = sessionAt("tls-3", https.baseUrl("echo"), EMAIL, TOKEN);

      ToolResult toHttp = call(downgrade, "jira_get_issue", issue("PROJ-1"));
      ToolResult toOtherHost = call(elsewhere, "jira_get_issue", issue("PROJ-1"));
      ToolResult overTls = call(sound, "jira_get_issue", issue("PROJ-1"));

      assertThat(toHttp.text()).startsWith("Jira answered with a redirect (302) to "
          + https.downgradeTarget().replace("/collect", "") + "; redirects are not followed");
      assertThat(toOtherHost.text()).startsWith("Jira answered with a redirect (302) to "
          + https.thief().replace("/collect", ""));
      assertThat(overTls.text()).as("the https Jira itself is reached").startsWith("Jira rejected the request (400)");
      assertNoCredentialIn(toHttp);
      assertThat(https.thiefRequests()).as("nothing reached the plain-http target").isEmpty();
    }
  }

  // --- caps ---

  @Test
  void aHundredMegabyteStreamedBodyIsCutOffAtTheCapAndTheConnectionClosed() throws Exception {
    String id = victimAt("huge");

    ToolResult r = call(id, "jira_search", new JsonObject().put("jql", "order by created"));

    assertThat(r.isError()).isTrue();
    assertThat(r.text()).isEqualTo("Jira's answer is larger than 2097152 bytes (JIRA_MAX_RESPONSE_BYTES); ask for "
        + "less, e.g. fewer fields or results");
    hostile.awaitClosedByClient("huge");
    assertThat(hostile.streams().get(0).written()).isLessThan(HostileUpstream.HUGE_BYTES);
  }

  @Test
  void aContentLengthAboveTheCapFailsAtOnce() throws Exception {
    String id = victimAt("huge-announced");

    ToolResult r = call(id, "jira_get_issue", issue("PROJ-1"));

    assertThat(r.isError()).isTrue();
    assertThat(r.text()).startsWith("Jira's answer is larger than 2097152 bytes (JIRA_MAX_RESPONSE_BYTES)");
    hostile.awaitClosedByClient("huge-announced");
    assertThat(hostile.streams().get(0).written()).isLessThan(HostileUpstream.HUGE_BYTES);
  }

  // --- the total deadline ---

  @Test
  void anEndlessStreamEndsAtTheDeadlineAndIsReset() throws Exception {
    deploy(1500, 2 * 1024 * 1024, List.of());
    String id = victimAt("endless");

    ToolResult r = call(id, "jira_get_issue", issue("PROJ-1"));

    assertThat(r.isError()).isTrue();
    assertThat(r.text()).isEqualTo("Jira did not answer within 1.5 s");
    hostile.awaitClosedByClient("endless");
    assertThat(hostile.streams().get(0).written()).as("it was streaming when cut").isPositive();
  }

  @Test
  void aDripThatNeverGoesIdleStillEndsAtTheDeadline() throws Exception {
    // One byte every 200 ms never trips an idle timeout of 1 s: only a total deadline ends it.
    deploy(1000, 2 * 1024 * 1024, List.of());
    String fast = victimAt("drip-200");
    String slow = victimAt("drip-5000");

    ToolResult fastDrip = call(fast, "jira_get_issue", issue("PROJ-1"));
    ToolResult slowDrip = call(slow, "jira_get_issue", issue("PROJ-1"));

    assertThat(fastDrip.text()).isEqualTo("Jira did not answer within 1 s");
    assertThat(slowDrip.text()).isEqualTo("Jira did not answer within 1 s");
    hostile.awaitClosedByClient("drip-200");
    hostile.awaitClosedByClient("drip-5000");
    assertThat(hostile.streams()).filteredOn(s -> s.kind().equals("drip-200")).first()
        .matches(s -> s.written() >= 2, "several bytes dripped in before the deadline");
  }

  // --- what Jira says back ---

  @Test
  void anEchoedAuthorizationHeaderIsScrubbedFromTheToolError() {
    String id = victimAt("echo");

    ToolResult r = call(id, "jira_get_issue", issue("PROJ-1"));

    assertThat(r.isError()).isTrue();
    assertThat(r.text()).startsWith("Jira rejected the request (400): Header Authorization: Basic *** is not valid "
        + "here").contains("***");
    assertNoCredentialIn(r);
  }

  // --- everyone else ---

  @Test
  void whileHostileCallsRunOtherUsersStayFastAndTheHeapStaysBounded() throws Exception {
    deploy(4000, 10 * 1024 * 1024, List.of());
    jira.addUser("calm@example.com", "token-calm", "CALM");
    String calmKey = jira.addIssue("CALM", "All is well", "d");
    String calm = sessionAt("calm", jira.baseUrl(), "calm@example.com", "token-calm");
    long before = HostileUpstream.usedHeapAfterGc();

    List<Future<ToolResult>> hostileCalls = new ArrayList<>();
    for (String behaviour : List.of("huge", "huge", "huge", "huge", "huge-announced", "endless", "endless",
        "drip-200", "drip-5000")) {
      String id = sessionAt("h-" + hostileCalls.size(), hostile.baseUrl(behaviour), EMAIL, TOKEN);
      hostileCalls.add(ToolCalls.call(vertx, id, "jira_get_issue", issue("PROJ-1")));
    }
    long start = System.nanoTime();
    List<Future<ToolResult>> calmCalls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      calmCalls.add(ToolCalls.call(vertx, calm, "jira_get_issue", issue(calmKey)));
    }
    TestServers.await(Future.all(calmCalls));
    long calmMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    hostile.awaitClosedByClient("huge");
    long during = HostileUpstream.usedHeapAfterGc();
    TestServers.await(Future.join(hostileCalls));
    long after = HostileUpstream.usedHeapAfterGc();

    assertThat(calmCalls).allMatch(f -> !f.result().isError() && f.result().text().startsWith(calmKey));
    assertThat(calmMs).as("20 calls of another user while Jira floods").isLessThan(5_000);
    assertThat(hostileCalls).allMatch(f -> f.result().isError());
    long mib = 1024 * 1024;
    assertThat(during / mib).as("used heap while the endless calls still run, MiB").isLessThan(before / mib + 64);
    assertThat(after / mib).as("used heap after the hostile calls, MiB").isLessThan(before / mib + 64);
  }

  // --- JIRA_PROJECTS ---

  @Test
  void outsideJiraProjectsEveryToolRefusesBeforeReachingJira() {
    deploy(10_000, 2 * 1024 * 1024, List.of("PA", "OPS"));
    jira.addUser("pa@example.com", "token-pa", "PA", "PB");
    String secret = jira.addIssue("PB", "Secret", "d");
    String id = sessionAt("pa", jira.baseUrl(), "pa@example.com", "token-pa");
    String allowed = " is outside the Jira projects this server may use (JIRA_PROJECTS: PA, OPS)";

    List<ToolResult> refused = List.of(
        call(id, "jira_get_issue", issue(secret)),
        call(id, "jira_get_transitions", issue(secret)),
        call(id, "jira_add_comment", issue(secret).put("body", "x")),
        call(id, "jira_update_issue", issue(secret).put("fields", new JsonObject().put("summary", "y"))),
        call(id, "jira_transition_issue", issue(secret).put("transition", "Done")));
    ToolResult create = call(id, "jira_create_issue", new JsonObject().put("projectKey", "pb").put("summary", "s")
        .put("issueType", "Task"));
    ToolResult byId = call(id, "jira_get_issue", issue("10001"));
    ToolResult breakout = call(id, "jira_search", new JsonObject().put("jql", "text ~ x) OR (project = PB"));

    assertThat(refused).allMatch(ToolResult::isError).extracting(ToolResult::text)
        .containsOnly("Issue " + secret + allowed);
    assertThat(create.text()).isEqualTo("Project PB" + allowed);
    assertThat(byId.text()).startsWith("Use the issue key (e.g. PA-123), not its id");
    assertThat(breakout.text()).isEqualTo("Invalid argument 'jql': its parentheses or quotes do not balance");
    assertThat(jira.requests()).as("no refused call reached Jira").isEmpty();
  }

  @Test
  void withJiraProjectsSearchesAreConstrainedAndProjectListsFiltered() {
    deploy(10_000, 2 * 1024 * 1024, List.of("PA"));
    jira.addUser("pa@example.com", "token-pa", "PA", "PB");
    String own = jira.addIssue("PA", "Mine", "d");
    String id = sessionAt("pa", jira.baseUrl(), "pa@example.com", "token-pa");

    ToolResult read = call(id, "jira_get_issue", issue(own));
    call(id, "jira_search", new JsonObject().put("jql", "status = \"To Do\" ORDER BY created DESC"));
    call(id, "jira_search", new JsonObject().put("jql", "summary ~ \"a (b\" order by key"));
    call(id, "jira_search", new JsonObject().put("jql", "ORDER BY updated"));
    ToolResult projects = call(id, "jira_list_projects", new JsonObject());

    assertThat(read.text()).startsWith(own + ": Mine");
    assertThat(jira.requests()).filteredOn(r -> r.path().endsWith("/search/jql"))
        .extracting(r -> r.query().get("jql")).containsExactly(
            "project in (\"PA\") AND (status = \"To Do\") ORDER BY created DESC",
            "project in (\"PA\") AND (summary ~ \"a (b\") order by key",
            "project in (\"PA\") ORDER BY updated");
    assertThat(projects.text()).contains("PA").doesNotContain("PB");
  }

  @Test
  void withoutJiraProjectsTheJqlIsSentAsWritten() {
    jira.addUser("all@example.com", "token-all", "PA");
    String id = sessionAt("all", jira.baseUrl(), "all@example.com", "token-all");

    call(id, "jira_search", new JsonObject().put("jql", "text ~ x) OR (project = PB"));

    assertThat(jira.requests()).extracting(r -> r.query().get("jql")).containsExactly("text ~ x) OR (project = PB");
  }
}
