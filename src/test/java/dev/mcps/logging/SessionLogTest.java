package dev.mcps.logging;

import static dev.mcps.testing.Http.admin;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.mcps.Server;
import dev.mcps.session.SessionContext;
import dev.mcps.session.SessionEnv;
import dev.mcps.testing.CapturedLogs;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Every log line written for a session carries its id in the MDC ({@code [session=…]}), as README promises. */
class SessionLogTest {

  private static final Logger LOG = LoggerFactory.getLogger(SessionLogTest.class);
  private static final Pattern SESSION_ID = Pattern.compile("\\b[0-9a-f]{32}\\b");

  @Test
  void theLifecycleLinesOfASessionCarryTheIdTheyAreAbout() throws Exception {
    Server server = TestServers.start(Map.of("SESSION_MAX", "2", "SESSION_TIMEOUT_SECONDS", "1",
        "SESSION_CLEANUP_INTERVAL_SECONDS", "3600"));
    try (CapturedLogs logs = CapturedLogs.start()) {
      Http http = new Http(server.port());
      String dave = newSession(http, "dave-" + UUID.randomUUID());
      String erin = newSession(http, "erin-" + UUID.randomUUID());
      String frank = newSession(http, "frank-" + UUID.randomUUID()); // evicts dave
      http.post("/admin/sessions/" + erin + "/reset", "", admin());
      http.delete("/admin/sessions/" + erin, admin());
      long deleted = System.currentTimeMillis();
      while (System.currentTimeMillis() - deleted < 1200) {
        Thread.sleep(50); // frank idles past SESSION_TIMEOUT_SECONDS
      }
      http.post("/admin/sessions/cleanup", "", admin());

      assertThat(lineAbout(logs, "Created session " + dave)).isEqualTo(dave);
      assertThat(lineAbout(logs, "evicted least recently used session " + dave)).isEqualTo(dave);
      assertThat(lineAbout(logs, "Created session " + frank)).isEqualTo(frank);
      assertThat(lineAbout(logs, "Session " + erin + " reset")).isEqualTo(erin);
      assertThat(lineAbout(logs, "Session " + erin + " deleted")).isEqualTo(erin);
      assertThat(lineAbout(logs, "Session " + frank + " expired")).isEqualTo(frank);
      for (ILoggingEvent e : logs.events()) {
        Matcher m = SESSION_ID.matcher(e.getFormattedMessage());
        if (m.find() && List.of(dave, erin, frank).contains(m.group())) {
          assertThat(e.getMDCPropertyMap().get(SessionMdcFilter.KEY)).as(e.getFormattedMessage()).isEqualTo(m.group());
        }
      }
    } finally {
      TestServers.await(server.stop());
    }
  }

  @Test
  void aLineAboutAnotherSessionNamesThatOneAndTheContextComesBackAfterIt() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (CapturedLogs logs = CapturedLogs.start()) {
      SessionEnv running = SessionEnv.newSession("ctx-user", null, System.currentTimeMillis());
      String other = SessionEnv.randomId();

      TestServers.await(SessionContext.runWith(vertx, running, () -> {
        LOG.info("first line inside the running session");
        SessionLog.about(other, () -> LOG.info("about the other session"));
        LOG.info("second line inside the running session");
        return Future.succeededFuture();
      }));
      LOG.info("outside any session");

      assertThat(lineAbout(logs, "first line inside the running session")).isEqualTo(running.sessionId());
      assertThat(lineAbout(logs, "about the other session")).isEqualTo(other);
      assertThat(lineAbout(logs, "second line inside the running session")).isEqualTo(running.sessionId());
      assertThat(lineAbout(logs, "outside any session")).isNull();
    } finally {
      TestServers.await(vertx.close());
    }
  }

  private static String newSession(Http http, String user) {
    return http.post("/chat", new JsonObject().put("userId", user).put("message", "hi")).json().getString("sessionId");
  }

  /** The MDC session id of the one line that contains {@code text}. */
  private static String lineAbout(CapturedLogs logs, String text) {
    List<ILoggingEvent> lines = logs.matching(e -> e.getFormattedMessage().contains(text));
    assertThat(lines).as("the line '" + text + "'").hasSize(1);
    return lines.get(0).getMDCPropertyMap().get(SessionMdcFilter.KEY);
  }
}
