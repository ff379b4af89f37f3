package dev.mcps.tools;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The seed's DynamicToolClient: which tools to offer the model for one chat message. A message that mentions an
 * issue key (ABC-123) or Jira words, in English or Portuguese, gets the Jira context; no context means no context
 * tools (the seed's rule), while the session's own tools are always offered.
 */
public final class ToolSelector {

  public static final String JIRA = "jira";

  private static final Pattern ISSUE_KEY = Pattern.compile("\\b[A-Z][A-Z0-9_]{1,19}-[1-9][0-9]*\\b");
  private static final Pattern JIRA_WORDS = Pattern.compile(
      "\\b(jira|issues?|tickets?|bugs?|sprints?|epics?|stor(?:y|ies)|backlog|jql|chamados?|tarefas?|hist[oó]rias?)\\b",
      Pattern.UNICODE_CASE | Pattern.CASE_INSENSITIVE);

  private final ToolCatalog catalog;

  public ToolSelector(ToolCatalog catalog) {
    this.catalog = catalog;
  }

  /** The contexts a message calls for, e.g. ["jira"]; empty when none. */
  public static Set<String> contexts(String message) {
    Set<String> out = new LinkedHashSet<>();
    if (message != null && (ISSUE_KEY.matcher(message).find() || JIRA_WORDS.matcher(message).find())) {
      out.add(JIRA);
    }
    return out;
  }

  /** The tools to offer for {@code message}: the session tools, plus those of each detected context. */
  public List<Tool> select(String message) {
    Set<String> contexts = contexts(message);
    List<Tool> out = new ArrayList<>();
    for (Tool t : catalog.tools()) {
      String context = contextOf(t);
      if (context == null || contexts.contains(context)) {
        out.add(t);
      }
    }
    return out;
  }

  /** Why the catalog refuses {@code name} (see {@link ToolCatalog#refusal}); null when it has the tool. */
  public String refusal(String name) {
    return catalog.refusal(name);
  }

  /** A tool's context is its name's prefix before the first underscore, for the contexts we know. */
  private static String contextOf(Tool tool) {
    return tool.name().toLowerCase(Locale.ROOT).startsWith(JIRA + "_") ? JIRA : null;
  }
}
