package dev.mcps.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import java.net.URL;
import org.junit.jupiter.api.Test;

/** The production logback.xml, loaded as an operator chasing a bug would run it: LOG_LEVEL=DEBUG. */
class LogbackConfigTest {

  @Test
  void atDebugTheAwsSdkAndWireLoggersStayAtInfoSoNoSessionTokenOrHeaderIsPrinted() throws Exception {
    URL config = getClass().getClassLoader().getResource("logback.xml");
    LoggerContext context = new LoggerContext();
    context.putProperty("LOG_LEVEL", "DEBUG");
    try {
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(config);

      assertThat(context.getLogger("dev.mcps.chat.AgentLoop").isDebugEnabled()).as("our own DEBUG is on").isTrue();
      for (String name : new String[] {"software.amazon.awssdk", "software.amazon.awssdk.request",
          "software.amazon.awssdk.auth.signer.internal.AbstractAws4Signer",
          "software.amazon.awssdk.http.nio.netty.internal.NettyRequestExecutor", "org.apache.http.wire",
          "org.apache.http.headers", "io.netty.handler.logging.LoggingHandler"}) {
        assertThat(context.getLogger(name).isDebugEnabled()).as(name + " at DEBUG").isFalse();
        assertThat(context.getLogger(name).getEffectiveLevel().isGreaterOrEqual(Level.INFO)).as(name).isTrue();
      }
    } finally {
      context.stop();
    }
  }
}
