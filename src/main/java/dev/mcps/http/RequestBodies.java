package dev.mcps.http;

import dev.mcps.ApiException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Reads request bodies, with one clear 400 for each way a body can be unreadable. */
public final class RequestBodies {

  private RequestBodies() {
  }

  /** The body as a JSON object, or 400 Invalid_Json. */
  public static JsonObject object(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      throw ApiException.badRequest("Invalid_Json", "Request body is empty; expected a JSON object");
    }
    Object value;
    try {
      value = Json.decodeValue(body);
    } catch (DecodeException e) {
      throw ApiException.badRequest("Invalid_Json", "Request body is not valid JSON");
    }
    if (!(value instanceof JsonObject json)) {
      throw ApiException.badRequest("Invalid_Json", "Request body must be a JSON object");
    }
    return json;
  }
}
