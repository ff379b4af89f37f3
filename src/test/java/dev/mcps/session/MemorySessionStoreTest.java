package dev.mcps.session;

import io.vertx.core.Vertx;

class MemorySessionStoreTest extends SessionStoreContract {

  @Override
  protected SessionStore newStore(Vertx vertx, long idleTimeoutMillis, int maxSessions) {
    return new MemorySessionStore(idleTimeoutMillis, maxSessions, codec);
  }
}
