package dev.mcps.testing;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bedrock Runtime's Converse on loopback: {@code POST /model/{modelId}/converse} with the Converse JSON shapes and
 * AWS JSON errors ({@code x-amzn-ErrorType}). Any SigV4 signature is accepted; the credential checked is the access
 * key id in its {@code Credential=} scope.
 */
public final class FakeBedrock extends FakeLlmServer {

  private static final Pattern CONVERSE = Pattern.compile("/model/([^/]+)/converse");
  private static final Pattern ACCESS_KEY = Pattern.compile("^AWS4-HMAC-SHA256 Credential=([^/]+)/");

  private FakeBedrock(Vertx vertx, String accessKeyId) {
    super(vertx, accessKeyId);
  }

  public static FakeBedrock start(Vertx vertx, String accessKeyId) {
    return new FakeBedrock(vertx, accessKeyId);
  }

  /** The model id of a recorded Converse request (URL-decoded from the path). */
  public static String modelId(Recorded r) {
    Matcher m = CONVERSE.matcher(r.path());
    return m.matches() ? QueryStringDecoder.decodeComponent(m.group(1)) : null;
  }

  /** A ConverseResponse with these content blocks. */
  public static JsonObject converse(String stopReason, JsonObject... blocks) {
    return new JsonObject()
        .put("output", new JsonObject().put("message", new JsonObject().put("role", "assistant")
            .put("content", new JsonArray(List.of(blocks)))))
        .put("stopReason", stopReason)
        .put("usage", new JsonObject().put("inputTokens", 10).put("outputTokens", 5).put("totalTokens", 15))
        .put("metrics", new JsonObject().put("latencyMs", 42));
  }

  public static JsonObject text(String text) {
    return new JsonObject().put("text", text);
  }

  public static JsonObject toolUse(String id, String name, JsonObject input) {
    return new JsonObject().put("toolUse", new JsonObject().put("toolUseId", id).put("name", name).put("input", input));
  }

  @Override
  protected boolean routes(String method, String path) {
    return method.equals("POST") && CONVERSE.matcher(path).matches();
  }

  @Override
  protected String credentialOf(HttpServerRequest req) {
    String auth = req.getHeader("Authorization");
    Matcher m = ACCESS_KEY.matcher(auth == null ? "" : auth);
    return m.find() && auth.contains("Signature=") ? m.group(1) : null;
  }

  @Override
  protected int rejectStatus() {
    return 403;
  }

  @Override
  protected void sendError(HttpServerResponse response, int status, String message) {
    String type = switch (status) {
      case 400 -> "ValidationException";
      case 403 -> "UnrecognizedClientException";
      case 404 -> "ResourceNotFoundException";
      case 429 -> "ThrottlingException";
      case 503 -> "ServiceUnavailableException";
      default -> "InternalServerException";
    };
    response.setStatusCode(status).putHeader("Content-Type", "application/json")
        .putHeader("x-amzn-ErrorType", type).putHeader("x-amzn-RequestId", "fake-request-id")
        .end(new JsonObject().put("message", message).encode());
  }

  @Override
  protected JsonObject textReply(String text) {
    return converse("end_turn", text(text));
  }
}
