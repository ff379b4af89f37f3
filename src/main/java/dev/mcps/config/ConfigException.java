package dev.mcps.config;

/** A setting that is missing or invalid; its message is the one line printed before start-up stops. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message, null, false, false);
  }
}
