package dev.mcps.mcp.transport;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpStreamableServerTransport;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The SDK's view of one {@link SseResponse}: the legacy SSE stream, a Streamable HTTP listening stream, or the
 * answer to one POSTed request. For the latter the final response may still go out as plain JSON, and a request
 * left unanswered (its session closed under it, its handling failed) is answered with a JSON-RPC error rather than
 * leaving the client waiting for its timeout.
 *
 * <p>No SSE event ids are sent here: answers to POSTs are not kept for a replay, so ids would promise a resumability
 * they do not have. The resumable listening stream of a shared Streamable session is {@link ListeningStream}.
 */
final class SseTransport implements McpStreamableServerTransport {

  private static final Logger LOG = LoggerFactory.getLogger(SseTransport.class);

  private final SseResponse sse;
  private final McpJsonMapper mapper;
  private final Object requestId;
  private final boolean jsonAllowed;
  private final AtomicBoolean userSessionGone;
  private volatile boolean answered;

  private SseTransport(SseResponse sse, McpJsonMapper mapper, Object requestId, boolean jsonAllowed,
                       AtomicBoolean userSessionGone) {
    this.sse = sse;
    this.mapper = mapper;
    this.requestId = requestId;
    this.jsonAllowed = jsonAllowed;
    this.userSessionGone = userSessionGone;
  }

  /** A stream every message goes to as an event. */
  static SseTransport stream(SseResponse sse, McpJsonMapper mapper) {
    return new SseTransport(sse, mapper, null, false, new AtomicBoolean());
  }

  /**
   * The response to the request with this id; its final response ends the HTTP response. Once
   * {@code userSessionGone} is set the request is answered 404 instead, as for an unknown MCP session, so that the
   * client initializes again rather than reading a tool error about a session it cannot see.
   */
  static SseTransport answering(SseResponse sse, McpJsonMapper mapper, Object requestId, boolean jsonAllowed,
                                AtomicBoolean userSessionGone) {
    return new SseTransport(sse, mapper, requestId, jsonAllowed, userSessionGone);
  }

  @Override
  public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message) {
    return Mono.fromRunnable(() -> deliver(message));
  }

  @Override
  public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message, String messageId) {
    return sendMessage(message);
  }

  /** The handling of the request failed outside the SDK's own error mapping. */
  void fail(Throwable failure) {
    LOG.debug("Request {} failed: {}", requestId, failure.toString());
    McpSchema.JSONRPCResponse.JSONRPCError error = failure instanceof McpError mcp && mcp.getJsonRpcError() != null
        ? mcp.getJsonRpcError()
        : new McpSchema.JSONRPCResponse.JSONRPCError(McpSchema.ErrorCodes.INTERNAL_ERROR, "Internal error", null);
    answer(McpSchema.JSONRPCResponse.error(requestId, error));
  }

  /**
   * The client cancelled the request: it gets no response (the specification's rule), and its HTTP response ends
   * as an empty stream, or an empty body for a client that takes no stream.
   */
  void abandon() {
    answered = true;
    sse.start();
    sse.end();
  }

  @Override
  public Mono<Void> closeGracefully() {
    return Mono.fromRunnable(this::close);
  }

  @Override
  public void close() {
    if (requestId != null && !answered) {
      answer(McpSchema.JSONRPCResponse.error(requestId, new McpSchema.JSONRPCResponse.JSONRPCError(
          McpSchema.ErrorCodes.INTERNAL_ERROR, McpHttp.SESSION_ENDED_MESSAGE, null)));
    }
    sse.end();
  }

  @Override
  public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
    return mapper.convertValue(data, typeRef);
  }

  private void deliver(McpSchema.JSONRPCMessage message) {
    if (requestId != null && message instanceof McpSchema.JSONRPCResponse response
        && requestId.equals(response.id())) {
      answer(response);
    } else if (!sse.event("message", McpHttp.encode(mapper, message))) {
      LOG.debug("Message dropped, its stream has ended or the client takes no stream");
    }
  }

  private void answer(McpSchema.JSONRPCResponse response) {
    if (answered) {
      return;
    }
    answered = true;
    if (userSessionGone.get()) {
      sse.refuse(404, McpHttp.sessionNotFound().toJson().encode());
    } else {
      sse.reply(McpHttp.encode(mapper, response), jsonAllowed);
    }
  }
}
