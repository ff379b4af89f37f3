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
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The Jira tools as their tests run them: sessions in memory and the tool executor over a catalog made on one
 * {@link JiraClient}, deployed as the server deploys it with WORKER_VERTICLES=true: two event-loop instances of
 * {@link ToolsVerticle} that run the session tools and hand the Jira tools on to two worker instances.
 * {@link #deploy} replaces what was deployed before and closes its client.
 */
final class JiraToolsHarness {

  static final String WORKER_POOL = "jira-tools-test-workers";

  final Sessions sessions;
  private final Vertx vertx;
  private String deployment;
  private String workerDeployment;
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
      TestServers.await(vertx.undeploy(workerDeployment));
      this.client.close();
    }
    this.client = client;
    ToolCatalog catalog = new ToolCatalog(tools, readOnly);
    Set<String> onWorker = tools.stream().map(Tool::name).filter(n -> n.startsWith("jira_"))
        .collect(Collectors.toSet());
    workerDeployment = TestServers.await(vertx.deployVerticle(() -> ToolsVerticle.worker(sessions, catalog),
        new DeploymentOptions().setInstances(2).setThreadingModel(ThreadingModel.WORKER)
            .setWorkerPoolName(WORKER_POOL).setWorkerPoolSize(8)));
    deployment = TestServers.await(vertx.deployVerticle(() -> ToolsVerticle.front(sessions, catalog, onWorker),
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
