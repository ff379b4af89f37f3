package dev.mcps.chat;

import dev.mcps.jira.JiraUrlPolicy;
import dev.mcps.session.SessionContext;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * A /chat request from start to end: validate, resolve the caller's session (DESIGN.md §4), store what the request
 * carries (Jira credentials, productLabUserId, a replacing history), then run the turn inside the session context.
 * Bad input is rejected before any session is touched.
 */
public final class ChatService {

  private final Sessions sessions;
  private final AgentLoop loop;
  private final String defaultModel;
  private final JiraUrlPolicy jiraPolicy;

  public ChatService(Sessions sessions, AgentLoop loop, String defaultModel, JiraUrlPolicy jiraPolicy) {
    this.sessions = sessions;
    this.loop = loop;
    this.defaultModel = defaultModel;
    this.jiraPolicy = jiraPolicy;
  }

  /** The turn's reply; also encoded when {@code encodeReply} (see {@link AgentLoop#run}). */
  public Future<TurnReply> handle(JsonObject body, TurnEvents events, boolean encodeReply) {
    ChatRequest req;
    try {
      req = ChatRequest.parse(body, defaultModel, jiraPolicy);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return sessions.resolve(req.sessionId(), req.userId(), req.productLabUserId())
        .compose(session -> store(session, req))
        .compose(session -> SessionContext.runWith(session,
            () -> loop.run(req.message(), req.model(), events, encodeReply)));
  }

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
}
