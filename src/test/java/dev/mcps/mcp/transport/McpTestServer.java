package dev.mcps.mcp.transport;

import dev.mcps.mcp.McpSessionBinder;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientSseClientTransport;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Both transports mounted on a real Vert.x HTTP server on a free loopback port, each with its own MCP server
 * offering {@code echo} (its text plus the user session it read from the transport context) and {@code wait} (holds
 * until {@link #release()}). Collects every failure that would otherwise only be logged or dropped.
 */
final class McpTestServer implements AutoCloseable {

  static final Duration KEEP_ALIVE = Duration.ofMillis(200);
  static final long BODY_LIMIT = 64 * 1024;
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  final Vertx vertx = Vertx.vertx();
  final FakeBinder binder = new FakeBinder(vertx);
  final McpJsonMapper mapper = new JacksonMcpJsonMapper(new ObjectMapper());
  final VertxSseServerTransportProvider sse;
  final VertxStreamableServerTransportProvider streamable;
  final Queue<Throwable> unexpectedErrors = new ConcurrentLinkedQueue<>();
  private final BlockingQueue<String> waitsStarted = new LinkedBlockingQueue<>();
  private final BlockingQueue<String> waitsCancelled = new LinkedBlockingQueue<>();
  private final McpAsyncServer sseServer;
  private final McpAsyncServer streamableServer;
  private final HttpServer http;
  private volatile Sinks.Empty<Void> gate = Sinks.empty();

  McpTestServer() {
    vertx.exceptionHandler(unexpectedErrors::add);
    Hooks.onErrorDropped(unexpectedErrors::add);
    McpHttpSettings settings = McpHttpSettings.defaults()
        .withAllowedOrigins(List.of("http://localhost"))
        .withAllowedHosts(List.of("127.0.0.1", "localhost"))
        .withBodyLimitBytes(BODY_LIMIT)
        .withKeepAliveInterval(KEEP_ALIVE);
    sse = new VertxSseServerTransportProvider(vertx, binder, mapper, settings);
    streamable = new VertxStreamableServerTransportProvider(vertx, binder, mapper, settings);
    sseServer = mcpServer(McpServer.async(sse));
    streamableServer = mcpServer(McpServer.async(streamable));
    Router router = Router.router(vertx);
    sse.mount(router);
    streamable.mount(router);
    // Compression on, as in production: SSE streams must still flow event by event.
    http = await(vertx.createHttpServer(new HttpServerOptions().setCompressionSupported(true))
        .requestHandler(router).listen(0, "127.0.0.1"));
  }

  int port() {
    return http.actualPort();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  McpSyncClient sseClient(String user) {
    HttpClientSseClientTransport transport = HttpClientSseClientTransport.builder(baseUrl())
        .sseEndpoint(VertxSseServerTransportProvider.SSE_PATH + "?userId=" + user).build();
    return initialized(McpClient.sync(transport).requestTimeout(TIMEOUT).build());
  }

  McpSyncClient streamableClient(String user) {
    HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(baseUrl())
        .endpoint(VertxStreamableServerTransportProvider.PATH)
        .httpRequestCustomizer((request, method, uri, body, context) -> request.header("X-User-Id", user))
        .build();
    return initialized(McpClient.sync(transport).requestTimeout(TIMEOUT).build());
  }

  /** Waits until a {@code wait} call of this user session is being handled. */
  void awaitWaitStarted(String userSessionId) throws InterruptedException {
    String started = waitsStarted.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    if (!userSessionId.equals(started)) {
      throw new AssertionError("expected a wait call of " + userSessionId + ", got " + started);
    }
  }

  /** Waits until a {@code wait} call of this user session has been stopped (its handling cancelled). */
  void awaitWaitCancelled(String userSessionId) throws InterruptedException {
    String cancelled = waitsCancelled.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    if (!userSessionId.equals(cancelled)) {
      throw new AssertionError("expected a cancelled wait call of " + userSessionId + ", got " + cancelled);
    }
  }

  /** Lets every pending {@code wait} call finish; later calls wait again. */
  void release() {
    Sinks.Empty<Void> released = gate;
    gate = Sinks.empty();
    released.tryEmitEmpty();
  }

  /** Shuts one MCP server down the way the application does, to test it. */
  void closeGracefully() {
    sseServer.closeGracefully().block(TIMEOUT);
    streamableServer.closeGracefully().block(TIMEOUT);
  }

  @Override
  public void close() {
    release();
    closeGracefully();
    await(http.close());
    await(vertx.close());
    Hooks.resetOnErrorDropped();
  }

  static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static McpSyncClient initialized(McpSyncClient client) {
    client.initialize();
    return client;
  }

  private McpAsyncServer mcpServer(McpServer.AsyncSpecification<?> spec) {
    return spec.serverInfo("mcp-transport-test", "1.0")
        .capabilities(McpSchema.ServerCapabilities.builder().tools(true).prompts(true).logging().build())
        .tools(tool("echo", (userSessionId, args) ->
                Mono.just(text(args.get("text") + " @ " + userSessionId))),
            vanish(),
            tool("explode", (userSessionId, args) -> Mono.error(
                new IllegalStateException("java.lang.IllegalStateException at dev.mcps.Secret"))),
            tool("wait", (userSessionId, args) -> Mono.defer(() -> {
              Mono<Void> released = gate.asMono();
              waitsStarted.add(userSessionId);
              return released.then(Mono.just(text("released")))
                  .doOnCancel(() -> waitsCancelled.add(userSessionId));
            })))
        .build();
  }

  /** {@code vanish}: what a tool does that finds its user session gone: it tells the transport and fails the call. */
  private McpServerFeatures.AsyncToolSpecification vanish() {
    return McpServerFeatures.AsyncToolSpecification.builder()
        .tool(McpSchema.Tool.builder().name("vanish").description("vanish for transport tests")
            .inputSchema(mapper, "{\"type\":\"object\"}").build())
        .callHandler((exchange, request) -> {
          ((Runnable) exchange.transportContext().get(McpSessionBinder.USER_SESSION_GONE)).run();
          return Mono.error(io.modelcontextprotocol.spec.McpError.builder(-32001).message("session gone").build());
        })
        .build();
  }

  private McpServerFeatures.AsyncToolSpecification tool(String name,
      java.util.function.BiFunction<String, Map<String, Object>, Mono<McpSchema.CallToolResult>> handler) {
    return McpServerFeatures.AsyncToolSpecification.builder()
        .tool(McpSchema.Tool.builder().name(name).description(name + " for transport tests")
            .inputSchema(mapper, "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}").build())
        .callHandler((exchange, request) -> handler.apply(
            (String) exchange.transportContext().get(McpSessionBinder.USER_SESSION_ID), request.arguments()))
        .build();
  }

  private static McpSchema.CallToolResult text(String text) {
    return McpSchema.CallToolResult.builder().addTextContent(text).build();
  }
}
