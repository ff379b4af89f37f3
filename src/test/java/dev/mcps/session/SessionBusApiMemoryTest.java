package dev.mcps.session;

import java.util.Map;

class SessionBusApiMemoryTest extends SessionBusApiContract {

  @Override
  protected Map<String, String> storeEnv() {
    return Map.of("STORE", "memory");
  }
}
