package dev.mcps.bench;

/** A load run that cannot start: the message says which user or session and which step failed, and how. */
final class FatalException extends Exception {

  FatalException(String message) {
    super(message);
  }
}
