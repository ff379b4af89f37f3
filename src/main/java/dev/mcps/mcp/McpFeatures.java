package dev.mcps.mcp;

import dev.mcps.ApiException;
import dev.mcps.mcp.features.SdkFeatures;
import dev.mcps.tools.Tool;
import dev.mcps.tools.ToolCalls;
import dev.mcps.tools.ToolCatalog;
import dev.mcps.tools.ToolResult;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncPromptSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import reactor.core.publisher.Mono;

/**
 * Turns the one tool catalog and the prompts into MCP SDK specifications. Every tool handler only forwards the call
 * to the tools verticle with the connection's user session: no tool runs inside the transport.
 */
public final class McpFeatures {

  /** A server-defined JSON-RPC error code (the -32000..-32099 range): the connection's user session has ended. */
  static final int SESSION_ENDED = -32001;

  private McpFeatures() {
  }

  /** Schemas go to the SDK as JSON text: Vert.x's JsonObject maps hold Vert.x types the SDK cannot read. */
  /**
   * @param product the product features as the session era sees them, which ask an eliciting client to confirm a
   *                Jira write as the stateless era does; null for no confirmation
   */
  public static List<AsyncToolSpecification> tools(Vertx vertx, ToolCatalog catalog, McpJsonMapper mapper,
                                                   ProductFeatures product, SdkFeatures asked) {
    // The hidden write tools too: listed by no one (see McpEndpoints' tool filter), refused with their reason.
    return java.util.stream.Stream.concat(catalog.tools().stream(), catalog.hiddenTools().stream())
        .map(t -> toolSpec(vertx, t, mapper, product, asked)).toList();
  }

  private static AsyncToolSpecification toolSpec(Vertx vertx, Tool tool, McpJsonMapper mapper,
                                                 ProductFeatures product, SdkFeatures asked) {
    McpSchema.Tool descriptor = McpSchema.Tool.builder()
        .name(tool.name())
        .description(tool.description())
        .inputSchema(mapper, tool.inputSchema().encode())
        .build();
    return AsyncToolSpecification.builder()
        .tool(descriptor)
        .callHandler((exchange, request) -> confirmed(exchange, request, product, asked)
            .flatMap(ok -> ok ? call(vertx, exchange, request)
                : Mono.just(toMcp(ProductFeatures.notConfirmed(request.name())))))
        .build();
  }

  /** True unless the tool asks an eliciting client to confirm first and the user did not. */
  private static Mono<Boolean> confirmed(McpAsyncServerExchange exchange, McpSchema.CallToolRequest request,
                                         ProductFeatures product, SdkFeatures asked) {
    if (product == null || asked == null) {
      return Mono.just(true);
    }
    dev.mcps.mcp.features.McpExchange neutral = asked.exchange(exchange);
    if (!product.confirms(request.name(), neutral)) {
      return Mono.just(true);
    }
    JsonObject args = request.arguments() == null ? new JsonObject() : new JsonObject(request.arguments());
    return Reactor.mono(() -> ProductFeatures.confirm(neutral, request.name(), args))
        // A client that cannot answer the question (an error, a timeout) has not confirmed.
        .onErrorReturn(false);
  }

  private static Mono<McpSchema.CallToolResult> call(Vertx vertx, McpAsyncServerExchange exchange,
                                                     McpSchema.CallToolRequest request) {
    String sessionId = userSessionId(exchange);
    JsonObject args = request.arguments() == null ? new JsonObject() : new JsonObject(request.arguments());
    // Named, so that a client's notifications/cancelled (which disposes this Mono) stops the call where it runs.
    ThreadLocalRandom random = ThreadLocalRandom.current();
    String callId = new UUID(random.nextLong(), random.nextLong()).toString();
    return Reactor.mono(() -> ToolCalls.call(vertx, sessionId, request.name(), args, callId))
        .doOnCancel(() -> ToolCalls.cancel(vertx, callId))
        .map(McpFeatures::toMcp)
        .onErrorResume(err -> userSessionGone(err) ? sessionEnded(exchange)
            : Mono.just(toMcp(ToolResult.error(Reactor.describe(err)))));
  }

  /** The user session no longer exists (expired, deleted, evicted, or lost with the store): it will not return. */
  private static boolean userSessionGone(Throwable err) {
    ApiException api = ApiException.fromReply(err);
    return api != null && api.status() == 404 && "Session_Not_Found".equals(api.code());
  }

  /**
   * Tells the transport that the connection's user session is gone, so that it ends the MCP connection and the
   * client initializes again (a tool error would only repeat on every later call).
   */
  private static Mono<McpSchema.CallToolResult> sessionEnded(McpAsyncServerExchange exchange) {
    if (exchange.transportContext().get(McpSessionBinder.USER_SESSION_GONE) instanceof Runnable gone) {
      gone.run();
    }
    return Mono.error(McpError.builder(SESSION_ENDED)
        .message("The session of this MCP connection has ended; connect again").build());
  }

  private static McpSchema.CallToolResult toMcp(ToolResult r) {
    McpSchema.CallToolResult.Builder b = McpSchema.CallToolResult.builder()
        .addTextContent(r.text())
        .isError(r.isError());
    if (r.structured() != null) {
      b.structuredContent(plain(r.structured()));
    }
    return b.build();
  }

  /** Vert.x JSON as plain maps and lists, which the SDK's mapper writes without a text round trip. */
  static Object plain(Object value) {
    if (value instanceof JsonObject o) {
      java.util.Map<String, Object> map = new java.util.LinkedHashMap<>();
      o.forEach(e -> map.put(e.getKey(), plain(e.getValue())));
      return map;
    }
    if (value instanceof io.vertx.core.json.JsonArray a) {
      List<Object> list = new java.util.ArrayList<>(a.size());
      a.forEach(v -> list.add(plain(v)));
      return list;
    }
    return value;
  }

  static String userSessionId(McpAsyncServerExchange exchange) {
    Object id = exchange.transportContext() == null ? null
        : exchange.transportContext().get(McpSessionBinder.USER_SESSION_ID);
    if (!(id instanceof String s)) {
      // A transport that did not bind the connection is a wiring bug; refuse rather than act without a session.
      throw McpError.builder(McpSchema.ErrorCodes.INTERNAL_ERROR).message("Connection is not bound to a session").build();
    }
    return s;
  }

  public static List<AsyncPromptSpecification> prompts() {
    return ProductFeatures.PROMPTS.stream()
        .map(p -> prompt(p.name(), p.description(), p.argName(), p.argDescription(), p.text())).toList();
  }

  private static AsyncPromptSpecification prompt(String name, String description, String argName, String argDescription,
                                                 java.util.function.Function<String, String> text) {
    McpSchema.Prompt prompt = new McpSchema.Prompt(name, description,
        List.of(new McpSchema.PromptArgument(argName, argDescription, true)));
    return new AsyncPromptSpecification(prompt, (exchange, request) -> {
      Map<String, Object> args = request.arguments() == null ? Map.of() : request.arguments();
      Object value = args.get(argName);
      if (!(value instanceof String s) || s.isBlank()) {
        return Mono.error(McpError.builder(McpSchema.ErrorCodes.INVALID_PARAMS)
            .message("Missing required argument '" + argName + "'").build());
      }
      String v = s.trim();
      return Mono.just(new McpSchema.GetPromptResult(description,
          List.of(new McpSchema.PromptMessage(McpSchema.Role.USER, new McpSchema.TextContent(text.apply(v))))));
    });
  }
}
