package dev.mcps.mcp.transport;

import dev.mcps.ApiException;
import dev.mcps.cluster.Node;
import dev.mcps.session.SessionEnv;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets a legacy SSE client's POSTs land on any instance (no sticky load balancer): the transport id names the
 * instance holding the stream, {@code <node id>.<128 random bits in hex>}, so the instance a POST lands on knows the
 * owner without asking the store; it forwards the POST over the clustered event bus to
 * {@code mcps.mcp.sse.<node id>} and answers with the owner's verdict (202, or the owner's error status and JSON).
 *
 * <p>The forwarded message is the POST body as received (a Buffer: nothing re-encoded) with the transport id and the
 * {@code X-Session-Id} / {@code X-User-Id} header values in the delivery headers, so the owner applies the same
 * checks (404, 403, 400) as to a local POST. No handler at that address, or an instance no longer in the cluster,
 * means the stream went with its instance: 404, as for any ended MCP session; the user session is untouched.
 */
final class SseRelay {

  static final String ADDRESS_PREFIX = "mcps.mcp.sse";
  static final String TRANSPORT_ID = "mcp-session-id";
  static final String SESSION_HEADER = "http-x-session-id";
  static final String USER_HEADER = "http-x-user-id";

  private static final Logger LOG = LoggerFactory.getLogger(SseRelay.class);
  /** Taking a message is a parse and a map lookup; an owner silent this long is as good as gone. */
  private static final long SEND_TIMEOUT_MS = 10_000;
  /** Hazelcast node ids are UUIDs: 36 characters of hex digits and dashes. */
  private static final int NODE_ID_LENGTH = 36;

  /**
   * What the owner does with a forwarded POST: throws an {@link ApiException} (or fails the future with one) to refuse
   * it, else takes it.
   */
  interface Owner {
    /** Returns what to run once the 202 went back (the message's handling). */
    Future<Runnable> take(String transportId, String sessionHeader, String userHeader, Buffer body);
  }

  private final Vertx vertx;
  private final Node node;

  SseRelay(Vertx vertx, Node node) {
    this.vertx = vertx;
    this.node = node;
  }

  /** A fresh transport id naming this instance. */
  String newId() {
    return node.id() + "." + SessionEnv.randomId();
  }

  /**
   * The node id of the instance holding the stream {@code transportId} names, when that is another member of the
   * cluster; null when it is this instance, when not clustered (a single instance never hops), or when the id is
   * not one we issue (the local path answers it: 404).
   */
  String ownerElsewhere(String transportId) {
    if (!node.clustered() || transportId == null || transportId.length() <= NODE_ID_LENGTH
        || transportId.charAt(NODE_ID_LENGTH) != '.') {
      return null;
    }
    String owner = transportId.substring(0, NODE_ID_LENGTH);
    if (owner.equals(node.id())) {
      return null;
    }
    for (int i = 0; i < NODE_ID_LENGTH; i++) {
      char c = owner.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == '-')) {
        return null;
      }
    }
    return owner;
  }

  /** Asks the owner to take the POST: succeeds when it did (202), fails with the API error to answer otherwise. */
  Future<Void> forward(String owner, String transportId, String sessionHeader, String userHeader, Buffer body) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(SEND_TIMEOUT_MS).addHeader(TRANSPORT_ID,
        transportId);
    if (sessionHeader != null) {
      options.addHeader(SESSION_HEADER, sessionHeader);
    }
    if (userHeader != null) {
      options.addHeader(USER_HEADER, userHeader);
    }
    return vertx.eventBus().request(Node.address(ADDRESS_PREFIX, owner), body == null ? Buffer.buffer() : body,
            options)
        .<Void>mapEmpty()
        .recover(err -> Future.failedFuture(refusal(owner, err)));
  }

  private ApiException refusal(String owner, Throwable err) {
    if (err instanceof ReplyException re) {
      switch (re.failureType()) {
        case RECIPIENT_FAILURE:
          if (re.failureCode() >= 400 && re.getMessage() != null && re.getMessage().startsWith("{")) {
            return new McpHttp.Refusal(re.failureCode(), new JsonObject(re.getMessage()));
          }
          break;
        case NO_HANDLERS:
          return McpHttp.sessionNotFound();
        default:
          if (!node.isMember(owner)) {
            return McpHttp.sessionNotFound();
          }
          if (re.failureType() == ReplyFailure.TIMEOUT) {
            return new ApiException(504, "Mcp_Stream_Owner_Timeout",
                "The instance holding this MCP stream did not answer in time");
          }
      }
    }
    LOG.warn("Forwarding a legacy SSE message to node {} failed: {}", owner, err.toString());
    return new ApiException(502, "Mcp_Stream_Owner_Unreachable",
        "The instance holding this MCP stream could not be reached");
  }

  /**
   * Serves the POSTs forwarded to this instance; one consumer per caller (each HTTP verticle registers one, so the
   * load spreads over their event loops). Completes once the consumer is known to the cluster.
   */
  Future<Void> serve(Owner owner) {
    if (!node.clustered()) {
      return Future.succeededFuture();
    }
    return vertx.eventBus().<Buffer>consumer(Node.address(ADDRESS_PREFIX, node.id()), msg -> answer(owner, msg))
        .completion();
  }

  private static void answer(Owner owner, Message<Buffer> msg) {
    MultiMap headers = msg.headers();
    Future<Runnable> taken;
    try {
      taken = owner.take(headers.get(TRANSPORT_ID), headers.get(SESSION_HEADER), headers.get(USER_HEADER),
          msg.body());
    } catch (RuntimeException e) {
      taken = Future.failedFuture(e);
    }
    taken.onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply(null);
        ar.result().run();
      } else if (ar.cause() instanceof ApiException refused) {
        msg.fail(refused.status(), refused.toJson().encode());
      } else {
        LOG.error("A forwarded legacy SSE message failed", ar.cause());
        msg.fail(500, new JsonObject().put("error", "Internal_Error").put("message", "Internal server error")
            .encode());
      }
    });
  }
}
