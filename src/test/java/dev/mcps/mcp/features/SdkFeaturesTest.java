package dev.mcps.mcp.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.spec.McpError;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SdkFeaturesTest {

  @Test
  void aFailureBecomesAnSdkErrorWithTheSameCodeMessageAndData() {
    McpError e = SdkFeatures.toMcpError(McpFailure.missingCapability("sampling"));
    assertThat(e.getJsonRpcError().code()).isEqualTo(-32021);
    assertThat(e.getJsonRpcError().message()).contains("'sampling'");
    assertThat(e.getJsonRpcError().data()).isEqualTo(Map.of("requiredCapabilities", Map.of("sampling", Map.of())));
  }

  @Test
  void anyOtherExceptionIsAnInternalErrorWithoutItsJavaText() {
    McpError e = SdkFeatures.toMcpError(new IllegalStateException("secret internals at line 42"));
    assertThat(e.getJsonRpcError().code()).isEqualTo(-32603);
    assertThat(e.getJsonRpcError().message()).isEqualTo("Internal error");
    assertThat(e.getJsonRpcError().data()).isNull();
  }

  @Test
  void vertxJsonBecomesPlainMapsTheSdkMapperWrites() {
    Object plain = SdkFeatures.plain(new JsonObject().put("a", new JsonObject().put("b", 1))
        .put("c", new JsonArray().add("x")));
    assertThat(plain).isEqualTo(Map.of("a", Map.of("b", 1), "c", List.of("x")));
  }
}
