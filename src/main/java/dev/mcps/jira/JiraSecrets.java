package dev.mcps.jira;

import dev.mcps.session.JiraCredentials;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * The session's Jira secrets as they travel (the API token, and the Basic value — base64 of {@code email:token}),
 * and the one place a text from Jira is cleaned of them before it becomes a tool error or a log line: a hostile or
 * misconfigured Jira may echo the {@code Authorization} header back in an error body.
 */
final class JiraSecrets {

  /** Any credential-bearing scheme value, whoever's it is. */
  private static final Pattern AUTH_VALUE = Pattern.compile("(?i)\\b(basic|bearer)\\s+[A-Za-z0-9+/=._~\\-]+");
  /** A text holding this much of the token in one piece is not repeated at all (an echo may be cut or re-wrapped). */
  private static final int ECHO_WINDOW = 8;

  private JiraSecrets() {
  }

  static String basicValue(JiraCredentials c) {
    return Base64.getEncoder().encodeToString((c.email() + ":" + c.apiToken()).getBytes(StandardCharsets.UTF_8));
  }

  /** {@code text} without the token, the Basic value or any Basic/Bearer value; "" when a piece of the token remains. */
  static String scrub(String text, JiraCredentials c) {
    if (text == null || text.isEmpty()) {
      return "";
    }
    String token = c.apiToken() == null ? "" : c.apiToken();
    String out = AUTH_VALUE.matcher(text).replaceAll("$1 ***");
    out = replace(out, basicValue(c));
    out = replace(out, token);
    return echoes(out, token) ? "" : out;
  }

  private static String replace(String text, String secret) {
    return secret.isEmpty() ? text : text.replace(secret, "***");
  }

  private static boolean echoes(String text, String token) {
    for (int i = 0; i + ECHO_WINDOW <= token.length(); i++) {
      if (text.contains(token.substring(i, i + ECHO_WINDOW))) {
        return true;
      }
    }
    return false;
  }
}
