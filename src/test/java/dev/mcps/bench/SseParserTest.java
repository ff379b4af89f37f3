package dev.mcps.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseParserTest {

  private final List<String> events = new ArrayList<>();
  private final SseParser parser = new SseParser((type, data) -> events.add(type + "|" + data));

  private void feed(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    parser.feed(bytes, 0, bytes.length);
  }

  @Test
  void parsesEventsWithTypesAndDefaults() {
    feed("event: endpoint\ndata: /message?sessionId=abc\n\ndata: {\"id\":1}\n\n");

    assertThat(events).containsExactly("endpoint|/message?sessionId=abc", "message|{\"id\":1}");
  }

  @Test
  void everySplitOfTheStreamGivesTheSameEvents() {
    String stream = "id: 7\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":12,\"result\":{\"t\":\"é✓\"}}\r\n\r\n"
        + ": keep-alive comment\n\nevent: message\rdata: second\r\r";
    byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
    List<String> expected = List.of("message|{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":{\"t\":\"é✓\"}}", "message|second");
    for (int a = 0; a <= bytes.length; a++) {
      for (int b = a; b <= bytes.length; b += 7) {
        events.clear();
        SseParser p = new SseParser((type, data) -> events.add(type + "|" + data));
        p.feed(bytes, 0, a);
        p.feed(bytes, a, b - a);
        p.feed(bytes, b, bytes.length - b);
        assertThat(events).as("split at %d and %d", a, b).isEqualTo(expected);
      }
    }
  }

  @Test
  void joinsDataLinesAndDropsEventsWithoutData() {
    feed("event: lonely\n\ndata: one\ndata:two\ndata\n\n");

    assertThat(events).containsExactly("message|one\ntwo\n");
  }

  @Test
  void waitsForTheBlankLine() {
    feed("event: message\ndata: partial");
    assertThat(events).isEmpty();

    feed("\n");
    assertThat(events).isEmpty();

    feed("\n");
    assertThat(events).containsExactly("message|partial");
  }

  @Test
  void longLinesGrowTheBuffer() {
    String big = "x".repeat(10_000);
    feed("data: " + big + "\n\n");

    assertThat(events).containsExactly("message|" + big);
  }
}
