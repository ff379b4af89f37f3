package dev.mcps.cluster;

import dev.mcps.config.ConfigException;
import dev.mcps.config.ConfigLoader;
import dev.mcps.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A service with no HTTP that joins the cluster and uses the server's event-bus API (scripts/bus-client.sh): it
 * sends one request, prints the reply JSON and leaves. It reads the same CLUSTER_* settings as the servers.
 *
 * <pre>
 *   bus-client --user alice --message "What are my notes?" [--session ID] [--model anthropic]
 *   bus-client --list-sessions
 *   bus-client --address mcps.sessions.get --body '{"sessionId":"..."}'
 * </pre>
 * Exit status: 0 with the reply on stdout; 1 with the error JSON on stderr (the failure code is the HTTP status);
 * 2 on bad arguments or settings.
 */
public final class BusClient {

  private BusClient() {
  }

  /** One request to send: the address and its JSON body. */
  public record Call(String address, JsonObject body, long timeoutMs) {
  }

  public static void main(String[] args) {
    Call call;
    ServerConfig.Cluster cluster;
    try {
      call = parse(args);
      cluster = ConfigLoader.loadCluster(System.getenv());
    } catch (IllegalArgumentException | ConfigException e) {
      System.err.println("bus-client: " + e.getMessage());
      System.err.println("usage: bus-client --user U --message M [--session S] [--model M] | --list-sessions"
          + " | --address A [--body JSON]   (CLUSTER_MEMBERS, CLUSTER_NAME, CLUSTER_HOST … as for the server)");
      System.exit(2);
      return;
    }
    int status = run(cluster, call, System.out, System.err);
    System.exit(status);
  }

  /** Joins, sends {@code call}, prints the outcome, leaves; the exit status. */
  public static int run(ServerConfig.Cluster cluster, Call call, PrintStream out, PrintStream err) {
    VertxOptions options = new VertxOptions();
    if (cluster.host() != null) {
      options.getEventBusOptions().setHost(cluster.host());
    }
    if (cluster.publicHost() != null) {
      options.getEventBusOptions().setClusterPublicHost(cluster.publicHost());
    }
    options.getEventBusOptions().setPort(cluster.port());
    Vertx vertx;
    try {
      vertx = await(Vertx.builder().with(options).withClusterManager(Hazelcast.clusterManager(cluster, true))
          .buildClustered(), 60_000);
    } catch (Exception e) {
      err.println(new JsonObject().put("error", "Cluster_Unreachable")
          .put("message", "Cannot join the cluster '" + cluster.name() + "': " + e.getMessage()).encode());
      return 1;
    }
    try {
      JsonObject reply = await(vertx.eventBus().<Object>request(call.address(), call.body(),
          new DeliveryOptions().setSendTimeout(call.timeoutMs())).map(BusClient::json), call.timeoutMs() + 5_000);
      out.println(reply.encodePrettily());
      return 0;
    } catch (Exception e) {
      err.println(failure(call.address(), e.getCause() != null && !(e instanceof ReplyException) ? e.getCause() : e));
      return 1;
    } finally {
      try {
        await(vertx.close(), 30_000);
      } catch (Exception ignored) {
        // Leaving is best effort: the members notice a departed client anyway.
      }
    }
  }

  static Call parse(String[] args) {
    Map<String, String> opts = new java.util.HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--list-sessions")) {
        opts.put(a, "");
      } else if (a.startsWith("--") && i + 1 < args.length) {
        opts.put(a, args[++i]);
      } else {
        throw new IllegalArgumentException("unexpected argument '" + a + "'");
      }
    }
    long timeoutMs = opts.containsKey("--timeout") ? Long.parseLong(opts.get("--timeout")) * 1000 : 130_000;
    if (opts.containsKey("--list-sessions")) {
      return new Call("mcps.sessions.list", new JsonObject(), timeoutMs);
    }
    if (opts.containsKey("--address")) {
      return new Call(opts.get("--address"), new JsonObject(opts.getOrDefault("--body", "{}")), timeoutMs);
    }
    if (!opts.containsKey("--message")) {
      throw new IllegalArgumentException("--message (with --user or --session), --list-sessions or --address");
    }
    JsonObject turn = new JsonObject().put("message", opts.get("--message"));
    if (opts.containsKey("--user")) {
      turn.put("userId", opts.get("--user"));
    }
    if (opts.containsKey("--session")) {
      turn.put("sessionId", opts.get("--session"));
    }
    if (opts.containsKey("--model")) {
      turn.put("model", opts.get("--model"));
    }
    return new Call("mcps.chat.turn", turn, timeoutMs);
  }

  private static JsonObject json(Message<Object> message) {
    Object body = message.body();
    if (body instanceof JsonObject json) {
      return json;
    }
    if (body instanceof io.vertx.core.buffer.Buffer buffer) {
      return new JsonObject(buffer);
    }
    return new JsonObject().put("reply", body);
  }

  private static String failure(String address, Throwable e) {
    if (e instanceof ReplyException re) {
      if (re.failureType() == ReplyFailure.NO_HANDLERS) {
        return new JsonObject().put("error", "No_Handlers")
            .put("message", "No instance of the cluster serves " + address).encode();
      }
      if (re.failureType() == ReplyFailure.TIMEOUT) {
        return new JsonObject().put("error", "Timeout").put("message", "No reply from " + address + " in time")
            .encode();
      }
      String message = re.getMessage();
      return message != null && message.startsWith("{") ? message
          : new JsonObject().put("error", "Failed").put("status", re.failureCode()).put("message", message).encode();
    }
    return new JsonObject().put("error", "Failed").put("message", String.valueOf(e.getMessage())).encode();
  }

  private static <T> T await(Future<T> future, long timeoutMs) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
  }
}
