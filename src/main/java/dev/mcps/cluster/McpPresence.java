package dev.mcps.cluster;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which user sessions have an MCP connection on some instance, for the admin API's {@code hasMcpConnection}. An MCP
 * stream or session is held in the memory of the instance that serves it, and behind a load balancer the operator's
 * request reaches any instance: so each instance answers for itself on {@code mcps.mcp.connections.<nodeId>}, and the
 * one asked adds its own connections to the other servers' answers, all asked at once. A member that does not answer
 * within the deadline (stalled, leaving, still starting) counts as holding none: the admin answer never waits longer
 * than that, and an instance that died has no connections to show anyway.
 */
public final class McpPresence {

  public static final String ADDRESS = "mcps.mcp.connections";
  /** The request's session ids and the reply's connected ones: {@code {"sessionIds": [...]}}. */
  static final String FIELD = "sessionIds";
  /** The most ids one question may carry: the admin API's largest page. */
  static final int MAX_IDS = 1000;

  private static final Logger LOG = LoggerFactory.getLogger(McpPresence.class);

  private final Vertx vertx;
  private final Node node;
  private final Predicate<String> local;
  private final long deadlineMillis;

  /** {@code local}: whether a user session has an MCP connection on this instance (thread-safe, no I/O). */
  public McpPresence(Vertx vertx, Node node, Predicate<String> local, long deadlineMillis) {
    this.vertx = vertx;
    this.node = node;
    this.local = local;
    this.deadlineMillis = deadlineMillis;
  }

  /**
   * Answers the other instances' questions, when clustered; to be called from the verticle that owns the answer, so
   * that undeploying it unregisters the consumer.
   */
  public Future<Void> serve() {
    if (!node.clustered()) {
      return Future.succeededFuture();
    }
    return vertx.eventBus().<Object>consumer(Node.address(ADDRESS, node.id()), msg -> {
      List<String> asked = msg.body() instanceof JsonObject json ? ids(json) : null;
      if (asked == null) {
        msg.fail(400, "A JSON object with at most " + MAX_IDS + " session ids in \"" + FIELD + "\" is expected");
        return;
      }
      msg.reply(new JsonObject().put(FIELD, new JsonArray(asked.stream().filter(local).toList())));
    }).completion();
  }

  /** The ones of {@code sessionIds} that have an MCP connection on any instance answering within the deadline. */
  public Future<Set<String>> connected(Collection<String> sessionIds) {
    Set<String> found = ConcurrentHashMap.newKeySet();
    sessionIds.stream().filter(local).forEach(found::add);
    List<String> others = node.clustered() && !sessionIds.isEmpty() ? node.otherServers() : List.of();
    if (others.isEmpty()) {
      return Future.succeededFuture(found);
    }
    Set<String> asked = Set.copyOf(sessionIds);
    JsonObject question = new JsonObject().put(FIELD, new JsonArray(new ArrayList<>(asked)));
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(deadlineMillis);
    List<Future<?>> answers = new ArrayList<>(others.size());
    for (String other : others) {
      answers.add(vertx.eventBus().<Object>request(Node.address(ADDRESS, other), question, options)
          .map(reply -> {
            List<String> connected = reply.body() instanceof JsonObject json ? ids(json) : null;
            if (connected != null) {
              // Only what was asked: an answer cannot add sessions to the page.
              connected.stream().filter(asked::contains).forEach(found::add);
            }
            return null;
          })
          .otherwise(err -> {
            boolean quiet = err instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS;
            if (!quiet) {
              LOG.debug("Instance {} did not say which MCP connections it holds: {}", other, err.toString());
            }
            return null;
          }));
    }
    return Future.join(answers).transform(done -> Future.succeededFuture(found));
  }

  /** The string ids in {@code json}'s array, or null when it is not such an array or is longer than allowed. */
  private static List<String> ids(JsonObject json) {
    if (!(json.getValue(FIELD) instanceof JsonArray array) || array.size() > MAX_IDS) {
      return null;
    }
    List<String> out = new ArrayList<>(array.size());
    for (Object v : array) {
      if (v instanceof String s) {
        out.add(s);
      }
    }
    return out;
  }
}
