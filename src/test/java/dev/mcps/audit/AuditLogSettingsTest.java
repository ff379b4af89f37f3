package dev.mcps.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcps.config.ConfigException;
import dev.mcps.config.ConfigLoader;
import dev.mcps.testing.TestServers;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AUDIT_LOG's values, what a bad one does at start-up, and the shape of a line. */
class AuditLogSettingsTest {

  @TempDir
  Path dir;

  @Test
  void stdoutOffAndAFilePathAreTheValuesAndOffWritesNothing() {
    assertThat(ConfigLoader.load(Map.of()).auditLog()).isEqualTo("stdout");
    assertThat(ConfigLoader.load(Map.of("AUDIT_LOG", "OFF")).auditLog()).isEqualTo("off");
    String file = dir.resolve("audit.log").toString();
    assertThat(ConfigLoader.load(Map.of("AUDIT_LOG", file)).auditLog()).isEqualTo(file);
    assertThat(AuditLog.create("off", "node").enabled()).isFalse();
    assertThat(AuditLog.off().enabled()).isFalse();
  }

  @Test
  void aFileInADirectoryThatDoesNotExistOrADirectoryStopsStartUpNamingAuditLog() {
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("AUDIT_LOG", dir.resolve("missing/audit.log").toString())))
        .isInstanceOf(ConfigException.class).hasMessageContaining("AUDIT_LOG").hasMessageContaining("does not exist");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("AUDIT_LOG", dir.toString())))
        .isInstanceOf(ConfigException.class).hasMessageContaining("AUDIT_LOG").hasMessageContaining("directory");
  }

  @Test
  void aFileThatCannotBeOpenedStopsTheServerWithOneLineNamingAuditLog() throws IOException {
    // A link to a place that cannot exist passes the configuration check and fails when the server opens it (the
    // tests run as root, for whom no permission bit makes a file unwritable).
    Path link = Files.createSymbolicLink(dir.resolve("audit.log"), dir.resolve("gone/audit.log"));

    assertThatThrownBy(() -> TestServers.start(Map.of("AUDIT_LOG", link.toString())))
        .hasMessageContaining("AUDIT_LOG: cannot write to " + link);
  }

  @Test
  void aLineIsOneCompactJsonObjectWithoutTheFieldsAnEventDoesNotHave() {
    List<String> written = new CopyOnWriteArrayList<>();
    AuditLog audit = new AuditLog(new AuditSink() {
      @Override
      public void write(String line) {
        written.add(line);
      }

      @Override
      public void close() {
      }
    }, "node-1");

    audit.toolCall("s1", null, "notes_get", AuditLog.Outcome.CANCELLED, 12, null, null);
    audit.adminAction("cleanup", null, 200, "10.0.0.1");

    assertThat(written).hasSize(2).allSatisfy(l -> assertThat(l).doesNotContain("\n", "null", ": "));
    JsonObject tool = new JsonObject(written.get(0));
    assertThat(tool.fieldNames()).containsExactly("time", "event", "instance", "sessionId", "tool", "outcome",
        "durationMs");
    assertThat(tool.getString("outcome")).isEqualTo("cancelled");
    assertThat(new JsonObject(written.get(1)).fieldNames())
        .containsExactly("time", "event", "instance", "action", "status", "remoteAddress");
  }
}
