package dev.mcps.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcps.session.CredentialCipher;
import dev.mcps.session.JiraCredentials;
import dev.mcps.session.MemorySessionStore;
import dev.mcps.session.SessionCodec;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import dev.mcps.testing.TestServers;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The tool executor behind mcps.tools.call: session tools act on the caller's session and nothing else. */
class ToolsVerticleTest {

  private Vertx vertx;
  private Sessions sessions;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    sessions = new Sessions(vertx, new MemorySessionStore(600_000, 10_000,
        new SessionCodec(CredentialCipher.withRandomKey())), 5_000);
    ToolCatalog catalog = new ToolCatalog(SessionTools.all(sessions), false);
    TestServers.await(vertx.deployVerticle(() -> new ToolsVerticle(sessions, catalog),
        new DeploymentOptions().setInstances(2)));
  }

  @AfterEach
  void tearDown() {
    TestServers.await(vertx.close());
  }

  private ToolResult call(String sessionId, String tool, JsonObject args) {
    return TestServers.await(ToolCalls.call(vertx, sessionId, tool, args));
  }

  @Test
  void notesWrittenByOneSessionAreInvisibleToAnother() {
    String alice = TestServers.await(sessions.forUser("alice", null)).sessionId();
    String bob = TestServers.await(sessions.forUser("bob", null)).sessionId();

    assertThat(call(alice, "notes_set", new JsonObject().put("key", "secret").put("value", "alice-only")).isError())
        .isFalse();

    assertThat(call(alice, "notes_get", new JsonObject().put("key", "secret")).text()).isEqualTo("\"alice-only\"");
    ToolResult bobs = call(bob, "notes_get", new JsonObject().put("key", "secret"));
    assertThat(bobs.isError()).isTrue();
    assertThat(bobs.text()).doesNotContain("alice-only");
    assertThat(call(bob, "notes_get", new JsonObject()).structured().getJsonObject("notes").isEmpty()).isTrue();
  }

  @Test
  void concurrentNoteWritesOfManySessionsAllLandInTheirOwnSession() {
    List<String> ids = new ArrayList<>();
    for (int u = 0; u < 50; u++) {
      ids.add(TestServers.await(sessions.forUser("u" + u, null)).sessionId());
    }
    List<Future<ToolResult>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      for (int u = 0; u < 50; u++) {
        calls.add(ToolCalls.call(vertx, ids.get(u), "notes_set",
            new JsonObject().put("key", "k" + i).put("value", "u" + u + "-" + i)));
      }
    }
    TestServers.await(Future.all(calls));
    for (int u = 0; u < 50; u++) {
      JsonObject notes = call(ids.get(u), "notes_get", new JsonObject()).structured().getJsonObject("notes");
      assertThat(notes.size()).isEqualTo(20);
      for (int i = 0; i < 20; i++) {
        assertThat(notes.getString("k" + i)).isEqualTo("u" + u + "-" + i);
      }
    }
  }

  @Test
  void notesDeleteRemovesOnlyTheNamedNote() {
    String id = TestServers.await(sessions.forUser("carol", null)).sessionId();
    call(id, "notes_set", new JsonObject().put("key", "a").put("value", 1));
    call(id, "notes_set", new JsonObject().put("key", "b").put("value", new JsonObject().put("x", true)));

    assertThat(call(id, "notes_delete", new JsonObject().put("key", "a")).isError()).isFalse();
    assertThat(call(id, "notes_delete", new JsonObject().put("key", "a")).isError()).isTrue();
    assertThat(call(id, "notes_get", new JsonObject()).structured().getJsonObject("notes"))
        .isEqualTo(new JsonObject().put("b", new JsonObject().put("x", true)));
  }

  @Test
  void sessionInfoShowsIdsButNeverCredentials() {
    SessionEnv s = TestServers.await(sessions.forUser("dave", "pl-9"));
    TestServers.await(sessions.update(s.sessionId(), u -> u.setJiraCredentials(
        new JiraCredentials("https://d.atlassian.net", "d@x.com", "dave-SECRET"))));

    ToolResult info = call(s.sessionId(), "session_info", new JsonObject());

    assertThat(info.structured().getString("sessionId")).isEqualTo(s.sessionId());
    assertThat(info.structured().getString("userId")).isEqualTo("dave");
    assertThat(info.structured().getBoolean("hasJiraCredentials")).isTrue();
    assertThat(info.toJson().encode()).doesNotContain("dave-SECRET").doesNotContain("d@x.com");
  }

  @Test
  void invalidArgumentsBecomeAToolErrorNamingTheArgument() {
    String id = TestServers.await(sessions.forUser("erin", null)).sessionId();

    ToolResult noKey = call(id, "notes_set", new JsonObject().put("value", 1));
    ToolResult wrongType = call(id, "notes_get", new JsonObject().put("key", 42));
    ToolResult noValue = call(id, "notes_set", new JsonObject().put("key", "k"));

    assertThat(noKey.isError()).isTrue();
    assertThat(noKey.text()).contains("'key'");
    assertThat(wrongType.text()).contains("'key'");
    assertThat(noValue.text()).contains("'value'");
  }

  @Test
  void unknownToolsAndUnknownSessionsFailWithTheirHttpStatus() {
    String id = TestServers.await(sessions.forUser("frank", null)).sessionId();

    assertThatThrownBy(() -> call(id, "no_such_tool", new JsonObject()))
        .hasCauseInstanceOf(ReplyException.class)
        .satisfies(e -> assertThat(((ReplyException) e.getCause()).failureCode()).isEqualTo(404));
    assertThatThrownBy(() -> call(SessionEnv.randomId(), "notes_get", new JsonObject()))
        .satisfies(e -> assertThat(((ReplyException) e.getCause()).failureCode()).isEqualTo(404));
  }

  @Test
  void readOnlyCatalogsLeaveOutWriteTools() {
    Tool write = new SimpleTool("jira_write", "w", new JsonObject(), false, a -> Future.succeededFuture(null));
    ToolCatalog catalog = new ToolCatalog(List.of(write, SessionTools.info()), true);
    assertThat(catalog.tools()).extracting(Tool::name).containsExactly("session_info");
    assertThat(catalog.find("jira_write")).isNull();
  }

  @Test
  void aRefusedToolCallSaysWhichToolAndWhy() {
    Tool write = new SimpleTool("jira_write", "w", new JsonObject(), false, a -> Future.succeededFuture(null));
    ToolCatalog catalog = new ToolCatalog(List.of(write, SessionTools.info()), true);
    TestServers.await(vertx.undeploy(vertx.deploymentIDs().iterator().next()));
    TestServers.await(vertx.deployVerticle(new ToolsVerticle(sessions, catalog)));
    String id = TestServers.await(sessions.forUser("gina", null)).sessionId();

    assertThat(refusal(id, "jira_write")).isEqualTo(
        "Tool jira_write is refused: this server is read-only (JIRA_READ_ONLY=true) and allows no Jira changes");
    assertThat(refusal(id, "no_such_tool")).isEqualTo("Unknown tool: no_such_tool");
    assertThat(refusal(id, null)).isEqualTo("The tool call names no tool: give the tool's name");
    assertThat(refusal(id, "")).isEqualTo("The tool call names no tool: give the tool's name");
  }

  /** The error message of a call that the tools verticle refused. */
  private String refusal(String sessionId, String tool) {
    Throwable failure = TestServers.await(ToolCalls.call(vertx, sessionId, tool, new JsonObject())
        .transform(ar -> Future.succeededFuture(ar.cause())));
    assertThat(((ReplyException) failure).failureCode()).isEqualTo(404);
    return new JsonObject(failure.getMessage()).getString("message");
  }
}
