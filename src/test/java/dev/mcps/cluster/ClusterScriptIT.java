package dev.mcps.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.Http;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** scripts/cluster.sh as someone runs it: three instances and a Redis come up, serve, and all go on SIGTERM. */
class ClusterScriptIT {

  private static final Pattern INSTANCE = Pattern.compile("instance \\d: http://127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern REDIS = Pattern.compile("redis: redis://127\\.0\\.0\\.1:(\\d+)/0");
  private static final String KEY = "sk-ant-cluster-script";
  private static final String ADMIN = "cluster-script-admin";

  @Test
  void theScriptStartsThreeClusteredInstancesAndARedisAndStopsThemAllOnSigterm() throws Exception {
    Vertx side = Vertx.vertx();
    FakeAnthropic fake = FakeAnthropic.start(side, KEY);
    fake.script(r -> FakeAnthropic.message("end_turn", FakeAnthropic.text("hi")));
    File err = Files.createTempFile("mcps-cluster-sh", ".err").toFile();
    ProcessBuilder pb = new ProcessBuilder("bash", "scripts/cluster.sh").redirectError(err);
    // Only what the test names: no inherited keys or store settings from the machine running the build.
    pb.environment().keySet().removeIf(k -> !k.equals("PATH") && !k.equals("HOME") && !k.equals("JAVA_HOME"));
    pb.environment().put("ANTHROPIC_API_KEY", KEY);
    pb.environment().put("ANTHROPIC_BASE_URL", fake.baseUrl());
    pb.environment().put("ADMIN_TOKEN", ADMIN);
    pb.environment().put("SHUTDOWN_GRACE_SECONDS", "2");
    Process script = pb.start();
    List<ProcessHandle> started = new ArrayList<>();
    String runDir = null;
    try {
      List<Integer> ports = new ArrayList<>();
      int redisPort = -1;
      CompletableFuture<List<String>> ready = CompletableFuture.supplyAsync(() -> readUntilReady(script));
      List<String> out = ready.get(120, TimeUnit.SECONDS);
      for (String line : out) {
        Matcher m = INSTANCE.matcher(line);
        if (m.matches()) {
          ports.add(Integer.parseInt(m.group(1)));
        }
        Matcher r = REDIS.matcher(line);
        if (r.matches()) {
          redisPort = Integer.parseInt(r.group(1));
        }
        if (line.startsWith("logs: ")) {
          runDir = line.substring("logs: ".length());
        }
      }
      assertThat(out).as(Files.readString(err.toPath())).contains("cluster ready: 3 instances, each /health reports "
          + "members=3");
      assertThat(ports).hasSize(3);
      assertThat(redisPort).isPositive();
      // (redis-server may be a link to redis-check-rdb, the name its executable shows)
      started.addAll(script.descendants().filter(p -> p.info().command().map(c -> c.endsWith("java")
          || c.contains("redis")).orElse(false)).toList());
      assertThat(started).as("three JVMs and a redis-server").hasSize(4);

      String sessionId = null;
      for (int i = 0; i < 3; i++) {
        Http http = new Http(ports.get(i));
        JsonObject health = http.get("/health").json();
        assertThat(health.getJsonObject("cluster").getInteger("members")).isEqualTo(3);
        assertThat(health.getJsonObject("store").getString("type")).isEqualTo("redis");
        JsonObject turn = new JsonObject().put("userId", "script-user").put("message", "turn " + i);
        Http.Response chat = http.post("/chat", turn);
        assertThat(chat.status()).as(chat.body()).isEqualTo(200);
        if (sessionId == null) {
          sessionId = chat.json().getString("sessionId");
        }
        assertThat(chat.json().getString("sessionId")).as("one session, whichever instance").isEqualTo(sessionId);
        JsonObject admin = http.get("/admin/sessions/" + sessionId, "Authorization", "Bearer " + ADMIN).json();
        assertThat(admin.getInteger("historyLength")).isEqualTo(2 * (i + 1));
      }

      // SIGTERM (a SIGINT would do the same, but a build started in the background may have inherited it ignored,
      // and a shell cannot trap a signal it was started ignoring).
      script.destroy();
      assertThat(script.waitFor(40, TimeUnit.SECONDS)).as("the script stops within 40 s").isTrue();
      assertThat(script.exitValue()).isEqualTo(143);
      for (ProcessHandle p : started) {
        assertThat(p.isAlive()).as("%s is gone", p.info().commandLine().orElse(String.valueOf(p.pid()))).isFalse();
      }
      for (int port : ports) {
        assertThat(listening(port)).as("nothing listens on %d", port).isFalse();
      }
      assertThat(listening(redisPort)).as("Redis is gone").isFalse();
      assertThat(Files.readString(err.toPath())).contains("stopping the instances, then Redis");
      for (int i = 1; i <= 3; i++) {
        assertThat(Files.readString(Path.of(runDir, "server-" + i + ".log"))).contains("Stopped");
      }
      deleteRecursively(Path.of(runDir));
    } finally {
      // The script's own stop first (a KILL would leave its children behind), then whatever survived it.
      script.destroy();
      script.waitFor(40, TimeUnit.SECONDS);
      script.destroyForcibly();
      started.forEach(ProcessHandle::destroyForcibly);
      fake.close();
      side.close();
    }
  }

  /** stdout up to the "Ctrl-C stops everything." line that ends the ready message (or to the end of output). */
  private static List<String> readUntilReady(Process script) {
    List<String> lines = new ArrayList<>();
    BufferedReader reader = new BufferedReader(new InputStreamReader(script.getInputStream(), StandardCharsets.UTF_8));
    try {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        lines.add(line);
        if (line.startsWith("Ctrl-C stops everything")) {
          break;
        }
      }
    } catch (IOException e) {
      lines.add("(stdout failed: " + e + ")");
    }
    return lines;
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
