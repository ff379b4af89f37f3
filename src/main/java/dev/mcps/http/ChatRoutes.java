package dev.mcps.http;

import dev.mcps.ApiException;
import dev.mcps.chat.ChatRequest;
import dev.mcps.jira.JiraUrlPolicy;
import dev.mcps.session.SessionContext;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.util.Objects;

/**
 * POST /chat: validates the request, resolves the caller's session (DESIGN.md §4), stores what the request
 * carries (Jira credentials, a replacement history) and runs the turn inside the session context.
 */
final class ChatRoutes {

  private final Sessions sessions;
  private final String defaultModel;
  private final JiraUrlPolicy jiraPolicy;

  ChatRoutes(Sessions sessions, String defaultModel, JiraUrlPolicy jiraPolicy) {
    this.sessions = sessions;
    this.defaultModel = defaultModel;
    this.jiraPolicy = jiraPolicy;
  }

  void chat(RoutingContext ctx) {
    ChatRequest req;
    try {
      req = ChatRequest.parse(RequestBodies.object(ctx), defaultModel, jiraPolicy);
    } catch (ApiException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    String[] sessionId = {req.sessionId()};
    sessions.resolve(req.sessionId(), req.userId(), req.productLabUserId())
        .compose(session -> {
          sessionId[0] = session.sessionId();
          return store(session, req);
        })
        .compose(session -> SessionContext.runWith(session, () -> turn(req)))
        .onSuccess(body -> HttpErrors.json(ctx, 200, body))
        .onFailure(err -> HttpErrors.send(ctx,
            err instanceof ApiException api && api.sessionId() == null && sessionId[0] != null
                && api.status() != 404 && api.status() != 403 ? api.withSessionId(sessionId[0]) : err));
  }

  /** Saves the credentials, productLabUserId and history the request brought, before the turn runs. */
  private Future<SessionEnv> store(SessionEnv session, ChatRequest req) {
    boolean changesSession = req.jiraAuth() != null
        || (req.productLabUserId() != null && !Objects.equals(req.productLabUserId(), session.productLabUserId()));
    Future<SessionEnv> updated = !changesSession ? Future.succeededFuture(session)
        : sessions.update(session.sessionId(), s -> {
          if (req.jiraAuth() != null) {
            s.setJiraCredentials(req.jiraAuth());
          }
          if (req.productLabUserId() != null) {
            s.setProductLabUserId(req.productLabUserId());
          }
        });
    // As in the seed, only a non-empty history replaces the stored one: clients that always send [] lose nothing.
    if (req.history() == null || req.history().isEmpty()) {
      return updated;
    }
    return updated.compose(s -> sessions.replaceHistory(s.sessionId(), req.history()).map(v -> s));
  }

  /** The agentic turn. Providers arrive with the chat step; until then every model answers 503. */
  private Future<io.vertx.core.json.JsonObject> turn(ChatRequest req) {
    SessionEnv session = SessionContext.require();
    return Future.failedFuture(new ApiException(503, "Provider_Not_Configured",
        "No " + req.model() + " provider is configured on this server", session.sessionId()));
  }
}
