package dev.mcps.testing;

import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A script of scripts/ run as someone runs it, with only the environment a build machine needs to reach npm (and what
 * the test names): no inherited store settings or keys. Its stdout and stderr are collected in files.
 */
public final class ScriptProcess {

  /** The script's exit status when npm or the npm registry is unreachable (see install_node_packages in lib.sh). */
  public static final int NPM_UNREACHABLE = 2;

  private static final Set<String> KEPT = Set.of("PATH", "HOME", "JAVA_HOME", "CI", "MAVEN_OPTS", "HTTP_PROXY",
      "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy");

  public record Result(int exit, String stdout, String stderr) {
    public String both() {
      return stdout + (stderr.isEmpty() ? "" : "\n--- stderr ---\n" + stderr);
    }
  }

  private ScriptProcess() {}

  /** Runs the command from the repository's root with env on top of the kept environment; fails after timeout. */
  public static Result run(List<String> command, Map<String, String> env, Duration timeout) throws Exception {
    File out = Files.createTempFile("mcps-script", ".out").toFile();
    File err = Files.createTempFile("mcps-script", ".err").toFile();
    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out).redirectError(err);
    pb.environment().keySet().removeIf(k -> !KEPT.contains(k) && !k.startsWith("npm_config_")
        && !k.startsWith("NPM_CONFIG_"));
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        // TERM first: the script's trap stops the servers it started.
        p.destroy();
        p.waitFor(30, TimeUnit.SECONDS);
        fail("%s did not finish within %s:%n%s", command, timeout, read(out, err).both());
      }
      return new Result(p.exitValue(), read(out, err).stdout(), read(out, err).stderr());
    } finally {
      p.destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      out.delete();
      err.delete();
    }
  }

  /**
   * Skips the test, loudly, when the script could not install its npm packages because npm or the npm registry is
   * unreachable; except on CI (CI set), where the registry must be reachable and this fails the test instead.
   */
  public static void skipIfNpmUnreachable(Result result, String what) {
    if (result.exit() != NPM_UNREACHABLE) {
      return;
    }
    String message = "SKIPPED " + what + ": npm or the npm registry is unreachable, so its packages cannot be"
        + " installed.\n" + result.both();
    if (System.getenv("CI") != null && !System.getenv("CI").isEmpty() && !"false".equals(System.getenv("CI"))) {
      fail("CI is set and the npm registry must be reachable there. " + message);
    }
    System.err.println("=".repeat(100));
    System.err.println(message);
    System.err.println("=".repeat(100));
    Assumptions.abort(message);
  }

  private static Result read(File out, File err) throws IOException {
    return new Result(-1, Files.readString(out.toPath(), StandardCharsets.UTF_8),
        Files.readString(err.toPath(), StandardCharsets.UTF_8));
  }
}
