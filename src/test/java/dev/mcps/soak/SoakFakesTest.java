package dev.mcps.soak;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The soak's fakes must see a leak when there is one, or a soak that reports leaks=0 means nothing. */
class SoakFakesTest {

  private static final SoakIdentity IDS = new SoakIdentity("test-secret");
  private static Vertx vertx;
  private static HttpClient client;
  private static FakeJira jira;
  private static FakeAnthropic provider;
  private static int jiraPort;
  private static int providerPort;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    client = vertx.createHttpClient();
    jira = new FakeJira(IDS);
    provider = new FakeAnthropic("k");
    jiraPort = await(jira.listen(vertx, "127.0.0.1", 0)).actualPort();
    providerPort = await(provider.listen(vertx, "127.0.0.1", 0)).actualPort();
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private record Answer(int status, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  private static Answer send(int port, HttpMethod method, String uri, String auth, JsonObject body, String apiKey)
      throws Exception {
    RequestOptions o = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(uri);
    if (auth != null) {
      o.putHeader("Authorization", auth);
    }
    if (apiKey != null) {
      o.putHeader("x-api-key", apiKey).putHeader("anthropic-version", "2023-06-01")
          .putHeader("Content-Type", "application/json");
    }
    // body() is asked for inside send()'s mapper, which Vert.x runs on the request's context. Chained from this
    // (non-Vert.x) thread instead, .compose(send).compose(body) raced on a kept-alive connection: the whole answer
    // could arrive between the two compose() calls, its body was dropped unread and body() never completed.
    return await(client.request(o)
        .compose(req -> (body == null ? req.send() : req.send(body.toBuffer()))
            .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), b.toString(StandardCharsets.UTF_8))))));
  }

  private static String basic(int user) {
    return "Basic " + Base64.getEncoder().encodeToString((SoakIdentity.email(user) + ":" + IDS.token(user))
        .getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void identityFindsForeignMarkers() {
    assertThat(SoakIdentity.foreignOwner("soak-u17-turn-x and soak-u17-note", 17)).isEqualTo(-1);
    assertThat(SoakIdentity.foreignOwner("soak-u17-turn-x and soak-u170-note", 17)).isEqualTo(170);
    assertThat(IDS.userOf(SoakIdentity.email(3), IDS.token(3))).isEqualTo(3);
    assertThat(IDS.userOf(SoakIdentity.email(3), IDS.token(4))).isEqualTo(-1);
    assertThat(new SoakIdentity("other").token(3)).isNotEqualTo(IDS.token(3));
  }

  @Test
  void jiraAnswersTheOwnerAndCountsAnotherUsersCredentialsAsALeak() throws Exception {
    Answer own = send(jiraPort, HttpMethod.GET, "/rest/api/3/issue/U5-42?fields=summary", basic(5), null, null);
    assertThat(own.status()).isEqualTo(200);
    assertThat(own.json().getString("key")).isEqualTo("U5-42");
    assertThat(own.json().getJsonObject("fields").getString("summary")).contains("soak-u5-issue-U5-42");
    assertThat(own.json().getJsonObject("fields").getJsonObject("description").getString("type")).isEqualTo("doc");

    long leaksBefore = jira.leaks.sum();
    Answer foreign = send(jiraPort, HttpMethod.GET, "/rest/api/3/issue/U5-43", basic(6), null, null);
    assertThat(foreign.status()).isEqualTo(404);
    assertThat(foreign.body()).doesNotContain("soak-u5-").doesNotContain("soak-u6-");
    assertThat(jira.leaks.sum()).isEqualTo(leaksBefore + 1);

    long unauthorizedBefore = jira.unauthorized.sum();
    String wrongToken = "Basic " + Base64.getEncoder().encodeToString((SoakIdentity.email(5) + ":nope")
        .getBytes(StandardCharsets.UTF_8));
    assertThat(send(jiraPort, HttpMethod.GET, "/rest/api/3/issue/U5-44", wrongToken, null, null).status())
        .isEqualTo(401);
    assertThat(send(jiraPort, HttpMethod.GET, "/rest/api/3/issue/U5-44", null, null, null).status()).isEqualTo(401);
    assertThat(jira.unauthorized.sum()).isEqualTo(unauthorizedBefore + 2);
  }

  @Test
  void jiraSearchUsesTheJqlProject() throws Exception {
    String jql = URLEncoder.encode("project = U7 ORDER BY updated DESC", StandardCharsets.UTF_8);
    Answer own = send(jiraPort, HttpMethod.GET, "/rest/api/3/search/jql?jql=" + jql + "&maxResults=3", basic(7),
        null, null);
    assertThat(own.status()).isEqualTo(200);
    JsonArray issues = own.json().getJsonArray("issues");
    assertThat(issues).hasSize(3);
    assertThat(issues.getJsonObject(0).getString("key")).isEqualTo("U7-1");
    assertThat(own.json().getBoolean("isLast")).isTrue();
    long leaksBefore = jira.leaks.sum();
    assertThat(send(jiraPort, HttpMethod.GET, "/rest/api/3/search/jql?jql=" + jql, basic(8), null, null).status())
        .isEqualTo(404);
    assertThat(jira.leaks.sum()).isEqualTo(leaksBefore + 1);
  }

  private static JsonObject tools(String... names) {
    JsonArray tools = new JsonArray();
    for (String n : names) {
      tools.add(new JsonObject().put("name", n).put("input_schema", new JsonObject().put("type", "object")));
    }
    return new JsonObject().put("model", "m").put("max_tokens", 100).put("tools", tools);
  }

  private static JsonObject user(String text) {
    return new JsonObject().put("role", "user").put("content", new JsonArray()
        .add(new JsonObject().put("type", "text").put("text", text)));
  }

  @Test
  void providerAsksForTheToolThePromptNamesThenQuotesItsResult() throws Exception {
    String prompt = "soak-u3-turn-r-t9x: please summarize the jira issue U3-9";
    JsonObject first = tools("notes_get", "jira_get_issue").put("messages", new JsonArray().add(user(prompt)));
    Answer step = send(providerPort, HttpMethod.POST, "/v1/messages", null, first, "k");
    assertThat(step.status()).isEqualTo(200);
    JsonObject use = step.json().getJsonArray("content").getJsonObject(0);
    assertThat(step.json().getString("stop_reason")).isEqualTo("tool_use");
    assertThat(use.getString("name")).isEqualTo("jira_get_issue");
    assertThat(use.getJsonObject("input").getString("issueKey")).isEqualTo("U3-9");

    JsonObject second = tools("notes_get", "jira_get_issue").put("messages", new JsonArray().add(user(prompt))
        .add(new JsonObject().put("role", "assistant").put("content", new JsonArray().add(use)))
        .add(new JsonObject().put("role", "user").put("content", new JsonArray().add(new JsonObject()
            .put("type", "tool_result").put("tool_use_id", use.getString("id"))
            .put("content", "U3-9: Summary of soak-u3-issue-U3-9")))));
    long leaksBefore = provider.leaks.sum();
    Answer last = send(providerPort, HttpMethod.POST, "/v1/messages", null, second, "k");
    assertThat(last.json().getString("stop_reason")).isEqualTo("end_turn");
    assertThat(last.json().getJsonArray("content").getJsonObject(0).getString("text"))
        .contains("soak-u3-issue-U3-9").doesNotContain("soak-u3-turn");
    assertThat(provider.leaks.sum()).isEqualTo(leaksBefore);
  }

  @Test
  void providerCountsAnotherUsersDataAsALeak() throws Exception {
    JsonObject leaked = tools("notes_get").put("messages", new JsonArray()
        .add(user("soak-u4-turn-r-t1x: what do my notes say?"))
        .add(new JsonObject().put("role", "assistant").put("content", new JsonArray().add(new JsonObject()
            .put("type", "tool_use").put("id", "t1").put("name", "notes_get").put("input", new JsonObject()))))
        .add(new JsonObject().put("role", "user").put("content", new JsonArray().add(new JsonObject()
            .put("type", "tool_result").put("tool_use_id", "t1").put("content", "{\"k\":\"soak-u5-mcpnote-1\"}")))));
    long leaksBefore = provider.leaks.sum();
    assertThat(send(providerPort, HttpMethod.POST, "/v1/messages", null, leaked, "k").status()).isEqualTo(200);
    assertThat(provider.leaks.sum()).isEqualTo(leaksBefore + 1);
  }

  @Test
  void providerRefusesAWrongKeyAndNeverCallsAToolItWasNotOffered() throws Exception {
    JsonObject body = tools("notes_get").put("messages", new JsonArray()
        .add(user("soak-u1-turn-r-t2x: please summarize the jira issue U1-2")));
    assertThat(send(providerPort, HttpMethod.POST, "/v1/messages", null, body, "wrong").status()).isEqualTo(401);
    long before = provider.toolNotOffered.sum();
    Answer a = send(providerPort, HttpMethod.POST, "/v1/messages", null, body, "k");
    assertThat(a.json().getString("stop_reason")).isEqualTo("end_turn");
    assertThat(provider.toolNotOffered.sum()).isEqualTo(before + 1);
  }

  @Test
  void statsReportTheCountersInOrderAndTheLeaks() throws Exception {
    assertThat(send(jiraPort, HttpMethod.GET, "/rest/api/3/issue/U5-45", basic(6), null, null).status())
        .isEqualTo(404);
    JsonObject jiraStats = send(jiraPort, HttpMethod.GET, "/_soak/stats", null, null, null).json();
    assertThat(jiraStats.fieldNames()).containsExactly("requests", "answered", "unauthorized", "notFound",
        "unattributed", "leaks", "details");
    assertThat(jiraStats.getLong("leaks")).isPositive().isEqualTo(jira.leaks.sum());
    assertThat(jiraStats.getJsonArray("details").encode()).contains("LEAK GET /rest/api/3/issue/U5-45");

    JsonObject providerStats = send(providerPort, HttpMethod.GET, "/_soak/stats", null, null, null).json();
    assertThat(providerStats.fieldNames()).containsExactly("requests", "toolUse", "final", "rejected",
        "toolNotOffered", "unattributed", "leaks", "details");
    assertThat(providerStats.getLong("requests")).isEqualTo(provider.requests.sum());
  }

  @Test
  void providerStreamsWhenAsked() {
    JsonObject message = new JsonObject().put("id", "m").put("type", "message").put("role", "assistant")
        .put("model", "x").put("stop_reason", "tool_use").put("content", new JsonArray().add(new JsonObject()
            .put("type", "tool_use").put("id", "t").put("name", "notes_get").put("input", new JsonObject())));
    String stream = FakeAnthropic.stream(message);
    assertThat(stream).startsWith("event: message_start\n").contains("event: content_block_start")
        .contains("\"input_json_delta\"").contains("\"stop_reason\":\"tool_use\"").endsWith("event: message_stop\n"
            + "data: {\"type\":\"message_stop\"}\n\n");
    assertThat(Buffer.buffer(stream).length()).isPositive();
  }
}
