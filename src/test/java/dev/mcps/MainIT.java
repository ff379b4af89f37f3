package dev.mcps;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The packaged jar, started the way scripts/run.sh and the Dockerfile start it. */
class MainIT {

  private static final Path JAR = Path.of("target", "mcp-session-server.jar");

  private Process launch(Map<String, String> env, File log) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(javaBin(), "-jar", JAR.toString())
        .redirectErrorStream(true).redirectOutput(log);
    // Only what the test names: no inherited keys or store settings from the machine running the build.
    pb.environment().keySet().removeIf(k -> !k.equals("PATH") && !k.equals("HOME") && !k.equals("JAVA_HOME"));
    pb.environment().putAll(env);
    return pb.start();
  }

  @Test
  void theJarStartsWithDefaultsServesHealthAndExitsZeroOnSigterm() throws Exception {
    assertThat(JAR).exists();
    int port = TestServers.freePort();
    File log = Files.createTempFile("mcps-main", ".log").toFile();
    Process p = launch(Map.of("HTTP_PORT", String.valueOf(port), "HTTP_HOST", "127.0.0.1"), log);
    try {
      Http http = new Http(port);
      long deadline = System.currentTimeMillis() + 30_000;
      Http.Response health = null;
      while (System.currentTimeMillis() < deadline) {
        try {
          health = http.get("/health");
          break;
        } catch (IllegalStateException notYet) {
          assertThat(p.isAlive()).as(Files.readString(log.toPath())).isTrue();
          Thread.sleep(100);
        }
      }
      assertThat(health).as("server answered within 30 s").isNotNull();
      assertThat(health.status()).isEqualTo(200);
      assertThat(health.json().getJsonObject("store").getString("type")).isEqualTo("memory");

      p.destroy(); // SIGTERM
      assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("stopped within the grace period").isTrue();
      assertThat(p.exitValue()).isZero();
      assertThat(Files.readString(log.toPath())).contains("Shutting down").contains("Stopped");
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void aBadSettingStopsStartUpWithOneLineNamingIt() throws Exception {
    File log = Files.createTempFile("mcps-main", ".log").toFile();
    Process p = launch(Map.of("HTTP_PORT", "not-a-port"), log);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(log.toPath()).trim())
        .isEqualTo("Configuration error: HTTP_PORT must be a whole number (got 'not-a-port')");
  }

  @Test
  void theRedisStoreRefusesToStartWithoutTheSharedEncryptionKey() throws Exception {
    File log = Files.createTempFile("mcps-main", ".log").toFile();
    Process p = launch(Map.of("STORE", "redis", "REDIS_URL", "redis://127.0.0.1:1"), log);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(log.toPath())).startsWith("Configuration error: SESSION_ENCRYPTION_KEY is required");
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
