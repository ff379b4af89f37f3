package dev.mcps.testing;

import dev.mcps.Server;
import dev.mcps.config.ConfigLoader;
import io.vertx.core.Future;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Starts real servers for tests: each on its own free loopback port, with its own Vert.x instance. */
public final class TestServers {

  public static final String ADMIN_TOKEN = "test-admin-token-5b1f0c";
  /** One fixed key, so that several servers on one Redis can read each other's credentials. */
  public static final String ENCRYPTION_KEY = Base64.getEncoder().encodeToString(new byte[] {
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
      31, 32});

  private TestServers() {
  }

  /** The settings every test server shares; {@code overrides} win. */
  public static Map<String, String> env(Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("HTTP_HOST", "127.0.0.1");
    env.put("HTTP_PORT", String.valueOf(freePort()));
    env.put("HTTP_INSTANCES", "2");
    env.put("ADMIN_TOKEN", ADMIN_TOKEN);
    env.put("SESSION_ENCRYPTION_KEY", ENCRYPTION_KEY);
    env.put("SHUTDOWN_GRACE_SECONDS", "1");
    env.put("STORE_TIMEOUT_MS", "1500");
    env.put("JIRA_ALLOWED_HOSTS", "*.atlassian.net,127.0.0.1");
    env.put("JIRA_ALLOW_HTTP", "true");
    // The audit trail has tests of its own (AuditTrailTest); elsewhere its lines would only crowd the test output.
    env.put("AUDIT_LOG", "off");
    env.putAll(overrides);
    return env;
  }

  public static Server start(Map<String, String> overrides) {
    return await(Server.start(ConfigLoader.load(env(overrides))));
  }

  public static Map<String, String> redis(RedisServer redis, String... more) {
    Map<String, String> m = new HashMap<>();
    m.put("STORE", "redis");
    m.put("REDIS_URL", redis.url());
    for (int i = 0; i + 1 < more.length; i += 2) {
      m.put(more[i], more[i + 1]);
    }
    return m;
  }

  /**
   * Returns once the wall clock has moved past the millisecond it reads now: the stores order sessions by last use in
   * milliseconds, so what is made after this call is surely more recent than what was made before it.
   */
  public static void nextMillisecond() {
    long now = System.currentTimeMillis();
    while (System.currentTimeMillis() <= now) {
      Thread.onSpinWait();
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e.getCause() == null ? e : e.getCause());
    }
  }

  /** Polls {@code condition} every 10 ms until it holds; fails the test after 20 s. */
  public static void awaitCondition(BooleanSupplier condition) {
    awaitCondition(20, condition);
  }

  /** Polls {@code condition} every 10 ms until it holds; fails the test after {@code seconds}. */
  public static void awaitCondition(int seconds, BooleanSupplier condition) {
    long deadline = System.currentTimeMillis() + seconds * 1000L;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("condition not reached in " + seconds + " s");
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
