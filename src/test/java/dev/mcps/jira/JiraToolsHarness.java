package dev.mcps.jira;

import dev.mcps.session.CredentialCipher;
import dev.mcps.session.JiraCredentials;
import dev.mcps.session.MemorySessionStore;
import dev.mcps.session.SessionCodec;
import dev.mcps.session.Sessions;
import dev.mcps.testing.TestServers;
import dev.mcps.tools.Tool;
import dev.mcps.tools.ToolCalls;
import dev.mcps.tools.ToolCatalog;
import dev.mcps.tools.ToolResult;
import dev.mcps.tools.ToolsVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The Jira tools as their tests run them: sessions in memory and the tool executor ({@link ToolsVerticle}, two
 * instances) over a catalog made on one {@link JiraClient}. {@link #deploy} replaces what was deployed before and
 * closes its client.
 */
final class JiraToolsHarness {

  final Sessions sessions;
  private final Vertx vertx;
  private String deployment;
  private JiraClient client;

  JiraToolsHarness(Vertx vertx) {
    this.vertx = vertx;
    this.sessions = new Sessions(vertx, new MemorySessionStore(600_000, 10_000,
        new SessionCodec(CredentialCipher.withRandomKey())), 5_000);
  }

  /** Deploys a catalog of {@code tools}, made on {@code client}. */
  void deploy(JiraClient client, List<Tool> tools, boolean readOnly) {
    if (deployment != null) {
      TestServers.await(vertx.undeploy(deployment));
      this.client.close();
    }
    this.client = client;
    ToolCatalog catalog = new ToolCatalog(tools, readOnly);
    deployment = TestServers.await(vertx.deployVerticle(() -> new ToolsVerticle(sessions, catalog),
        new DeploymentOptions().setInstances(2)));
  }

  /** A new session of {@code user} that holds {@code credentials}; its id. */
  String session(String user, JiraCredentials credentials) {
    String id = TestServers.await(sessions.forUser(user, null)).sessionId();
    TestServers.await(sessions.update(id, s -> s.setJiraCredentials(credentials)));
    return id;
  }

  ToolResult call(String sessionId, String tool, JsonObject args) {
    return TestServers.await(ToolCalls.call(vertx, sessionId, tool, args));
  }
}
