package dev.mcps.mcp.transport;

import dev.mcps.ApiException;
import dev.mcps.logging.BurstLog;
import dev.mcps.mcp.McpSessionBinder;
import dev.mcps.session.SessionStore;
import dev.mcps.session.Sessions;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What lets any instance serve a Streamable MCP session (DESIGN.md §6): its state in the session store under
 * {@code mcps:mcp:{id}} — the negotiated protocol version, the client's initialize params (its info and
 * capabilities), the bound user session and user (ids only, never credentials), the logging level once set, and the
 * node holding its listening (GET) stream — and the listening stream's recent events under
 * {@code mcps:mcp:{id}:events}, for a {@code Last-Event-ID} resume on any instance.
 *
 * <p>The state expires {@code idle} after its last use on any instance; that expiry is the truth about whether the
 * session lives. The instance that holds a session pushes the expiry at most once per {@link #touchInterval}, so a
 * request to it costs no store round trip of its own.
 */
public final class SharedStreamableSessions {

  /** Per-node consumer address: {@code mcps.mcp.stream.<nodeId>} takes notifications for the streams held there. */
  public static final String STREAM_ADDRESS = "mcps.mcp.stream";
  /** Published when a session is deleted, so that every instance drops its copy. */
  public static final String ENDED_ADDRESS = "mcps.mcp.ended";
  /** The one resumable stream of a session: its listening GET stream. */
  static final String LISTEN = "listen";
  /** A wire event id: {@code listen/<store id>}, the store id being two numbers that grow. */
  private static final Pattern EVENT_ID = Pattern.compile("listen/(\\d{1,19}-\\d{1,19})");
  private static final int MAX_EVENT_ID = 64;
  /** How long a live stream waits for its event to be kept before it sends it without an id. */
  private static final long APPEND_WAIT_MILLIS = 1_000;
  private static final int MAX_CHANGE_ATTEMPTS = 8;

  private static final Logger LOG = LoggerFactory.getLogger(SharedStreamableSessions.class);

  /** A session as the store keeps it. */
  record Stored(String json, McpSchema.InitializeRequest initialize, String protocolVersion,
                McpSessionBinder.Binding binding, String loggingLevel, String streamOwner) {
  }

  private final Sessions sessions;
  private final McpJsonMapper mapper;
  private final String nodeId;
  private final boolean clustered;
  private final long ttlMillis;
  private final long touchInterval;
  private final int maxEvents;
  private final long eventTtlMillis;
  private final BurstLog faults;
  /** When this instance last pushed each session's expiry. */
  private final ConcurrentMap<String, Long> touchedAt = new ConcurrentHashMap<>();

  public SharedStreamableSessions(Vertx vertx, Sessions sessions, McpJsonMapper mapper, String nodeId,
                                  boolean clustered, Duration idle, int maxEvents, Duration eventTtl) {
    this.sessions = sessions;
    this.mapper = mapper;
    this.nodeId = nodeId;
    this.clustered = clustered;
    this.ttlMillis = idle.toMillis();
    // Well inside the TTL, so a session in use never lapses between two pushes.
    this.touchInterval = Math.max(1, Math.min(5_000, ttlMillis / 4));
    this.maxEvents = maxEvents;
    this.eventTtlMillis = eventTtl.toMillis();
    this.faults = new BurstLog(LOG, BurstLog.WINDOW_MILLIS, BurstLog.vertxScheduler(vertx));
  }

  String nodeId() {
    return nodeId;
  }

  /** Whether other instances may serve the same sessions. */
  boolean clustered() {
    return clustered;
  }

  Future<Void> save(String id, McpSchema.InitializeRequest initialize, String protocolVersion,
                    McpSessionBinder.Binding binding) {
    JsonObject state = new JsonObject()
        .put("protocolVersion", protocolVersion)
        .put("initialize", new JsonObject(encode(initialize)))
        .put("userSessionId", binding.userSessionId())
        .put("userId", binding.userId())
        .put("createdAt", System.currentTimeMillis());
    touchedAt.put(id, System.currentTimeMillis());
    return sessions.putMcpSession(id, state.encode(), ttlMillis);
  }

  /** The stored session, its expiry pushed; null when unknown, expired, or not readable. */
  Future<Stored> load(String id) {
    return sessions.getMcpSession(id, ttlMillis).map(json -> json == null ? null : decode(id, json));
  }

  /**
   * Pushes the session's expiry when this instance has not for {@link #touchInterval}; never waited for. Runs
   * {@code gone} when the store says the session ended (expired, or deleted on another instance).
   */
  void touch(String id, Runnable gone) {
    long now = System.currentTimeMillis();
    Long last = touchedAt.get(id);
    if (last != null && now - last < touchInterval) {
      return;
    }
    touchedAt.put(id, now);
    sessions.touchMcpSession(id, ttlMillis).onComplete(ar -> {
      if (ar.succeeded() && !ar.result()) {
        gone.run();
      }
      // A failed push is retried at the next use; the store's fault is logged by Sessions.
    });
  }

  /** Forgets the expiry pushes of sessions this instance no longer holds. */
  void retainTouched(Set<String> held) {
    touchedAt.keySet().retainAll(held);
  }

  Future<Boolean> delete(String id) {
    touchedAt.remove(id);
    return sessions.deleteMcpSession(id);
  }

  /** This instance now holds the session's listening stream: notifications sent anywhere are routed here. */
  Future<Boolean> takeStream(String id) {
    return change(id, state -> {
      if (nodeId.equals(state.getString("streamOwner"))) {
        return false;
      }
      state.put("streamOwner", nodeId);
      return true;
    });
  }

  /** The stream held by {@code owner} ended (or that node is gone); a newer owner is left alone. */
  Future<Boolean> releaseStream(String id, String owner) {
    return change(id, state -> owner.equals(state.getString("streamOwner")) && state.remove("streamOwner") != null);
  }

  Future<Boolean> setLoggingLevel(String id, String level) {
    return change(id, state -> {
      if (level.equals(state.getString("loggingLevel"))) {
        return false;
      }
      state.put("loggingLevel", level);
      return true;
    });
  }

  /**
   * Keeps one listening-stream event, waiting at most {@link #APPEND_WAIT_MILLIS}: its store id, or null when it was
   * not kept (session gone, store slow or down — logged a few times per window, never failing the stream).
   */
  Future<String> append(String id, String data) {
    return sessions.appendMcpEvent(id, LISTEN, data, maxEvents, eventTtlMillis, APPEND_WAIT_MILLIS)
        .recover(err -> {
          faults.warn("mcp-event-append", "An MCP stream event was sent without being kept for resumption: " + err);
          return Future.succeededFuture(null);
        });
  }

  /**
   * The listening-stream events after {@code storeId}; empty when that event is not kept (unknown, trimmed or
   * expired): what was missed cannot be told, so nothing is replayed and the stream just goes on. Fails (503) when
   * the store does not answer.
   */
  Future<List<SessionStore.McpEvent>> after(String id, String storeId) {
    return sessions.mcpEventsAfter(id, LISTEN, storeId).map(events -> events == null ? List.of() : events);
  }

  /** The store id inside a {@code Last-Event-ID} header; null when there is none; 400 when it is not one of ours. */
  static String lastEventId(String header) {
    if (header == null || header.isBlank()) {
      return null;
    }
    var m = header.length() > MAX_EVENT_ID ? null : EVENT_ID.matcher(header.trim());
    if (m == null || !m.matches()) {
      throw ApiException.badRequest("Invalid_Last_Event_Id",
          "Last-Event-ID must be an event id this server sent on the session's listening stream");
    }
    return m.group(1);
  }

  static String wireId(String storeId) {
    return LISTEN + "/" + storeId;
  }

  /** Orders store ids ({@code a-b}, both numbers). */
  static int compareIds(String a, String b) {
    int da = a.indexOf('-');
    int db = b.indexOf('-');
    int c = Long.compare(Long.parseLong(a.substring(0, da)), Long.parseLong(b.substring(0, db)));
    return c != 0 ? c : Long.compare(Long.parseLong(a.substring(da + 1)), Long.parseLong(b.substring(db + 1)));
  }

  /**
   * Applies {@code edit} (false: nothing to change) with a compare-and-set, again on a conflict with another
   * instance; false when the session is gone or nothing changed.
   */
  private Future<Boolean> change(String id, Predicate<JsonObject> edit) {
    return change(id, edit, 1);
  }

  private Future<Boolean> change(String id, Predicate<JsonObject> edit, int attempt) {
    return sessions.getMcpSession(id, ttlMillis).compose(json -> {
      if (json == null) {
        return Future.succeededFuture(false);
      }
      JsonObject state = new JsonObject(json);
      if (!edit.test(state)) {
        return Future.succeededFuture(false);
      }
      return sessions.replaceMcpSession(id, json, state.encode(), ttlMillis).compose(done -> done
          || attempt >= MAX_CHANGE_ATTEMPTS ? Future.succeededFuture(done) : change(id, edit, attempt + 1));
    });
  }

  private Stored decode(String id, String json) {
    try {
      JsonObject state = new JsonObject(json);
      McpSchema.InitializeRequest initialize = mapper.readValue(state.getJsonObject("initialize").encode(),
          McpSchema.InitializeRequest.class);
      String userSessionId = state.getString("userSessionId");
      if (userSessionId == null) {
        throw new IllegalArgumentException("no userSessionId");
      }
      return new Stored(json, initialize, state.getString("protocolVersion"),
          new McpSessionBinder.Binding(userSessionId, state.getString("userId")), state.getString("loggingLevel"),
          state.getString("streamOwner"));
    } catch (IOException | RuntimeException e) {
      // Written by hand or by another version: as good as unknown, the client initializes again.
      faults.warn("mcp-state-unreadable", "Stored MCP session " + id + " is not readable: " + e);
      return null;
    }
  }

  private String encode(Object value) {
    try {
      return mapper.writeValueAsString(value);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
