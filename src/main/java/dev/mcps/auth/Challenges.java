package dev.mcps.auth;

import java.net.URI;
import java.util.List;

/**
 * The refusals of a protected resource (RFC 6750 §3, RFC 9728 §5.1): every 401 and scope 403 names the protected
 * resource metadata, so that an MCP client finds the authorization server to get a token from. Texts are fixed words:
 * nothing a client sent is echoed back.
 */
public final class Challenges {

  public static final String WELL_KNOWN = "/.well-known/oauth-protected-resource";

  private final String metadataUrl;

  /** @param resourceUrl this server's resource URL (AUTH_RESOURCE_URL); null outside jwt mode */
  public Challenges(String resourceUrl) {
    this.metadataUrl = resourceUrl == null ? null : metadataUrl(resourceUrl);
  }

  /** RFC 9728 §3.1: the well-known path goes between the host and the resource's own path. */
  static String metadataUrl(String resourceUrl) {
    URI uri = URI.create(resourceUrl);
    String path = uri.getRawPath() == null || "/".equals(uri.getRawPath()) ? "" : uri.getRawPath();
    return uri.getScheme() + "://" + uri.getRawAuthority() + WELL_KNOWN + path;
  }

  public String metadataUrl() {
    return metadataUrl;
  }

  public AuthException missing() {
    return new AuthException(401, "Unauthorized", "This server needs an access token: Authorization: Bearer <token>",
        "Bearer" + metadata(" "), "missing_token");
  }

  public AuthException invalid(String reason, String message) {
    return new AuthException(401, "Unauthorized", message,
        "Bearer error=\"invalid_token\", error_description=\"" + message + "\"" + metadata(", "), reason);
  }

  public AuthException insufficientScope(List<String> needed) {
    String scopes = String.join(" ", needed);
    return new AuthException(403, "Insufficient_Scope", "The access token lacks the scope this needs: " + scopes,
        "Bearer error=\"insufficient_scope\", scope=\"" + scopes + "\"" + metadata(", "), "insufficient_scope");
  }

  /** The keys to check tokens with cannot be had (the JWKS URL does not answer): not the client's fault. */
  public AuthException unavailable() {
    return new AuthException(503, "Auth_Unavailable", "Tokens cannot be checked right now; try again shortly", null,
        "keys_unavailable");
  }

  private String metadata(String separator) {
    return metadataUrl == null ? "" : separator + "resource_metadata=\"" + metadataUrl + "\"";
  }
}
