package dev.mcps.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * HTTP_IDLE_TIMEOUT_SECONDS over real sockets: connections that keep the server waiting are closed, connections the
 * server owes an answer to (an SSE stream, a slow turn) are not, whatever their keep-alive period.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdleConnectionsTest {

  private static final long TIMEOUT_MS = 1000;
  /** Far more than the timeout plus one check period, so a loaded machine does not make the tests flaky. */
  private static final int WAIT_LIMIT_MS = 10_000;

  private Vertx side;
  private HttpServer slowModel;
  private Server server;

  @BeforeAll
  void start() {
    side = Vertx.vertx();
    // A model that takes 2.5 timeouts to answer: the turn's connection is silent all that time.
    slowModel = TestServers.await(side.createHttpServer().requestHandler(req -> req.body().onSuccess(b ->
        side.setTimer(2500, id -> req.response().putHeader("Content-Type", "application/json")
            .end(FakeAnthropic.message("end_turn", FakeAnthropic.text("worth the wait")).encode()))))
        .listen(0, "127.0.0.1"));
    server = TestServers.start(Map.of(
        "HTTP_IDLE_TIMEOUT_SECONDS", "1",
        // Longer than the idle timeout on purpose: an open stream must not depend on its keep-alives to survive.
        "MCP_KEEP_ALIVE_SECONDS", "3",
        "ANTHROPIC_API_KEY", "test-key",
        "ANTHROPIC_BASE_URL", "http://127.0.0.1:" + slowModel.actualPort()));
  }

  @AfterAll
  void stop() {
    if (server != null) {
      TestServers.await(server.stop());
    }
    TestServers.await(side.close());
  }

  @Test
  void aConnectionThatSendsNothingIsClosedByTheServerWithinTheTimeout() throws IOException {
    try (Socket socket = connect()) {
      long opened = System.currentTimeMillis();

      assertThat(readUntilClosed(socket.getInputStream())).isEmpty();

      assertThat(System.currentTimeMillis() - opened).isGreaterThanOrEqualTo(TIMEOUT_MS - 50);
    }
  }

  @Test
  void aConnectionThatStopsSendingInTheMiddleOfItsHeadersIsClosed() throws IOException {
    try (Socket socket = connect()) {
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.UTF_8));

      assertThat(readUntilClosed(socket.getInputStream())).isEmpty();
    }
  }

  @Test
  void aKeepAliveConnectionIsAnsweredThenClosedWhenItSendsNothingMore() throws IOException {
    try (Socket socket = connect()) {
      long sent = System.currentTimeMillis();
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
          .getBytes(StandardCharsets.UTF_8));

      String everything = readUntilClosed(socket.getInputStream());

      assertThat(everything).startsWith("HTTP/1.1 200").contains("\"status\":\"ok\"");
      assertThat(System.currentTimeMillis() - sent).isGreaterThanOrEqualTo(TIMEOUT_MS - 50);
    }
  }

  @Test
  void anOpenSseStreamOutlivesTheTimeoutAndStillReceivesItsKeepAlives() throws IOException {
    try (Socket socket = connect()) {
      long opened = System.currentTimeMillis();
      socket.getOutputStream().write(("GET /mcp/sse?userId=idle-sse HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      Lines lines = new Lines(socket);

      assertThat(lines.next()).startsWith("HTTP/1.1 200");
      assertThat(lines.until("event: endpoint")).isTrue();
      boolean aliveLater = false;
      while (!aliveLater && lines.until(": keepalive")) {
        aliveLater = System.currentTimeMillis() - opened >= 3 * TIMEOUT_MS;
      }

      assertThat(aliveLater).as("a keep-alive arrives more than three timeouts after the stream opened").isTrue();
    }
  }

  @Test
  void aTurnSlowerThanTheTimeoutIsAnsweredOnItsConnection() {
    Http.Response r = new Http(server.port()).post("/chat",
        new JsonObject().put("userId", "idle-turn").put("message", "take your time"));

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().getString("response")).isEqualTo("worth the wait");
  }

  // --- helpers ---

  private Socket connect() throws IOException {
    Socket socket = new Socket("127.0.0.1", server.port());
    socket.setSoTimeout(WAIT_LIMIT_MS);
    return socket;
  }

  /** Everything the server sends until it closes the connection; fails when it keeps it open past the limit. */
  private static String readUntilClosed(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      for (int n; (n = in.read(buf)) != -1; ) {
        out.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server kept an idle connection open for " + WAIT_LIMIT_MS + " ms");
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Line reader over a raw socket (chunk-size lines included; tests look for the lines they expect). */
  private static final class Lines {
    private final InputStream in;

    Lines(Socket socket) throws IOException {
      this.in = socket.getInputStream();
    }

    String next() throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      for (int b; (b = in.read()) != -1; ) {
        if (b == '\n') {
          return line.toString(StandardCharsets.UTF_8).replace("\r", "");
        }
        line.write(b);
      }
      return null;
    }

    /** True when a line equal to {@code wanted} arrives before the stream ends. */
    boolean until(String wanted) throws IOException {
      for (String line; (line = next()) != null; ) {
        if (line.equals(wanted)) {
          return true;
        }
      }
      return false;
    }
  }
}
