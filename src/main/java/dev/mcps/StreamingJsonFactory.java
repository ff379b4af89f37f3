package dev.mcps;

import io.vertx.core.json.jackson.JacksonCodec;
import io.vertx.core.spi.JsonFactory;
import io.vertx.core.spi.json.JsonCodec;

/**
 * Makes Vert.x encode and decode {@code JsonObject}s with Jackson's streaming codec. With jackson-databind on the
 * class path (the MCP SDK needs it) Vert.x would otherwise pick its databind codec, which builds a serializer
 * provider and walks every map through databind on each encode: profiled under chat load, that was the largest
 * single cost of a turn, whose provider requests and replies carry the whole history. Our JSON is only maps, lists,
 * strings, numbers and booleans, which the streaming codec writes directly. Registered in META-INF/services.
 */
public final class StreamingJsonFactory implements JsonFactory {

  private static final JacksonCodec CODEC = new JacksonCodec();

  @Override
  public int order() {
    // Vert.x takes the lowest order; its own default (databind when present) is the fallback.
    return 0;
  }

  @Override
  public JsonCodec codec() {
    return CODEC;
  }
}
