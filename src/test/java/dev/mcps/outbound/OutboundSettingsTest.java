package dev.mcps.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.session.JiraCredentials;
import dev.mcps.testing.HostileUpstream;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import dev.mcps.tools.ToolCalls;
import dev.mcps.tools.ToolResult;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The outbound settings as an operator sets them — environment variables read by the real server — reach the Jira
 * tools and the providers: JIRA_PROJECTS, JIRA_MAX_RESPONSE_BYTES, JIRA_TIMEOUT_MS and PROVIDER_MAX_RESPONSE_BYTES.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OutboundSettingsTest {

  private static final String KEY = "sk-ant-api03-settings-test-0f1e2d3c";

  private HostileUpstream hostile;
  private Server server;

  @BeforeAll
  void start() {
    hostile = HostileUpstream.start();
    server = TestServers.start(Map.of(
        "JIRA_PROJECTS", "pa,ops",
        "JIRA_MAX_RESPONSE_BYTES", "1048576",
        "JIRA_TIMEOUT_MS", "1000",
        "ANTHROPIC_API_KEY", KEY,
        "ANTHROPIC_BASE_URL", hostile.baseUrl("huge"),
        "ANTHROPIC_MODEL", "claude-test",
        "PROVIDER_TIMEOUT_MS", "15000",
        "PROVIDER_MAX_RESPONSE_BYTES", "1048576"));
  }

  @AfterAll
  void stop() {
    TestServers.await(server.stop());
    hostile.close();
  }

  private ToolResult getIssue(String behaviour, String key) {
    String id = TestServers.await(server.sessions().forUser("u-" + behaviour, null)).sessionId();
    TestServers.await(server.sessions().update(id, s -> s.setJiraCredentials(
        new JiraCredentials(hostile.baseUrl(behaviour), "u@example.com", "jira-token-123456789"))));
    return TestServers.await(ToolCalls.call(server.vertx(), id, "jira_get_issue",
        new JsonObject().put("issueKey", key)));
  }

  @Test
  void theJiraSettingsReachTheJiraTools() {
    assertThat(getIssue("echo", "PB-1").text())
        .isEqualTo("Issue PB-1 is outside the Jira projects this server may use (JIRA_PROJECTS: PA, OPS)");
    assertThat(getIssue("huge", "PA-1").text())
        .startsWith("Jira's answer is larger than 1048576 bytes (JIRA_MAX_RESPONSE_BYTES)");
    assertThat(getIssue("drip-200", "OPS-1").text()).isEqualTo("Jira did not answer within 1 s");
  }

  @Test
  void theProviderCapReachesChat() {
    Http.Response r = new Http(server.port()).post("/chat", new JsonObject().put("userId", "chatter")
        .put("model", "anthropic").put("message", "hello"));

    assertThat(r.status()).isEqualTo(502);
    assertThat(r.json().getString("error")).isEqualTo("Provider_Error");
    assertThat(r.json().getString("message"))
        .isEqualTo("Anthropic answered with more than 1048576 bytes (PROVIDER_MAX_RESPONSE_BYTES)");
    assertThat(r.body()).doesNotContain(KEY);
  }
}
