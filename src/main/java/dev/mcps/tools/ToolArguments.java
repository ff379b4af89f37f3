package dev.mcps.tools;

import io.vertx.core.json.JsonObject;

/**
 * Typed reads of tool arguments. A wrong or missing argument throws {@link Invalid}, which the tools verticle turns
 * into a tool error naming the argument (the model can correct itself; nothing fails at the protocol level).
 */
public final class ToolArguments {

  /** An argument the caller got wrong; its message names the argument. */
  public static final class Invalid extends RuntimeException {
    public Invalid(String message) {
      super(message, null, false, false);
    }
  }

  private final JsonObject args;

  public ToolArguments(JsonObject args) {
    this.args = args == null ? new JsonObject() : args;
  }

  public String requiredString(String name, int maxLength) {
    String v = optionalString(name, maxLength);
    if (v == null) {
      throw new Invalid("Invalid argument '" + name + "': a non-empty string is required");
    }
    return v;
  }

  public String optionalString(String name, int maxLength) {
    Object v = args.getValue(name);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw new Invalid("Invalid argument '" + name + "': must be a string");
    }
    if (s.length() > maxLength) {
      throw new Invalid("Invalid argument '" + name + "': at most " + maxLength + " characters");
    }
    return s.isBlank() ? null : s;
  }

  /** Any JSON value (object, array, string, number, boolean); null when absent. */
  public Object requiredValue(String name) {
    if (!args.containsKey(name) || args.getValue(name) == null) {
      throw new Invalid("Invalid argument '" + name + "': a value is required");
    }
    return args.getValue(name);
  }

  public JsonObject raw() {
    return args;
  }
}
