package dev.mcps.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.FakeJira;
import dev.mcps.testing.TestServers;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientSseClientTransport;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The session era asks for the same confirmation as the stateless one: a client that declared elicitation is asked,
 * over its own connection, before a Jira write, and Jira sees the write only when the user accepted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionEraJiraConfirmationTest {

  enum Kind { STREAMABLE, SSE }

  private Vertx vertx;
  private FakeJira jira;
  private Server server;

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
    jira = FakeJira.start(vertx);
    server = TestServers.start(Map.of());
  }

  @AfterAll
  void stop() {
    TestServers.await(server.stop());
    jira.close();
    TestServers.await(vertx.close());
  }

  private McpSyncClient client(Kind kind, Map<String, String> headers, McpSchema.ElicitResult.Action answer,
                               List<String> asked) {
    String base = "http://127.0.0.1:" + server.port();
    McpClient.SyncSpec spec = McpClient.sync(kind == Kind.SSE
            ? HttpClientSseClientTransport.builder(base).sseEndpoint("/mcp/sse")
                .httpRequestCustomizer((req, method, uri, body, ctx) -> headers.forEach(req::header)).build()
            : HttpClientStreamableHttpTransport.builder(base).endpoint("/mcp")
                .httpRequestCustomizer((req, method, uri, body, ctx) -> headers.forEach(req::header)).build())
        .requestTimeout(Duration.ofSeconds(20));
    if (answer != null) {
      spec.capabilities(McpSchema.ClientCapabilities.builder().elicitation().build())
          .elicitation(request -> {
            asked.add(request.message());
            return new McpSchema.ElicitResult(answer, answer == McpSchema.ElicitResult.Action.ACCEPT
                ? Map.of("confirm", true) : null);
          });
    }
    McpSyncClient client = spec.build();
    client.initialize();
    return client;
  }

  private static McpSchema.CallToolResult create(McpSyncClient c, String project, String summary) {
    return c.callTool(new McpSchema.CallToolRequest("jira_create_issue",
        Map.of("projectKey", project, "summary", summary, "issueType", "Task")));
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void anElicitingClientIsAskedAndJiraSeesTheWriteOnlyAfterTheUserAccepted(Kind kind) {
    FakeJira.Account accepting = jira.account("acc", "PA");
    FakeJira.Account declining = jira.account("dec", "PB");
    List<String> asked = new CopyOnWriteArrayList<>();
    McpSyncClient yes = client(kind, accepting.headers(), McpSchema.ElicitResult.Action.ACCEPT, asked);
    McpSyncClient no = client(kind, declining.headers(), McpSchema.ElicitResult.Action.DECLINE, asked);
    try {
      McpSchema.CallToolResult done = create(yes, accepting.project(), "Accepted");
      McpSchema.CallToolResult refused = create(no, declining.project(), "Declined");

      assertThat(done.isError()).isFalse();
      assertThat(jira.creates(accepting.project())).isEqualTo(1);
      assertThat(refused.isError()).isTrue();
      assertThat(((McpSchema.TextContent) refused.content().get(0)).text()).contains("nothing was changed");
      assertThat(jira.creates(declining.project())).isZero();
      assertThat(asked).hasSize(2).anySatisfy(m -> assertThat(m).contains(accepting.project()).contains("Accepted"));
    } finally {
      yes.closeGracefully();
      no.closeGracefully();
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aClientThatCannotElicitIsNotAsked(Kind kind) {
    FakeJira.Account user = jira.account("plain", "PP");
    McpSyncClient c = client(kind, user.headers(), null, List.of());
    try {
      assertThat(create(c, user.project(), "Direct").isError()).isFalse();
      assertThat(jira.creates(user.project())).isEqualTo(1);
    } finally {
      c.closeGracefully();
    }
  }
}
