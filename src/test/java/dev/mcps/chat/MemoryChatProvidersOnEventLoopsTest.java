package dev.mcps.chat;

import java.util.Map;

/** The provider contract with WORKER_VERTICLES=false: provider loops and Jira tools on event loops. */
class MemoryChatProvidersOnEventLoopsTest extends ChatProvidersContract {

  @Override
  protected Map<String, String> storeEnv() {
    return Map.of("STORE", "memory", "WORKER_VERTICLES", "false");
  }
}
