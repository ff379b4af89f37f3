package dev.mcps.mcp.stateless;

import io.vertx.core.json.JsonObject;

/**
 * Ends a stateless request whose handler asked the client for input it has not given yet: the request answers with
 * an {@code input_required} result carrying these requests, and the handler runs again on the client's retry.
 * Not an error: it never reaches a log or a client as one.
 */
final class InputRequired extends RuntimeException {

  private final JsonObject requests;

  InputRequired(JsonObject requests) {
    super(null, null, false, false);
    this.requests = requests;
  }

  JsonObject requests() {
    return requests;
  }
}
