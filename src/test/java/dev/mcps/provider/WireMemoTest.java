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

    memo.message("wire", 0, first, encode);
    memo.message("wire", 0, first, encode);
    memo.message("wire", 1, second, encode);
    Buffer again = memo.message("wire", 1, second, encode);

    assertThat(encodings).hasValue(2);
    assertThat(again.toString()).isEqualTo(second.encode());
  }

  /** A memo that has encoded {@code messages} on the track "wire", at their positions. */
  private WireMemo memoOf(JsonObject... messages) {
    WireMemo memo = new WireMemo();
    for (int i = 0; i < messages.length; i++) {
      memo.message("wire", i, messages[i], encode);
    }
    return memo;
  }

  @Test
  void anotherMessageInAPlaceIsEncodedAfreshAndWhatFollowedIsForgotten() {
    JsonObject first = new JsonObject().put("n", 1);
    JsonObject second = new JsonObject().put("n", 2);
    WireMemo memo = memoOf(first, second);

    // Equal content is not enough: only the very message that was encoded is reused.
    JsonObject replaced = new JsonObject().put("n", 1).put("edited", true);
    assertThat(memo.message("wire", 0, replaced, encode).toString()).isEqualTo(replaced.encode());
    assertThat(memo.message("wire", 1, second, encode).toString()).isEqualTo(second.encode());

    assertThat(encodings).hasValue(4);
  }

  @Test
  void aTrimmedConversationKeepsTheEncodingsOfWhatItKeptAtTheirNewPlaces() {
    JsonObject a = new JsonObject().put("n", 1);
    JsonObject b = new JsonObject().put("n", 2);
    JsonObject c = new JsonObject().put("n", 3);
    WireMemo memo = memoOf(a, b, c);
    memo.message("other", 0, a, encode);
    long before = memo.bytes();

    memo.dropOldest(2);

    assertThat(memo.bytes()).isEqualTo(before - 2 * a.toBuffer().length() - b.toBuffer().length());
    assertThat(memo.message("wire", 0, c, encode).toString()).isEqualTo(c.encode());
    assertThat(encodings).as("c was not encoded again").hasValue(4);
    assertThat(memo.message("other", 0, c, encode).toString()).isEqualTo(c.encode());
  }

  @Test
  void eachTrackKeepsItsOwnEncodingOfTheSameMessage() {
    WireMemo memo = new WireMemo();
    JsonObject message = new JsonObject().put("role", "user").put("n", 1);

    memo.message("wire", 0, message, encode);
    Buffer other = memo.message("canonical", 0, message, m -> Buffer.buffer("other"));

    assertThat(other.toString()).isEqualTo("other");
    assertThat(memo.message("wire", 0, message, encode).toString()).isEqualTo(message.encode());
    assertThat(encodings).hasValue(1);
  }

  @Test
  void theNextTurnKeepsTheMessagesButForgetsTheParts() {
    WireMemo memo = new WireMemo();
    JsonObject message = new JsonObject().put("n", 1);
    memo.message("wire", 0, message, encode);
    memo.part("head", () -> Buffer.buffer("tools of turn one"));

    memo.nextTurn();

    assertThat(memo.part("head", () -> Buffer.buffer("tools of turn two")).toString()).isEqualTo("tools of turn two");
    memo.message("wire", 0, message, encode);
    assertThat(encodings).hasValue(1);
  }

  @Test
  void itCountsTheBytesOfTheMessagesItHolds() {
    JsonObject first = new JsonObject().put("n", 1);
    JsonObject second = new JsonObject().put("n", 22);
    WireMemo memo = memoOf(first, second);
    assertThat(memo.bytes()).isEqualTo(first.encode().length() + second.encode().length());

    JsonObject replaced = new JsonObject().put("n", 333);
    memo.message("wire", 0, replaced, encode);

    assertThat(memo.bytes()).isEqualTo(replaced.encode().length());
  }
}
