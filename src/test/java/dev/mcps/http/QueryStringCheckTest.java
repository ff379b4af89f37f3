package dev.mcps.http;

import static dev.mcps.testing.Http.admin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import dev.mcps.testing.WireClient;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** A query string that cannot be decoded is the client's mistake: 400 Invalid_Request on every route, never a 500. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QueryStringCheckTest {

  private static final List<String> MALFORMED = List.of("userId=%ZZ", "userId=%", "userId=%4", "a=1&b=%G0&c=3",
      "sessionId=%%", "%ZZ=1");

  private Server server;
  private Http http;
  private WireClient wire;

  @BeforeAll
  void start() {
    server = TestServers.start(Map.of());
    http = new Http(server.port());
    wire = new WireClient(server.port(), 4);
  }

  @AfterAll
  void stop() {
    wire.close();
    TestServers.await(server.stop());
  }

  @Test
  void aMalformedPercentEscapeIsA400InvalidRequestOnEveryRoute() {
    for (String query : MALFORMED) {
      String rpc = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
      List<WireClient.Response> answers = List.of(
          send(HttpMethod.GET, "/admin/sessions?" + query, null, "Authorization", "Bearer " + TestServers.ADMIN_TOKEN),
          send(HttpMethod.GET, "/admin/sessions/0123456789abcdef0123456789abcdef?" + query, null,
              "Authorization", "Bearer " + TestServers.ADMIN_TOKEN),
          send(HttpMethod.POST, "/admin/sessions/cleanup?" + query, "", "Authorization",
              "Bearer " + TestServers.ADMIN_TOKEN),
          send(HttpMethod.GET, "/health?" + query, null),
          send(HttpMethod.POST, "/chat?" + query, "{\"userId\":\"q\",\"message\":\"hi\"}",
              "Content-Type", "application/json"),
          send(HttpMethod.GET, "/mcp/sse?" + query, null, "Accept", "text/event-stream"),
          send(HttpMethod.POST, "/mcp/message?" + query, rpc, "Content-Type", "application/json"),
          send(HttpMethod.POST, "/mcp?" + query, rpc, "Content-Type", "application/json",
              "Accept", "application/json, text/event-stream"),
          send(HttpMethod.DELETE, "/mcp?" + query, null));
      for (WireClient.Response r : answers) {
        assertThat(r.status()).as(query + " → " + r.body()).isEqualTo(400);
        assertThat(r.json().getString("error")).isEqualTo("Invalid_Request");
        assertThat(r.json().getString("message")).contains("query string");
      }
    }
  }

  private WireClient.Response send(HttpMethod method, String target, String body, String... headers) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i + 1 < headers.length; i += 2) {
      h.add(headers[i], headers[i + 1]);
    }
    return wire.send(method, target, h, body == null ? null : Buffer.buffer(body));
  }

  @Test
  void aWellFormedQueryStillReachesItsRoute() {
    Http.Response r = http.get("/admin/sessions?limit=5&offset=%30", admin());

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getInteger("limit")).isEqualTo(5);
    assertThat(r.json().getInteger("offset")).isZero();
  }
}
