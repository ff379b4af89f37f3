package dev.mcps.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.TestCluster;
import dev.mcps.testing.SseStream;
import dev.mcps.testing.TestServers;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A stateless {@code subscriptions/listen} stream on one instance hears a list change made through another: the
 * change travels the clustered event bus to every instance's listeners.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterStatelessListenTest {

  private static final String META = "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
      + "\"io.modelcontextprotocol/clientCapabilities\":{}}";

  private TestCluster cluster;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  void start() {
    cluster = TestCluster.withOwnRedis(2, Map.of("MCP_CONFORMANCE_TOOLS", "true", "HTTP_INSTANCES", "4"));
  }

  @AfterAll
  void stop() {
    cluster.close();
  }

  @Test
  void aToolListChangeMadeThroughOneInstanceReachesAListenStreamOnAnother() throws Exception {
    String listen = "{\"jsonrpc\":\"2.0\",\"id\":\"across\",\"method\":\"subscriptions/listen\",\"params\":{" + META
        + ",\"notifications\":{\"toolsListChanged\":true}}}";
    byte[] body = listen.getBytes(StandardCharsets.UTF_8);
    String head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\n"
        + "Mcp-Method: subscriptions/listen\r\nContent-Length: " + body.length + "\r\n\r\n";

    try (Socket socket = new Socket("127.0.0.1", cluster.port(0))) {
      socket.setSoTimeout(15_000);
      socket.getOutputStream().write(head.getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().write(body);
      InputStream in = socket.getInputStream();
      JsonObject ack = SseStream.nextData(in);

      String trigger = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
          + "\"test_trigger_tool_change\",\"arguments\":{}," + META + "}}";
      HttpResponse<String> triggered = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + cluster.port(1) + "/mcp")).timeout(Duration.ofSeconds(15))
          .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
          .header("MCP-Protocol-Version", "2026-07-28").header("Mcp-Method", "tools/call")
          .header("Mcp-Name", "test_trigger_tool_change")
          .POST(HttpRequest.BodyPublishers.ofString(trigger)).build(), HttpResponse.BodyHandlers.ofString());
      JsonObject change = SseStream.nextData(in);

      assertThat(ack.getString("method")).isEqualTo("notifications/subscriptions/acknowledged");
      assertThat(triggered.statusCode()).as(triggered.body()).isEqualTo(200);
      assertThat(change.getString("method")).isEqualTo("notifications/tools/list_changed");
      assertThat(change.getJsonObject("params").getJsonObject("_meta")
          .getString("io.modelcontextprotocol/subscriptionId")).isEqualTo("across");
    }
    TestServers.awaitCondition(() -> cluster.get(0).mcp().stateless().listening() == 0);
  }
}
