package dev.mcps.mcp;

import dev.mcps.ApiException;
import dev.mcps.jira.JiraUrlPolicy;
import dev.mcps.limits.UserLimits;
import dev.mcps.session.JiraCredentials;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;

/**
 * Chooses the user session of a new MCP connection (DESIGN.md §4): {@code X-Session-Id} / {@code ?sessionId=} must
 * name a live session (404) that, when a user is also named, is that user's (403); {@code X-User-Id} /
 * {@code ?userId=} gets or creates the user's session; neither creates an anonymous session. Jira credentials sent
 * as {@code X-Jira-Base-Url}, {@code X-Jira-Email}, {@code X-Jira-Api-Token} are checked and stored (encrypted) in
 * that session, as /chat does with {@code jiraAuth}. A user session holds at most {@code maxConnections} MCP
 * connections on this instance (429 {@code Too_Many_Connections} past it).
 */
public final class McpBinding implements McpSessionBinder, dev.mcps.mcp.stateless.StatelessIdentity {

  private static final int MAX_ID = 256;

  private final Sessions sessions;
  private final JiraUrlPolicy jiraPolicy;
  private final UserConnectionLimit limit;
  private final UserLimits userLimits;

  /** @param maxConnections MCP connections one user session may hold on this instance; 0 = no limit */
  public McpBinding(Sessions sessions, JiraUrlPolicy jiraPolicy, int maxConnections) {
    this(sessions, jiraPolicy, maxConnections, UserLimits.OFF);
  }

  /** {@code userLimits}: each MCP request counts against its user's USER_RATE_LIMIT_PER_MINUTE. */
  public McpBinding(Sessions sessions, JiraUrlPolicy jiraPolicy, int maxConnections, UserLimits userLimits) {
    this.sessions = sessions;
    this.jiraPolicy = jiraPolicy;
    this.limit = new UserConnectionLimit(maxConnections);
    this.userLimits = userLimits;
  }

  /** What a request says about its user session: the headers (or query parameters) of DESIGN.md §4. */
  private record Named(String sessionId, String userId, JiraCredentials credentials) {
  }

  /** Throws the 400 of a malformed id or incomplete credentials. */
  private Named named(HttpServerRequest request) {
    return new Named(param(request, "X-Session-Id", "sessionId"), param(request, "X-User-Id", "userId"),
        credentials(request));
  }

  @Override
  public Future<Binding> bind(HttpServerRequest request) {
    Named named;
    try {
      named = named(request);
    } catch (ApiException e) {
      return Future.failedFuture(e);
    }
    // The connect (SSE GET, initialize) is a request of its user like any other.
    Future<SessionEnv> session = userLimits.admitting(named.userId(),
        () -> named.sessionId() == null && named.userId() == null
            ? sessions.createAnonymous()
            : sessions.resolve(named.sessionId(), named.userId(), null));
    JiraCredentials credentials = named.credentials();
    if (credentials != null) {
      session = session.compose(s -> sessions.update(s.sessionId(), u -> u.setJiraCredentials(credentials)));
    }
    String userId = named.userId();
    // The slot is taken last, so that a refused bind holds none.
    return session.map(s -> {
      if (!limit.tryTake(s.sessionId())) {
        throw tooManyConnections();
      }
      // An anonymous session reached by its id acts for the user named with it, as resolve() admitted.
      return new Binding(s.sessionId(), s.userId() != null ? s.userId() : userId);
    });
  }

  @Override
  public String principal(HttpServerRequest request) {
    try {
      String sessionId = param(request, "X-Session-Id", "sessionId");
      String userId = param(request, "X-User-Id", "userId");
      return sessionId == null && userId == null ? "" : "u:" + (userId == null ? "" : userId)
          + "|s:" + (sessionId == null ? "" : sessionId);
    } catch (ApiException e) {
      // userSession() refuses the same request with the reason; as a principal it is nobody.
      return "";
    }
  }

  /**
   * A stateless request's user session, with {@link #bind}'s rules but no connection slot (there is no connection)
   * and no anonymous session: a session created for a request that names no one could never be named again.
   * Jira credentials headers are stored only when they differ from the session's, so that a client sending them on
   * every request does not rewrite the session each time.
   */
  @Override
  public Future<SessionEnv> userSession(HttpServerRequest request) {
    Named named;
    try {
      named = named(request);
    } catch (ApiException e) {
      return Future.failedFuture(e);
    }
    if (named.sessionId() == null && named.userId() == null) {
      return Future.failedFuture(ApiException.badRequest("User_Required", "This call acts in a user session: a "
          + "stateless MCP request names it with the X-User-Id (or X-Session-Id) header"));
    }
    Future<SessionEnv> session = sessions.resolve(named.sessionId(), named.userId(), null);
    JiraCredentials credentials = named.credentials();
    if (credentials != null) {
      session = session.compose(s -> credentials.equals(s.jiraCredentials()) ? Future.succeededFuture(s)
          : sessions.update(s.sessionId(), u -> u.setJiraCredentials(credentials)));
    }
    return session;
  }

  /**
   * Counts one request of a bound connection against its user (its anonymous session when it has none): the binding
   * already says who, so this asks no store.
   */
  @Override
  public Future<Void> admit(Binding binding) {
    return userLimits.admit(UserLimits.subject(binding.userId(), null, binding.userSessionId()));
  }

  /**
   * Counts a stateless request against the user it names, or against the owner of the session it names (looked up
   * only while a rate limit is set); a request that names neither acts for no one and is not counted.
   */
  @Override
  public Future<Void> admit(HttpServerRequest request) {
    if (!userLimits.limitsRequests()) {
      return Future.succeededFuture();
    }
    Named named;
    try {
      named = named(request);
    } catch (ApiException e) {
      return Future.failedFuture(e);
    }
    if (named.userId() != null || named.sessionId() == null) {
      return userLimits.admit(UserLimits.subject(named.userId(), null, null));
    }
    return sessions.find(named.sessionId()).compose(s -> s == null ? Future.succeededFuture()
        : userLimits.admit(UserLimits.subject(null, s.userId(), s.sessionId())));
  }

  @Override
  public Future<Binding> rebind(Binding stored) {
    return sessions.find(stored.userSessionId()).map(s -> {
      if (s == null) {
        return null;
      }
      if (!limit.tryTake(s.sessionId())) {
        throw tooManyConnections();
      }
      return stored;
    });
  }

  @Override
  public void unbound(String userSessionId, String mcpSessionId) {
    limit.release(userSessionId);
  }

  private ApiException tooManyConnections() {
    return new ApiException(429, "Too_Many_Connections", "This session already holds " + limit.max()
        + " MCP connections; close one (DELETE /mcp, or end an SSE stream) and try again");
  }

  private static String param(HttpServerRequest request, String header, String query) {
    String v = request.getHeader(header);
    if (v == null || v.isBlank()) {
      v = request.getParam(query);
    }
    if (v == null || v.isBlank()) {
      return null;
    }
    if (v.length() > MAX_ID) {
      throw ApiException.badRequest("Invalid_Request", header + " must be at most " + MAX_ID + " characters");
    }
    return v.trim();
  }

  private JiraCredentials credentials(HttpServerRequest request) {
    String baseUrl = request.getHeader("X-Jira-Base-Url");
    String email = request.getHeader("X-Jira-Email");
    String token = request.getHeader("X-Jira-Api-Token");
    if (baseUrl == null && email == null && token == null) {
      return null;
    }
    if (isBlank(baseUrl) || isBlank(email) || isBlank(token)) {
      throw ApiException.badRequest("Invalid_Jira_Auth",
          "X-Jira-Base-Url, X-Jira-Email and X-Jira-Api-Token must be sent together");
    }
    return new JiraCredentials(jiraPolicy.check(baseUrl, "X-Jira-Base-Url"), email.trim(), token.trim());
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }
}
