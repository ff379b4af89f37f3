package dev.mcps.session;

import static dev.mcps.testing.Http.admin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The {@code mcps.sessions.*} addresses (DESIGN.md §5) on a real server: what another service sends over
 * {@code server.vertx().eventBus()} and what it gets back, compared with what the admin HTTP API answers for the same
 * session. Subclasses run it on the memory store and on a real Redis.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SessionBusApiContract {

  private static final String TOKEN = "jira-tok-BUS-SECRET-7f3a";

  private Server server;
  private Http http;
  private final ConcurrentLinkedQueue<JsonObject> events = new ConcurrentLinkedQueue<>();
  /** The text of every reply and failure this class received, to check that no credential was ever in one. */
  private final ConcurrentLinkedQueue<String> answers = new ConcurrentLinkedQueue<>();

  /** The store settings of this run. */
  protected abstract Map<String, String> storeEnv();

  @BeforeAll
  void startServer() {
    server = TestServers.start(storeEnv());
    http = new Http(server.port());
    TestServers.await(server.vertx().eventBus().<JsonObject>consumer(Sessions.EVENTS_ADDRESS,
        m -> events.add(m.body())).completion());
  }

  @AfterAll
  void stopServer() {
    if (server != null) {
      TestServers.await(server.stop());
    }
  }

  @Test
  void getAnswersTheAdminDetailsOfTheSameSession() {
    String id = chatSession(unique("gina"), true);

    JsonObject reply = request("mcps.sessions.get", new JsonObject().put("sessionId", id));

    assertThat(reply).isEqualTo(adminDetails(id));
    assertThat(reply.getBoolean("hasJiraCredentials")).isTrue();
    assertThat(reply.getInteger("historyLength")).isEqualTo(2);
    assertThat(reply.getBoolean("hasMcpConnection")).isFalse();
  }

  @Test
  void getShowsAnOpenMcpConnectionAsTheAdminApiDoes() {
    String id = chatSession(unique("hank"), false);
    JsonObject initialize = new JsonObject().put("jsonrpc", "2.0").put("id", 1).put("method", "initialize")
        .put("params", new JsonObject().put("protocolVersion", "2025-06-18").put("capabilities", new JsonObject())
            .put("clientInfo", new JsonObject().put("name", "bus-test").put("version", "1")));
    Http.Response mcp = http.post("/mcp", initialize, "Accept", "application/json, text/event-stream",
        "X-Session-Id", id);
    assertThat(mcp.status()).isEqualTo(200);

    JsonObject reply = request("mcps.sessions.get", new JsonObject().put("sessionId", id));

    assertThat(reply.getBoolean("hasMcpConnection")).isTrue();
    assertThat(reply).isEqualTo(adminDetails(id));
    http.delete("/mcp", "Mcp-Session-Id", mcp.headers().firstValue("Mcp-Session-Id").orElseThrow(),
        "MCP-Protocol-Version", "2025-06-18");
  }

  @Test
  void listAnswersTheAdminListWithTheSamePaging() {
    chatSession(unique("ivy"), true);
    chatSession(unique("jack"), false);

    JsonObject all = request("mcps.sessions.list", new JsonObject().put("limit", 1000));
    JsonObject page = request("mcps.sessions.list", new JsonObject().put("offset", 1).put("limit", 1));
    JsonObject defaults = request("mcps.sessions.list", new JsonObject());

    assertThat(all).isEqualTo(http.get("/admin/sessions?limit=1000", admin()).json());
    assertThat(page).isEqualTo(http.get("/admin/sessions?offset=1&limit=1", admin()).json());
    assertThat(defaults).isEqualTo(http.get("/admin/sessions", admin()).json());
    assertThat(all.getLong("totalCount")).isGreaterThanOrEqualTo(2);
    assertThat(page.getJsonArray("sessions")).hasSize(1);
    assertThat(defaults.getInteger("offset")).isZero();
    assertThat(defaults.getInteger("limit")).isEqualTo(100);

    String ivy = all.getJsonArray("sessions").stream().map(o -> ((JsonObject) o).getString("userId"))
        .filter(u -> u != null && u.startsWith("ivy")).findFirst().orElseThrow();
    JsonObject search = request("mcps.sessions.list", new JsonObject().put("q", ivy.toUpperCase()));
    assertThat(search).as("a search answers as GET /admin/sessions?q= does")
        .isEqualTo(http.get("/admin/sessions?q=" + ivy.toUpperCase(), admin()).json());
    assertThat(search.getJsonArray("sessions")).hasSize(1);
  }

  @Test
  void createForAnExistingUserReturnsThatUsersSession() {
    String user = unique("kate");
    String id = chatSession(user, false);

    JsonObject reply = request("mcps.sessions.create", new JsonObject().put("userId", user));

    assertThat(reply.getString("sessionId")).isEqualTo(id);
    assertThat(reply).isEqualTo(adminDetails(id));
    assertThat(events).filteredOn(e -> e.getString("type").equals("created") && user.equals(e.getString("userId")))
        .hasSize(1);
  }

  @Test
  void createForANewUserMakesTheSessionThatChatThenReusesAndPublishesCreated() {
    String user = unique("liam");

    JsonObject reply = request("mcps.sessions.create", new JsonObject().put("userId", user)
        .put("productLabUserId", "pl-" + user).put("jiraAuth", jiraAuth()));

    String id = reply.getString("sessionId");
    assertThat(SessionEnv.isWellFormedId(id)).isTrue();
    assertThat(reply.getString("userId")).isEqualTo(user);
    assertThat(reply.getString("productLabUserId")).isEqualTo("pl-" + user);
    assertThat(reply.getBoolean("hasJiraCredentials")).isTrue();
    assertThat(reply).isEqualTo(adminDetails(id));
    assertThat(http.post("/chat", new JsonObject().put("userId", user).put("message", "hi")).json()
        .getString("sessionId")).isEqualTo(id);
    SessionEnv stored = TestServers.await(server.sessions().peek(id));
    assertThat(stored.jiraCredentials().apiToken()).isEqualTo(TOKEN);
    awaitEvent("created", id);
  }

  @Test
  void createWithoutAUserMakesANewAnonymousSessionEachTime() {
    JsonObject first = request("mcps.sessions.create", new JsonObject());
    JsonObject second = request("mcps.sessions.create", null);

    assertThat(first.getString("sessionId")).isNotEqualTo(second.getString("sessionId"));
    assertThat(first.getValue("userId")).isNull();
    assertThat(first).isEqualTo(adminDetails(first.getString("sessionId")));
    awaitEvent("created", second.getString("sessionId"));
  }

  @Test
  void resetClearsTheHistoryKeepsTheCredentialsAndPublishesReset() {
    String id = chatSession(unique("mona"), true);

    JsonObject reply = request("mcps.sessions.reset", new JsonObject().put("sessionId", id));

    assertThat(reply).isEqualTo(new JsonObject().put("status", "ok").put("message", "Session " + id + " has been reset"));
    JsonObject details = adminDetails(id);
    assertThat(details.getInteger("historyLength")).isZero();
    assertThat(details.getBoolean("hasJiraCredentials")).isTrue();
    assertThat(TestServers.await(server.sessions().history(id))).isEmpty();
    awaitEvent("reset", id);
  }

  @Test
  void deleteRemovesTheSessionFromTheAdminListAndPublishesDeleted() {
    String user = unique("nick");
    String id = chatSession(user, true);

    JsonObject reply = request("mcps.sessions.delete", new JsonObject().put("sessionId", id));

    assertThat(reply).isEqualTo(new JsonObject().put("status", "ok")
        .put("message", "Session " + id + " has been deleted"));
    JsonArray listed = http.get("/admin/sessions?limit=1000", admin()).json().getJsonArray("sessions");
    assertThat(listed.stream().map(s -> ((JsonObject) s).getString("sessionId"))).doesNotContain(id);
    assertThat(http.get("/admin/sessions/" + id, admin()).status()).isEqualTo(404);
    assertFailure(failure("mcps.sessions.delete", new JsonObject().put("sessionId", id)), 404, "Session_Not_Found");
    awaitEvent("deleted", id);
    assertThat(events).anyMatch(e -> e.getString("type").equals("deleted") && user.equals(e.getString("userId")));
  }

  @Test
  void cleanupAnswersInTheAdminCleanupShape() {
    JsonObject reply = request("mcps.sessions.cleanup", new JsonObject());

    assertThat(reply.fieldNames()).containsExactlyInAnyOrder("success", "beforeCount", "afterCount", "removed");
    assertThat(reply.getBoolean("success")).isTrue();
    assertThat(reply.getLong("removed")).isEqualTo(reply.getLong("beforeCount") - reply.getLong("afterCount"));
  }

  @Test
  void unknownSessionsAre404SessionNotFoundAsOnTheAdminApi() {
    for (String address : List.of("mcps.sessions.get", "mcps.sessions.reset", "mcps.sessions.delete")) {
      for (String id : List.of(SessionEnv.randomId(), "../../etc")) {
        assertFailure(failure(address, new JsonObject().put("sessionId", id)), 404, "Session_Not_Found");
      }
    }
    assertThat(http.get("/admin/sessions/" + SessionEnv.randomId(), admin()).json())
        .isEqualTo(new JsonObject(failure("mcps.sessions.get", new JsonObject().put("sessionId",
            SessionEnv.randomId())).getMessage()));
  }

  @Test
  void malformedRequestsAre400WithAJsonMessageAndTouchNoSession() {
    for (String address : List.of("mcps.sessions.get", "mcps.sessions.reset", "mcps.sessions.delete")) {
      assertFailure(failure(address, new JsonObject()), 400, "Missing_Session_ID");
      assertFailure(failure(address, new JsonObject().put("sessionId", 42)), 400, "Invalid_Request");
      assertFailure(failure(address, "not an object"), 400, "Invalid_Json");
      assertFailure(failure(address, new JsonArray().add("x")), 400, "Invalid_Json");
    }
    assertFailure(failure("mcps.sessions.list", new JsonObject().put("limit", 0)), 400, "Invalid_Request");
    assertFailure(failure("mcps.sessions.list", new JsonObject().put("limit", 1001)), 400, "Invalid_Request");
    assertFailure(failure("mcps.sessions.list", new JsonObject().put("offset", -1)), 400, "Invalid_Request");
    assertFailure(failure("mcps.sessions.list", new JsonObject().put("limit", 1.5)), 400, "Invalid_Request");
    assertFailure(failure("mcps.sessions.list", new JsonObject().put("offset", "x")), 400, "Invalid_Request");
    assertFailure(failure("mcps.sessions.list", new JsonObject().put("q", 5)), 400, "Invalid_Request");
    assertFailure(failure("mcps.sessions.list", new JsonObject().put("q", "x".repeat(257))), 400, "Invalid_Request");
    assertFailure(failure("mcps.sessions.list", new JsonObject().put("q", "x").put("offset", 2)), 400,
        "Invalid_Request");
    String user = unique("olga");
    assertFailure(failure("mcps.sessions.create", new JsonObject().put("userId", 7)), 400, "Invalid_Request");
    assertFailure(failure("mcps.sessions.create", new JsonObject().put("userId", user).put("jiraAuth",
        jiraAuth().put("baseUrl", "https://evil.example.com"))), 400, "Invalid_Jira_Base_Url");
    assertFailure(failure("mcps.sessions.create", new JsonObject().put("userId", user).put("jiraAuth",
        jiraAuth().putNull("apiToken"))), 400, "Invalid_Jira_Auth");
    assertThat(events).noneMatch(e -> user.equals(e.getString("userId")));
  }

  @Test
  void noReplyOrFailureEverCarriesTheJiraApiToken() {
    String user = unique("pia");
    String id = request("mcps.sessions.create", new JsonObject().put("userId", user).put("jiraAuth", jiraAuth()))
        .getString("sessionId");
    request("mcps.sessions.get", new JsonObject().put("sessionId", id));
    request("mcps.sessions.list", new JsonObject().put("limit", 1000));
    request("mcps.sessions.create", new JsonObject().put("userId", user).put("jiraAuth", jiraAuth()));
    failure("mcps.sessions.create", new JsonObject().put("userId", user).put("jiraAuth",
        jiraAuth().put("baseUrl", "https://evil.example.com")));
    failure("mcps.sessions.create", new JsonObject().put("userId", user).put("jiraAuth",
        jiraAuth().putNull("email")));
    request("mcps.sessions.reset", new JsonObject().put("sessionId", id));
    request("mcps.sessions.delete", new JsonObject().put("sessionId", id));

    assertThat(answers).isNotEmpty();
    assertThat(answers).allSatisfy(a -> assertThat(a).doesNotContain(TOKEN).doesNotContain("BUS-SECRET")
        .doesNotContain("v1:"));
    assertThat(events).allSatisfy(e -> assertThat(e.encode()).doesNotContain("BUS-SECRET"));
  }

  // --- helpers ---

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID();
  }

  private static JsonObject jiraAuth() {
    return new JsonObject().put("baseUrl", "https://bus-test.atlassian.net").put("email", "bus@example.com")
        .put("apiToken", TOKEN);
  }

  /** A session made by /chat (which answers 503 without a provider, after storing what the request carries). */
  private String chatSession(String user, boolean withCredentialsAndHistory) {
    JsonObject body = new JsonObject().put("userId", user).put("message", "hello");
    if (withCredentialsAndHistory) {
      body.put("jiraAuth", jiraAuth()).put("history", new JsonArray()
          .add(new JsonObject().put("role", "user").put("content", "earlier question"))
          .add(new JsonObject().put("role", "assistant").put("content", "earlier answer")));
    }
    Http.Response r = http.post("/chat", body);
    assertThat(r.status()).isEqualTo(503);
    return r.json().getString("sessionId");
  }

  private JsonObject adminDetails(String id) {
    Http.Response r = http.get("/admin/sessions/" + id, admin());
    assertThat(r.status()).isEqualTo(200);
    return r.json();
  }

  private JsonObject request(String address, Object body) {
    try {
      Message<Object> reply = server.vertx().eventBus().request(address, body).toCompletionStage()
          .toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertThat(reply.body()).isInstanceOf(JsonObject.class);
      JsonObject json = (JsonObject) reply.body();
      answers.add(json.encode());
      return json;
    } catch (ExecutionException e) {
      throw new AssertionError(address + " failed: " + e.getCause(), e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private ReplyException failure(String address, Object body) {
    try {
      Object reply = server.vertx().eventBus().request(address, body).toCompletionStage().toCompletableFuture()
          .get(20, TimeUnit.SECONDS).body();
      throw new AssertionError(address + " answered " + reply + " where a failure was expected");
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(ReplyException.class);
      ReplyException failure = (ReplyException) e.getCause();
      answers.add(String.valueOf(failure.getMessage()));
      return failure;
    } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
      throw new AssertionError(e);
    }
  }

  private static void assertFailure(ReplyException failure, int status, String error) {
    assertThat(failure.failureType()).isEqualTo(ReplyFailure.RECIPIENT_FAILURE);
    assertThat(failure.failureCode()).isEqualTo(status);
    JsonObject json = new JsonObject(failure.getMessage());
    assertThat(json.getString("error")).isEqualTo(error);
    assertThat(json.getString("message")).isNotBlank();
  }

  private void awaitEvent(String type, String sessionId) {
    TestServers.awaitCondition(() -> events.stream()
        .anyMatch(e -> type.equals(e.getString("type")) && sessionId.equals(e.getString("sessionId"))));
  }
}
