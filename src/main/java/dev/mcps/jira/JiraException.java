package dev.mcps.jira;

/**
 * A Jira call that did not succeed, with a message fit to show the user or the model. It never contains the
 * credentials: messages are built from the status and Jira's own error texts only.
 */
public final class JiraException extends RuntimeException {

  private final int status;

  public JiraException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  /** The HTTP status Jira answered, or 0 when it did not answer (timeout, connection refused). */
  public int status() {
    return status;
  }
}
