package dev.mcps.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An SSE response read on a thread of its own, event by event, with each event's {@code id:} (null when none). */
public final class SseStream implements AutoCloseable {

  public record Event(String id, String data) {
  }

  public final int status;
  private final InputStream body;
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

  private SseStream(int status, InputStream body) {
    this.status = status;
    this.body = body;
    Thread reader = new Thread(this::read, "sse-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * The GET that opens (or, with {@code lastEventId}, resumes) the listening stream of the Streamable MCP session
   * {@code mcpSessionId} on the server at {@code baseUrl}.
   */
  public static HttpRequest listening(String baseUrl, String mcpSessionId, String lastEventId) {
    HttpRequest.Builder b = HttpRequest.newBuilder(java.net.URI.create(baseUrl + "/mcp"))
        .header("Accept", "text/event-stream").header("Mcp-Session-Id", mcpSessionId)
        .header("MCP-Protocol-Version", "2025-06-18");
    if (lastEventId != null) {
      b.header("Last-Event-ID", lastEventId);
    }
    return b.GET().build();
  }

  public static SseStream open(HttpClient http, HttpRequest request) throws Exception {
    HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    return new SseStream(r.statusCode(), r.body());
  }

  private void read() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      String id = null;
      StringBuilder data = new StringBuilder();
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) {
          if (data.length() > 0) {
            events.add(new Event(id, data.toString()));
          }
          id = null;
          data.setLength(0);
        } else if (line.startsWith("id: ")) {
          id = line.substring(4);
        } else if (line.startsWith("data: ")) {
          data.append(line.substring(6));
        }
      }
    } catch (Exception e) {
      // The stream ended or was closed by the test.
    }
  }

  /** The next event, failing the test when none comes within 15 s. */
  public Event next() throws InterruptedException {
    Event e = events.poll(15, TimeUnit.SECONDS);
    assertThat(e).as("an event within 15 s").isNotNull();
    return e;
  }

  /** The next event within {@code millis}, or null. */
  public Event poll(long millis) throws InterruptedException {
    return events.poll(millis, TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    try {
      body.close();
    } catch (Exception ignored) {
      // closing anyway
    }
  }

  /** The JSON of the next SSE {@code data:} line on a raw HTTP response read from a socket; fails at its end. */
  public static io.vertx.core.json.JsonObject nextData(java.io.InputStream in) throws java.io.IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        String l = line.toString().trim();
        line.setLength(0);
        if (l.startsWith("data: ")) {
          return new io.vertx.core.json.JsonObject(l.substring(6));
        }
      } else {
        line.append((char) c);
      }
    }
    throw new AssertionError("the stream ended");
  }
}
