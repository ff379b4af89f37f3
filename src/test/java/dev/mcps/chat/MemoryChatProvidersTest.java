package dev.mcps.chat;

import java.util.Map;

class MemoryChatProvidersTest extends ChatProvidersContract {

  @Override
  protected Map<String, String> storeEnv() {
    return Map.of("STORE", "memory");
  }
}
