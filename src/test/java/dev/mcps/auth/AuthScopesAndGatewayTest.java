package dev.mcps.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.config.ConfigException;
import dev.mcps.config.ConfigLoader;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.FakeAuthorizationServer;
import dev.mcps.testing.FakeJira;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

/** The required scopes of AUTH_MODE=jwt, AUTH_MODE=header behind a gateway, and the settings each mode needs. */
class AuthScopesAndGatewayTest {

  private static final String GATEWAY_SECRET = "gateway-shared-secret-7c1e";

  private static Http.Response notes(Http http, String... headers) {
    return http.post("/mcp", JwtAuthTest.statelessCall("notes_get", new JsonObject()),
        JwtAuthTest.statelessHeaders("notes_get", headers));
  }

  @Test
  void aTokenWithoutTheRequiredScopesIs403NamingThem() {
    try (FakeAuthorizationServer issuer = new FakeAuthorizationServer()) {
      Server server = TestServers.start(Map.of("AUTH_MODE", "jwt", "AUTH_JWKS_URL", issuer.jwksUrl(),
          "AUTH_RESOURCE_URL", JwtAuthTest.RESOURCE, "AUTH_REQUIRED_SCOPES", "mcp:tools,mcp:notes"));
      try {
        Http http = new Http(server.port());
        String partial = issuer.token("alice", JwtAuthTest.RESOURCE, "mcp:tools");
        Http.Response refused = notes(http, "Authorization", "Bearer " + partial);

        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.json().getString("error")).isEqualTo("Insufficient_Scope");
        assertThat(refused.headers().firstValue("WWW-Authenticate")).hasValue("Bearer error=\"insufficient_scope\", "
            + "scope=\"mcp:tools mcp:notes\", resource_metadata=\"" + JwtAuthTest.METADATA + "\"");
        assertThat(refused.body()).doesNotContain(partial);
        String full = issuer.token("alice", JwtAuthTest.RESOURCE, "openid mcp:notes mcp:tools");
        assertThat(notes(http, "Authorization", "Bearer " + full).status()).isEqualTo(200);
        assertThat(http.get("/.well-known/oauth-protected-resource/mcp").json().getJsonArray("scopes_supported")
            .getList()).containsExactly("mcp:tools", "mcp:notes");
      } finally {
        TestServers.await(server.stop());
      }
    }
  }

  @Test
  void aJiraWriteToolNeedsTheWriteScopeOnEveryMcpEraWhileReadsDoNot() {
    try (FakeAuthorizationServer issuer = new FakeAuthorizationServer()) {
      Server server = TestServers.start(Map.of("AUTH_MODE", "jwt", "AUTH_JWKS_URL", issuer.jwksUrl(),
          "AUTH_RESOURCE_URL", JwtAuthTest.RESOURCE, "JIRA_WRITE_SCOPE", "jira:write"));
      try {
        Http http = new Http(server.port());
        String reader = "Bearer " + issuer.token("alice", JwtAuthTest.RESOURCE, "mcp:tools");
        String writer = "Bearer " + issuer.token("alice", JwtAuthTest.RESOURCE, "mcp:tools jira:write");
        JsonObject create = new JsonObject().put("projectKey", "PROJ").put("summary", "s").put("issueType", "Task");
        String challenge = "Bearer error=\"insufficient_scope\", scope=\"jira:write\", resource_metadata=\""
            + JwtAuthTest.METADATA + "\"";

        Http.Response stateless = http.post("/mcp", JwtAuthTest.statelessCall("jira_create_issue", create),
            JwtAuthTest.statelessHeaders("jira_create_issue", "Authorization", reader));
        assertThat(stateless.status()).isEqualTo(403);
        assertThat(stateless.headers().firstValue("WWW-Authenticate")).hasValue(challenge);
        assertThat(notes(http, "Authorization", reader).status()).as("reads need no write scope").isEqualTo(200);
        // With the scope the call gets through to the tool (which then finds no Jira credentials: a tool error).
        Http.Response allowed = http.post("/mcp", JwtAuthTest.statelessCall("jira_create_issue", create),
            JwtAuthTest.statelessHeaders("jira_create_issue", "Authorization", writer));
        assertThat(allowed.status()).isEqualTo(200);

        JsonObject init = new JsonObject().put("jsonrpc", "2.0").put("id", 1).put("method", "initialize")
            .put("params", new JsonObject().put("protocolVersion", "2025-06-18").put("capabilities", new JsonObject())
                .put("clientInfo", new JsonObject().put("name", "t").put("version", "1")));
        Http.Response opened = http.post("/mcp", init, "Accept", "application/json, text/event-stream",
            "Authorization", reader);
        String mcpSession = opened.headers().firstValue("Mcp-Session-Id").orElseThrow();
        JsonObject call = new JsonObject().put("jsonrpc", "2.0").put("id", 2).put("method", "tools/call")
            .put("params", new JsonObject().put("name", "jira_create_issue").put("arguments", create));
        Http.Response sessionEra = http.post("/mcp", call, "Accept", "application/json, text/event-stream",
            "Mcp-Session-Id", mcpSession, "MCP-Protocol-Version", "2025-06-18", "Authorization", reader);
        assertThat(sessionEra.status()).isEqualTo(403);
        assertThat(sessionEra.headers().firstValue("WWW-Authenticate")).hasValue(challenge);

        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
            .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        try (dev.mcps.testing.SseStream stream = dev.mcps.testing.SseStream.open(client, java.net.http.HttpRequest
            .newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port() + "/mcp/sse"))
            .header("Accept", "text/event-stream").header("Authorization", reader).GET().build())) {
          String endpoint = stream.next().data();
          java.net.URI uri = java.net.URI.create(endpoint.startsWith("http") ? endpoint : "http://x" + endpoint);
          Http.Response legacy = http.post(uri.getRawPath() + "?" + uri.getRawQuery(), call, "Authorization", reader);
          assertThat(legacy.status()).isEqualTo(403);
          assertThat(legacy.headers().firstValue("WWW-Authenticate")).hasValue(challenge);
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      } finally {
        TestServers.await(server.stop());
      }
    }
  }

  @Test
  void inAChatTurnTheModelsJiraWriteIsRefusedToATokenWithoutTheWriteScopeAndNothingReachesJira() {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    FakeAnthropic anthropic = FakeAnthropic.start(vertx, "test-key");
    FakeJira jira = FakeJira.start(vertx);
    try (FakeAuthorizationServer issuer = new FakeAuthorizationServer()) {
      anthropic.script(r -> {
        io.vertx.core.json.JsonArray messages = r.body().getJsonArray("messages");
        Object last = messages.getJsonObject(messages.size() - 1).getValue("content");
        if (last instanceof io.vertx.core.json.JsonArray blocks
            && "tool_result".equals(blocks.getJsonObject(0).getString("type"))) {
          return FakeAnthropic.message("end_turn", FakeAnthropic.text("tool said: " + blocks.getJsonObject(0)
              .getValue("content")));
        }
        return FakeAnthropic.message("tool_use", FakeAnthropic.toolUse("t1", "jira_create_issue", new JsonObject()
            .put("projectKey", "PROJ").put("summary", "s").put("issueType", "Task")));
      });
      Server server = TestServers.start(Map.of("AUTH_MODE", "jwt", "AUTH_JWKS_URL", issuer.jwksUrl(),
          "AUTH_RESOURCE_URL", JwtAuthTest.RESOURCE, "JIRA_WRITE_SCOPE", "jira:write",
          "ANTHROPIC_API_KEY", "test-key", "ANTHROPIC_BASE_URL", anthropic.baseUrl()));
      try {
        Http http = new Http(server.port());
        Http.Response turn = http.post("/chat", new JsonObject().put("message", "create a Jira issue in PROJ")
                .put("jiraAuth", new JsonObject().put("baseUrl", jira.baseUrl()).put("email", "a@example.com")
                    .put("apiToken", "jira-token")),
            "Authorization", "Bearer " + issuer.token("alice", JwtAuthTest.RESOURCE, "mcp:tools"));

        assertThat(turn.status()).isEqualTo(200);
        assertThat(turn.json().getString("response")).contains("refused").contains("JIRA_WRITE_SCOPE");
        assertThat(jira.requests()).as("nothing reached Jira").isEmpty();
      } finally {
        TestServers.await(server.stop());
      }
    } finally {
      jira.close();
      anthropic.close();
      TestServers.await(vertx.close());
    }
  }

  @Test
  void whileTheJwksCannotBeFetchedTokensGet503AndOnceItAnswersTheyAreAccepted() {
    try (FakeAuthorizationServer issuer = new FakeAuthorizationServer()) {
      issuer.failWith(500);
      Server server = TestServers.start(Map.of("AUTH_MODE", "jwt", "AUTH_JWKS_URL", issuer.jwksUrl(),
          "AUTH_RESOURCE_URL", JwtAuthTest.RESOURCE, "AUTH_JWKS_MIN_REFRESH_SECONDS", "0", "HTTP_INSTANCES", "8"));
      try {
        Http http = new Http(server.port());
        String token = "Bearer " + issuer.token("alice", JwtAuthTest.RESOURCE, null);

        Http.Response down = notes(http, "Authorization", token);
        assertThat(down.status()).as("no keys yet: the server cannot tell, it is not the token's fault").isEqualTo(503);
        assertThat(down.json().getString("error")).isEqualTo("Auth_Unavailable");
        assertThat(down.headers().firstValue("Retry-After")).isPresent();

        issuer.failWith(0);
        assertThat(notes(http, "Authorization", token).status()).as("the next request fetches the keys").isEqualTo(200);

        // Keys in hand, the authorization server fails again: known keys keep working, an unknown one is a 401.
        issuer.failWith(503);
        assertThat(notes(http, "Authorization", token).status()).isEqualTo(200);
        long now = System.currentTimeMillis() / 1000;
        String rotated = "Bearer " + issuer.sign("key-9", new JsonObject().put("sub", "alice")
            .put("aud", JwtAuthTest.RESOURCE).put("exp", now + 600));
        assertThat(notes(http, "Authorization", rotated).status()).isEqualTo(401);
      } finally {
        TestServers.await(server.stop());
      }
    }
  }

  @Test
  void aPemPublicKeyFileChecksTokensWithoutAnyJwks() throws Exception {
    try (FakeAuthorizationServer issuer = new FakeAuthorizationServer()) {
      java.nio.file.Path pem = java.nio.file.Files.createTempFile("auth-key", ".pem");
      java.nio.file.Files.writeString(pem, issuer.publicKeyPem("key-1"));
      Server server = TestServers.start(Map.of("AUTH_MODE", "jwt", "AUTH_JWT_PUBLIC_KEY_FILE", pem.toString(),
          "AUTH_RESOURCE_URL", JwtAuthTest.RESOURCE));
      try {
        Http http = new Http(server.port());
        assertThat(notes(http, "Authorization", "Bearer " + issuer.token("alice", JwtAuthTest.RESOURCE, null))
            .status()).isEqualTo(200);
        long now = System.currentTimeMillis() / 1000;
        String forged = issuer.forge("key-1", new JsonObject().put("sub", "alice").put("aud", JwtAuthTest.RESOURCE)
            .put("exp", now + 600));
        assertThat(notes(http, "Authorization", "Bearer " + forged).status()).isEqualTo(401);
        assertThat(issuer.fetches()).as("no JWKS was fetched").isZero();
      } finally {
        TestServers.await(server.stop());
      }
    }
  }

  @Test
  void anHs256SecretChecksTokensForLabs() {
    String secret = "lab-secret-0123456789abcdef-0123456789";
    Server server = TestServers.start(Map.of("AUTH_MODE", "jwt", "AUTH_JWT_SECRET", secret,
        "AUTH_RESOURCE_URL", JwtAuthTest.RESOURCE));
    try {
      Http http = new Http(server.port());
      long now = System.currentTimeMillis() / 1000;
      JsonObject claims = new JsonObject().put("sub", "alice").put("aud", JwtAuthTest.RESOURCE).put("exp", now + 600);
      assertThat(notes(http, "Authorization", "Bearer " + FakeAuthorizationServer.hs256(secret, claims)).status())
          .isEqualTo(200);
      String other = FakeAuthorizationServer.hs256("another-secret-0123456789abcdef-012345", claims);
      Http.Response refused = notes(http, "Authorization", "Bearer " + other);
      assertThat(refused.status()).isEqualTo(401);
      assertThat(refused.headers().firstValue("WWW-Authenticate").orElse("")).contains("invalid_token");
    } finally {
      TestServers.await(server.stop());
    }
  }

  @Test
  void behindAGatewayTheUserHeaderCountsOnlyWithTheGatewaysSecret() {
    Server server = TestServers.start(Map.of("AUTH_MODE", "header", "AUTH_USER_HEADER", "X-Forwarded-User",
        "AUTH_GATEWAY_SECRET_HEADER", "X-Gateway-Secret", "AUTH_GATEWAY_SECRET", GATEWAY_SECRET));
    try {
      Http http = new Http(server.port());
      assertThat(notes(http, "X-Forwarded-User", "alice", "X-Gateway-Secret", GATEWAY_SECRET).status())
          .isEqualTo(200);

      Http.Response noSecret = notes(http, "X-Forwarded-User", "alice");
      Http.Response wrongSecret = notes(http, "X-Forwarded-User", "alice", "X-Gateway-Secret", "guess");
      Http.Response noUser = notes(http, "X-Gateway-Secret", GATEWAY_SECRET);
      Http.Response otherUser = notes(http, "X-Forwarded-User", "alice", "X-Gateway-Secret", GATEWAY_SECRET,
          "X-User-Id", "bob");

      assertThat(noSecret.status()).isEqualTo(401);
      assertThat(wrongSecret.status()).isEqualTo(401);
      assertThat(wrongSecret.body()).doesNotContain("guess").doesNotContain(GATEWAY_SECRET);
      assertThat(noUser.status()).isEqualTo(401);
      assertThat(otherUser.status()).isEqualTo(403);
      assertThat(http.post("/chat", new JsonObject().put("message", "hi").put("userId", "alice")).status())
          .isEqualTo(401);
    } finally {
      TestServers.await(server.stop());
    }
  }

  @Test
  void eachModeStopsStartUpWithOneLineNamingWhatItLacks() {
    Assertions.assertThatThrownBy(() -> ConfigLoader.load(TestServers.env(Map.of("AUTH_MODE", "jwt",
            "AUTH_RESOURCE_URL", JwtAuthTest.RESOURCE))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("AUTH_JWKS_URL");
    Assertions.assertThatThrownBy(() -> ConfigLoader.load(TestServers.env(Map.of("AUTH_MODE", "jwt",
            "AUTH_JWT_SECRET", "0123456789abcdef0123456789abcdef"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("AUTH_RESOURCE_URL");
    Assertions.assertThatThrownBy(() -> ConfigLoader.load(TestServers.env(Map.of("AUTH_MODE", "header",
            "AUTH_USER_HEADER", "X-Forwarded-User"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("AUTH_GATEWAY_SECRET");
    Assertions.assertThatThrownBy(() -> ConfigLoader.load(TestServers.env(Map.of("AUTH_MODE", "jwt",
            "AUTH_RESOURCE_URL", JwtAuthTest.RESOURCE, "AUTH_JWT_SECRET", "short"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("32 bytes");
    assertThat(ConfigLoader.load(TestServers.env(Map.of("AUTH_MODE", "jwt", "AUTH_RESOURCE_URL",
        JwtAuthTest.RESOURCE, "AUTH_JWT_SECRET", "0123456789abcdef0123456789abcdef"))).toString())
        .doesNotContain("0123456789abcdef");
  }
}
