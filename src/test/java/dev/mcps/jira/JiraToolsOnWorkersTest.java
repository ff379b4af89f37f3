package dev.mcps.jira;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.config.ServerConfig;
import dev.mcps.session.JiraCredentials;
import dev.mcps.session.SessionContext;
import dev.mcps.testing.FakeJira;
import dev.mcps.testing.TestServers;
import dev.mcps.tools.SessionTools;
import dev.mcps.tools.Tool;
import dev.mcps.tools.ToolResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With worker verticles (the server's default), a Jira tool runs on a worker thread of the tools' worker pool, in the
 * caller's session, while the session tools stay on the event loops (the harness deploys it as the server does).
 */
class JiraToolsOnWorkersTest {

  /** Where one tool call ran. */
  record Seen(String tool, boolean workerContext, boolean eventLoopContext, String thread, String session) {}

  private final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
  private Vertx vertx;
  private JiraToolsHarness harness;
  private FakeJira jira;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    harness = new JiraToolsHarness(vertx);
    jira = FakeJira.start(vertx);
    ServerConfig.Jira config = new ServerConfig.Jira(List.of("127.0.0.1"), false, null, null, null, true, false,
        10_000, 3, 1500);
    JiraClient client = new JiraClient(vertx, config.timeoutMs(), config.maxAttempts(), config.maxRetryDelayMs());
    List<Tool> tools = Stream.concat(SessionTools.all(harness.sessions).stream(),
        new JiraTools(client, new JiraCredentialsSource(config)).all().stream()).map(this::recorded).toList();
    harness.deploy(client, tools, false);
  }

  @AfterEach
  void tearDown() {
    jira.close();
    TestServers.await(vertx.close());
  }

  /** {@code tool}, noting the context, thread and session each of its calls runs on. */
  private Tool recorded(Tool tool) {
    return new Tool() {
      @Override
      public String name() {
        return tool.name();
      }

      @Override
      public String description() {
        return tool.description();
      }

      @Override
      public JsonObject inputSchema() {
        return tool.inputSchema();
      }

      @Override
      public boolean readOnly() {
        return tool.readOnly();
      }

      @Override
      public Future<ToolResult> call(JsonObject arguments) {
        Context ctx = Vertx.currentContext();
        seen.add(new Seen(tool.name(), ctx.isWorkerContext(), ctx.isEventLoopContext(),
            Thread.currentThread().getName(), SessionContext.require().sessionId()));
        return tool.call(arguments);
      }
    };
  }

  @Test
  void jiraToolsRunOnWorkerThreadsInTheCallersSessionWhileSessionToolsStayOnEventLoops() {
    jira.addUser("ann@example.com", "token-ann", "PANN");
    String key = jira.addIssue("PANN", "Worker issue", "Read on a worker");
    String id = harness.session("ann", new JiraCredentials(jira.baseUrl(), "ann@example.com", "token-ann"));

    ToolResult issue = harness.call(id, "jira_get_issue", new JsonObject().put("issueKey", key));
    ToolResult note = harness.call(id, "notes_set", new JsonObject().put("key", "k").put("value", "v"));

    assertThat(issue.isError()).as(issue.text()).isFalse();
    assertThat(issue.text()).contains("Worker issue");
    assertThat(note.isError()).as(note.text()).isFalse();
    Seen jiraCall = seen.stream().filter(s -> s.tool().equals("jira_get_issue")).findFirst().orElseThrow();
    assertThat(jiraCall.workerContext()).isTrue();
    assertThat(jiraCall.thread()).startsWith(JiraToolsHarness.WORKER_POOL);
    assertThat(jiraCall.session()).isEqualTo(id);
    Seen noteCall = seen.stream().filter(s -> s.tool().equals("notes_set")).findFirst().orElseThrow();
    assertThat(noteCall.eventLoopContext()).isTrue();
    assertThat(noteCall.session()).isEqualTo(id);
  }
}
