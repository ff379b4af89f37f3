package dev.mcps.provider;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class EncodedJsonTest {

  @Test
  void theArrayComesLastAfterTheObjectsFieldsAndLeavesEmptyElementsOut() {
    Buffer object = new JsonObject().put("model", "m").put("n", 1).toBuffer();
    List<Buffer> elements = List.of(new JsonObject().put("a", 1).toBuffer(), WireMemo.NOTHING,
        Buffer.buffer("\"two\""));

    Buffer out = EncodedJson.withArray(object, "messages", elements);

    assertThat(out.toJsonObject()).isEqualTo(new JsonObject().put("model", "m").put("n", 1)
        .put("messages", new JsonArray().add(new JsonObject().put("a", 1)).add("two")));
  }

  @Test
  void anEmptyObjectAndNoElementsStillMakeValidJson() {
    assertThat(EncodedJson.withArray(Buffer.buffer("{}"), "history", List.of()).toString())
        .isEqualTo("{\"history\":[]}");
    assertThat(EncodedJson.withArray(Buffer.buffer("{}"), "history", List.of(WireMemo.NOTHING)).toString())
        .isEqualTo("{\"history\":[]}");
  }
}
