package dev.mcps.mcp.transport;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;

/**
 * The requests of one MCP session still being handled, by JSON-RPC id, so that {@code notifications/cancelled}
 * can stop one: its handling is disposed (which cancels the tool call under it) and no response is sent.
 */
final class InFlight {

  private record Running(Disposable.Swap handling, Runnable abandon) {
  }

  private final ConcurrentMap<Object, Running> running = new ConcurrentHashMap<>();

  /**
   * Subscribes to the handling of request {@code id} now.
   *
   * @param abandon ends the request's answer without a response, when it is cancelled
   */
  void run(Object id, Mono<Void> handling, Runnable abandon, Consumer<Throwable> onError) {
    Running entry = new Running(Disposables.swap(), abandon);
    // A second request reusing a live id is the client's mistake; the later one is what a cancel would mean.
    running.put(id, entry);
    entry.handling().update(handling.doFinally(signal -> running.remove(id, entry)).subscribe(null, onError));
  }

  /** Stops request {@code id}; false when it is unknown or already done (nothing to stop, which is no error). */
  boolean cancel(Object id) {
    Running entry = id == null ? null : running.remove(id);
    if (entry == null) {
      return false;
    }
    entry.abandon().run();
    entry.handling().dispose();
    return true;
  }
}
