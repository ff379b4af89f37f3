package dev.mcps.mcp.transport;

import dev.mcps.mcp.McpSessionBinder;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.spec.McpSession;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The live MCP sessions of one transport, by id and by user session. Ending a connection goes through
 * {@link #close} only, which is what makes {@link McpSessionBinder#unbound} run exactly once per connection, however
 * many of client disconnect, DELETE, user-session expiry and shutdown race for it.
 */
final class Connections<C extends Connections.Bound> {

  /** A connection bound to a user session. */
  interface Bound {
    /** The MCP session id the client addresses. */
    String id();

    McpSessionBinder.Binding binding();

    default String userSessionId() {
      return binding().userSessionId();
    }

    McpTransportContext transportContext();

    McpSession session();

    /**
     * Set when a handler found the user session gone: the request that found it is refused as if the MCP session
     * were unknown, and the connection ends once that request is done.
     */
    AtomicBoolean userSessionGone();

    /** Its requests still being handled, for {@code notifications/cancelled}. */
    InFlight inFlight();
  }

  private static final Logger LOG = LoggerFactory.getLogger(Connections.class);

  private final ConcurrentMap<String, C> byId = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Set<C>> byUser = new ConcurrentHashMap<>();
  /** When each connection was last addressed, for the idle sweep. */
  private final ConcurrentMap<String, Long> lastUse = new ConcurrentHashMap<>();
  private final McpSessionBinder binder;
  private final Function<C, Mono<Void>> ender;

  /** @param ender ends the SDK session of a connection (and with it the connection's open streams) */
  Connections(McpSessionBinder binder, Function<C, Mono<Void>> ender) {
    this.binder = binder;
    this.ender = ender;
  }

  void add(C connection) {
    lastUse.put(connection.id(), System.currentTimeMillis());
    byId.put(connection.id(), connection);
    byUser.compute(connection.userSessionId(), (user, set) -> {
      Set<C> connections = set == null ? ConcurrentHashMap.newKeySet() : set;
      connections.add(connection);
      return connections;
    });
  }

  /** The connection, marked as just used; null when unknown or ended. */
  C get(String id) {
    C connection = byId.get(id);
    if (connection != null) {
      lastUse.put(id, System.currentTimeMillis());
    }
    return connection;
  }

  /** The connection, not marked as used (a server-side lookup, not a client's request); null when unknown. */
  C peek(String id) {
    return byId.get(id);
  }

  /**
   * The connections nobody addressed for {@code idleMillis}, except those {@code busy} says are still in use (an
   * open stream). Without ending them, clients that never say goodbye would pile up sessions for as long as their
   * user session lives.
   */
  List<C> idle(long idleMillis, java.util.function.Predicate<C> busy) {
    long cutoff = System.currentTimeMillis() - idleMillis;
    return byId.values().stream()
        .filter(c -> lastUse.getOrDefault(c.id(), 0L) < cutoff && !busy.test(c))
        .toList();
  }

  Future<Void> closeIdle(long idleMillis, java.util.function.Predicate<C> busy) {
    return closeEach(idle(idleMillis, busy));
  }

  Collection<C> all() {
    return List.copyOf(byId.values());
  }

  boolean hasUser(String userSessionId) {
    return byUser.containsKey(userSessionId);
  }

  /** Idempotent; the future never fails, a failing SDK close is only logged. */
  Future<Void> close(C connection) {
    if (!byId.remove(connection.id(), connection)) {
      return Future.succeededFuture();
    }
    lastUse.remove(connection.id());
    byUser.computeIfPresent(connection.userSessionId(), (user, set) -> {
      set.remove(connection);
      return set.isEmpty() ? null : set;
    });
    LOG.debug("MCP session {} of user session {} ended", connection.id(), connection.userSessionId());
    try {
      binder.unbound(connection.userSessionId(), connection.id());
    } catch (RuntimeException e) {
      LOG.warn("Session binder failed on unbound of MCP session {}", connection.id(), e);
    }
    return MonoFutures.toFuture(McpHttp.inContext(Mono.defer(() -> ender.apply(connection)),
            connection.transportContext()))
        .recover(err -> {
          LOG.debug("Closing MCP session {} failed: {}", connection.id(), err.toString());
          return Future.succeededFuture();
        });
  }

  Future<Void> closeUser(String userSessionId) {
    Set<C> connections = byUser.get(userSessionId);
    return connections == null ? Future.succeededFuture() : closeEach(List.copyOf(connections));
  }

  Future<Void> closeAll() {
    return closeEach(all());
  }

  private Future<Void> closeEach(Collection<C> connections) {
    return Future.all(connections.stream().map(this::close).toList()).mapEmpty();
  }
}
