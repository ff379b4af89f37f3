package dev.mcps.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.TestServers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Requests that make Vert.x throw before routing are still answered (they used to hang, owing an answer forever). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RouterEntryTest {

  private Server server;

  @BeforeAll
  void start() {
    server = TestServers.start(Map.of());
  }

  @AfterAll
  void stop() {
    TestServers.await(server.stop());
  }

  @Test
  void aHostHeaderVertxCannotParseIsA400JsonAnswer() throws IOException {
    for (String host : List.of("%ZZ", "..%2f..%2f", "a%", "%4")) {
      for (String path : List.of("/health", "/chat", "/mcp", "/admin/sessions", "/nowhere")) {
        String answer = exchange("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");

        assertThat(answer).as(host + " " + path).startsWith("HTTP/1.1 400")
            .contains("application/json").contains("\"error\":\"Bad_Request\"");
      }
    }
  }

  @Test
  void aWellFormedHostStillReachesTheRoutes() throws IOException {
    String answer = exchange("GET /health HTTP/1.1\r\nHost: localhost:3333\r\nConnection: close\r\n\r\n");

    assertThat(answer).startsWith("HTTP/1.1 200").contains("\"status\":\"ok\"");
  }

  /** Sends raw bytes and reads until the server closes (Connection: close); fails after 10 s of silence. */
  private String exchange(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toString(StandardCharsets.UTF_8);
    }
  }
}
