package dev.mcps.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.FakeAuthorizationServer;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * AUTH_MODE=jwt over real HTTP, with keys from a JWKS served by a fake authorization server: the user of every route
 * is the token's, every bad token is a 401 that points at the protected resource metadata, and nothing a client
 * names can reach another user's session.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JwtAuthTest {

  static final String RESOURCE = "https://mcp.example.test/mcp";
  static final String METADATA = "https://mcp.example.test/.well-known/oauth-protected-resource/mcp";

  private Vertx vertx;
  private FakeAuthorizationServer issuer;
  private FakeAnthropic anthropic;
  private Server server;
  private Http http;
  private java.nio.file.Path audit;

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
    issuer = new FakeAuthorizationServer();
    anthropic = FakeAnthropic.start(vertx, "test-key");
    anthropic.script(r -> FakeAnthropic.message("end_turn", FakeAnthropic.text("hello")));
    try {
      audit = java.nio.file.Files.createTempFile("jwt-audit", ".log");
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    server = TestServers.start(Map.ofEntries(Map.entry("AUDIT_LOG", audit.toString()),
        Map.entry("AUTH_MODE", "jwt"),
        // Eight HTTP verticles share one authenticator: its keys and its one JWKS fetch at a time.
        Map.entry("HTTP_INSTANCES", "8"),
        Map.entry("AUTH_JWKS_URL", issuer.jwksUrl()),
        Map.entry("AUTH_ISSUER", FakeAuthorizationServer.ISSUER),
        Map.entry("AUTH_RESOURCE_URL", RESOURCE),
        Map.entry("AUTH_AUTHORIZATION_SERVERS", FakeAuthorizationServer.ISSUER),
        Map.entry("AUTH_JWKS_MIN_REFRESH_SECONDS", "0"),
        Map.entry("ANTHROPIC_API_KEY", "test-key"),
        Map.entry("ANTHROPIC_BASE_URL", anthropic.baseUrl())));
    http = new Http(server.port());
  }

  @AfterAll
  void stop() {
    TestServers.await(server.stop());
    anthropic.close();
    issuer.close();
    TestServers.await(vertx.close());
  }

  private String token(String user) {
    return issuer.token(user, RESOURCE, "mcp:tools");
  }

  private static JsonObject claims(String user) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("iss", FakeAuthorizationServer.ISSUER).put("sub", user).put("aud", RESOURCE)
        .put("iat", now).put("exp", now + 600);
  }

  static JsonObject statelessCall(String tool, JsonObject arguments) {
    return new JsonObject().put("jsonrpc", "2.0").put("id", 1).put("method", "tools/call").put("params",
        new JsonObject().put("name", tool).put("arguments", arguments).put("_meta", new JsonObject()
            .put("io.modelcontextprotocol/protocolVersion", "2026-07-28")
            .put("io.modelcontextprotocol/clientCapabilities", new JsonObject())));
  }

  static String[] statelessHeaders(String tool, String... more) {
    List<String> h = new ArrayList<>(List.of("Accept", "application/json, text/event-stream",
        "MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", tool));
    h.addAll(List.of(more));
    return h.toArray(String[]::new);
  }

  private Http.Response notes(String method, JsonObject args, String... auth) {
    String tool = "notes_" + method;
    return http.post("/mcp", statelessCall(tool, args), statelessHeaders(tool, auth));
  }

  private static String text(Http.Response r) {
    return r.json().getJsonObject("result").getJsonArray("content").getJsonObject(0).getString("text");
  }

  private void assertRefused(Http.Response r, String token, String reasonWords) {
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.json().getString("error")).isEqualTo("Unauthorized");
    assertThat(r.json().getString("message")).containsIgnoringCase(reasonWords);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElse(""))
        .startsWith("Bearer error=\"invalid_token\"").endsWith("resource_metadata=\"" + METADATA + "\"");
    assertThat(r.body()).doesNotContain(token);
  }

  @Test
  void aValidTokenActsInItsOwnUsersSessionAndNoOneElses() {
    Http.Response set = notes("set", new JsonObject().put("key", "plan").put("value", "ship"),
        "Authorization", "Bearer " + token("alice"));
    assertThat(set.status()).isEqualTo(200);

    assertThat(text(notes("get", new JsonObject(), "Authorization", "Bearer " + token("alice")))).contains("ship");
    assertThat(text(notes("get", new JsonObject(), "Authorization", "Bearer " + token("bob")))).doesNotContain("ship");
  }

  @Test
  void aMissingTokenIs401PointingAtTheProtectedResourceMetadata() {
    Http.Response r = notes("get", new JsonObject());

    assertThat(r.status()).isEqualTo(401);
    assertThat(r.json().getString("error")).isEqualTo("Unauthorized");
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer resource_metadata=\"" + METADATA + "\"");
    assertThat(http.post("/chat", new JsonObject().put("message", "hi").put("userId", "alice")).status())
        .isEqualTo(401);
    assertThat(http.get("/mcp/sse?userId=alice").status()).isEqualTo(401);
  }

  @Test
  void anExpiredTokenIs401() {
    long now = System.currentTimeMillis() / 1000;
    String expired = issuer.sign("key-1", claims("alice").put("iat", now - 7200).put("exp", now - 3600));
    assertRefused(notes("get", new JsonObject(), "Authorization", "Bearer " + expired), expired, "expired");
  }

  @Test
  void aTokenNotValidYetIs401() {
    long now = System.currentTimeMillis() / 1000;
    String early = issuer.sign("key-1", claims("alice").put("nbf", now + 3600));
    assertRefused(notes("get", new JsonObject(), "Authorization", "Bearer " + early), early, "not valid yet");
  }

  @Test
  void aTokenWithAWrongSignatureIs401() {
    String forged = issuer.forge("key-1", claims("alice"));
    assertRefused(notes("get", new JsonObject(), "Authorization", "Bearer " + forged), forged, "signature");
  }

  @Test
  void aTokenFromAnotherIssuerOrForAnotherResourceIs401() {
    String foreignIssuer = issuer.sign("key-1", claims("alice").put("iss", "https://evil.example.test"));
    assertRefused(notes("get", new JsonObject(), "Authorization", "Bearer " + foreignIssuer), foreignIssuer,
        "another authorization server");
    String otherAudience = issuer.sign("key-1", claims("alice").put("aud", "https://other.example.test/mcp"));
    assertRefused(notes("get", new JsonObject(), "Authorization", "Bearer " + otherAudience), otherAudience,
        "another resource");
    assertRefused(notes("get", new JsonObject(), "Authorization", "Bearer not.a.jwt"), "not.a.jwt", "not a JWT");
  }

  @Test
  void aTokenSignedWithAnUnknownKeyIs401UntilTheKeyIsPublishedThenAccepted() {
    String rotated = issuer.sign("key-2", claims("carol"));
    int before = issuer.fetches();

    assertRefused(notes("get", new JsonObject(), "Authorization", "Bearer " + rotated), rotated, "unknown key");
    assertThat(issuer.fetches()).as("an unknown kid makes the server fetch the JWKS again").isGreaterThan(before);

    issuer.publish("key-2");
    assertThat(notes("get", new JsonObject(), "Authorization", "Bearer " + rotated).status()).isEqualTo(200);
  }

  @Test
  void theProtectedResourceMetadataIsServedWithoutAToken() {
    for (String path : List.of("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp")) {
      Http.Response r = http.get(path);
      assertThat(r.status()).isEqualTo(200);
      JsonObject doc = r.json();
      assertThat(doc.getString("resource")).isEqualTo(RESOURCE);
      assertThat(doc.getJsonArray("authorization_servers")).isEqualTo(new JsonArray().add(FakeAuthorizationServer.ISSUER));
      assertThat(doc.getJsonArray("bearer_methods_supported")).isEqualTo(new JsonArray().add("header"));
      assertThat(doc.containsKey("scopes_supported")).isTrue();
    }
    assertThat(http.get("/health").status()).isEqualTo(200);
    assertThat(http.get("/metrics").status()).isEqualTo(200);
  }

  @Test
  void aRequestNamingAnotherUserThanItsTokenIs403() {
    String alice = "Bearer " + token("alice");
    Http.Response chat = http.post("/chat", new JsonObject().put("message", "hi").put("userId", "mallory"),
        "Authorization", alice);
    assertThat(chat.status()).isEqualTo(403);
    assertThat(chat.json().getString("error")).isEqualTo("Session_Forbidden");

    Http.Response mcp = notes("get", new JsonObject(), "Authorization", alice, "X-User-Id", "mallory");
    assertThat(mcp.status()).isEqualTo(403);
    assertThat(http.get("/mcp/sse?userId=mallory", "Authorization", alice).status()).isEqualTo(403);
  }

  @Test
  void chatRunsAsTheTokensUserAndAnotherUserCannotNameThatSession() {
    Http.Response turn = http.post("/chat", new JsonObject().put("message", "hi"),
        "Authorization", "Bearer " + token("dave"));
    assertThat(turn.status()).isEqualTo(200);
    String sessionId = turn.json().getString("sessionId");
    JsonObject owner = http.get("/admin/sessions/" + sessionId, Http.admin()).json();
    assertThat(owner.getString("userId")).isEqualTo("dave");

    Http.Response stolen = http.post("/chat", new JsonObject().put("message", "hi").put("sessionId", sessionId),
        "Authorization", "Bearer " + token("erin"));
    assertThat(stolen.status()).isEqualTo(403);
    assertThat(stolen.json().getString("error")).isEqualTo("Session_Forbidden");
    Http.Response viaMcp = notes("get", new JsonObject(), "Authorization", "Bearer " + token("erin"),
        "X-Session-Id", sessionId);
    assertThat(viaMcp.status()).isEqualTo(403);
  }

  @Test
  void aStreamableMcpSessionIsBoundToItsTokensUserAndRefusesAnotherTokensRequests() {
    JsonObject init = new JsonObject().put("jsonrpc", "2.0").put("id", 1).put("method", "initialize")
        .put("params", new JsonObject().put("protocolVersion", "2025-06-18")
            .put("capabilities", new JsonObject())
            .put("clientInfo", new JsonObject().put("name", "t").put("version", "1")));
    Http.Response opened = http.post("/mcp", init, "Accept", "application/json, text/event-stream",
        "Authorization", "Bearer " + token("frank"));
    assertThat(opened.status()).isEqualTo(200);
    String mcpSession = opened.headers().firstValue("Mcp-Session-Id").orElseThrow();
    JsonObject list = new JsonObject().put("jsonrpc", "2.0").put("id", 2).put("method", "tools/list");

    Http.Response own = http.post("/mcp", list, "Accept", "application/json, text/event-stream",
        "Mcp-Session-Id", mcpSession, "MCP-Protocol-Version", "2025-06-18", "Authorization", "Bearer " + token("frank"));
    Http.Response foreign = http.post("/mcp", list, "Accept", "application/json, text/event-stream",
        "Mcp-Session-Id", mcpSession, "MCP-Protocol-Version", "2025-06-18", "Authorization", "Bearer " + token("grace"));
    Http.Response none = http.post("/mcp", list, "Accept", "application/json, text/event-stream",
        "Mcp-Session-Id", mcpSession, "MCP-Protocol-Version", "2025-06-18");

    assertThat(own.status()).isEqualTo(200);
    assertThat(foreign.status()).isEqualTo(403);
    assertThat(foreign.body()).contains("Session_Forbidden");
    assertThat(none.status()).isEqualTo(401);
  }

  @Test
  void aLegacySseStreamIsBoundToItsTokensUserAndRefusesAnotherTokensMessages() throws Exception {
    java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
        .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
    String base = "http://127.0.0.1:" + server.port();
    try (dev.mcps.testing.SseStream stream = dev.mcps.testing.SseStream.open(client,
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/mcp/sse"))
            .header("Accept", "text/event-stream").header("Authorization", "Bearer " + token("heidi")).GET().build())) {
      assertThat(stream.status).isEqualTo(200);
      String endpoint = stream.next().data();
      String path = endpoint.startsWith("http") ? java.net.URI.create(endpoint).getRawPath() + "?"
          + java.net.URI.create(endpoint).getRawQuery() : endpoint;
      JsonObject init = new JsonObject().put("jsonrpc", "2.0").put("id", 1).put("method", "initialize")
          .put("params", new JsonObject().put("protocolVersion", "2024-11-05").put("capabilities", new JsonObject())
              .put("clientInfo", new JsonObject().put("name", "t").put("version", "1")));

      assertThat(http.post(path, init, "Authorization", "Bearer " + token("ivan")).status()).isEqualTo(403);
      assertThat(http.post(path, init).status()).isEqualTo(401);
      assertThat(http.post(path, init, "Authorization", "Bearer " + token("heidi")).status()).isEqualTo(202);
    }
  }

  @Test
  void everyRefusedTokenIsAnAuditLineWithItsReasonAndNeverTheToken() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    String expired = issuer.sign("key-1", claims("audited").put("iat", now - 7200).put("exp", now - 3600));
    String forged = issuer.forge("key-1", claims("audited"));
    notes("get", new JsonObject(), "Authorization", "Bearer " + expired);
    notes("get", new JsonObject(), "Authorization", "Bearer " + forged);

    TestServers.awaitCondition(() -> lines().stream().filter(l -> l.contains("\"auth_failure\"")).count() >= 2);
    List<JsonObject> failures = lines().stream().filter(l -> l.contains("\"auth_failure\"")).map(JsonObject::new)
        .toList();
    // Other tests of this class are refused too (the file is the server's): these two are among the lines.
    assertThat(failures).filteredOn(j -> "jwt".equals(j.getString("mode")) && "/mcp".equals(j.getString("path")))
        .extracting(j -> j.getString("reason")).contains("expired", "bad_signature");
    String all = java.nio.file.Files.readString(audit);
    assertThat(all).doesNotContain(expired).doesNotContain(forged).doesNotContain(expired.split("\\.")[2]);
  }

  private List<String> lines() {
    try {
      return java.nio.file.Files.readAllLines(audit);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theAdminApiKeepsItsOwnToken() {
    assertThat(http.get("/admin/sessions", Http.admin()).status()).isEqualTo(200);
    assertThat(http.get("/admin/sessions", "Authorization", "Bearer " + token("alice")).status()).isEqualTo(401);
  }
}
