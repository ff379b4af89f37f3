package dev.mcps;

import dev.mcps.config.ConfigException;
import dev.mcps.config.ConfigLoader;
import dev.mcps.config.ServerConfig;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads the configuration, starts the server, and on SIGTERM/SIGINT stops it gracefully and exits 0. */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {
  }

  public static void main(String[] args) throws Exception {
    ServerConfig config;
    try {
      config = ConfigLoader.load();
    } catch (ConfigException e) {
      System.err.println("Configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    Server server;
    try {
      server = Server.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      System.err.println("Start-up failed: " + cause.getMessage());
      LOG.debug("Start-up failure", cause);
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runnable shutdown = () -> {
      LOG.info("Shutting down: draining in-flight requests (up to {} s)", config.shutdownGraceSeconds());
      server.stop().onComplete(ar -> stopped.countDown());
    };
    // Handling the signals ourselves (instead of a shutdown hook) lets the process exit 0 after a clean stop.
    for (String signal : new String[] {"TERM", "INT"}) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> shutdown.run());
      } catch (IllegalArgumentException unsupported) {
        LOG.debug("Signal {} cannot be handled here", signal);
      }
    }
    stopped.await();
    LOG.info("Stopped");
    // The async appender would lose its last lines at exit: stopping the logging context flushes them.
    if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext logging) {
      logging.stop();
    }
    System.exit(0);
  }
}
