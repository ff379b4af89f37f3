package dev.mcps.provider;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class WireMemoTest {

  private final AtomicInteger encodings = new AtomicInteger();
  private final Function<JsonObject, Buffer> encode = m -> {
    encodings.incrementAndGet();
    return m.toBuffer();
  };

  @Test
  void aMessageKeptInItsPlaceIsEncodedOncePerTurn() {
    WireMemo memo = new WireMemo();
    JsonObject first = new JsonObject().put("role", "user").put("n", 1);
    JsonObject second = new JsonObject().put("role", "assistant").put("n", 2);

    memo.message(0, first, encode);
    memo.message(0, first, encode);
    memo.message(1, second, encode);
    Buffer again = memo.message(1, second, encode);

    assertThat(encodings).hasValue(2);
    assertThat(again.toString()).isEqualTo(second.encode());
  }

  @Test
  void anotherMessageInAPlaceIsEncodedAfreshAndWhatFollowedIsForgotten() {
    WireMemo memo = new WireMemo();
    JsonObject first = new JsonObject().put("n", 1);
    JsonObject second = new JsonObject().put("n", 2);
    memo.message(0, first, encode);
    memo.message(1, second, encode);

    // Equal content is not enough: only the very message that was encoded is reused.
    JsonObject replaced = new JsonObject().put("n", 1).put("edited", true);
    assertThat(memo.message(0, replaced, encode).toString()).isEqualTo(replaced.encode());
    assertThat(memo.message(1, second, encode).toString()).isEqualTo(second.encode());

    assertThat(encodings).hasValue(4);
  }
}
