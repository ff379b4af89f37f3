package dev.mcps.session;

import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxServiceProvider;
import io.vertx.core.spi.context.storage.ContextLocal;

/**
 * Registers the session's {@link ContextLocal}. Context locals must exist before the first Vertx is built; Vert.x
 * loads this provider (META-INF/services) while building, and loading the class registers the local.
 */
public final class SessionContextProvider implements VertxServiceProvider {

  /** Each duplicated context (one per request or message) has its own slot; duplicates of it inherit the value. */
  static final ContextLocal<SessionEnv> SESSION = ContextLocal.registerLocal(SessionEnv.class);

  @Override
  public void init(VertxBootstrap builder) {
    // Nothing to configure: the static initializer above is the registration.
  }
}
