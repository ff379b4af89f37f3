package dev.mcps.mcp;

import java.util.Map;

class MemoryMcpServerTest extends McpServerContract {

  @Override
  protected Map<String, String> storeEnv() {
    return Map.of("STORE", "memory");
  }
}
