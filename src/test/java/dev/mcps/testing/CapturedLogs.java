package dev.mcps.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;

/**
 * The log events written while a test runs, as logback produced them (level, message, MDC). Attached to the root
 * logger, so it sees what the real appenders see, at the levels they see it.
 */
public final class CapturedLogs implements AutoCloseable {

  private final ListAppender<ILoggingEvent> appender = new ListAppender<>() {
    @Override
    protected void append(ILoggingEvent event) {
      // The MDC and the message are read now, on the thread that logged, as an async appender would.
      event.prepareForDeferredProcessing();
      super.append(event);
    }
  };
  private final Logger root;

  private CapturedLogs() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    appender.setContext(context);
    appender.start();
    root.addAppender(appender);
  }

  public static CapturedLogs start() {
    return new CapturedLogs();
  }

  /** A snapshot of the events so far. */
  public List<ILoggingEvent> events() {
    // AppenderBase.doAppend adds under the appender's own monitor.
    synchronized (appender) {
      return List.copyOf(appender.list);
    }
  }

  public List<ILoggingEvent> matching(Predicate<ILoggingEvent> wanted) {
    return events().stream().filter(wanted).toList();
  }

  public static Predicate<ILoggingEvent> at(Level level, Class<?> logger) {
    return e -> e.getLevel() == level && e.getLoggerName().equals(logger.getName());
  }

  @Override
  public void close() {
    root.detachAppender(appender);
    appender.stop();
  }
}
