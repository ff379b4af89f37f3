package dev.mcps.mcp.features;

import io.vertx.core.json.JsonObject;

/**
 * A JSON-RPC error a feature handler ends its request with, in either era: the code, a message in our words and
 * optional data. The session era turns it into the SDK's {@code McpError}; the stateless era into a JSON-RPC error
 * response with the HTTP status the 2026-07-28 revision gives that code (400 for -32602, -32021 ...).
 */
public final class McpFailure extends RuntimeException {

  public static final int INVALID_PARAMS = -32602;
  public static final int INTERNAL_ERROR = -32603;
  public static final int METHOD_NOT_FOUND = -32601;
  /** 2026-07-28: the request needs a client capability it did not declare. */
  public static final int MISSING_REQUIRED_CLIENT_CAPABILITY = -32021;

  private final int code;
  private final JsonObject data;

  public McpFailure(int code, String message, JsonObject data) {
    super(message, null, false, false);
    this.code = code;
    this.data = data;
  }

  public static McpFailure invalidParams(String message) {
    return new McpFailure(INVALID_PARAMS, message, null);
  }

  /** {@code capability} is a client capability name ("sampling", "elicitation", "roots"). */
  public static McpFailure missingCapability(String capability) {
    return new McpFailure(MISSING_REQUIRED_CLIENT_CAPABILITY,
        "This request needs the client capability '" + capability + "', which the client did not declare",
        new JsonObject().put("requiredCapabilities", new JsonObject().put(capability, new JsonObject())));
  }

  public int code() {
    return code;
  }

  /** Null when the error carries no data. */
  public JsonObject data() {
    return data;
  }
}
