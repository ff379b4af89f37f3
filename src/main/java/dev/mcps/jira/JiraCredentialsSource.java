package dev.mcps.jira;

import dev.mcps.config.ServerConfig;
import dev.mcps.session.JiraCredentials;
import dev.mcps.session.SessionContext;
import dev.mcps.session.SessionEnv;

/**
 * Where a Jira tool gets its credentials, in the seed's order: the session in context (set by /chat's
 * {@code jiraAuth} or the MCP connect headers), then — only when {@code JIRA_USE_ENV_CREDENTIALS=true} — the
 * environment. Never from a tool argument (a value the model wrote) and never from another session.
 */
public final class JiraCredentialsSource {

  private final JiraCredentials fromEnvironment;

  public JiraCredentialsSource(ServerConfig.Jira config) {
    boolean complete = config.baseUrl() != null && config.email() != null && config.apiToken() != null;
    this.fromEnvironment = config.useEnvCredentials() && complete
        ? new JiraCredentials(config.baseUrl(), config.email(), config.apiToken()) : null;
  }

  /** The credentials for the running tool call; a {@link JiraException} when there are none. */
  public JiraCredentials current() {
    SessionEnv session = SessionContext.require();
    if (session.jiraCredentials() != null) {
      return session.jiraCredentials();
    }
    if (fromEnvironment != null) {
      return fromEnvironment;
    }
    throw new JiraException(0, "Jira credentials not available: send jiraAuth with /chat or the X-Jira-* headers "
        + "when connecting over MCP");
  }
}
