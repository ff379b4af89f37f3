package dev.mcps;

import dev.mcps.audit.AuditLog;
import dev.mcps.cluster.Hazelcast;
import dev.mcps.cluster.McpPresence;
import dev.mcps.metrics.BindRaceSafeMetrics;
import dev.mcps.cluster.Node;
import dev.mcps.config.ServerConfig;
import dev.mcps.chat.AgentLoop;
import dev.mcps.chat.ChatService;
import dev.mcps.chat.ChatVerticle;
import dev.mcps.chat.TurnLimits;
import dev.mcps.chat.TurnThreads;
import dev.mcps.auth.Auth;
import dev.mcps.http.HttpVerticle;
import dev.mcps.jira.JiraUrlPolicy;
import dev.mcps.limits.MemoryUserLimiter;
import dev.mcps.limits.RedisUserLimiter;
import dev.mcps.limits.UserLimiter;
import dev.mcps.limits.UserLimits;
import dev.mcps.logging.BurstLog;
import dev.mcps.mcp.McpEndpoints;
import dev.mcps.mcp.fixtures.ConformanceFixtures;
import dev.mcps.mcp.transport.McpHttpSettings;
import dev.mcps.provider.CallPolicy;
import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.Providers;
import dev.mcps.tools.ToolSelector;
import dev.mcps.jira.JiraClient;
import dev.mcps.jira.JiraCredentialsSource;
import dev.mcps.jira.JiraTools;
import dev.mcps.session.CredentialCipher;
import dev.mcps.session.MemorySessionStore;
import dev.mcps.session.RedisSessionStore;
import dev.mcps.session.SessionCodec;
import dev.mcps.session.SessionDirectory;
import dev.mcps.session.SessionStore;
import dev.mcps.session.SessionVerticle;
import dev.mcps.session.Sessions;
import dev.mcps.stats.MemoryTurnStats;
import dev.mcps.stats.RedisTurnStats;
import dev.mcps.stats.TurnStats;
import dev.mcps.tools.SessionTools;
import dev.mcps.tools.Tool;
import dev.mcps.tools.ToolCatalog;
import dev.mcps.tools.ToolsVerticle;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running server: its Vert.x instance, store and verticles. {@link Main} starts one; tests start several (each
 * with its own Vert.x, port and store) in one JVM.
 */
public final class Server {

  private static final Logger LOG = LoggerFactory.getLogger(Server.class);
  /** The worker pool of the chat and Jira tool verticles (WORKER_POOL_SIZE threads). */
  static final String WORKER_POOL = "mcps-workers";

  private final ServerConfig config;
  private final Vertx vertx;
  private final Sessions sessions;
  private final Node node;
  private final AuditLog audit;
  private String httpDeployment;
  private String toolsDeployment;
  private String toolsWorkerDeployment;
  private TurnThreads turnThreads = TurnThreads.EVENT_LOOPS;
  private String chatDeployment;
  private String sessionDeployment;
  private ToolCatalog catalog;
  private volatile McpEndpoints mcp;
  private Providers providers;

  private Server(ServerConfig config, Vertx vertx, Sessions sessions, Node node, AuditLog audit) {
    this.node = node;
    this.audit = audit;
    this.config = config;
    this.vertx = vertx;
    this.sessions = sessions;
  }

  /** Starts with the chat providers the configuration describes. */
  public static Future<Server> start(ServerConfig config) {
    return start(config, null);
  }

  /**
   * Starts with these chat providers by name (anthropic, openai, bedrock; a missing one answers 503), or, when
   * {@code providers} is null, with those the configuration describes.
   */
  public static Future<Server> start(ServerConfig config, Map<String, LlmProvider> providers) {
    return start(config, providers, Clock.systemUTC());
  }

  /** As above, with the per-user limits' clock: tests hold it still, so that no bucket refills mid-test. */
  public static Future<Server> start(ServerConfig config, Map<String, LlmProvider> providers, Clock limitsClock) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    VertxOptions options = new VertxOptions()
        // At least one event loop per HTTP instance, so that HTTP_INSTANCES=N really spreads over N loops.
        .setEventLoopPoolSize(Math.max(VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE, config.http().instances()))
        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
            .setJvmMetricsEnabled(true)
            // Per-message event-bus meters cost more than the hops they measure (every tool call and turn
            // crosses the bus twice); HTTP, pool and JVM metrics stay.
            .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS));
    // Guarded: Vert.x serves a connection accepted while it binds with metrics that lack its socket (see the class).
    VertxBuilder builder = Vertx.builder().with(options)
        .withMetrics(new BindRaceSafeMetrics(new MicrometerMetricsFactory(registry)));
    ServerConfig.Cluster cluster = config.cluster();
    if (!cluster.enabled()) {
      return start(config, providers, limitsClock, registry, builder.build());
    }
    EventBusOptions bus = options.getEventBusOptions();
    if (cluster.host() != null) {
      bus.setHost(cluster.host());
    }
    if (cluster.publicHost() != null) {
      bus.setClusterPublicHost(cluster.publicHost());
    }
    bus.setPort(cluster.port());
    // Completed outside Vert.x, as below: a failed join leaves no Vert.x to run callbacks on.
    CompletableFuture<Server> started = new CompletableFuture<>();
    builder.withClusterManager(Hazelcast.clusterManager(cluster)).buildClustered()
        .onFailure(err -> started.completeExceptionally(
            new IllegalStateException("Cannot join the cluster '" + cluster.name() + "': " + err.getMessage(), err)))
        .onSuccess(vertx -> start(config, providers, limitsClock, registry, vertx).onComplete(ar -> {
          if (ar.succeeded()) {
            started.complete(ar.result());
          } else {
            started.completeExceptionally(ar.cause());
          }
        }));
    return Future.fromCompletionStage(started);
  }

  private static Future<Server> start(ServerConfig config, Map<String, LlmProvider> providers, Clock limitsClock,
                                      PrometheusMeterRegistry registry, Vertx vertx) {
    Node node = new Node(vertx);
    AuditLog audit;
    try {
      audit = AuditLog.create(config.auditLog(), node.id());
    } catch (IllegalStateException e) {
      // An audit trail that cannot be written is no audit trail: the server does not start without it.
      CompletableFuture<Server> failed = new CompletableFuture<>();
      vertx.close().onComplete(v -> failed.completeExceptionally(e));
      return Future.fromCompletionStage(failed);
    }
    SessionStore store = store(vertx, config);
    Sessions sessions = new Sessions(vertx, store, config.store().timeoutMs(), audit,
        config.auth().mode() != ServerConfig.AuthMode.NONE);
    UserLimits userLimits = userLimits(vertx, config, store, limitsClock);
    TurnStats turnStats = turnStats(vertx, config, store);
    Gauge.builder("mcps.sessions.active", sessions, Sessions::lastKnownCount)
        .description("Live user sessions in the store").register(registry);
    Server server = new Server(config, vertx, sessions, node, audit);
    ServerConfig.Chat chat = config.chat();
    if (providers == null) {
      server.providers = Providers.create(vertx, chat, new CallPolicy(chat.providerTimeoutMs(),
          chat.providerMaxAttempts(), chat.providerRetryMaxDelayMs(), config.limits().providerMaxResponseBytes()));
    }
    Map<String, LlmProvider> llms = providers != null ? providers : server.providers.byName();
    long startedAt = System.currentTimeMillis();
    ServerConfig.Jira jiraConfig = config.jira();
    JiraUrlPolicy jiraPolicy = new JiraUrlPolicy(jiraConfig.allowedHosts(), jiraConfig.allowHttp());
    JiraClient jira = new JiraClient(vertx, jiraConfig.timeoutMs(), jiraConfig.maxAttempts(),
        jiraConfig.maxRetryDelayMs(), config.limits().jiraMaxResponseBytes());
    List<Tool> jiraTools = new JiraTools(jira, new JiraCredentialsSource(jiraConfig),
        config.limits().jiraProjects()).all();
    server.catalog = new ToolCatalog(Stream.concat(SessionTools.all(sessions).stream(), jiraTools.stream())
        .toList(), jiraConfig.readOnly());
    // Completed outside Vert.x: on a failed start Vert.x is closed, and its contexts run no more callbacks.
    CompletableFuture<Server> started = new CompletableFuture<>();
    // Which sessions have MCP connections is asked of every instance: each holds its own streams in memory.
    McpPresence presence = new McpPresence(vertx, node, server::hasMcpConnection, config.store().timeoutMs());
    SessionDirectory directory = new SessionDirectory(sessions, presence::connected);
    vertx.deployVerticle(new SessionVerticle(sessions, config.session().cleanupIntervalSeconds() * 1000L,
            directory, jiraPolicy, audit, turnStats::recordActive, presence))
        .compose(id -> {
          server.sessionDeployment = id;
          if (!config.workers().enabled()) {
            return vertx.deployVerticle(() -> new ToolsVerticle(sessions, server.catalog, audit),
                new DeploymentOptions().setInstances(config.http().instances()));
          }
          Set<String> onWorker = jiraTools.stream().map(Tool::name).collect(Collectors.toSet());
          return vertx.deployVerticle(() -> ToolsVerticle.worker(sessions, server.catalog, audit), workers(config))
              .compose(workerId -> {
                server.toolsWorkerDeployment = workerId;
                return vertx.deployVerticle(() -> ToolsVerticle.front(sessions, server.catalog, audit, onWorker),
                    new DeploymentOptions().setInstances(config.http().instances()));
              });
        })
        .compose(id -> {
          server.toolsDeployment = id;
          ServerConfig.Workers workers = config.workers();
          server.turnThreads = !workers.enabled() ? TurnThreads.EVENT_LOOPS
              : TurnThreads.workers(vertx, WORKER_POOL, workers.poolSize(), workers.inlineMaxBytes());
          AgentLoop loop = new AgentLoop(vertx, sessions, llms, new ToolSelector(server.catalog),
              TurnLimits.of(config), server.turnThreads, audit, turnStats);
          ChatService service = new ChatService(vertx, sessions, loop, chat.defaultModel(), jiraPolicy,
              config.session().timeoutMillis(), chat.turnTimeoutSeconds() * 1000L, server.turnThreads, userLimits);
          return vertx.deployVerticle(() -> new ChatVerticle(sessions, service),
              config.workers().enabled() ? workers(config)
                  : new DeploymentOptions().setInstances(config.http().instances()));
        })
        .compose(id -> {
          server.chatDeployment = id;
          if (config.mcp().conformanceTools()) {
            LOG.warn("MCP_CONFORMANCE_TOOLS=true: the MCP endpoints also serve the conformance suite's test fixtures; "
                + "never run this in production");
          }
          server.mcp = new McpEndpoints(vertx, server.node, sessions, server.catalog, jiraPolicy, McpHttpSettings.defaults()
              .withAllowedOrigins(config.mcp().allowedOrigins())
              .withAllowedHosts(config.mcp().allowedHosts())
              .withBodyLimitBytes(config.http().bodyLimitBytes())
              .withKeepAliveInterval(Duration.ofSeconds(config.mcp().keepAliveSeconds()))
              .withMaxConnectionsPerUser(config.limits().mcpMaxConnectionsPerUser()),
              Duration.ofSeconds(config.mcp().sessionIdleSeconds()),
              new McpEndpoints.EventStore(config.mcp().eventStoreMaxEvents(),
                  Duration.ofSeconds(config.mcp().eventStoreTtlSeconds())),
              new McpEndpoints.Stateless(config.mcp().requestStateKey(),
                  Duration.ofSeconds(config.mcp().requestStateTtlSeconds()),
                  Duration.ofSeconds(config.mcp().listTtlSeconds()), config.mcp().confirmJiraWrites(),
                  config.mcp().maxListenStreams(),
                  config.mcp().conformanceTools() ? List.of(new ConformanceFixtures(vertx)) : List.of()), audit,
              userLimits);
          return Auth.routes(vertx, config.auth(), refusal -> audit.authFailure(refusal.mode(), refusal.reason(),
                  refusal.method(), refusal.path(), refusal.remoteAddress()))
              .compose(auth -> vertx.deployVerticle(() -> new HttpVerticle(config, sessions, registry, version(),
                  startedAt, server.mcp, server.node, audit, auth, turnStats, directory),
                  new DeploymentOptions().setInstances(config.http().instances())));
        })
        .map(id -> {
          server.httpDeployment = id;
          LOG.info("mcp-session-server {} listening on {}:{} (store={}, http instances={}, worker verticles={}, "
              + "cluster={})", version(), config.http().host(), config.http().port(), sessions.storeType(),
              config.http().instances(), config.workers().enabled() ? config.workers().poolSize() + " threads" : "off",
              server.node.clustered() ? server.node.members() + " member(s), node " + server.node.id() : "off");
          return server;
        })
        .onSuccess(started::complete)
        .onFailure(err -> {
          LOG.error("Start-up failed", err);
          if (server.providers != null) {
            server.providers.close();
          }
          sessions.close().eventually(() -> vertx.executeBlocking(() -> {
            audit.close();
            return null;
          }, false)).eventually(vertx::close).onComplete(v -> started.completeExceptionally(err));
        });
    return Future.fromCompletionStage(started);
  }

  /** Whether a user session has an MCP connection on this instance (none before the MCP endpoints exist). */
  private boolean hasMcpConnection(String sessionId) {
    McpEndpoints endpoints = mcp;
    return endpoints != null && endpoints.hasConnection(sessionId);
  }

  /**
   * The provider loops and the Jira tools as worker verticles (DESIGN.md §1), on one named pool of their own: a
   * blocked or busy worker never holds up an event loop, nor the Vert.x default pool that executeBlocking uses.
   * Each message runs on a worker context of its own ({@link dev.mcps.session.SessionBus}), so the instance count
   * only spreads the deliveries; the pool size bounds how many steps run at once.
   */
  private static DeploymentOptions workers(ServerConfig config) {
    return new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)
        .setWorkerPoolName(WORKER_POOL).setWorkerPoolSize(config.workers().poolSize())
        .setInstances(config.http().instances());
  }

  /**
   * USER_RATE_LIMIT_PER_MINUTE and USER_MAX_CONCURRENT_TURNS: kept beside the sessions, so that with the Redis store
   * they hold across every instance. Both 0 (the default): nothing is ever called.
   */
  private static UserLimits userLimits(Vertx vertx, ServerConfig config, SessionStore store, Clock clock) {
    ServerConfig.UserLimits limits = config.userLimits();
    if (limits.ratePerMinute() <= 0 && limits.maxConcurrentTurns() <= 0) {
      return UserLimits.OFF;
    }
    // A turn waits up to its deadline for the session's lock, then runs up to its deadline: a slot whose turn never
    // said it ended (its instance died) lapses after both and a margin.
    long leaseMillis = 2L * config.chat().turnTimeoutSeconds() * 1000 + 30_000;
    UserLimiter limiter = store instanceof RedisSessionStore redis
        ? new RedisUserLimiter(redis, config.store().keyPrefix(), limits.ratePerMinute(),
            limits.maxConcurrentTurns(), leaseMillis, clock)
        : new MemoryUserLimiter(limits.ratePerMinute(), limits.maxConcurrentTurns(), leaseMillis, clock);
    return new UserLimits(limiter, limits.ratePerMinute(), limits.maxConcurrentTurns(),
        BurstLog.vertxScheduler(vertx));
  }

  /**
   * The turns a minute of GET /admin/stats: kept beside the sessions, so that with the Redis store every instance
   * counts into, and shows, the same minutes. On the system clock, not the limits' (tests hold that one still).
   */
  private static TurnStats turnStats(Vertx vertx, ServerConfig config, SessionStore store) {
    return store instanceof RedisSessionStore redis
        ? new RedisTurnStats(redis, config.store().keyPrefix(), Clock.systemUTC(), BurstLog.vertxScheduler(vertx))
        : new MemoryTurnStats(Clock.systemUTC());
  }

  private static SessionStore store(Vertx vertx, ServerConfig config) {
    ServerConfig.Session s = config.session();
    byte[] key = s.encryptionKey();
    SessionCodec codec = new SessionCodec(key == null ? CredentialCipher.withRandomKey()
        : new CredentialCipher(key, s.oldEncryptionKeys()));
    return switch (config.store().type()) {
      case MEMORY -> new MemorySessionStore(s.timeoutMillis(), s.max(), codec);
      case REDIS -> new RedisSessionStore(vertx, config.store().redisUrl(), config.store().keyPrefix(),
          s.timeoutMillis(), s.max(), codec, config.store().timeoutMs());
    };
  }

  /**
   * Graceful stop: HTTP stops accepting and drains in-flight requests (bounded by SHUTDOWN_GRACE_SECONDS), then the
   * lifecycle timers stop, then the store closes, then Vert.x.
   */
  public Future<Void> stop() {
    // MCP sessions and their open streams end first: a drain would otherwise wait on streams that never end.
    Future<Void> mcpClosed = mcp == null ? Future.succeededFuture()
        : mcp.close().timeout(config.shutdownGraceSeconds() + 1, TimeUnit.SECONDS).otherwiseEmpty();
    Future<Void> http = mcpClosed.compose(v ->
        httpDeployment == null ? Future.succeededFuture() : vertx.undeploy(httpDeployment));
    // The last step is completed outside Vert.x: once Vert.x is closed, its contexts run no more callbacks.
    CompletableFuture<Void> closed = new CompletableFuture<>();
    http.eventually(() -> chatDeployment == null ? Future.succeededFuture() : vertx.undeploy(chatDeployment))
        .eventually(() -> toolsDeployment == null ? Future.succeededFuture() : vertx.undeploy(toolsDeployment))
        .eventually(() -> toolsWorkerDeployment == null ? Future.succeededFuture()
            : vertx.undeploy(toolsWorkerDeployment))
        .eventually(() -> sessionDeployment == null ? Future.succeededFuture() : vertx.undeploy(sessionDeployment))
        .eventually(sessions::close)
        .eventually(() -> turnThreads.close())
        // After the components that write to it; closing waits for the file's last lines, so off the event loop.
        .eventually(() -> vertx.executeBlocking(() -> {
          audit.close();
          return null;
        }, false))
        .onComplete(ar -> {
          if (providers != null) {
            providers.close();
          }
          LOG.debug("Undeployed; closing Vert.x");
          vertx.close().onComplete(v -> closed.complete(null));
        });
    return Future.fromCompletionStage(closed);
  }

  /**
   * The audit trail of this server (AUDIT_LOG), for components that report to it: pass it to them through their
   * constructors, as this class does.
   */
  public AuditLog audit() {
    return audit;
  }

  /** This instance in the cluster (its node id, the member count). */
  public Node node() {
    return node;
  }

  /**
   * Stops as a crash would look to clients and to the other instances: no drain, no MCP goodbye, nothing cleaned up
   * in the store; the connections simply drop. For tests of an instance dying mid-request.
   */
  public Future<Void> halt() {
    if (providers != null) {
      providers.close();
    }
    // A crash would lose the audit lines still queued; closing stops the writer thread, off the caller's thread.
    Thread closing = new Thread(audit::close, "mcps-audit-close");
    closing.setDaemon(true);
    closing.start();
    CompletableFuture<Void> closed = new CompletableFuture<>();
    vertx.close().onComplete(v -> closed.complete(null));
    return Future.fromCompletionStage(closed);
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The MCP endpoints (null before start-up reached them). */
  public McpEndpoints mcp() {
    return mcp;
  }

  public Sessions sessions() {
    return sessions;
  }

  public ToolCatalog catalog() {
    return catalog;
  }

  public ServerConfig config() {
    return config;
  }

  public int port() {
    return config.http().port();
  }

  public static String version() {
    String v = Server.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
