package dev.mcps.mcp.transport;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP response that carries Server-Sent Events, or, while nothing has been streamed yet, a single JSON reply.
 *
 * <p>Writes come from any thread (Reactor callbacks, the keep-alive timer, event loops); the monitor keeps each
 * stream's bytes in call order. Once the client is gone or the stream ended, writes are dropped without a word:
 * a client that leaves mid-call must not produce errors anywhere else.
 */
public final class SseResponse {

  private static final Logger LOG = LoggerFactory.getLogger(SseResponse.class);
  private static final Buffer KEEP_ALIVE = Buffer.buffer(": keepalive\n\n");

  private final HttpServerResponse response;
  private final boolean streamAllowed;
  private final Consumer<SseResponse> onEnd;
  private boolean started;
  private boolean ended;
  private boolean idleTick;

  /**
   * @param streamAllowed whether the client accepts {@code text/event-stream}; when not, only {@link #reply} with
   *                      JSON can reach it and events are dropped
   * @param onEnd         runs once, when the stream ends from either side
   */
  public SseResponse(HttpServerResponse response, boolean streamAllowed, Consumer<SseResponse> onEnd) {
    this.response = response;
    this.streamAllowed = streamAllowed;
    this.onEnd = onEnd;
  }

  /** Separate from the constructor so that a connection already gone ends the stream only once it is registered. */
  public void watchClient() {
    response.exceptionHandler(err -> LOG.debug("SSE response failed: {}", err.toString()));
    response.closeHandler(v -> finish(false));
    if (response.closed()) {
      finish(false);
    }
  }

  /** Sends the SSE headers now, so the client sees its stream open before any event (if it takes a stream). */
  public synchronized void start() {
    if (!ended && streamAllowed) {
      startOnce();
    }
  }

  /** Whether the event was written (false: the stream ended, or this client takes no stream). */
  public boolean event(String name, String data) {
    return event(null, name, data);
  }

  /** As {@link #event(String, String)}, with an {@code id:} line when {@code id} is not null (a resumable event). */
  public boolean event(String id, String name, String data) {
    Buffer bytes = sseEvent(id, name, data);
    synchronized (this) {
      if (ended || !(started || streamAllowed)) {
        return false;
      }
      startOnce();
      write(bytes);
      return true;
    }
  }

  /**
   * The last message of this response: a plain {@code application/json} body when nothing was streamed yet and the
   * client accepts JSON (the cheap path of a single answer), otherwise a last {@code message} event. Ends the stream.
   */
  public void reply(String json, boolean jsonAllowed) {
    reply(Buffer.buffer(json), jsonAllowed);
  }

  /** As {@link #reply(String, boolean)}, with the JSON already encoded (as UTF-8 bytes, no String in between). */
  public void reply(Buffer json, boolean jsonAllowed) {
    endOnce("Reply", () -> {
      if (!started && jsonAllowed) {
        response.setStatusCode(200).putHeader("Content-Type", "application/json").end(json);
      } else if (started || streamAllowed) {
        startOnce();
        response.end(sseEvent(null, "message", json.toString()));
      } else {
        response.end();
      }
    });
  }

  /**
   * Ends the response with an HTTP error instead of an answer, when nothing was streamed yet; a stream already
   * started can only be ended (its status is gone), which the client sees as the stream closing.
   */
  public void refuse(int status, String json) {
    endOnce("Refusal", () -> {
      if (started) {
        response.end();
      } else {
        response.setStatusCode(status).putHeader("Content-Type", "application/json").end(json);
      }
    });
  }

  /**
   * Writes the keep-alive comment. A response not yet streaming becomes a stream only at its second tick, so only
   * an answer pending for a whole interval gives up the plain JSON reply.
   */
  public synchronized void keepAlive() {
    if (ended || !(started || streamAllowed)) {
      return;
    }
    if (!started && !idleTick) {
      idleTick = true;
      return;
    }
    startOnce();
    write(KEEP_ALIVE);
  }

  public void end() {
    finish(true);
  }

  public synchronized boolean isEnded() {
    return ended;
  }

  private void finish(boolean endResponse) {
    endOnce("End", endResponse ? response::end : () -> { });
  }

  /** Runs {@code last} as the stream's last write, unless it has ended already; then tells {@code onEnd}, once. */
  private void endOnce(String what, Runnable last) {
    synchronized (this) {
      if (ended) {
        return;
      }
      ended = true;
      try {
        last.run();
      } catch (RuntimeException e) {
        LOG.debug("{} dropped, the client is gone: {}", what, e.toString());
      }
    }
    onEnd.accept(this);
  }

  private void startOnce() {
    if (started) {
      return;
    }
    started = true;
    try {
      response.setStatusCode(200)
          .putHeader("Content-Type", "text/event-stream")
          .putHeader("Cache-Control", "no-cache")
          // Reverse proxies (nginx) would otherwise buffer the stream and hold events back.
          .putHeader("X-Accel-Buffering", "no")
          // With server compression on, gzip holds small events in its window until far more text follows.
          .putHeader("Content-Encoding", "identity")
          .setChunked(true);
      response.writeHead();
    } catch (RuntimeException e) {
      LOG.debug("Stream start dropped, the client is gone: {}", e.toString());
    }
  }

  private void write(Buffer bytes) {
    try {
      response.write(bytes);
    } catch (RuntimeException e) {
      // The close handler ends this stream; until it has run, writes just go nowhere.
      LOG.debug("Write dropped, the client is gone: {}", e.toString());
    }
  }

  /** The one SSE event encoder; data may hold line breaks, each line becomes its own {@code data:} field. */
  private static Buffer sseEvent(String id, String name, String data) {
    StringBuilder event = new StringBuilder(data.length() + name.length() + 48);
    if (id != null) {
      event.append("id: ").append(id).append('\n');
    }
    event.append("event: ").append(name).append('\n');
    int from = 0;
    int eol;
    while ((eol = data.indexOf('\n', from)) >= 0) {
      event.append("data: ").append(data, from, eol).append('\n');
      from = eol + 1;
    }
    return Buffer.buffer(event.append("data: ").append(data, from, data.length()).append("\n\n").toString());
  }
}
