package dev.mcps.bench;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An incremental {@code text/event-stream} parser: feed it the chunks of a response as they arrive, in any sizes, and
 * it calls the listener once per complete event. Chunk boundaries fall anywhere (inside a line, between the CR and LF
 * of a CRLF, inside a multi-byte character), so bytes are buffered per line and decoded only once the line is whole;
 * line terminators are ASCII, so a line never ends inside a character.
 *
 * <p>Follows the WHATWG rules the MCP transports rely on: LF, CR or CRLF end a line, a blank line dispatches, several
 * {@code data} lines are joined with LF, an event without data is dropped, {@code :} starts a comment, one space after
 * the field's colon is stripped, and the event type defaults to {@code message}.
 */
public final class SseParser {

  public interface Listener {
    void onEvent(String type, String data);
  }

  private final Listener listener;
  private byte[] line = new byte[256];
  private int lineLength;
  private boolean afterCr;
  private String eventType;
  private final StringBuilder data = new StringBuilder();
  private boolean hasData;

  public SseParser(Listener listener) {
    this.listener = listener;
  }

  public void feed(Buffer chunk) {
    byte[] bytes = chunk.getBytes();
    feed(bytes, 0, bytes.length);
  }

  public void feed(byte[] bytes, int offset, int length) {
    int end = offset + length;
    for (int i = offset; i < end; i++) {
      byte b = bytes[i];
      if (b == '\n') {
        if (afterCr) {
          // The LF of a CRLF whose CR already ended the line.
          afterCr = false;
          continue;
        }
        endLine();
      } else if (b == '\r') {
        afterCr = true;
        endLine();
      } else {
        afterCr = false;
        if (lineLength == line.length) {
          line = Arrays.copyOf(line, line.length * 2);
        }
        line[lineLength++] = b;
      }
    }
  }

  private void endLine() {
    if (lineLength == 0) {
      dispatch();
      return;
    }
    if (line[0] == ':') {
      lineLength = 0;
      return;
    }
    int colon = -1;
    for (int i = 0; i < lineLength; i++) {
      if (line[i] == ':') {
        colon = i;
        break;
      }
    }
    String field;
    String value;
    if (colon < 0) {
      field = new String(line, 0, lineLength, StandardCharsets.UTF_8);
      value = "";
    } else {
      field = new String(line, 0, colon, StandardCharsets.UTF_8);
      int start = colon + 1;
      if (start < lineLength && line[start] == ' ') {
        start++;
      }
      value = new String(line, start, lineLength - start, StandardCharsets.UTF_8);
    }
    lineLength = 0;
    switch (field) {
      case "data" -> {
        if (hasData) {
          data.append('\n');
        }
        data.append(value);
        hasData = true;
      }
      case "event" -> eventType = value;
      default -> {
        // id and retry matter only to a client that reconnects with Last-Event-ID; this one re-handshakes instead.
      }
    }
  }

  private void dispatch() {
    if (hasData) {
      String type = eventType == null || eventType.isEmpty() ? "message" : eventType;
      String payload = data.toString();
      data.setLength(0);
      hasData = false;
      eventType = null;
      listener.onEvent(type, payload);
    } else {
      eventType = null;
    }
  }
}
