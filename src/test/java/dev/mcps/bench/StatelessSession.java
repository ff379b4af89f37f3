package dev.mcps.bench;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * A virtual user of the MCP 2026-07-28 stateless era: no initialize and no {@code Mcp-Session-Id}. Every
 * {@code tools/call} is a POST of its own to the Streamable endpoint carrying {@code MCP-Protocol-Version},
 * {@code Mcp-Method: tools/call}, {@code Mcp-Name: <tool>}, the user ({@code --user-header} / {@code --user-query},
 * which tells our server whose session serves the call) and, in {@code params._meta}, the protocol version, client
 * capabilities and client info that initialize used to carry. The POSTs share a keep-alive pool as the Streamable
 * calls do; a response may be JSON or an event stream, as there. Anything but a 200 that holds the call's JSON-RPC
 * result counts as an error.
 */
final class StatelessSession extends StreamableSession {

  StatelessSession(LoadShard shard, int index) {
    super(shard, index);
  }

  /**
   * Nothing to set up but the request headers; then one call, not measured, so that a server that does not serve the
   * stateless era fails the run at once, saying what it answered, rather than after a warm-up of errors.
   */
  @Override
  Future<Void> handshake() {
    post = bindUser(jsonPost()).setHost(options.callHost).setPort(options.callPort)
        .putHeader("MCP-Protocol-Version", options.protocolVersion)
        .putHeader("Mcp-Method", "tools/call")
        .putHeader("Mcp-Name", options.tool);
    post.setIdleTimeout(options.callTimeoutMillis);
    String what = "POST " + options.path + " (stateless tools/call, " + options.protocolVersion + ")";
    return exchange(shard.calls, post, shard.callBody(0))
        .recover(e -> Future.failedFuture(what + " failed: " + e.getMessage()))
        .compose(reply -> {
          if (reply.status() != 200) {
            return Future.failedFuture(what + " answered " + reply.describe());
          }
          JsonObject response = responseToFirstRequest(reply.messages());
          if (response != null) {
            if (response.getValue("error") != null) {
              return Future.failedFuture(what + " answered a JSON-RPC error: " + response.getValue("error"));
            }
            return response.getValue("result") instanceof JsonObject
                ? Future.<Void>succeededFuture()
                : Future.failedFuture(what + " response has no result: " + snippet(response.encode()));
          }
          return Future.failedFuture(what + " carried no response to it: " + reply.describe());
        });
  }

  @Override
  boolean answersCall(int status) {
    return status == 200;
  }
}
