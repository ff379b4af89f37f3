package dev.mcps.mcp.transport;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpStreamableServerTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;

/**
 * The one HTTP response to a JSON-RPC batch's requests (MCP 2025-03-26): a JSON array of their responses, in
 * request order, once the last is ready. What the handling sends besides the responses (progress, logging) goes
 * out as SSE events, which turns the answer into a stream whose last event carries the array. A cancelled request
 * has no place in the array.
 */
final class BatchAnswer {

  private final SseResponse sse;
  private final McpJsonMapper mapper;
  private final boolean jsonAllowed;
  private final AtomicBoolean userSessionGone;
  private final McpSchema.JSONRPCMessage[] responses;
  private final boolean[] settled;
  private int pending;

  BatchAnswer(SseResponse sse, McpJsonMapper mapper, boolean jsonAllowed, int requests,
              AtomicBoolean userSessionGone) {
    this.sse = sse;
    this.mapper = mapper;
    this.jsonAllowed = jsonAllowed;
    this.userSessionGone = userSessionGone;
    this.responses = new McpSchema.JSONRPCResponse[requests];
    this.settled = new boolean[requests];
    this.pending = requests;
  }

  /** The transport of the request at {@code index} of the batch's requests. */
  Member member(int index, Object requestId) {
    return new Member(index, requestId);
  }

  private void settle(int index, McpSchema.JSONRPCResponse response) {
    List<McpSchema.JSONRPCMessage> all;
    synchronized (this) {
      if (settled[index]) {
        return;
      }
      settled[index] = true;
      responses[index] = response;
      if (--pending > 0) {
        return;
      }
      all = new ArrayList<>(Arrays.stream(responses).filter(Objects::nonNull).map(McpHttp::scrubbed).toList());
    }
    if (userSessionGone.get()) {
      sse.refuse(404, McpHttp.sessionNotFound().toJson().encode());
    } else if (all.isEmpty()) {
      sse.start();
      sse.end();
    } else {
      sse.reply(encode(all), jsonAllowed);
    }
  }

  private String encode(Object value) {
    try {
      return mapper.writeValueAsString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What the SDK sees of one request of the batch. */
  final class Member implements McpStreamableServerTransport {

    private final int index;
    private final Object requestId;

    private Member(int index, Object requestId) {
      this.index = index;
      this.requestId = requestId;
    }

    @Override
    public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message) {
      return Mono.fromRunnable(() -> {
        if (message instanceof McpSchema.JSONRPCResponse response && requestId.equals(response.id())) {
          settle(index, response);
        } else {
          sse.event("message", McpHttp.encode(mapper, message));
        }
      });
    }

    @Override
    public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message, String messageId) {
      return sendMessage(message);
    }

    /** Cancelled by the client: no response of its own in the array. */
    void abandon() {
      settle(index, null);
    }

    @Override
    public Mono<Void> closeGracefully() {
      return Mono.fromRunnable(this::close);
    }

    /** Ended unanswered (its session closed under it): answered with an error, as a single request would be. */
    @Override
    public void close() {
      settle(index, McpSchema.JSONRPCResponse.error(requestId, new McpSchema.JSONRPCResponse.JSONRPCError(
          McpSchema.ErrorCodes.INTERNAL_ERROR, McpHttp.SESSION_ENDED_MESSAGE, null)));
    }

    @Override
    public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
      return mapper.convertValue(data, typeRef);
    }
  }
}
