package dev.mcps.mcp.transport;

import java.time.Duration;
import java.util.List;

/**
 * What both MCP HTTP transports need from the server's configuration.
 *
 * @param allowedOrigins     browser origins admitted ({@code scheme://host[:port]}); an entry without a port admits
 *                           every port of that host, so {@code http://localhost} admits {@code http://localhost:5173}.
 *                           A request without an Origin header (not a browser) is always admitted.
 * @param allowedHosts       values the Host header may take ({@code host} or {@code host:port}, the former for any
 *                           port); empty admits any Host
 * @param bodyLimitBytes     largest POST body read; above it the answer is 413
 * @param keepAliveInterval  period of the {@code : keepalive} comment on every open SSE stream; zero disables it
 * @param maxConnectionsPerUser open SSE streams + live Streamable sessions one user session may hold on this
 *                           instance (more: 429 {@code Too_Many_Connections}); zero or less disables the limit
 */
public record McpHttpSettings(List<String> allowedOrigins, List<String> allowedHosts, long bodyLimitBytes,
                              Duration keepAliveInterval, int maxConnectionsPerUser) {

  /** Local development pages (any port), the default of {@code MCP_ALLOWED_ORIGINS}. */
  public static final List<String> LOCALHOST_ORIGINS = List.of("http://localhost", "http://127.0.0.1",
      "http://[::1]", "https://localhost", "https://127.0.0.1", "https://[::1]");

  public static final long DEFAULT_BODY_LIMIT_BYTES = 4L * 1024 * 1024;
  public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(15);
  public static final int DEFAULT_MAX_CONNECTIONS_PER_USER = 32;

  public McpHttpSettings {
    allowedOrigins = List.copyOf(allowedOrigins);
    allowedHosts = List.copyOf(allowedHosts);
    if (bodyLimitBytes <= 0) {
      throw new IllegalArgumentException("bodyLimitBytes must be positive");
    }
    keepAliveInterval = keepAliveInterval == null ? Duration.ZERO : keepAliveInterval;
    if (keepAliveInterval.isNegative()) {
      throw new IllegalArgumentException("keepAliveInterval must not be negative");
    }
  }

  public static McpHttpSettings defaults() {
    return new McpHttpSettings(LOCALHOST_ORIGINS, List.of(), DEFAULT_BODY_LIMIT_BYTES, DEFAULT_KEEP_ALIVE,
        DEFAULT_MAX_CONNECTIONS_PER_USER);
  }

  public McpHttpSettings withAllowedOrigins(List<String> origins) {
    return new McpHttpSettings(origins, allowedHosts, bodyLimitBytes, keepAliveInterval, maxConnectionsPerUser);
  }

  public McpHttpSettings withAllowedHosts(List<String> hosts) {
    return new McpHttpSettings(allowedOrigins, hosts, bodyLimitBytes, keepAliveInterval, maxConnectionsPerUser);
  }

  public McpHttpSettings withBodyLimitBytes(long limit) {
    return new McpHttpSettings(allowedOrigins, allowedHosts, limit, keepAliveInterval, maxConnectionsPerUser);
  }

  public McpHttpSettings withKeepAliveInterval(Duration interval) {
    return new McpHttpSettings(allowedOrigins, allowedHosts, bodyLimitBytes, interval, maxConnectionsPerUser);
  }

  public McpHttpSettings withMaxConnectionsPerUser(int max) {
    return new McpHttpSettings(allowedOrigins, allowedHosts, bodyLimitBytes, keepAliveInterval, max);
  }
}
