package dev.mcps.tools;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxServiceProvider;
import io.vertx.core.spi.context.storage.ContextLocal;

/**
 * Whether the tool call running on this context was cancelled by its caller (an MCP client's
 * {@code notifications/cancelled}). Kept in a {@link ContextLocal} of the call's own duplicated context, like the
 * session, so that code deep in a tool (the Jira client) can stop its work without every signature carrying it.
 * Registered through META-INF/services, since context locals must exist before the first Vertx is built.
 */
public final class ToolCancellation implements VertxServiceProvider {

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final ContextLocal<Future<Void>> CANCELLED = (ContextLocal) ContextLocal.registerLocal(Future.class);

  @Override
  public void init(VertxBootstrap builder) {
    // Nothing to configure: the static initializer above is the registration.
  }

  /** Completes when the running call is cancelled; null when it cannot be (no call, or a caller that never cancels). */
  public static Future<Void> current() {
    Context ctx = Vertx.currentContext();
    return ctx == null ? null : CANCELLED.get(ctx);
  }

  public static boolean isCancelled() {
    Future<Void> cancelled = current();
    return cancelled != null && cancelled.isComplete();
  }

  /** Marks the current context, which must be the call's own duplicated context, as running a cancellable call. */
  static void set(Future<Void> cancelled) {
    CANCELLED.put(Vertx.currentContext(), cancelled);
  }
}
