package dev.mcps.provider;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Assembles JSON from parts that are already encoded, so that memoised parts are copied rather than encoded again. */
public final class EncodedJson {

  private static final byte[] ARRAY_START = "\":[".getBytes(StandardCharsets.US_ASCII);

  private EncodedJson() {
  }

  /**
   * {@code object} (an encoded JSON object) with one more field last: {@code field} holding the array of
   * {@code elements} (each an encoded JSON value; empty ones are left out). {@code field} must need no escaping.
   */
  public static Buffer withArray(Buffer object, String field, List<Buffer> elements) {
    int size = object.length() + field.length() + 8;
    for (Buffer e : elements) {
      size += e.length() + 1;
    }
    Buffer out = Buffer.buffer(size).appendBuffer(object, 0, object.length() - 1);
    if (object.length() > 2) {
      out.appendByte((byte) ',');
    }
    out.appendByte((byte) '"').appendBytes(field.getBytes(StandardCharsets.US_ASCII)).appendBytes(ARRAY_START);
    boolean first = true;
    for (Buffer e : elements) {
      if (e.length() == 0) {
        continue;
      }
      if (!first) {
        out.appendByte((byte) ',');
      }
      out.appendBuffer(e);
      first = false;
    }
    return out.appendByte((byte) ']').appendByte((byte) '}');
  }
}
