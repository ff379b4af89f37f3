package dev.mcps.jira;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The projects the Jira tools may touch ({@code JIRA_PROJECTS}, as mcp-atlassian's project filter); empty = all.
 * A refusal is a {@link JiraException} naming the allowed projects, raised before anything is sent to Jira. Searches
 * are constrained rather than refused: the user's JQL becomes {@code project in (..) AND (<jql>)}, after checking
 * that its parentheses and quotes balance, so that no {@code ) OR (} in it can step outside the group.
 */
final class ProjectScope {

  private static final Pattern ORDER_BY = Pattern.compile("(?i)order\\s+by\\b");

  private final List<String> projects;

  ProjectScope(List<String> projects) {
    this.projects = projects == null ? List.of()
        : projects.stream().map(p -> p.trim().toUpperCase(Locale.ROOT)).filter(p -> !p.isEmpty()).toList();
  }

  boolean unrestricted() {
    return projects.isEmpty();
  }

  boolean allows(String projectKey) {
    return unrestricted() || (projectKey != null && projects.contains(projectKey.toUpperCase(Locale.ROOT)));
  }

  void checkProject(String projectKey) {
    if (!allows(projectKey)) {
      throw refused("Project " + projectKey);
    }
  }

  /** An issue key's project must be allowed; a numeric issue id cannot be checked without asking Jira, so it is refused. */
  void checkIssue(String issueKey) {
    if (unrestricted()) {
      return;
    }
    int dash = issueKey.lastIndexOf('-');
    if (dash < 0) {
      throw new JiraException(0, "Use the issue key (e.g. " + projects.get(0) + "-123), not its id: this server only "
          + "works in the projects " + allowed());
    }
    if (!allows(issueKey.substring(0, dash))) {
      throw refused("Issue " + issueKey);
    }
  }

  /** The JQL limited to the allowed projects (unchanged when all are allowed). */
  String constrain(String jql) {
    if (unrestricted()) {
      return jql;
    }
    int orderBy = topLevelOrderBy(jql);
    String where = (orderBy < 0 ? jql : jql.substring(0, orderBy)).strip();
    String order = orderBy < 0 ? "" : " " + jql.substring(orderBy).strip();
    String scope = "project in (" + projects.stream().map(p -> "\"" + p + "\"").collect(Collectors.joining(", "))
        + ")";
    return (where.isEmpty() ? scope : scope + " AND (" + where + ")") + order;
  }

  /**
   * Where a top-level ORDER BY starts, or -1. Throws when the parentheses or quotes do not balance: such JQL could
   * close our group early.
   */
  private int topLevelOrderBy(String jql) {
    int depth = 0;
    char quote = 0;
    int orderBy = -1;
    for (int i = 0; i < jql.length(); i++) {
      char c = jql.charAt(i);
      if (quote != 0) {
        if (c == '\\') {
          i++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '(') {
        depth++;
      } else if (c == ')' && --depth < 0) {
        break;
      } else if (depth == 0 && orderBy < 0 && (c == 'o' || c == 'O') && (i == 0 || !isWordChar(jql.charAt(i - 1)))) {
        Matcher m = ORDER_BY.matcher(jql).region(i, jql.length());
        if (m.lookingAt()) {
          orderBy = i;
        }
      }
    }
    if (depth != 0 || quote != 0) {
      throw new JiraException(0, "Invalid argument 'jql': its parentheses or quotes do not balance");
    }
    return orderBy;
  }

  private static boolean isWordChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_';
  }

  private JiraException refused(String what) {
    return new JiraException(0, what + " is outside the Jira projects this server may use (JIRA_PROJECTS: "
        + allowed() + ")");
  }

  private String allowed() {
    return String.join(", ", projects);
  }
}
