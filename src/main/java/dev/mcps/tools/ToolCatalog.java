package dev.mcps.tools;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one list of tools, built once at start-up. MCP servers register exactly these; the chat loop offers a
 * selection of them; the tools verticle executes them. In read-only mode the write tools are not part of it at all,
 * so they can be neither listed nor called.
 */
public final class ToolCatalog {

  private final Map<String, Tool> tools = new LinkedHashMap<>();
  /** The write tools read-only mode left out, by name: a call to one is told why, not that it does not exist. */
  private final Map<String, Tool> hidden = new LinkedHashMap<>();

  public ToolCatalog(List<Tool> all, boolean readOnly) {
    for (Tool t : all) {
      if (readOnly && !t.readOnly()) {
        hidden.put(t.name(), t);
        continue;
      }
      if (tools.putIfAbsent(t.name(), t) != null) {
        throw new IllegalArgumentException("two tools are named " + t.name());
      }
    }
  }

  public List<Tool> tools() {
    return List.copyOf(tools.values());
  }

  /**
   * The write tools read-only mode leaves out. MCP registers them with the SDK, unlisted, only so that a call to one
   * reaches the tools verticle and is refused with the reason, instead of the SDK's "Unknown tool".
   */
  public List<Tool> hiddenTools() {
    return List.copyOf(hidden.values());
  }

  public Tool find(String name) {
    return tools.get(name);
  }

  /** Why {@code name} cannot be called, in words for whoever called it (a client or a model); null when it can. */
  public String refusal(String name) {
    if (name == null || name.isBlank()) {
      return "The tool call names no tool: give the tool's name";
    }
    if (hidden.containsKey(name)) {
      return "Tool " + name + " is refused: this server is read-only (JIRA_READ_ONLY=true) and allows no Jira changes";
    }
    return tools.containsKey(name) ? null : "Unknown tool: " + name;
  }
}
