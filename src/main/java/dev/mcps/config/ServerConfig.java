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
    int shutdownGraceSeconds) {

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

  /** encryptionKey is null when the memory store runs without SESSION_ENCRYPTION_KEY: a random key per process. */
  public record Session(int timeoutSeconds, int max, int cleanupIntervalSeconds, byte[] encryptionKey) {
    public long timeoutMillis() {
      return timeoutSeconds * 1000L;
    }

    @Override
    public String toString() {
      return "Session[timeoutSeconds=" + timeoutSeconds + ", max=" + max + ", cleanupIntervalSeconds="
          + cleanupIntervalSeconds + ", encryptionKey=" + (encryptionKey == null ? "random" : "***") + "]";
    }
  }

  public record Provider(String apiKey, String baseUrl, String model) {
    public boolean configured() {
      return apiKey != null && !apiKey.isEmpty();
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

  public record Mcp(List<String> allowedOrigins, List<String> allowedHosts, int keepAliveSeconds,
                    int sessionIdleSeconds) {}

  public record Cluster(boolean enabled, List<String> members) {}

  public boolean adminEnabled() {
    return adminToken != null && !adminToken.isEmpty();
  }

  @Override
  public String toString() {
    return "ServerConfig[http=" + http + ", store=" + store + ", session=" + session + ", adminToken="
        + (adminEnabled() ? "***" : "unset") + ", chat=" + chat + ", jira=" + jira + ", mcp=" + mcp
        + ", authMode=" + authMode + ", cluster=" + cluster + ", shutdownGraceSeconds=" + shutdownGraceSeconds + "]";
  }
}
