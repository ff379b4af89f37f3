package dev.mcps.jira;

import dev.mcps.ApiException;
import dev.mcps.session.JiraCredentials;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/**
 * Decides which Jira base URLs a session may hold. Without it a client could point a user's token at a host it
 * controls (DESIGN.md §7): only hosts on {@code JIRA_ALLOWED_HOSTS} pass, and only over https unless
 * {@code JIRA_ALLOW_HTTP=true}.
 */
public final class JiraUrlPolicy {

  private final List<String> allowedHosts;
  private final boolean allowHttp;

  public JiraUrlPolicy(List<String> allowedHosts, boolean allowHttp) {
    this.allowedHosts = allowedHosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
    this.allowHttp = allowHttp;
  }

  /** The normalised URL (no trailing slash), or a 400 Invalid_Jira_Base_Url naming what is wrong. */
  public String check(String baseUrl) {
    return check(baseUrl, "jiraAuth.baseUrl");
  }

  /** As {@link #check(String)}; the error names {@code source}, where the caller took the URL from. */
  public String check(String baseUrl, String source) {
    URI uri;
    try {
      uri = new URI(baseUrl.trim());
    } catch (URISyntaxException e) {
      throw invalid(source + " is not a valid URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !(allowHttp && scheme.equals("http"))) {
      throw invalid(source + (allowHttp ? " must be an http(s) URL" : " must use https"));
    }
    if (uri.getHost() == null || uri.getRawUserInfo() != null || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw invalid(source + " must be a plain base URL such as https://your-site.atlassian.net");
    }
    if (!isAllowedHost(uri.getHost())) {
      throw invalid(source + " host " + uri.getHost() + " is not allowed (JIRA_ALLOWED_HOSTS)");
    }
    String s = uri.toString();
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /**
   * The credentials of a request's {@code jiraAuth} object ({@code {baseUrl, email, apiToken}}, as /chat and
   * {@code mcps.sessions.create} take them), the base URL checked; a 400 naming what is missing or wrong.
   */
  public JiraCredentials credentials(JsonObject jiraAuth) {
    String baseUrl = required(jiraAuth, "baseUrl");
    String email = required(jiraAuth, "email");
    String apiToken = required(jiraAuth, "apiToken");
    return new JiraCredentials(check(baseUrl), email, apiToken);
  }

  private static String required(JsonObject auth, String field) {
    Object v = auth.getValue(field);
    if (!(v instanceof String s) || s.isBlank() || s.length() > 2048) {
      throw ApiException.badRequest("Invalid_Jira_Auth",
          "jiraAuth must have non-empty string fields baseUrl, email and apiToken (" + field + " is missing or invalid)");
    }
    return s.trim();
  }

  public boolean isAllowedHost(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    for (String allowed : allowedHosts) {
      if (allowed.startsWith("*.")) {
        if (h.endsWith(allowed.substring(1)) && h.length() > allowed.length() - 1) {
          return true;
        }
      } else if (allowed.equals(h)) {
        return true;
      }
    }
    return false;
  }

  private static ApiException invalid(String message) {
    return ApiException.badRequest("Invalid_Jira_Base_Url", message);
  }
}
