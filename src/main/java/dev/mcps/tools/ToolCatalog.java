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

  public ToolCatalog(List<Tool> all, boolean readOnly) {
    for (Tool t : all) {
      if (readOnly && !t.readOnly()) {
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

  public Tool find(String name) {
    return tools.get(name);
  }
}
