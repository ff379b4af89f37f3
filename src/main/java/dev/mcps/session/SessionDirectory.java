package dev.mcps.session;

import dev.mcps.ApiException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The sessions as operators and other services see them: the JSON answers of the admin API (DESIGN.md §4) and of
 * the {@code mcps.sessions.*} addresses (§5), built in this one place for both. Credentials never appear, only
 * whether a session has them. Unknown sessions are 404 {@code Session_Not_Found}.
 */
public final class SessionDirectory {

  public static final int DEFAULT_LIMIT = 100;
  public static final int MAX_LIMIT = 1000;
  /** How many listed sessions a search reads per store call. */
  static final int SEARCH_PAGE = 500;

  private final Sessions sessions;
  private final Function<Collection<String>, Future<Set<String>>> mcpConnected;

  /**
   * {@code mcpConnected} tells which of some user sessions have an MCP stream or session open (on any instance, see
   * {@link dev.mcps.cluster.McpPresence}); it never fails.
   */
  public SessionDirectory(Sessions sessions, Function<Collection<String>, Future<Set<String>>> mcpConnected) {
    this.sessions = sessions;
    this.mcpConnected = mcpConnected;
  }

  /**
   * {@code {totalCount, offset, limit, sessions: [summary…]}}, most recently used first; each summary also says
   * whether the session has an MCP connection (one question to each instance for the whole page).
   */
  public Future<JsonObject> list(int offset, int limit) {
    return sessions.list(offset, limit).compose(page -> mcpConnected.apply(page.sessions().stream()
        .map(SessionEnv::sessionId).toList()).map(connected -> {
          JsonArray items = new JsonArray();
          page.sessions().forEach(s -> items.add(summary(s)
              .put("hasMcpConnection", connected.contains(s.sessionId()))));
          return new JsonObject().put("totalCount", page.totalCount())
              .put("offset", offset).put("limit", limit).put("sessions", items);
        }));
  }

  /**
   * The sessions whose user id or session id contains {@code query} (ignoring case), most recently used first, at
   * most {@code limit}: {@code {query, totalCount, scanned, complete, limit, sessions: [summary…]}}. It reads the
   * whole listing page by page ({@value #SEARCH_PAGE} at a time), so it finds a session however far down the list it
   * is; the store never holds more than SESSION_MAX. {@code complete} is false when it stopped at {@code limit}
   * matches before the end. A session used while the search runs moves to the top of the listing, so it may be missed
   * (never listed twice).
   */
  public Future<JsonObject> search(String query, int limit) {
    String needle = query.toLowerCase(Locale.ROOT);
    Map<String, SessionEnv> found = new LinkedHashMap<>();
    return scan(needle, limit, 0, found, 0).compose(scan -> {
      List<SessionEnv> matches = List.copyOf(found.values());
      return mcpConnected.apply(matches.stream().map(SessionEnv::sessionId).toList()).map(connected -> {
        JsonArray items = new JsonArray();
        matches.forEach(s -> items.add(summary(s).put("hasMcpConnection", connected.contains(s.sessionId()))));
        return new JsonObject().put("query", query).put("totalCount", scan.totalCount())
            .put("scanned", scan.scanned()).put("complete", scan.complete()).put("limit", limit)
            .put("sessions", items);
      });
    });
  }

  /** How a search went: the listing's size when last read, how many entries were read, and whether to its end. */
  private record Scan(long totalCount, long scanned, boolean complete) {
  }

  private Future<Scan> scan(String needle, int limit, int offset, Map<String, SessionEnv> found, int pages) {
    return sessions.list(offset, SEARCH_PAGE).compose(page -> {
      int read = 0;
      for (SessionEnv s : page.sessions()) {
        read++;
        if (matches(s, needle)) {
          found.putIfAbsent(s.sessionId(), s);
          if (found.size() >= limit) {
            boolean last = offset + read >= page.totalCount();
            return Future.succeededFuture(new Scan(page.totalCount(), offset + read, last));
          }
        }
      }
      // Positions read, not sessions returned: a page can come back short (a session whose key vanished is skipped).
      int next = offset + SEARCH_PAGE;
      boolean end = next >= page.totalCount();
      // The listing can grow while it is read: a bound on the pages keeps a busy store from holding a search forever.
      boolean bounded = pages + 1 > page.totalCount() / SEARCH_PAGE + 2;
      if (end || bounded) {
        return Future.succeededFuture(new Scan(page.totalCount(), Math.min(next, page.totalCount()), end));
      }
      return scan(needle, limit, next, found, pages + 1);
    });
  }

  private static boolean matches(SessionEnv s, String needle) {
    return s.sessionId().toLowerCase(Locale.ROOT).contains(needle)
        || (s.userId() != null && s.userId().toLowerCase(Locale.ROOT).contains(needle));
  }

  /** The summary plus productLabUserId, anthropicConversationId and hasMcpConnection; the session is not touched. */
  public Future<JsonObject> details(String sessionId) {
    return sessions.peek(sessionId).compose(s -> {
      if (s == null) {
        return Future.failedFuture(ApiException.sessionNotFound());
      }
      return mcpConnected.apply(List.of(s.sessionId())).map(connected -> summary(s)
          .put("productLabUserId", s.productLabUserId())
          .put("anthropicConversationId", s.anthropicConversationId())
          .put("hasMcpConnection", connected.contains(s.sessionId())));
    });
  }

  /**
   * The details of the session of {@code userId} (the one /chat would reuse, else a new one: get or create), or of
   * a new anonymous session when {@code userId} is null; {@code credentials}, when given, are stored in it first.
   */
  public Future<JsonObject> userSession(String userId, String productLabUserId, JiraCredentials credentials) {
    Future<SessionEnv> session = userId == null ? sessions.createAnonymous()
        : sessions.forUser(userId, productLabUserId);
    return session
        .compose(s -> credentials == null && (productLabUserId == null || productLabUserId.equals(s.productLabUserId()))
            ? Future.succeededFuture(s)
            : sessions.update(s.sessionId(), u -> {
              if (credentials != null) {
                u.setJiraCredentials(credentials);
              }
              if (productLabUserId != null) {
                u.setProductLabUserId(productLabUserId);
              }
            }))
        .compose(s -> details(s.sessionId()));
  }

  /** Empties history and notes, keeping identity and credentials: {@code {status: "ok", message}}. */
  public Future<JsonObject> reset(String sessionId) {
    return sessions.reset(sessionId).map(found -> {
      if (!found) {
        throw ApiException.sessionNotFound();
      }
      return new JsonObject().put("status", "ok").put("message", "Session " + sessionId + " has been reset");
    });
  }

  /** Removes the session: {@code {status: "ok", message}} (the admin route answers 204 without a body). */
  public Future<JsonObject> delete(String sessionId) {
    return sessions.delete(sessionId).map(found -> {
      if (!found) {
        throw ApiException.sessionNotFound();
      }
      return new JsonObject().put("status", "ok").put("message", "Session " + sessionId + " has been deleted");
    });
  }

  /** Drops the expired sessions now: {@code {success: true, beforeCount, afterCount, removed}}. */
  public Future<JsonObject> cleanup() {
    return sessions.sweep().map(sweep -> new JsonObject().put("success", true)
        .put("beforeCount", sweep.beforeCount()).put("afterCount", sweep.afterCount())
        .put("removed", sweep.beforeCount() - sweep.afterCount()));
  }

  /** The longest {@code q} a search takes: longer than any id it could match. */
  public static final int MAX_QUERY_CHARS = 256;

  /**
   * Checks a search's {@code q} (null or blank: no search): at most {@value #MAX_QUERY_CHARS} characters, and not
   * with an {@code offset}, since a search answers its first {@code limit} matches.
   */
  public static void checkQuery(String query, int offset) {
    if (query == null || query.isBlank()) {
      return;
    }
    if (query.length() > MAX_QUERY_CHARS) {
      throw ApiException.badRequest("Invalid_Request", "q must be at most " + MAX_QUERY_CHARS + " characters");
    }
    if (offset != 0) {
      throw ApiException.badRequest("Invalid_Request", "q cannot be combined with offset: a search answers its "
          + "first limit matches");
    }
  }

  /**
   * A paging value as a request gives it (a query-string text or a JSON number): absent is {@code dflt}, anything
   * but a whole number within {@code [min, max]} a 400 {@code Invalid_Request}.
   */
  public static int pagingValue(String name, Object raw, int dflt, int min, int max) {
    if (raw == null || "".equals(raw)) {
      return dflt;
    }
    Long v = wholeNumber(raw);
    if (v == null || v < min || v > max) {
      throw ApiException.badRequest("Invalid_Request",
          name + " must be a whole number between " + min + " and " + max);
    }
    return v.intValue();
  }

  private static Long wholeNumber(Object raw) {
    if (raw instanceof Integer || raw instanceof Long || raw instanceof Short || raw instanceof Byte) {
      return ((Number) raw).longValue();
    }
    if (raw instanceof String s) {
      try {
        return Long.parseLong(s);
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  private static JsonObject summary(SessionEnv s) {
    return new JsonObject()
        .put("sessionId", s.sessionId())
        .put("userId", s.userId())
        .put("createdAt", Instant.ofEpochMilli(s.createdAt()).toString())
        .put("lastAccessTime", Instant.ofEpochMilli(s.lastAccessTime()).toString())
        .put("hasJiraCredentials", s.hasJiraCredentials())
        .put("historyLength", s.historyLength());
  }
}
