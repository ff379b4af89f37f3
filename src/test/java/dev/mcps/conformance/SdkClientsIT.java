package dev.mcps.conformance;

import static dev.mcps.testing.TestServers.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.FakeAuthorizationServer;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.ScriptProcess;
import dev.mcps.testing.TestServers;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The official MCP TypeScript SDK clients (src/test/node/sdk-clients.mjs through scripts/sdk-clients.sh, on Node 22)
 * against our server, each as a user of its own (X-User-Id): the 2.x client in the stateless era (2026-07-28) as
 * alice, the 1.x Streamable HTTP client as bob, the 1.x legacy SSE client (/mcp/sse) as carol. Each stores a secret
 * note and reads its notes back, after all have stored theirs: it sees its own and never another user's.
 */
class SdkClientsIT {

  private final List<Server> servers = new ArrayList<>();
  private RedisServer redis;

  @AfterEach
  void stop() {
    servers.forEach(s -> await(s.stop()));
    if (redis != null) {
      redis.close();
    }
  }

  @Test
  void theOneXStreamableAndLegacySseClientsEachSeeOnlyTheirOwnNotes() throws Exception {
    Server server = start(Map.of("STORE", "memory"));
    List<String> lines = clients(Map.of("SDK_URL", url(server), "SDK_PARTS", "streamable,sse"));
    assertThat(lines).anyMatch(l -> l.startsWith("PASS streamable (user bob)"))
        .anyMatch(l -> l.startsWith("PASS sse (user carol)"));
  }

  @Test
  void theTwoXStatelessClientAndBothOneXClientsOnOneServerEachSeeOnlyTheirOwnNotes() throws Exception {
    Server server = start(Map.of("STORE", "memory"));
    List<String> lines = clients(Map.of("SDK_URL", url(server), "SDK_PARTS", "stateless,streamable,sse"));
    assertThat(lines).anyMatch(l -> l.startsWith("PASS stateless (user alice)"))
        .anyMatch(l -> l.startsWith("PASS streamable (user bob)"))
        .anyMatch(l -> l.startsWith("PASS sse (user carol)"));
  }

  @Test
  void aStatelessRequestOnASecondInstanceThatNeverSawTheUserReadsTheNotesStoredThroughTheFirst() throws Exception {
    redis = RedisServer.start();
    Server first = start(TestServers.redis(redis));
    Server second = start(TestServers.redis(redis));
    List<String> lines = clients(Map.of("SDK_URL", url(first), "SDK_SHARED_URL", url(second), "SDK_PARTS", "shared"));
    assertThat(lines).anyMatch(l -> l.startsWith("PASS shared (user dave)"));
  }

  @Test
  void withBearerTokensEveryClientActsAsItsTokensUserOnBothEras() throws Exception {
    try (FakeAuthorizationServer issuer = new FakeAuthorizationServer()) {
      String resource = "https://mcp.example.test/mcp";
      Server server = start(Map.of("STORE", "memory", "AUTH_MODE", "jwt", "AUTH_JWKS_URL", issuer.jwksUrl(),
          "AUTH_RESOURCE_URL", resource, "AUTH_ISSUER", FakeAuthorizationServer.ISSUER));
      JsonObject tokens = new JsonObject();
      for (String user : List.of("alice", "bob", "carol")) {
        tokens.put(user, issuer.token(user, resource, "mcp:tools"));
      }
      List<String> lines = clients(Map.of("SDK_URL", url(server), "SDK_PARTS", "stateless,streamable,sse",
          "SDK_TOKENS", tokens.encode()));
      assertThat(lines).anyMatch(l -> l.startsWith("PASS stateless (user alice)"))
          .anyMatch(l -> l.startsWith("PASS streamable (user bob)"))
          .anyMatch(l -> l.startsWith("PASS sse (user carol)"));
    }
  }

  private Server start(Map<String, String> env) {
    Server server = TestServers.start(env);
    servers.add(server);
    return server;
  }

  private static String url(Server server) {
    return "http://127.0.0.1:" + server.port();
  }

  /** Runs the clients; fails unless the script exits 0; returns its PASS lines. */
  private static List<String> clients(Map<String, String> env) throws Exception {
    ScriptProcess.Result result = ScriptProcess.run(List.of("bash", "scripts/sdk-clients.sh"), env,
        Duration.ofMinutes(5));
    ScriptProcess.skipIfNpmUnreachable(result, "the official SDK clients (scripts/sdk-clients.sh)");
    System.out.println(result.both());
    assertThat(result.exit()).as("scripts/sdk-clients.sh exit status; its output:%n%s", result.both()).isZero();
    return result.stdout().lines().filter(l -> l.startsWith("PASS ")).toList();
  }
}
