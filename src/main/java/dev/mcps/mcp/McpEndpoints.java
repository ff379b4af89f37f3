package dev.mcps.mcp;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mcps.Server;
import dev.mcps.audit.AuditLog;
import dev.mcps.cluster.Node;
import dev.mcps.jira.JiraUrlPolicy;
import dev.mcps.mcp.features.McpFeatureSet;
import dev.mcps.mcp.features.SdkFeatures;
import dev.mcps.mcp.transport.McpHttpSettings;
import dev.mcps.mcp.transport.SharedStreamableSessions;
import dev.mcps.mcp.transport.VertxSseServerTransportProvider;
import dev.mcps.mcp.transport.VertxStreamableServerTransportProvider;
import dev.mcps.session.Sessions;
import dev.mcps.tools.SessionTools;
import dev.mcps.tools.ToolCatalog;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.spec.McpSchema;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import dev.mcps.mcp.features.McpFeatureSet;
import dev.mcps.limits.UserLimits;
import dev.mcps.mcp.stateless.RequestStates;
import dev.mcps.mcp.stateless.StatelessMcp;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's MCP side: both transports (legacy SSE and Streamable HTTP), one MCP server on each, both built from
 * the one tool catalog. Shared by every HTTP verticle instance, since an MCP session's requests may arrive on any
 * connection. When a user session ends (expired, evicted, deleted) its MCP connections are closed.
 */
public final class McpEndpoints {

  private static final Logger LOG = LoggerFactory.getLogger(McpEndpoints.class);

  private final VertxSseServerTransportProvider sse;
  private final VertxStreamableServerTransportProvider streamable;
  private final McpAsyncServer sseServer;
  private final McpAsyncServer streamableServer;
  private final StatelessMcp stateless;

  /** What a client's model is told about this server (discover's {@code instructions}). */
  static final String INSTRUCTIONS = "Every call acts in the caller's own user session (named by the X-User-Id or "
      + "X-Session-Id header): notes_get and notes_set keep notes there, and the jira_* tools act on Jira with the "
      + "Jira credentials stored in that session. Read before you write; the Jira write tools may ask the user to "
      + "confirm.";

  private final Vertx vertx;
  /** Served besides the product tools and prompts; null for none. */
  private final McpFeatureSet extra;
  /** This instance: streams held here are reached from other instances at addresses that name it. */
  private final Node node;
  private final long idleTimer;

  /** How many listening-stream events each Streamable MCP session keeps for a resume, and how long. */
  public record EventStore(int maxEvents, Duration ttl) {
  }

  /**
   * @param idle how long a Streamable MCP session may go unaddressed (with no open stream) before it is ended
   */
  public McpEndpoints(Vertx vertx, Node node, Sessions sessions, ToolCatalog catalog, JiraUrlPolicy jiraPolicy,
                      McpHttpSettings settings, Duration idle) {
    this(vertx, node, sessions, catalog, jiraPolicy, settings, idle, new EventStore(100, Duration.ofMinutes(5)));
  }

  /**
   * The 2026-07-28 era's settings.
   *
   * @param requestStateKey 32 bytes sealing multi round-trip state; null = random per process (one instance only)
   * @param extras          feature sets served beside the product's (the conformance fixtures); the session era
   *                        serves the first
   */
  public record Stateless(byte[] requestStateKey, Duration requestStateTtl, Duration listTtl,
                          boolean confirmJiraWrites, int maxListenStreams, List<McpFeatureSet> extras) {

    public static Stateless defaults() {
      return new Stateless(null, Duration.ofMinutes(10), Duration.ofMinutes(5), true, 10_000, List.of());
    }
  }

  public McpEndpoints(Vertx vertx, Node node, Sessions sessions, ToolCatalog catalog, JiraUrlPolicy jiraPolicy,
                      McpHttpSettings settings, Duration idle, EventStore events) {
    this(vertx, node, sessions, catalog, jiraPolicy, settings, idle, events, Stateless.defaults(), AuditLog.off());
  }

  public McpEndpoints(Vertx vertx, Node node, Sessions sessions, ToolCatalog catalog, JiraUrlPolicy jiraPolicy,
                      McpHttpSettings settings, Duration idle, EventStore events, Stateless modern, AuditLog audit) {
    this(vertx, node, sessions, catalog, jiraPolicy, settings, idle, events, modern, audit, UserLimits.OFF);
  }

  /** {@code userLimits}: every MCP request a user makes counts against their USER_RATE_LIMIT_PER_MINUTE. */
  public McpEndpoints(Vertx vertx, Node node, Sessions sessions, ToolCatalog catalog, JiraUrlPolicy jiraPolicy,
                      McpHttpSettings settings, Duration idle, EventStore events, Stateless modern, AuditLog audit,
                      UserLimits userLimits) {
    this.vertx = vertx;
    // Both eras serve the same instance, so that a change made through one is seen by the other.
    this.extra = modern.extras().isEmpty() ? null : modern.extras().get(0);
    this.node = node;
    McpJsonMapper mapper = new JacksonMcpJsonMapper(new ObjectMapper());
    McpBinding binding = new McpBinding(sessions, jiraPolicy, settings.maxConnectionsPerUser(), userLimits);
    this.sse = new VertxSseServerTransportProvider(vertx, binding, mapper, settings, node);
    this.streamable = new VertxStreamableServerTransportProvider(vertx, binding, mapper, settings,
        new SharedStreamableSessions(vertx, sessions, mapper, node.id(), node.clustered(), idle,
            events.maxEvents(), events.ttl()));
    List<McpFeatureSet> sets = new ArrayList<>();
    // Extras first: the conformance suite probes the first listed tool without naming a user, and a fixture tool
    // needs none (the product's tools all act in a user session).
    sets.addAll(modern.extras());
    ProductFeatures product = new ProductFeatures(vertx, catalog, modern.confirmJiraWrites(),
        SessionTools.all(sessions).stream().map(dev.mcps.tools.Tool::name)
            .collect(java.util.stream.Collectors.toSet()), audit);
    sets.add(product);
    this.stateless = new StatelessMcp(vertx, sets, new RequestStates(requestStateKey(modern.requestStateKey()),
        modern.requestStateTtl(), settings.bodyLimitBytes() > Integer.MAX_VALUE ? Integer.MAX_VALUE
            : (int) settings.bodyLimitBytes(), Clock.systemUTC()), binding,
        new StatelessMcp.Settings("mcp-session-server", Server.version(), INSTRUCTIONS, modern.listTtl(),
            settings.keepAliveInterval(), modern.maxListenStreams()));
    this.streamable.serveStateless(stateless);
    java.util.Set<String> writes = catalog.tools().stream().filter(t -> !t.readOnly()).map(dev.mcps.tools.Tool::name)
        .collect(java.util.stream.Collectors.toSet());
    this.streamable.refuseWritesWithoutScope(writes);
    this.sse.refuseWritesWithoutScope(writes);
    SdkFeatures features = extra == null ? null : new SdkFeatures(extra, mapper);
    SdkFeatures asked = new SdkFeatures(product, mapper);
    this.sseServer = server(McpServer.async(sse), vertx, catalog, mapper, features, product, asked);
    this.streamableServer = server(McpServer.async(streamable), vertx, catalog, mapper, features, product, asked);
    if (features != null) {
      features.follow(sseServer);
      features.follow(streamableServer);
    }
    long sweep = Math.max(1_000, Math.min(60_000, idle.toMillis() / 2));
    this.idleTimer = vertx.setPeriodic(sweep, id -> streamable.closeIdle(idle));
    vertx.eventBus().<JsonObject>consumer(Sessions.EVENTS_ADDRESS, msg -> {
      JsonObject event = msg.body();
      if (Sessions.ENDING_EVENTS.contains(event.getString("type"))) {
        closeConnectionsOf(event.getString("sessionId"));
      }
    });
  }

  private static McpAsyncServer server(McpServer.AsyncSpecification<?> spec, Vertx vertx, ToolCatalog catalog,
                                       McpJsonMapper mapper, SdkFeatures extra, ProductFeatures product,
                                       SdkFeatures asked) {
    spec.serverInfo("mcp-session-server", Server.version())
        .jsonMapper(mapper)
        // Each tool checks its own arguments and names the wrong one in a tool error the model can act on; a second
        // JSON Schema pass per call in the SDK would only cost time.
        .validateToolInputs(false)
        .tools(McpFeatures.tools(vertx, catalog, mapper, product, asked))
        // Only the catalog's tools are listed (read-only mode's write tools are registered but not shown), and those
        // of the extra set.
        .addToolFilter((context, tool) -> reactor.core.publisher.Mono.just(catalog.find(tool.name()) != null
            || extra != null && extra.lists(tool.name())))
        .prompts(McpFeatures.prompts());
    if (extra == null) {
      return spec.capabilities(McpSchema.ServerCapabilities.builder().tools(false).prompts(false).logging().build())
          .build();
    }
    // The extra set's lists may change (it tells us, and we tell the clients); its resources can be subscribed to.
    return spec.capabilities(McpSchema.ServerCapabilities.builder().tools(true).prompts(true).resources(true, false)
            .completions().logging().build())
        .tools(extra.tools())
        .prompts(extra.prompts())
        .resources(extra.resources())
        .resourceTemplates(extra.resourceTemplates())
        .completions(extra.completions())
        .build();
  }

  /**
   * The feature set served besides the product tools and prompts (the conformance fixtures), or null: the stateless
   * era serves the same instance, so that a change made through one era is seen by the other.
   */
  public McpFeatureSet extraFeatures() {
    return extra;
  }

  /** The Streamable transport, for server-initiated notifications ({@code notifyClient}) from any instance. */
  public VertxStreamableServerTransportProvider streamable() {
    return streamable;
  }

  /** Completes once other instances of a cluster can forward legacy SSE messages to the streams held here. */
  public Future<Void> mount(Router router) {
    streamable.mount(router);
    return sse.mount(router);
  }

  public boolean hasConnection(String userSessionId) {
    return sse.hasConnection(userSessionId) || streamable.hasConnection(userSessionId);
  }

  public Future<Void> closeConnectionsOf(String userSessionId) {
    return Future.join(sse.closeConnectionsOf(userSessionId), streamable.closeConnectionsOf(userSessionId))
        .onFailure(err -> LOG.warn("Closing MCP connections of session {} failed: {}", userSessionId, err.toString()))
        .mapEmpty();
  }

  private static byte[] requestStateKey(byte[] configured) {
    if (configured != null) {
      return configured;
    }
    // Only a single instance (the memory store) runs without a configured key: one process issues and opens all.
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return key;
  }

  /** The 2026-07-28 era's requests, served without MCP sessions. */
  public StatelessMcp stateless() {
    return stateless;
  }

  /** Ends every MCP session and stream (at shutdown, before the HTTP server drains). */
  public Future<Void> close() {
    vertx.cancelTimer(idleTimer);
    stateless.close();
    Promise<Void> sseDone = Promise.promise();
    Promise<Void> streamableDone = Promise.promise();
    sseServer.closeGracefully().subscribe(null, sseDone::fail, sseDone::complete);
    streamableServer.closeGracefully().subscribe(null, streamableDone::fail, streamableDone::complete);
    return Future.join(sseDone.future(), streamableDone.future()).mapEmpty();
  }
}
