package dev.mcps.http;

import static dev.mcps.testing.Http.admin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.session.SessionEnv;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The HTTP contract of DESIGN.md §4 for /chat (until providers exist), /admin and /health, over real HTTP on
 * loopback. Subclasses run it on the memory store and on a real Redis.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ServerContract {

  protected Server server;
  protected Http http;
  private final List<Server> extra = new ArrayList<>();

  /** The store settings of this run (a fresh key space each call). */
  protected abstract Map<String, String> storeEnv();

  @BeforeAll
  void startServer() {
    server = TestServers.start(storeEnv());
    http = new Http(server.port());
  }

  @AfterAll
  void stopServers() {
    for (Server s : extra) {
      TestServers.await(s.stop());
    }
    if (server != null) {
      TestServers.await(server.stop());
    }
  }

  protected Server startExtra(String... settings) {
    Map<String, String> env = new HashMap<>(storeEnv());
    for (int i = 0; i + 1 < settings.length; i += 2) {
      env.put(settings[i], settings[i + 1]);
    }
    Server s = TestServers.start(env);
    extra.add(s);
    return s;
  }

  protected static JsonObject chat(String userId, String message) {
    return new JsonObject().put("userId", userId).put("message", message);
  }

  protected static JsonObject jiraAuth(String user) {
    return new JsonObject().put("baseUrl", "https://" + user + ".atlassian.net").put("email", user + "@example.com")
        .put("apiToken", "tok-" + user + "-SECRET");
  }

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID();
  }

  // --- /chat ---

  @Test
  void chatStoresCredentialsAndHistoryThenAnswers503UntilAProviderIsConfigured() {
    String user = unique("alice");
    JsonObject body = chat(user, "hello").put("jiraAuth", jiraAuth("alice"))
        .put("history", new JsonArray().add(new JsonObject().put("role", "user").put("content", "earlier question"))
            .add(new JsonObject().put("role", "assistant").put("content", "earlier answer")));

    Http.Response r = http.post("/chat", body);

    assertThat(r.status()).isEqualTo(503);
    assertThat(r.json().getString("error")).isEqualTo("Provider_Not_Configured");
    String sessionId = r.json().getString("sessionId");
    assertThat(SessionEnv.isWellFormedId(sessionId)).isTrue();
    assertThat(r.body()).doesNotContain("SECRET");

    JsonObject details = http.get("/admin/sessions/" + sessionId, admin()).json();
    assertThat(details.getBoolean("hasJiraCredentials")).isTrue();
    assertThat(details.getInteger("historyLength")).isEqualTo(2);
    assertThat(details.getString("userId")).isEqualTo(user);
    SessionEnv stored = TestServers.await(server.sessions().peek(sessionId));
    assertThat(stored.jiraCredentials().apiToken()).isEqualTo("tok-alice-SECRET");
  }

  @Test
  void aUserIdAloneReusesThatUsersSession() {
    String user = unique("bob");
    String first = http.post("/chat", chat(user, "one")).json().getString("sessionId");
    String second = http.post("/chat", chat(user, "two")).json().getString("sessionId");
    String other = http.post("/chat", chat(unique("carol"), "three")).json().getString("sessionId");

    assertThat(second).isEqualTo(first);
    assertThat(other).isNotEqualTo(first);
  }

  @Test
  void newSessionStartsAFreshSessionForTheUserWhichTheirNextTurnsContinue() {
    String user = unique("nina");
    String first = http.post("/chat", chat(user, "one")).json().getString("sessionId");
    String fresh = http.post("/chat", chat(user, "two").put("newSession", true)).json().getString("sessionId");
    String next = http.post("/chat", chat(user, "three")).json().getString("sessionId");

    assertThat(fresh).isNotBlank().isNotEqualTo(first);
    assertThat(next).as("the new session is now the user's most recent").isEqualTo(fresh);
    assertThat(TestServers.await(server.sessions().peek(first))).as("the first session is left alone").isNotNull();
    assertThat(TestServers.await(server.sessions().peek(fresh)).userId()).isEqualTo(user);

    assertError(http.post("/chat", chat(user, "x").put("newSession", true).put("sessionId", fresh)), 400,
        "Invalid_Request");
    assertError(http.post("/chat", chat(user, "x").put("newSession", "yes")), 400, "Invalid_Request");
    assertError(http.post("/chat", chat(user, "x").put("newSession", true), "Idempotency-Key", "retry-1"), 400,
        "Invalid_Request");
    assertError(http.post("/chat", new JsonObject().put("message", "x").put("newSession", true)), 400,
        "Missing_User_ID");
  }

  @Test
  void anUnknownSessionIdIs404AndAnotherUsersSessionIs403() {
    String owner = unique("dana");
    String sessionId = http.post("/chat", chat(owner, "mine")).json().getString("sessionId");

    Http.Response unknown = http.post("/chat", new JsonObject().put("sessionId", SessionEnv.randomId())
        .put("message", "hi"));
    Http.Response garbage = http.post("/chat", new JsonObject().put("sessionId", "../../etc").put("message", "hi"));
    Http.Response foreign = http.post("/chat", new JsonObject().put("sessionId", sessionId)
        .put("userId", unique("mallory")).put("message", "hi").put("jiraAuth", jiraAuth("mallory")));
    Http.Response byIdOnly = http.post("/chat", new JsonObject().put("sessionId", sessionId).put("message", "hi"));

    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).isEqualTo("Session_Not_Found");
    assertThat(garbage.status()).isEqualTo(404);
    assertThat(foreign.status()).isEqualTo(403);
    assertThat(foreign.json().getString("error")).isEqualTo("Session_Forbidden");
    assertThat(foreign.body()).doesNotContain(sessionId);
    assertThat(byIdOnly.json().getString("sessionId")).isEqualTo(sessionId);
    assertThat(TestServers.await(server.sessions().peek(sessionId)).hasJiraCredentials())
        .as("the forbidden request stored nothing").isFalse();
  }

  @Test
  void badInputGetsAClear4xxJsonErrorAndCreatesNoSession() {
    String user = unique("erin");
    assertError(http.post("/chat", "{not json"), 400, "Invalid_Json");
    assertError(http.post("/chat", "[1,2]"), 400, "Invalid_Json");
    assertError(http.post("/chat", ""), 400, "Invalid_Json");
    assertError(http.post("/chat", new JsonObject().put("userId", user)), 400, "Missing_Message");
    assertError(http.post("/chat", new JsonObject().put("userId", user).put("message", "  ")), 400, "Missing_Message");
    assertError(http.post("/chat", new JsonObject().put("message", "hi")), 400, "Missing_User_ID");
    assertError(http.post("/chat", chat(user, "hi").put("message", 42)), 400, "Invalid_Request");
    assertError(http.post("/chat", chat(user, "hi").put("userId", new JsonObject())), 400, "Invalid_Request");
    assertError(http.post("/chat", chat(user, "hi").put("stream", "yes")), 400, "Invalid_Request");
    assertError(http.post("/chat", chat(user, "hi").put("model", "gpt-99")), 400, "Unsupported_Model");
    assertError(http.post("/chat", chat(user, "hi").put("history", "nope")), 400, "Invalid_History");
    assertError(http.post("/chat", chat(user, "hi").put("history", new JsonArray().add(new JsonObject()
        .put("role", "system").put("content", "x")))), 400, "Invalid_History");
    assertError(http.post("/chat", chat(user, "hi").put("jiraAuth", "x")), 400, "Invalid_Request");
    assertError(http.post("/chat", chat(user, "hi").put("jiraAuth", new JsonObject().put("baseUrl", "https://a.atlassian.net"))),
        400, "Invalid_Jira_Auth");
    assertError(http.post("/chat", chat(user, "hi").put("jiraAuth", jiraAuth("x").put("baseUrl", "https://evil.example.com"))),
        400, "Invalid_Jira_Base_Url");
    assertError(http.post("/chat", chat(user, "x".repeat(1_100_000))), 413, "Payload_Too_Large");
    assertError(http.get("/chat"), 405, "Method_Not_Allowed");
    assertError(http.get("/nowhere"), 404, "Not_Found");

    JsonObject sessions = http.get("/admin/sessions?limit=1000", admin()).json();
    assertThat(sessions.getJsonArray("sessions").stream().map(o -> ((JsonObject) o).getString("userId")))
        .doesNotContain(user);
  }

  private static void assertError(Http.Response r, int status, String code) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
    assertThat(r.json().getString("error")).isEqualTo(code);
    assertThat(r.json().getString("message")).isNotBlank();
  }

  @Test
  void twoHundredConcurrentUsersNeverSeeEachOthersCredentialsOrHistory() throws Exception {
    int users = 200;
    String run = UUID.randomUUID().toString().substring(0, 8);
    List<CompletableFuture<Http.Response>> calls = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      for (int u = 0; u < users; u++) {
        String name = "u" + u + "-" + run;
        JsonObject body = chat(name, "round " + round).put("jiraAuth", jiraAuth(name))
            .put("history", new JsonArray().add(new JsonObject().put("role", "user").put("content", "I am " + name)));
        calls.add(http.postAsync("/chat", body));
      }
    }
    Map<String, String> sessionOf = new HashMap<>();
    for (int i = 0; i < calls.size(); i++) {
      Http.Response r = calls.get(i).get(60, TimeUnit.SECONDS);
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.json().getString("error")).as(r.body()).isEqualTo("Provider_Not_Configured");
      String name = "u" + (i % users) + "-" + run;
      String previous = sessionOf.putIfAbsent(name, r.json().getString("sessionId"));
      assertThat(previous == null || previous.equals(r.json().getString("sessionId")))
          .as("one session per user").isTrue();
    }
    assertThat(sessionOf.values()).doesNotHaveDuplicates().hasSize(users);
    for (Map.Entry<String, String> e : sessionOf.entrySet()) {
      SessionEnv s = TestServers.await(server.sessions().peek(e.getValue()));
      assertThat(s.userId()).isEqualTo(e.getKey());
      assertThat(s.jiraCredentials().apiToken()).isEqualTo("tok-" + e.getKey() + "-SECRET");
      List<JsonObject> history = TestServers.await(server.sessions().history(e.getValue()));
      assertThat(history).hasSize(1);
      assertThat(history.get(0).getJsonArray("content").getJsonObject(0).getString("text"))
          .isEqualTo("I am " + e.getKey());
    }
  }

  // --- /admin ---

  @Test
  void adminNeedsTheBearerToken() {
    assertError(http.get("/admin/sessions"), 401, "Unauthorized");
    assertError(http.get("/admin/sessions", "Authorization", "Bearer wrong"), 401, "Unauthorized");
    assertError(http.post("/admin/sessions/cleanup", "", "Authorization", "Basic " + TestServers.ADMIN_TOKEN),
        401, "Unauthorized");
    assertThat(http.get("/admin/sessions", admin()).status()).isEqualTo(200);
  }

  @Test
  void aSearchFindsASessionByUserOrSessionIdAnywhereInTheListingIgnoringCase() {
    Server s = startExtra("SESSION_MAX", "5000");
    Http h = new Http(s.port());
    String run = UUID.randomUUID().toString().substring(0, 8);
    String alpha = TestServers.await(s.sessions().forUser("Needle-" + run + "-Alpha", null)).sessionId();
    TestServers.nextMillisecond();
    String beta = TestServers.await(s.sessions().forUser("needle-" + run + "-beta", null)).sessionId();
    TestServers.nextMillisecond();
    // 600 newer sessions push both past the first page a search reads, and far past a default list page.
    List<io.vertx.core.Future<?>> hay = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      hay.add(s.sessions().forUser("hay-" + run + "-" + i, null));
    }
    TestServers.await(io.vertx.core.Future.all(hay));
    List<String> firstPage = ids(h.get("/admin/sessions?limit=100", admin()).json());
    assertThat(firstPage).doesNotContain(alpha, beta);

    Http.Response byUser = h.get("/admin/sessions?q=NEEDLE-" + run, admin());

    assertThat(byUser.status()).as(byUser.body()).isEqualTo(200);
    assertThat(ids(byUser.json())).as("most recently used first").containsExactly(beta, alpha);
    assertThat(byUser.json().getString("query")).isEqualTo("NEEDLE-" + run);
    assertThat(byUser.json().getBoolean("complete")).isTrue();
    assertThat(byUser.json().getLong("scanned")).isEqualTo(byUser.json().getLong("totalCount")).isEqualTo(602);
    assertThat(byUser.json().getJsonArray("sessions").getJsonObject(0).fieldNames())
        .contains("userId", "hasMcpConnection", "historyLength").doesNotContain("jiraCredentials", "apiToken");

    assertThat(ids(h.get("/admin/sessions?q=" + alpha.substring(0, 12).toUpperCase(), admin()).json()))
        .containsExactly(alpha);
    JsonObject one = h.get("/admin/sessions?limit=1&q=needle-" + run, admin()).json();
    assertThat(ids(one)).containsExactly(beta);
    assertThat(one.getBoolean("complete")).as("stopped at the limit, before the end").isFalse();
    JsonObject none = h.get("/admin/sessions?q=no-such-" + run, admin()).json();
    assertThat(ids(none)).isEmpty();
    assertThat(none.getBoolean("complete")).isTrue();
    assertThat(ids(h.get("/admin/sessions?q=%20%20&limit=5", admin()).json())).as("a blank q is no search")
        .hasSize(5);
  }

  @Test
  void aSearchWithAnOffsetOrAQueryLongerThan256CharactersIsA400() {
    assertError(http.get("/admin/sessions?q=x&offset=5", admin()), 400, "Invalid_Request");
    assertError(http.get("/admin/sessions?q=" + "x".repeat(257), admin()), 400, "Invalid_Request");
    assertThat(http.get("/admin/sessions?q=" + "x".repeat(256), admin()).status()).isEqualTo(200);
    assertError(http.get("/admin/sessions?q=x", "Authorization", "Bearer wrong"), 401, "Unauthorized");
  }

  private static List<String> ids(JsonObject page) {
    List<String> out = new ArrayList<>();
    page.getJsonArray("sessions").forEach(o -> out.add(((JsonObject) o).getString("sessionId")));
    return out;
  }

  @Test
  void adminRoutesDoNotExistWithoutAConfiguredToken() {
    Server noAdmin = startExtra("ADMIN_TOKEN", "");
    Http h = new Http(noAdmin.port());
    assertError(h.get("/admin/sessions", admin()), 404, "Not_Found");
    assertError(h.post("/admin/sessions/cleanup", "", admin()), 404, "Not_Found");
  }

  @Test
  void adminListsShowsResetsAndDeletesSessionsWithoutEverShowingCredentials() {
    String user = unique("frank");
    JsonObject body = chat(user, "hello").put("jiraAuth", jiraAuth("frank"))
        .put("history", new JsonArray().add(new JsonObject().put("role", "user").put("content", "q")));
    String id = http.post("/chat", body).json().getString("sessionId");

    Http.Response list = http.get("/admin/sessions?limit=1000", admin());
    Http.Response details = http.get("/admin/sessions/" + id, admin());
    Http.Response health = http.get("/health");

    for (Http.Response r : List.of(list, details, health)) {
      assertThat(r.body()).doesNotContain("tok-frank-SECRET").doesNotContain("SECRET").doesNotContain("v1:");
    }
    assertThat(list.json().getLong("totalCount")).isPositive();
    JsonObject listed = list.json().getJsonArray("sessions").stream().map(JsonObject.class::cast)
        .filter(s -> id.equals(s.getString("sessionId"))).findFirst().orElseThrow();
    assertThat(listed.getBoolean("hasMcpConnection")).isFalse();
    JsonObject d = details.json();
    assertThat(d.fieldNames()).contains("sessionId", "userId", "createdAt", "lastAccessTime", "hasJiraCredentials",
        "historyLength", "productLabUserId", "anthropicConversationId", "hasMcpConnection");
    assertThat(d.getBoolean("hasMcpConnection")).isFalse();
    assertThat(d.getInteger("historyLength")).isEqualTo(1);

    Http.Response reset = http.post("/admin/sessions/" + id + "/reset", "", admin());
    assertThat(reset.status()).isEqualTo(200);
    assertThat(reset.json().getString("status")).isEqualTo("ok");
    assertThat(http.get("/admin/sessions/" + id, admin()).json().getInteger("historyLength")).isZero();
    assertThat(http.get("/admin/sessions/" + id, admin()).json().getBoolean("hasJiraCredentials")).isTrue();

    assertThat(http.delete("/admin/sessions/" + id, admin()).status()).isEqualTo(204);
    assertError(http.get("/admin/sessions/" + id, admin()), 404, "Session_Not_Found");
    assertError(http.delete("/admin/sessions/" + id, admin()), 404, "Session_Not_Found");
    assertError(http.post("/admin/sessions/" + id + "/reset", "", admin()), 404, "Session_Not_Found");
    assertError(http.post("/chat", new JsonObject().put("sessionId", id).put("message", "hi")), 404, "Session_Not_Found");
    assertError(http.get("/admin/sessions?limit=0", admin()), 400, "Invalid_Request");
    assertError(http.get("/admin/sessions?offset=x", admin()), 400, "Invalid_Request");
  }

  @Test
  void idleSessionsExpireAndTheCleanupEndpointCountsThem() throws Exception {
    Server s = startExtra("SESSION_TIMEOUT_SECONDS", "1", "SESSION_CLEANUP_INTERVAL_SECONDS", "3600");
    Http h = new Http(s.port());
    ConcurrentLinkedQueue<JsonObject> events = events(s);
    List<String> stale = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      stale.add(h.post("/chat", chat(unique("stale"), "hi")).json().getString("sessionId"));
    }
    long created = System.currentTimeMillis();
    waitUntil(() -> System.currentTimeMillis() - created > 1500);
    assertError(h.post("/chat", new JsonObject().put("sessionId", stale.get(0)).put("message", "hi")), 404,
        "Session_Not_Found");
    h.post("/chat", chat(unique("fresh"), "hi"));
    h.post("/chat", chat(unique("fresh"), "hi"));

    JsonObject cleanup = h.post("/admin/sessions/cleanup", "", admin()).json();

    assertThat(cleanup.getBoolean("success")).isTrue();
    assertThat(cleanup.getLong("beforeCount")).isEqualTo(5);
    assertThat(cleanup.getLong("afterCount")).isEqualTo(2);
    assertThat(cleanup.getLong("removed")).isEqualTo(3);
    waitUntil(() -> events.stream().filter(e -> e.getString("type").equals("expired")).count() == 3);
    assertThat(events.stream().filter(e -> e.getString("type").equals("expired")).map(e -> e.getString("sessionId")))
        .containsExactlyInAnyOrderElementsOf(stale);
    assertThat(h.get("/health").json().getLong("activeSessions")).isEqualTo(2);
  }

  @Test
  void atTheSessionCapTheLeastRecentlyUsedSessionIsEvicted() throws Exception {
    Server s = startExtra("SESSION_MAX", "10");
    Http h = new Http(s.port());
    ConcurrentLinkedQueue<JsonObject> events = events(s);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ids.add(h.post("/chat", chat("cap-" + i, "hi")).json().getString("sessionId"));
      Thread.sleep(2);
    }
    h.post("/chat", new JsonObject().put("sessionId", ids.get(0)).put("message", "still here"));

    h.post("/chat", chat("cap-new", "hi"));

    assertError(h.get("/admin/sessions/" + ids.get(1), admin()), 404, "Session_Not_Found");
    assertThat(h.get("/admin/sessions/" + ids.get(0), admin()).status()).isEqualTo(200);
    assertThat(h.get("/admin/sessions", admin()).json().getLong("totalCount")).isEqualTo(10);
    waitUntil(() -> events.stream().anyMatch(e -> e.getString("type").equals("evicted")));
    assertThat(events).anyMatch(e -> e.getString("type").equals("evicted")
        && e.getString("sessionId").equals(ids.get(1)) && "cap-1".equals(e.getString("userId")));
    assertThat(events).anyMatch(e -> e.getString("type").equals("created") && "cap-new".equals(e.getString("userId")));
  }

  @Test
  void atAFullCapAnAnonymousMcpClientIsRefusedWith503AndNoUsersSessionIsEvicted() {
    Server s = startExtra("SESSION_MAX", "2");
    Http h = new Http(s.port());
    String first = h.post("/chat", chat("full-a", "hi")).json().getString("sessionId");
    String second = h.post("/chat", chat("full-b", "hi")).json().getString("sessionId");
    JsonObject initialize = new JsonObject().put("jsonrpc", "2.0").put("id", 1).put("method", "initialize")
        .put("params", new JsonObject().put("protocolVersion", "2025-06-18").put("capabilities", new JsonObject())
            .put("clientInfo", new JsonObject().put("name", "anon").put("version", "1")));

    Http.Response anonymous = h.post("/mcp", initialize, "Accept", "application/json, text/event-stream");

    assertError(anonymous, 503, "Session_Limit_Reached");
    assertThat(h.get("/admin/sessions/" + first, admin()).status()).isEqualTo(200);
    assertThat(h.get("/admin/sessions/" + second, admin()).status()).isEqualTo(200);
  }

  // --- /health, /metrics ---

  @Test
  void healthReportsTheStoreAndTheSessionCount() {
    Http.Response r = http.get("/health");
    JsonObject h = r.json();
    assertThat(r.status()).isEqualTo(200);
    assertThat(h.getString("status")).isEqualTo("ok");
    assertThat(h.getString("uptime")).matches("\\d+h \\d+m \\d+s");
    assertThat(h.getJsonObject("store").getString("status")).isEqualTo("up");
    assertThat(h.getJsonObject("store").getString("type")).isEqualTo(server.sessions().storeType());
    assertThat(h.getLong("activeSessions")).isNotNull();
    assertThat(h.getJsonObject("memoryUsage").getLong("heapUsed")).isPositive();
    assertThat(h.getJsonObject("cluster").getBoolean("enabled")).isFalse();
    assertThat(h.getString("version")).isNotBlank();
  }

  @Test
  void metricsArePrometheusTextWithTheActiveSessionsGauge() {
    http.get("/health");
    Http.Response r = http.get("/metrics");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).contains("mcps_sessions_active").contains("vertx_http_server_requests");
  }

  // --- helpers ---

  protected static ConcurrentLinkedQueue<JsonObject> events(Server s) {
    ConcurrentLinkedQueue<JsonObject> events = new ConcurrentLinkedQueue<>();
    TestServers.await(s.vertx().eventBus().<JsonObject>consumer("mcps.session.events", m -> events.add(m.body()))
        .completion());
    return events;
  }

  protected static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 20_000;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("condition not reached within 20 s");
      }
      Thread.sleep(20);
    }
  }
}
