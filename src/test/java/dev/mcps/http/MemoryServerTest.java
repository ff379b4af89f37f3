package dev.mcps.http;

import java.util.Map;

class MemoryServerTest extends ServerContract {

  @Override
  protected Map<String, String> storeEnv() {
    return Map.of("STORE", "memory");
  }
}
