package dev.mcps.session;

import io.vertx.core.Vertx;

class MemorySessionContextTest extends SessionContextContract {

  @Override
  protected SessionStore newStore(Vertx vertx, SessionCodec codec) {
    return new MemorySessionStore(600_000, 10_000, codec);
  }
}
