package dev.mcps.mcp.features;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * What a tool, prompt, resource or completion handler sees of the request it serves, the same in both MCP eras:
 * the session model of 2025-11-25 and earlier (one {@code initialize}, then requests on a connection) and the
 * stateless model of 2026-07-28 (every request carries its version and client capabilities in {@code _meta}).
 * A handler written against this interface never knows which era it serves.
 */
public interface McpExchange {

  /** The client's declared capabilities (from {@code initialize}, or the request's {@code _meta}); never null. */
  JsonObject clientCapabilities();

  /** True when the client declared {@code name} (e.g. "sampling", "elicitation", "roots"). */
  default boolean clientHas(String name) {
    return clientCapabilities().getValue(name) != null;
  }

  /**
   * The user session this request acts in. Session era: the one bound at {@code initialize}. Stateless era: looked
   * up (or created) for this request from its {@code X-Session-Id} / {@code X-User-Id} headers, with the same
   * rules as at {@code initialize}; it fails with the {@link dev.mcps.ApiException} of that lookup (400, 403, 404,
   * 503 ...). Handlers that need no session never call it, and then the request costs no store access.
   */
  Future<String> userSessionId();

  /** Reports progress when the request carries a {@code progressToken}; does nothing otherwise. */
  void progress(double progress, Double total, String message);

  /**
   * Sends a {@code notifications/message} of {@code level} ("debug", "info", "notice", "warning", "error" ...) when
   * the client asked for messages of that level or above (session era: {@code logging/setLevel}; stateless era: the
   * request's {@code io.modelcontextprotocol/logLevel}); does nothing otherwise.
   */
  void log(String level, String logger, Object data);

  /**
   * Asks the client for input, several requests at once: {@code requests} maps a key chosen by the handler to
   * {@code {"method": "elicitation/create" | "sampling/createMessage" | "roots/list", "params": {...}}}. Completes
   * with the client's answers under the same keys (an {@code ElicitResult}, {@code CreateMessageResult} or
   * {@code ListRootsResult} each).
   * <p>
   * Fails with {@link McpFailure#missingCapability} when the client did not declare the capability a request
   * needs. Session era: the requests are sent to the client over the connection. Stateless era (multi round-trip
   * requests): answers already given on this or an earlier round are used; when any is missing, the request ends
   * here with an {@code input_required} result asking for the missing ones, and the handler is run again from the
   * start when the client retries with them. Handlers therefore ask with stable keys and do nothing irreversible
   * before their last question.
   */
  Future<JsonObject> ask(JsonObject requests);

  /**
   * True when this request continues earlier rounds of the same request: the client retried with a
   * {@code requestState} this server issued, and it was verified (integrity, user, request, age). Always false in
   * the session era, where a request is one round.
   */
  boolean resumed();

  /** True once the client went away or cancelled this request: long handlers stop early. */
  boolean cancelled();

  /** Runs {@code hook} when the request is cancelled (at once if it already is): stops work done elsewhere. */
  default void onCancel(Runnable hook) {
  }
}
