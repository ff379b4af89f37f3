package dev.mcps.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ZeroDelayAnthropicTest {

  private static final String KEY = "x-api-key";
  private static final String TEXT = "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"check my notes\"}]}";
  private static final String TOOL_USE = "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\","
      + "\"name\":\"notes_get\",\"input\":{}}]}";
  private static final String TOOL_RESULT = "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
      + "\"tool_use_id\":\"toolu_1\",\"content\":\"{}\",\"is_error\":false}]}";

  private Vertx vertx;
  private HttpServer server;
  private Http http;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    server = TestServers.await(new ZeroDelayAnthropic("bench-key").listen(vertx, "127.0.0.1", 0));
    http = new Http(server.actualPort());
  }

  @AfterEach
  void stop() {
    TestServers.await(vertx.close());
  }

  private static String request(String... messages) {
    return "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":1024,\"system\":\"be brief\","
        + "\"messages\":[" + String.join(",", messages) + "],"
        + "\"tools\":[{\"name\":\"notes_get\",\"description\":\"d\",\"input_schema\":{\"type\":\"object\"}}]}";
  }

  private Http.Response post(String body) {
    return http.post("/v1/messages", body, KEY, "bench-key", "anthropic-version", "2023-06-01");
  }

  @Test
  void aUserMessageGetsACallOfNotesGetWithAFreshToolUseIdEachTime() {
    Http.Response first = post(request(TEXT));
    Http.Response second = post(request(TEXT, TOOL_USE, TOOL_RESULT, "{\"role\":\"assistant\",\"content\":\"done\"}",
        TEXT));

    assertThat(first.status()).isEqualTo(200);
    assertThat(first.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonObject answer = first.json();
    assertThat(answer.getString("type")).isEqualTo("message");
    assertThat(answer.getString("role")).isEqualTo("assistant");
    assertThat(answer.getString("stop_reason")).isEqualTo("tool_use");
    assertThat(answer.getJsonArray("content")).hasSize(1);
    JsonObject use = answer.getJsonArray("content").getJsonObject(0);
    assertThat(use.getString("type")).isEqualTo("tool_use");
    assertThat(use.getString("name")).isEqualTo("notes_get");
    assertThat(use.getJsonObject("input")).isEqualTo(new JsonObject());
    assertThat(use.getString("id")).isEqualTo("toolu_1");
    assertThat(second.json().getJsonArray("content").getJsonObject(0).getString("id")).isEqualTo("toolu_2");
  }

  @Test
  void aToolResultLastGetsTheFinalTextExactly() {
    Http.Response r = post(request(TEXT, TOOL_USE, TOOL_RESULT));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"id\":\"msg_x\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"bench\","
        + "\"content\":[{\"type\":\"text\",\"text\":\"done\"}],\"stop_reason\":\"end_turn\","
        + "\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}");
  }

  @Test
  void statsCountTheAnswersAndTheTimeSpentOnThem() {
    post(request(TEXT));
    post(request(TEXT, TOOL_USE, TOOL_RESULT));
    post("not json");

    JsonObject stats = http.get("/stats").json();

    assertThat(stats.getLong("requests")).isEqualTo(3);
    assertThat(stats.getLong("toolUse")).isEqualTo(1);
    assertThat(stats.getLong("final")).isEqualTo(1);
    assertThat(stats.getLong("errors")).isEqualTo(1);
    assertThat(stats.getLong("serviceNanos")).isPositive();
    assertThat(stats.getDouble("meanServiceMicros")).isEqualTo(stats.getLong("serviceNanos") / 1000.0 / 3);
  }

  @Test
  void aWrongKeyABadBodyAndAnUnknownRouteAnswerInTheApisErrorShape() {
    Http.Response wrongKey = http.post("/v1/messages", request(TEXT), KEY, "other-key");
    Http.Response noMessages = post("{\"model\":\"m\",\"messages\":[]}");
    Http.Response unknown = http.get("/v1/models");

    assertThat(wrongKey.status()).isEqualTo(401);
    assertThat(wrongKey.json().getJsonObject("error").getString("type")).isEqualTo("authentication_error");
    assertThat(wrongKey.json().getString("type")).isEqualTo("error");
    assertThat(noMessages.status()).isEqualTo(400);
    assertThat(noMessages.json().getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");
    assertThat(noMessages.json().getJsonObject("error").getString("message")).contains("messages");
    assertThat(unknown.status()).isEqualTo(404);
  }

  @Test
  void aStreamingRequestGetsTheSameAnswersAsTheMessagesEventStream() {
    String streamed = ",\"stream\":true}";
    Http.Response use = post(request(TEXT).replaceAll("}$", streamed));
    Http.Response last = post(request(TEXT, TOOL_USE, TOOL_RESULT).replaceAll("}$", streamed));

    assertThat(use.headers().firstValue("Content-Type")).hasValue("text/event-stream");
    List<JsonObject> useEvents = events(use.body());
    assertThat(useEvents).extracting(e -> e.getString("type")).containsExactly("message_start",
        "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop");
    JsonObject block = useEvents.get(1).getJsonObject("content_block");
    assertThat(block.getString("type")).isEqualTo("tool_use");
    assertThat(block.getString("name")).isEqualTo("notes_get");
    assertThat(block.getString("id")).startsWith("toolu_");
    assertThat(useEvents.get(2).getJsonObject("delta").getString("partial_json")).isEqualTo("{}");
    assertThat(useEvents.get(4).getJsonObject("delta").getString("stop_reason")).isEqualTo("tool_use");

    List<JsonObject> lastEvents = events(last.body());
    assertThat(lastEvents.get(1).getJsonObject("content_block").getString("type")).isEqualTo("text");
    assertThat(lastEvents.get(2).getJsonObject("delta").getString("text")).isEqualTo("done");
    assertThat(lastEvents.get(4).getJsonObject("delta").getString("stop_reason")).isEqualTo("end_turn");
  }

  /** Each event's data, checked to carry its own event name as its type, as the Messages API's events do. */
  private static List<JsonObject> events(String stream) {
    List<JsonObject> out = new ArrayList<>();
    SseParser parser = new SseParser((type, data) -> {
      JsonObject event = new JsonObject(data);
      assertThat(event.getString("type")).isEqualTo(type);
      out.add(event);
    });
    byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
    parser.feed(bytes, 0, bytes.length);
    return out;
  }

  private static ZeroDelayAnthropic.Scan scan(String body) {
    return ZeroDelayAnthropic.scan(body.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void onlyTheLastBlockOfTheLastMessageDecides() {
    assertThat(scan(request(TEXT, TOOL_USE, TOOL_RESULT)).toolResultLast()).isTrue();
    assertThat(scan(request(TOOL_RESULT, TEXT)).toolResultLast()).isFalse();
    assertThat(scan(request(TEXT, TOOL_USE, TOOL_RESULT.replace("}]}",
        "},{\"type\":\"text\",\"text\":\"and then?\"}]}"))).toolResultLast()).isFalse();
    assertThat(scan(request(TOOL_RESULT, "{\"role\":\"user\",\"content\":\"a string is a text block\"}"))
        .toolResultLast()).isFalse();
  }

  @Test
  void aTypeInsideANestedValueIsNotTheBlocksOwn() {
    String resultTypeLast = "{\"role\":\"user\",\"content\":[{\"tool_use_id\":\"t\",\"content\":[{\"type\":\"text\","
        + "\"text\":\"x\"}],\"type\":\"tool_result\"}]}";
    String useWithTrickyInput = "{\"role\":\"assistant\",\"content\":[{\"input\":{\"type\":\"tool_result\"},"
        + "\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\"}]}";

    assertThat(scan(request(resultTypeLast)).toolResultLast()).isTrue();
    assertThat(scan(request(useWithTrickyInput)).toolResultLast()).isFalse();
  }

  @Test
  void fieldsAroundTheMessagesAreSkippedAndStreamIsRead() {
    JsonObject body = new JsonObject()
        .put("metadata", new JsonObject().put("user_id", "abc").put("messages", new JsonArray().add(1)))
        .put("messages", new JsonArray().add(new JsonObject(TEXT)).add(new JsonObject(TOOL_USE))
            .add(new JsonObject(TOOL_RESULT)))
        .put("tools", new JsonArray().add(new JsonObject().put("name", "x").put("input_schema",
            new JsonObject().put("type", "object"))))
        .put("stream", true);

    assertThat(scan(body.encode())).isEqualTo(new ZeroDelayAnthropic.Scan(true, true));
    assertThat(scan(request(TEXT)).stream()).isFalse();
  }

  @Test
  void aBodyWithoutUsableMessagesIsRefusedWithTheReason() {
    assertThatThrownBy(() -> scan("not json")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> scan("[1]")).hasMessageContaining("JSON object");
    assertThatThrownBy(() -> scan("{\"model\":\"m\"}")).hasMessageContaining("non-empty array");
    assertThatThrownBy(() -> scan("{\"messages\":{}}")).hasMessageContaining("must be an array");
    assertThatThrownBy(() -> scan("{\"messages\":[1]}")).hasMessageContaining("array of objects");
    assertThatThrownBy(() -> scan("{\"messages\":[{\"role\":\"user\",\"content\":7}]}"))
        .hasMessageContaining("string or an array of blocks");
    assertThatThrownBy(() -> scan("{\"messages\":[{\"role\":\"user\",\"content\":[\"x\"]}]}"))
        .hasMessageContaining("string or an array of blocks");
  }
}
