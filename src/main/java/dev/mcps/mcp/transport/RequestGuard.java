package dev.mcps.mcp.transport;

import dev.mcps.ApiException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * DNS-rebinding protection the MCP specification asks of HTTP transports: a browser page from a foreign origin, or
 * a request addressed to an unexpected host name, must not reach a local MCP server.
 */
final class RequestGuard {

  private record Origin(String scheme, String host, int port) {

    /** {@code port == -1} on an allowed entry means any port. */
    boolean admits(Origin request) {
      return scheme.equals(request.scheme) && host.equals(request.host) && (port == -1 || port == request.port);
    }

    static Origin parse(String value, boolean defaultPort) {
      URI uri = URI.create(value.trim());
      if (uri.getScheme() == null || uri.getHost() == null) {
        throw new IllegalArgumentException("not an origin: " + value);
      }
      String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
      int port = uri.getPort();
      if (port == -1 && defaultPort) {
        port = "https".equals(scheme) ? 443 : 80;
      }
      return new Origin(scheme, uri.getHost().toLowerCase(Locale.ROOT), port);
    }
  }

  private final List<Origin> allowedOrigins;
  private final List<HostAndPort> allowedHosts;

  RequestGuard(List<String> allowedOrigins, List<String> allowedHosts) {
    this.allowedOrigins = allowedOrigins.stream().map(o -> Origin.parse(o, false)).toList();
    this.allowedHosts = allowedHosts.stream().map(h -> HostAndPort.parseAuthority(h.trim(), -1)).toList();
  }

  /** Null when the request may proceed, otherwise the refusal to answer with. */
  ApiException check(HttpServerRequest request) {
    String origin = request.getHeader("Origin");
    if (origin != null && !originAllowed(origin)) {
      return new ApiException(403, "Forbidden_Origin", "Origin not allowed: " + origin);
    }
    if (!allowedHosts.isEmpty() && !hostAllowed(request.authority())) {
      return new ApiException(421, "Invalid_Host", "Host not allowed for the MCP endpoints");
    }
    return null;
  }

  private boolean originAllowed(String value) {
    Origin origin;
    try {
      origin = Origin.parse(value, true);
    } catch (IllegalArgumentException e) {
      // "null" (sandboxed frames, file: pages) and anything unparsable are foreign.
      return false;
    }
    return allowedOrigins.stream().anyMatch(allowed -> allowed.admits(origin));
  }

  private boolean hostAllowed(HostAndPort host) {
    return host != null && allowedHosts.stream().anyMatch(allowed -> allowed.host().equalsIgnoreCase(host.host())
        && (allowed.port() == -1 || allowed.port() == host.port()));
  }
}
