package dev.mcps.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A zero-delay stand-in for the Anthropic Messages API, so that a /chat benchmark measures our server and not a model.
 * {@code POST /v1/messages} answers at once, with a script that makes every chat turn exactly one tool call:
 *
 * <ul>
 *   <li>when the last block of the last message is a {@code tool_result}: the final text {@value #FINAL_TEXT}
 *       ({@code stop_reason: end_turn});</li>
 *   <li>otherwise: a {@code tool_use} block calling {@value #TOOL} with {@code {}} and the id {@code toolu_<n>}
 *       ({@code stop_reason: tool_use}).</li>
 * </ul>
 *
 * A request with {@code "stream": true} gets the same answer as the Messages API's event stream, so the benchmark
 * works whether our provider streams or not. A wrong {@code x-api-key} is 401 and a request without messages is 400,
 * in the API's error shape, so a harness that is wired wrong fails loudly instead of measuring errors.
 *
 * <p>It is built to cost next to nothing: the answers are encoded once (only the tool-use id is spliced in), the
 * request is scanned with Jackson's streaming parser rather than decoded into objects, nothing is logged per request,
 * and it runs on one event loop. What it does cost is measured: {@code GET /stats} reports the requests answered and
 * the time spent on them (from the whole body received to the answer written), so that a client can subtract the
 * provider's own time from a turn's latency and keep what our server added.
 *
 * <p>{@code java -cp target/test-classes:target/classes:$(cat cp.txt) dev.mcps.bench.ZeroDelayAnthropic --port=N
 * [--host=127.0.0.1] [--api-key=bench-key]}; our server then reaches it with {@code ANTHROPIC_BASE_URL=http://HOST:N}
 * and {@code ANTHROPIC_API_KEY=bench-key}.
 */
public final class ZeroDelayAnthropic {

  static final String TAG = "zero-delay-anthropic";
  static final String FINAL_TEXT = "done";
  static final String TOOL = "notes_get";
  static final String DEFAULT_API_KEY = "bench-key";

  private static final JsonFactory JSON = new JsonFactory();

  private static final String MESSAGE_FIELDS = "\"id\":\"msg_x\",\"type\":\"message\",\"role\":\"assistant\","
      + "\"model\":\"bench\"";
  private static final String USAGE = "\"usage\":{\"input_tokens\":1,\"output_tokens\":1}";

  static final byte[] FINAL_BODY = ("{" + MESSAGE_FIELDS + ",\"content\":[{\"type\":\"text\",\"text\":\"" + FINAL_TEXT
      + "\"}],\"stop_reason\":\"end_turn\"," + USAGE + "}").getBytes(StandardCharsets.UTF_8);
  private static final byte[] TOOL_USE_HEAD = ("{" + MESSAGE_FIELDS + ",\"content\":[{\"type\":\"tool_use\","
      + "\"id\":\"toolu_").getBytes(StandardCharsets.UTF_8);
  private static final byte[] TOOL_USE_TAIL = ("\",\"name\":\"" + TOOL + "\",\"input\":{}}],"
      + "\"stop_reason\":\"tool_use\"," + USAGE + "}").getBytes(StandardCharsets.UTF_8);

  // The Messages API's event stream: message_start, one content block (start, delta, stop), message_delta with the
  // stop reason, message_stop.
  private static final String STREAM_START = event("message_start", "{\"type\":\"message_start\",\"message\":{"
      + MESSAGE_FIELDS + ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null," + USAGE + "}}");
  static final byte[] FINAL_STREAM = (STREAM_START
      + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
          + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
      + event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
          + "\"delta\":{\"type\":\"text_delta\",\"text\":\"" + FINAL_TEXT + "\"}}")
      + streamEnd("end_turn")).getBytes(StandardCharsets.UTF_8);
  private static final byte[] TOOL_USE_STREAM_HEAD = (STREAM_START
      + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      + "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_").getBytes(StandardCharsets.UTF_8);
  private static final byte[] TOOL_USE_STREAM_TAIL = ("\",\"name\":\"" + TOOL + "\",\"input\":{}}}\n\n"
      + event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
          + "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}")
      + streamEnd("tool_use")).getBytes(StandardCharsets.UTF_8);

  private final String apiKey;
  private final AtomicLong toolUseIds = new AtomicLong();
  private final LongAdder requests = new LongAdder();
  private final LongAdder toolUses = new LongAdder();
  private final LongAdder finals = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final LongAdder serviceNanos = new LongAdder();

  ZeroDelayAnthropic(String apiKey) {
    this.apiKey = apiKey;
  }

  public static void main(String[] args) {
    String host = "127.0.0.1";
    int port = -1;
    String apiKey = DEFAULT_API_KEY;
    try {
      for (String arg : args) {
        int eq = arg.indexOf('=');
        String name = eq < 0 ? arg : arg.substring(0, eq);
        String value = eq < 0 ? "" : arg.substring(eq + 1);
        switch (name) {
          case "--host" -> host = value;
          case "--port" -> port = Integer.parseInt(value);
          case "--api-key" -> apiKey = value;
          default -> throw new IllegalArgumentException("unknown argument " + arg);
        }
      }
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("--port=N is required (0 picks a free one)");
      }
    } catch (IllegalArgumentException e) {
      System.err.println(TAG + ": " + e.getMessage());
      System.err.println("usage: ZeroDelayAnthropic --port=N [--host=127.0.0.1] [--api-key=" + DEFAULT_API_KEY + "]");
      System.exit(2);
      return;
    }
    // One event loop is plenty for answers that cost microseconds, and leaves the cores to the server under test.
    Vertx vertx = LoadRuns.vertx(1);
    try {
      HttpServer server = new ZeroDelayAnthropic(apiKey).listen(vertx, host, port)
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      System.err.println(TAG + ": listening on http://" + host + ":" + server.actualPort());
    } catch (Exception e) {
      System.err.println(TAG + ": cannot listen on " + host + ":" + port + ": " + e);
      vertx.close();
      System.exit(1);
    }
  }

  Future<HttpServer> listen(Vertx vertx, String host, int port) {
    return vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true))
        .requestHandler(this::handle)
        .listen(port, host);
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    if (req.method() == HttpMethod.POST && "/v1/messages".equals(path)) {
      req.body().onSuccess(body -> messages(req, body));
    } else if (req.method() == HttpMethod.GET && "/stats".equals(path)) {
      req.response().putHeader("Content-Type", "application/json").end(stats().encode());
    } else {
      req.response().setStatusCode(404).putHeader("Content-Type", "application/json")
          .end(error("not_found_error", "No route " + req.method() + " " + path));
    }
  }

  private void messages(HttpServerRequest req, Buffer body) {
    long start = System.nanoTime();
    requests.increment();
    if (!apiKey.equals(req.getHeader("x-api-key"))) {
      errors.increment();
      req.response().setStatusCode(401).putHeader("Content-Type", "application/json")
          .end(error("authentication_error", "invalid x-api-key"));
      serviceNanos.add(System.nanoTime() - start);
      return;
    }
    Scan scan;
    try {
      scan = scan(body.getBytes());
    } catch (IllegalArgumentException e) {
      errors.increment();
      req.response().setStatusCode(400).putHeader("Content-Type", "application/json")
          .end(error("invalid_request_error", e.getMessage()));
      serviceNanos.add(System.nanoTime() - start);
      return;
    }
    Buffer answer;
    if (scan.toolResultLast()) {
      finals.increment();
      answer = Buffer.buffer(scan.stream() ? FINAL_STREAM : FINAL_BODY);
    } else {
      toolUses.increment();
      byte[] id = Long.toString(toolUseIds.incrementAndGet()).getBytes(StandardCharsets.US_ASCII);
      byte[] head = scan.stream() ? TOOL_USE_STREAM_HEAD : TOOL_USE_HEAD;
      byte[] tail = scan.stream() ? TOOL_USE_STREAM_TAIL : TOOL_USE_TAIL;
      answer = Buffer.buffer(head.length + id.length + tail.length).appendBytes(head).appendBytes(id).appendBytes(tail);
    }
    req.response().putHeader("Content-Type", scan.stream() ? "text/event-stream" : "application/json").end(answer);
    serviceNanos.add(System.nanoTime() - start);
  }

  /** Counters since start; a client takes them at both ends of its window and subtracts. */
  JsonObject stats() {
    long n = requests.sum();
    long nanos = serviceNanos.sum();
    return new JsonObject()
        .put("requests", n)
        .put("toolUse", toolUses.sum())
        .put("final", finals.sum())
        .put("errors", errors.sum())
        .put("serviceNanos", nanos)
        .put("meanServiceMicros", n == 0 ? 0.0 : nanos / 1000.0 / n);
  }

  /** What the answer depends on: whether the last block of the last message is a tool result, and streaming. */
  record Scan(boolean toolResultLast, boolean stream) {
  }

  /**
   * Reads only what the answer depends on from a Messages API request. The last message's content is either a
   * string (a text block) or an array of blocks; each block's {@code type} may come anywhere among its fields, and
   * nested values (a tool's input, a result's content) are skipped whole, so a {@code "type"} inside them never counts.
   *
   * @throws IllegalArgumentException when the body is not JSON, or has no non-empty {@code messages} array
   */
  static Scan scan(byte[] body) {
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("the body must be a JSON object");
      }
      String lastType = null;
      boolean sawMessages = false;
      boolean stream = false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if ("messages".equals(field)) {
          if (value != JsonToken.START_ARRAY) {
            throw new IllegalArgumentException("messages must be an array");
          }
          while (p.nextToken() == JsonToken.START_OBJECT) {
            sawMessages = true;
            lastType = lastBlockType(p);
          }
          if (p.currentToken() != JsonToken.END_ARRAY) {
            throw new IllegalArgumentException("messages must be an array of objects");
          }
        } else if ("stream".equals(field)) {
          stream = value == JsonToken.VALUE_TRUE;
        } else {
          p.skipChildren();
        }
      }
      if (!sawMessages) {
        throw new IllegalArgumentException("messages must be a non-empty array");
      }
      return new Scan("tool_result".equals(lastType), stream);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new IllegalArgumentException("the body cannot be read: " + e.getMessage());
    }
  }

  /** Inside a message object: the type of its last content block (null when it has none). */
  private static String lastBlockType(JsonParser p) throws IOException {
    String lastType = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      if (!"content".equals(field)) {
        p.skipChildren();
      } else if (value == JsonToken.VALUE_STRING) {
        lastType = "text";
      } else if (value == JsonToken.START_ARRAY) {
        lastType = null;
        while (p.nextToken() == JsonToken.START_OBJECT) {
          String type = null;
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String blockField = p.currentName();
            JsonToken blockValue = p.nextToken();
            if ("type".equals(blockField) && blockValue == JsonToken.VALUE_STRING) {
              type = p.getText();
            } else {
              p.skipChildren();
            }
          }
          lastType = type;
        }
        if (p.currentToken() != JsonToken.END_ARRAY) {
          throw new IllegalArgumentException("a message's content must be a string or an array of blocks");
        }
      } else {
        throw new IllegalArgumentException("a message's content must be a string or an array of blocks");
      }
    }
    return lastType;
  }

  private static String event(String type, String data) {
    return "event: " + type + "\ndata: " + data + "\n\n";
  }

  private static String streamEnd(String stopReason) {
    return event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
        + event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + stopReason
            + "\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":1}}")
        + event("message_stop", "{\"type\":\"message_stop\"}");
  }

  private static String error(String type, String message) {
    return new JsonObject().put("type", "error")
        .put("error", new JsonObject().put("type", type).put("message", message)).encode();
  }
}
