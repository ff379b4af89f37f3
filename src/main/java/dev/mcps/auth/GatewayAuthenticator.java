package dev.mcps.auth;

import dev.mcps.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;

/**
 * AUTH_MODE=header: an authenticating gateway in front of the server names the user in {@code AUTH_USER_HEADER}.
 * The header is believed only from the gateway, which proves itself with the shared secret in
 * {@code AUTH_GATEWAY_SECRET_HEADER}, compared in constant time; anyone reaching the port around the gateway gets a 401.
 */
public final class GatewayAuthenticator implements Authenticator {

  private final String userHeader;
  private final String secretHeader;
  private final byte[] secret;

  public GatewayAuthenticator(ServerConfig.Auth config) {
    this.userHeader = config.userHeader();
    this.secretHeader = config.gatewaySecretHeader();
    this.secret = config.gatewaySecret().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public Future<Identity> authenticate(HttpServerRequest request) {
    String given = request.getHeader(secretHeader);
    if (given == null || !MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8))) {
      return Future.failedFuture(new AuthException(401, "Unauthorized",
          "This server only takes requests through its authenticating gateway", null,
          given == null ? "missing_gateway_secret" : "wrong_gateway_secret"));
    }
    String user = request.getHeader(userHeader);
    if (user == null || user.isBlank() || user.length() > 256) {
      return Future.failedFuture(new AuthException(401, "Unauthorized",
          "The gateway named no user (" + userHeader + ")", null, "no_user"));
    }
    return Future.succeededFuture(new Identity(user.trim(), Set.of()));
  }
}
