package dev.mcps.auth;

import dev.mcps.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the door of the configured AUTH_MODE. */
public final class Auth {

  private static final Logger LOG = LoggerFactory.getLogger(Auth.class);

  private Auth() {
  }

  /**
   * The routes that prove each request's user, once their keys are loaded; null (no door) with AUTH_MODE=none,
   * which is said once, loudly, at start.
   */
  public static Future<AuthRoutes> routes(Vertx vertx, ServerConfig.Auth config, Consumer<AuthRoutes.Refusal> refusals) {
    switch (config.mode()) {
      case JWT -> {
        Challenges challenges = new Challenges(config.resourceUrl());
        JwtAuthenticator jwt = new JwtAuthenticator(vertx, config, challenges, System::currentTimeMillis);
        LOG.info("AUTH_MODE=jwt: every request needs a bearer token for {} (keys from {}); metadata at {}",
            config.audience(), config.jwksUrl() != null ? config.jwksUrl()
                : config.publicKeyFile() != null ? config.publicKeyFile() : "AUTH_JWT_SECRET",
            challenges.metadataUrl());
        return jwt.start().map(v -> new AuthRoutes(config, jwt, challenges, refusals));
      }
      case HEADER -> {
        LOG.info("AUTH_MODE=header: the user is {} as set by the gateway that proves itself with {}",
            config.userHeader(), config.gatewaySecretHeader());
        return Future.succeededFuture(new AuthRoutes(config, new GatewayAuthenticator(config), new Challenges(null),
            refusals));
      }
      default -> {
        LOG.warn("AUTH_MODE=none: anyone who can reach this port can act as any user (their sessions, notes and "
            + "stored Jira credentials); set AUTH_MODE=jwt or header before exposing it beyond this machine");
        return Future.succeededFuture(null);
      }
    }
  }
}
