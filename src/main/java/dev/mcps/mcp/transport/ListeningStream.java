package dev.mcps.mcp.transport;

import dev.mcps.session.SessionStore;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpStreamableServerTransport;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * A resumable listening (GET) stream: every message is first kept in the session's event store, then written with
 * the id the store gave it ({@code id: listen/<store id>}), so that a client reconnecting with that id as
 * {@code Last-Event-ID}, to any instance, gets what came after it.
 *
 * <p>Writes leave in the order messages arrive. Each append starts at once (they are pipelined on one context, so
 * the store numbers them in that same order) and a write waits only for its own append, which waits at most a
 * second: a slow or absent store delays the stream a little and then lets the event go without an id, never stops
 * it. Until {@link #replayed} the writes wait, so that live events never overtake the replay of missed ones.
 */
final class ListeningStream implements McpStreamableServerTransport {

  private final SseResponse sse;
  private final McpJsonMapper mapper;
  private final SharedStreamableSessions shared;
  private final String mcpSessionId;
  private final Context context;
  private final Promise<Void> replay = Promise.promise();
  private Future<Void> tail = replay.future();
  /** The newest replayed event: a live event the replay already carried is not written twice. */
  private volatile String replayedUpTo;

  ListeningStream(SseResponse sse, McpJsonMapper mapper, SharedStreamableSessions shared, String mcpSessionId,
                  Context context) {
    this.sse = sse;
    this.mapper = mapper;
    this.shared = shared;
    this.mcpSessionId = mcpSessionId;
    this.context = context;
  }

  /** Writes missed events (before live ones may flow); the id of the newest written, or null when none. */
  String replay(List<SessionStore.McpEvent> missed) {
    for (SessionStore.McpEvent e : missed) {
      String upTo = replayedUpTo;
      if (upTo == null || SharedStreamableSessions.compareIds(e.id(), upTo) > 0) {
        sse.event(SharedStreamableSessions.wireId(e.id()), "message", e.data());
        replayedUpTo = e.id();
      }
    }
    return replayedUpTo;
  }

  /** Writes the last missed events, then lets the live ones through. */
  void replayed(List<SessionStore.McpEvent> missed) {
    replay(missed);
    replay.tryComplete();
  }

  @Override
  public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message) {
    return Mono.fromRunnable(() -> deliver(McpHttp.encode(mapper, message)));
  }

  @Override
  public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message, String messageId) {
    return sendMessage(message);
  }

  /**
   * Keeps and writes one event (already encoded JSON-RPC) in arrival order. Kept also when the client has just gone:
   * it reads the event when it resumes.
   */
  void deliver(String data) {
    Promise<String> kept = Promise.promise();
    synchronized (this) {
      context.runOnContext(v -> shared.append(mcpSessionId, data).onComplete(kept));
      tail = tail.transform(before -> kept.future().transform(id -> {
        write(id.succeeded() ? id.result() : null, data);
        return Future.<Void>succeededFuture();
      }));
    }
  }

  private void write(String storeId, String data) {
    String upTo = replayedUpTo;
    if (storeId != null && upTo != null && SharedStreamableSessions.compareIds(storeId, upTo) <= 0) {
      return;
    }
    sse.event(storeId == null ? null : SharedStreamableSessions.wireId(storeId), "message", data);
  }

  @Override
  public Mono<Void> closeGracefully() {
    return Mono.fromRunnable(this::close);
  }

  @Override
  public void close() {
    sse.end();
  }

  @Override
  public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
    return mapper.convertValue(data, typeRef);
  }
}
