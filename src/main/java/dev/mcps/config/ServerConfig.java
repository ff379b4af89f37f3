package dev.mcps.config;

import java.util.List;

/**
 * Every setting of the server, read once at start-up (see {@link ConfigLoader}).
 * Secrets are kept here but never printed: {@link #toString()} of the records that hold them masks them.
 */
public record ServerConfig(
    Http http,
    Store store,
    Session session,
    String adminToken,
    Chat chat,
    Jira jira,
    Mcp mcp,
    AuthMode authMode,
    Cluster cluster,
    int shutdownGraceSeconds,
    Limits limits,
    Workers workers,
    Auth auth,
    UserLimits userLimits,
    String auditLog,
    boolean consoleEnabled) {

  public enum StoreType { MEMORY, REDIS }

  public enum AuthMode { NONE, JWT, HEADER }

  public record Http(String host, int port, int bodyLimitBytes, int instances) {}

  public record Store(StoreType type, String redisUrl, String keyPrefix, int redisPoolSize, int timeoutMs) {
    @Override
    public String toString() {
      return "Store[type=" + type + ", redisUrl=" + (redisUrl == null ? null : redisUrl.replaceAll("//[^@/]*@", "//***@"))
          + ", keyPrefix=" + keyPrefix + ", redisPoolSize=" + redisPoolSize + ", timeoutMs=" + timeoutMs + "]";
    }
  }

  /**
   * encryptionKey is null when the memory store runs without SESSION_ENCRYPTION_KEY: a random key per process.
   * oldEncryptionKeys (SESSION_ENCRYPTION_OLD_KEYS) only decrypt, so that a key can be rotated without losing anyone's
   * stored credentials.
   */
  public record Session(int timeoutSeconds, int max, int cleanupIntervalSeconds, byte[] encryptionKey,
                        List<byte[]> oldEncryptionKeys) {
    public long timeoutMillis() {
      return timeoutSeconds * 1000L;
    }

    @Override
    public String toString() {
      return "Session[timeoutSeconds=" + timeoutSeconds + ", max=" + max + ", cleanupIntervalSeconds="
          + cleanupIntervalSeconds + ", encryptionKey=" + (encryptionKey == null ? "random" : "***")
          + ", oldEncryptionKeys=" + oldEncryptionKeys.size() + "]";
    }
  }

  public record Provider(String apiKey, String baseUrl, String model) {
    public boolean configured() {
      return apiKey != null && !apiKey.isEmpty();
    }

    /** A key, a base URL and a model: what a call needs. */
    public boolean usable() {
      return configured() && baseUrl != null && !baseUrl.isBlank() && model != null && !model.isBlank();
    }

    @Override
    public String toString() {
      return "Provider[apiKey=" + (configured() ? "***" : "unset") + ", baseUrl=" + baseUrl + ", model=" + model + "]";
    }
  }

  public record Bedrock(String region, String modelId, String endpoint) {
    public boolean configured() {
      return region != null && !region.isEmpty() && modelId != null && !modelId.isEmpty();
    }
  }

  /** {@code provider*}: one model call's timeout, attempts on 429/5xx, and the longest wait between attempts. */
  public record Chat(String defaultModel, int maxIterations, int turnTimeoutSeconds, Provider anthropic, Provider openai,
                     Bedrock bedrock, int providerTimeoutMs, int providerMaxAttempts, int providerRetryMaxDelayMs) {}

  public record Jira(List<String> allowedHosts, boolean useEnvCredentials, String baseUrl, String email,
                     String apiToken, boolean allowHttp, boolean readOnly, int timeoutMs, int maxAttempts,
                     int maxRetryDelayMs) {
    @Override
    public String toString() {
      return "Jira[allowedHosts=" + allowedHosts + ", useEnvCredentials=" + useEnvCredentials + ", baseUrl=" + baseUrl
          + ", email=" + email + ", apiToken=" + (apiToken == null || apiToken.isEmpty() ? "unset" : "***")
          + ", allowHttp=" + allowHttp + ", readOnly=" + readOnly + ", timeoutMs=" + timeoutMs + ", maxAttempts="
          + maxAttempts + ", maxRetryDelayMs=" + maxRetryDelayMs + "]";
    }
  }

  /**
   * @param eventStoreMaxEvents how many recent listening-stream events each Streamable MCP session keeps for a
   *                            {@code Last-Event-ID} resume
   * @param eventStoreTtlSeconds how long those events are kept after the last one
   * @param requestStateKey       the key multi round-trip {@code requestState} is sealed with (MCP_REQUEST_STATE_KEY);
   *                              (or derived from SESSION_ENCRYPTION_KEY); null = random per process, which only a
   *                              single instance can use (the memory store)
   * @param requestStateTtlSeconds how long a sealed {@code requestState} may come back
   * @param listTtlSeconds        the {@code ttlMs} of stateless list results and {@code server/discover}
   * @param confirmJiraWrites     Jira write tools ask an eliciting client's user to confirm first (both MCP eras)
   * @param maxListenStreams      stateless {@code subscriptions/listen} streams one instance holds (429 past it)
   * @param conformanceTools     MCP_CONFORMANCE_TOOLS: also serve the fixtures the official MCP conformance suite
   *                             calls (test_* tools, prompts, test:// resources); for conformance runs, never in
   *                             production
   */
  public record Mcp(List<String> allowedOrigins, List<String> allowedHosts, int keepAliveSeconds,
                    int sessionIdleSeconds, int eventStoreMaxEvents, int eventStoreTtlSeconds,
                    byte[] requestStateKey, int requestStateTtlSeconds, int listTtlSeconds,
                    boolean confirmJiraWrites, int maxListenStreams, boolean conformanceTools) {

    @Override
    public String toString() {
      return "Mcp[allowedOrigins=" + allowedOrigins + ", allowedHosts=" + allowedHosts + ", keepAliveSeconds="
          + keepAliveSeconds + ", sessionIdleSeconds=" + sessionIdleSeconds + ", eventStoreMaxEvents="
          + eventStoreMaxEvents + ", eventStoreTtlSeconds=" + eventStoreTtlSeconds + ", requestStateKey="
          + (requestStateKey == null ? "random" : "***") + ", requestStateTtlSeconds=" + requestStateTtlSeconds
          + ", listTtlSeconds=" + listTtlSeconds + ", confirmJiraWrites=" + confirmJiraWrites
          + ", maxListenStreams=" + maxListenStreams + ", conformanceTools=" + conformanceTools + "]";
    }
  }

  /**
   * CLUSTER=true: one Vert.x cluster (Hazelcast) over one Redis.
   *
   * @param members        TCP-IP join: host[:port] of the Hazelcast members to find (their {@code memberPort})
   * @param name           the Hazelcast cluster name: instances join only members of the same name
   * @param host           event-bus bind host; null = chosen by Vert.x
   * @param publicHost     event-bus host other members connect to, when it differs (NAT, containers); null = host
   * @param port           event-bus port; 0 = a free one
   * @param memberPort     this member's Hazelcast port (the next free one is taken when it is in use)
   * @param kubernetesDns  when set, Hazelcast finds members through this Kubernetes headless service's DNS name
   *                       instead of {@code members}
   */
  public record Cluster(boolean enabled, List<String> members, String name, String host, String publicHost, int port,
                        int memberPort, String kubernetesDns) {}

  /**
   * What one client, one conversation or one upstream may take (DESIGN.md §3): every limit has a setting and a
   * default, and reaching one is a clear 4xx or a clean tool error, never an exhausted server.
   *
   * @param httpIdleTimeoutSeconds  a connection that sends nothing this long is closed (SSE keep-alives count)
   * @param mcpMaxConnectionsPerUser open SSE streams + live Streamable sessions of one user session
   * @param historyMaxMessages      stored history cap in messages, trimmed by whole oldest turns
   * @param historyMaxBytes         stored history cap in encoded bytes, trimmed the same way
   * @param toolResultMaxBytes      a tool result is clipped to this before it enters the history
   * @param chatMaxWritesPerTurn    Jira write-tool calls allowed in one chat turn
   * @param jiraMaxResponseBytes    largest Jira response body read
   * @param providerMaxResponseBytes largest model provider response body read
   * @param jiraProjects            project keys the Jira tools may touch; empty = all
   */
  public record Limits(int httpIdleTimeoutSeconds, int mcpMaxConnectionsPerUser, int historyMaxMessages,
                       int historyMaxBytes, int toolResultMaxBytes, int chatMaxWritesPerTurn, int jiraMaxResponseBytes,
                       int providerMaxResponseBytes, List<String> jiraProjects) {}

  /**
   * Where the provider loops and the Jira tools run (DESIGN.md §1): with {@code enabled} (WORKER_VERTICLES) in worker
   * verticles on a worker pool of their own of {@code poolSize} threads (WORKER_POOL_SIZE), else on event loops.
   * A turn step over a conversation of at most {@code inlineMaxBytes} (WORKER_INLINE_MAX_BYTES) is cheaper than the
   * hop to a worker and stays on the turn's event loop.
   */
  public record Workers(boolean enabled, int poolSize, long inlineMaxBytes) {}

  /**
   * Who the user is (AUTH_MODE and the AUTH_* settings): {@code none} trusts the userId a request names; {@code jwt}
   * takes it from a bearer JWT; {@code header} from a header set by an authenticating gateway that proves itself with
   * a shared secret.
   *
   * @param jwksUrl              jwt: where the signing keys are fetched (refreshed on an unknown kid)
   * @param publicKeyFile        jwt: a PEM public key instead
   * @param secret               jwt: an HS256 secret instead (labs)
   * @param issuer               jwt: the required {@code iss}; null = not checked
   * @param audience             jwt: the required {@code aud}; defaults to {@code resourceUrl}
   * @param resourceUrl          this server's resource URL (RFC 8707/9728)
   * @param userClaim            jwt: the claim naming the user
   * @param authorizationServers RFC 9728 metadata
   * @param requiredScopes       scopes every request needs; empty = none
   * @param jiraWriteScope       the scope the Jira write tools need; null = none
   * @param leewaySeconds        jwt: clock skew allowed on exp/nbf
   * @param jwksMinRefreshSeconds jwt: the JWKS is fetched again on an unknown kid at most this often
   * @param userHeader           header mode: the header naming the user
   * @param gatewaySecretHeader  header mode: the header carrying the gateway's shared secret
   * @param gatewaySecret        header mode: that secret
   */
  public record Auth(AuthMode mode, String jwksUrl, String publicKeyFile, String secret, String issuer,
                     String audience, String resourceUrl, String userClaim, List<String> authorizationServers,
                     List<String> requiredScopes, String jiraWriteScope, int leewaySeconds, int jwksMinRefreshSeconds,
                     String userHeader, String gatewaySecretHeader, String gatewaySecret) {

    public static Auth none() {
      return new Auth(AuthMode.NONE, null, null, null, null, null, null, "sub", List.of(), List.of(), null, 30, 30,
          null, null, null);
    }

    @Override
    public String toString() {
      return "Auth[mode=" + mode + ", jwksUrl=" + jwksUrl + ", publicKeyFile=" + publicKeyFile + ", secret="
          + (secret == null ? "unset" : "***") + ", issuer=" + issuer + ", audience=" + audience + ", resourceUrl="
          + resourceUrl + ", userClaim=" + userClaim + ", authorizationServers=" + authorizationServers
          + ", requiredScopes=" + requiredScopes + ", jiraWriteScope=" + jiraWriteScope + ", leewaySeconds="
          + leewaySeconds + ", userHeader=" + userHeader + ", gatewaySecretHeader=" + gatewaySecretHeader
          + ", gatewaySecret=" + (gatewaySecret == null ? "unset" : "***") + "]";
    }
  }

  /**
   * Per-user limits, cluster-wide with the Redis store: requests a minute (a token bucket) and chat turns running at
   * once; 0 = off. Past either: 429 {@code Rate_Limited} with Retry-After.
   */
  public record UserLimits(int ratePerMinute, int maxConcurrentTurns) {

    public static UserLimits off() {
      return new UserLimits(0, 0);
    }
  }

  public boolean adminEnabled() {
    return adminToken != null && !adminToken.isEmpty();
  }

  @Override
  public String toString() {
    return "ServerConfig[http=" + http + ", store=" + store + ", session=" + session + ", adminToken="
        + (adminEnabled() ? "***" : "unset") + ", chat=" + chat + ", jira=" + jira + ", mcp=" + mcp
        + ", authMode=" + authMode + ", cluster=" + cluster + ", shutdownGraceSeconds=" + shutdownGraceSeconds
        + ", limits=" + limits + ", workers=" + workers + ", auth=" + auth + ", userLimits=" + userLimits
        + ", auditLog=" + auditLog + ", consoleEnabled=" + consoleEnabled + "]";
  }
}
