package dev.mcps.chat;

import dev.mcps.tools.Tool;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * What the model may call in one turn: only the tools the turn offered it (a model, or a prompt injected into a Jira
 * issue it read, could otherwise name any tool of the catalog), and at most {@code CHAT_MAX_WRITES_PER_TURN} calls of
 * write tools (those read-only mode hides), so that one step cannot change forty issues. Calls are judged in the
 * order the model made them; a refusal is a tool error the model reads, and the turn goes on.
 */
final class ToolGate {

  private final Map<String, Tool> offered = new LinkedHashMap<>();
  private final int maxWrites;
  /** Why the catalog itself refuses a name (unknown, or hidden by read-only mode); null when it has the tool. */
  private final Function<String, String> catalogRefusal;
  /** Why no write tool may run in this turn (the caller's token lacks JIRA_WRITE_SCOPE); null when they may. */
  private final String writesRefused;
  private int writes;

  ToolGate(Collection<Tool> offered, int maxWrites, Function<String, String> catalogRefusal, String writesRefused) {
    this.writesRefused = writesRefused;
    for (Tool t : offered) {
      this.offered.put(t.name(), t);
    }
    this.maxWrites = maxWrites;
    this.catalogRefusal = catalogRefusal;
  }

  /** Null when the call may go ahead (and then it counts); otherwise why not, in words for the model. */
  String refusal(String name) {
    if (name == null || name.isBlank()) {
      return "Tool call refused: it names no tool";
    }
    Tool tool = offered.get(name);
    String notInCatalog = tool == null ? catalogRefusal.apply(name) : null;
    if (notInCatalog != null) {
      return notInCatalog;
    }
    if (tool == null) {
      return "Tool " + name + " refused: it is not one of the tools offered in this turn ("
          + String.join(", ", offered.keySet()) + ")";
    }
    if (!tool.readOnly()) {
      if (writesRefused != null) {
        return "Tool " + name + " refused: " + writesRefused;
      }
      if (writes >= maxWrites) {
        return "Tool " + name + " refused: at most " + maxWrites + " Jira changes are allowed in one turn"
            + " (CHAT_MAX_WRITES_PER_TURN); tell the user what is left to do so they can ask again";
      }
      writes++;
    }
    return null;
  }
}
