package dev.mcps;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Typed reads of request fields (HTTP bodies and event-bus messages alike), each wrong type a clear 400. */
public final class JsonFields {

  private JsonFields() {
  }

  /** An optional string field (blank counts as absent), at most {@code maxLength} characters. */
  public static String optionalString(JsonObject json, String field, int maxLength) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw invalid(field + " must be a string");
    }
    if (s.length() > maxLength) {
      throw invalid(field + " must be at most " + maxLength + " characters");
    }
    return s.isBlank() ? null : s;
  }

  public static JsonObject optionalObject(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonObject o)) {
      throw invalid(field + " must be an object");
    }
    return o;
  }

  public static JsonArray optionalArray(JsonObject json, String field, String code) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonArray a)) {
      throw ApiException.badRequest(code, field + " must be an array");
    }
    return a;
  }

  public static boolean optionalBoolean(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v == null) {
      return false;
    }
    if (!(v instanceof Boolean b)) {
      throw invalid(field + " must be true or false");
    }
    return b;
  }

  public static ApiException invalid(String message) {
    return ApiException.badRequest("Invalid_Request", message);
  }
}
