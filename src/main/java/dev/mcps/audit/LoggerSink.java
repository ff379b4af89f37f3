package dev.mcps.audit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code AUDIT_LOG=stdout}: the lines go to the logback logger {@value #LOGGER}, which logback.xml sends to standard
 * output through its own async appender, with the bare message as the pattern (one JSON object a line, nothing
 * around it) and without additivity, so that no audit line shows up among the application's log lines.
 */
final class LoggerSink implements AuditSink {

  static final String LOGGER = "audit";

  private final Logger logger = LoggerFactory.getLogger(LOGGER);

  @Override
  public void write(String line) {
    logger.info(line);
  }

  @Override
  public void close() {
    // Logback owns the appender; Main stops the logging context (which flushes it) at exit.
  }
}
