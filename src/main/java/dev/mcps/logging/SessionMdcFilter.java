package dev.mcps.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import dev.mcps.session.SessionContext;
import dev.mcps.session.SessionEnv;
import org.slf4j.MDC;
import org.slf4j.Marker;

/**
 * Puts the session id of the running code into the MDC as each log call is made. The MDC is thread-bound and an
 * event loop serves many sessions, so it cannot be set once per request; the session context can, and this filter
 * copies it at the moment of logging (before any async appender hands the event to another thread). A line written
 * through {@link SessionLog#about} names its session explicitly, and that wins: it says which session it is about.
 */
public final class SessionMdcFilter extends TurboFilter {

  public static final String KEY = "sessionId";

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level == null || !level.isGreaterOrEqual(logger.getEffectiveLevel())) {
      return FilterReply.NEUTRAL;
    }
    String id = SessionLog.explicitSessionId();
    if (id == null) {
      SessionEnv session = SessionContext.current();
      id = session == null ? null : session.sessionId();
    }
    if (id != null) {
      MDC.put(KEY, id);
    } else {
      MDC.remove(KEY);
    }
    return FilterReply.NEUTRAL;
  }
}
