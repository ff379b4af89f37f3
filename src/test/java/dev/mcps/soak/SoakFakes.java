package dev.mcps.soak;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

/**
 * The soak's upstreams in one JVM: the fake Anthropic Messages API ({@link FakeAnthropic}) and the fake Jira
 * ({@link FakeJira}), both on loopback. {@code --ports-file=F} receives {@code provider=N} and {@code jira=N} once
 * both listen (port 0 = any free one), so the script can point the server at them.
 *
 * <p>{@code java -cp … dev.mcps.soak.SoakFakes --secret=S --api-key=K --ports-file=F [--provider-port=0]
 * [--jira-port=0] [--host=127.0.0.1]}
 */
public final class SoakFakes {

  static final String TAG = "soak-fakes";

  private SoakFakes() {
  }

  public static void main(String[] args) throws Exception {
    String host = "127.0.0.1";
    int providerPort = 0;
    int jiraPort = 0;
    String secret = null;
    String apiKey = null;
    Path portsFile = null;
    for (String arg : args) {
      int eq = arg.indexOf('=');
      String name = eq < 0 ? arg : arg.substring(0, eq);
      String value = eq < 0 ? "" : arg.substring(eq + 1);
      switch (name) {
        case "--host" -> host = value;
        case "--provider-port" -> providerPort = Integer.parseInt(value);
        case "--jira-port" -> jiraPort = Integer.parseInt(value);
        case "--secret" -> secret = value;
        case "--api-key" -> apiKey = value;
        case "--ports-file" -> portsFile = Path.of(value);
        default -> {
          System.err.println(TAG + ": unknown argument " + arg);
          System.exit(2);
        }
      }
    }
    if (secret == null || apiKey == null || portsFile == null) {
      System.err.println("usage: SoakFakes --secret=S --api-key=K --ports-file=F [--provider-port=0] [--jira-port=0]");
      System.exit(2);
    }
    if (!SoakDriver.isLoopback(host)) {
      System.err.println(TAG + ": --host must be a loopback address, not " + host);
      System.exit(2);
    }
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
        .setInternalBlockingPoolSize(1));
    try {
      HttpServer provider = new FakeAnthropic(apiKey).listen(vertx, host, providerPort)
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      HttpServer jira = new FakeJira(new SoakIdentity(secret)).listen(vertx, host, jiraPort)
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      Path tmp = portsFile.resolveSibling(portsFile.getFileName() + ".tmp");
      Files.writeString(tmp, "provider=" + provider.actualPort() + "\njira=" + jira.actualPort() + "\n",
          StandardCharsets.UTF_8);
      Files.move(tmp, portsFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      System.err.println(TAG + ": provider on http://" + host + ":" + provider.actualPort() + ", jira on http://"
          + host + ":" + jira.actualPort());
    } catch (Exception e) {
      System.err.println(TAG + ": cannot listen: " + e);
      vertx.close();
      System.exit(1);
    }
  }
}
