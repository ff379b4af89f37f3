package dev.mcps.auth;

import dev.mcps.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AUTH_MODE=jwt: the user is a claim of a bearer JWT that an OAuth 2.1 authorization server signed for this server.
 * The signature is checked by vertx-auth-jwt with keys from a JWKS URL (fetched at start, fetched again when a token
 * names a key id it does not know, at most once every {@code jwksMinRefreshSeconds}, so that a key rotation is
 * picked up and a flood of made-up key ids cannot make us hammer the authorization server), a PEM public key, or an
 * HS256 secret. The claims are checked here, before the signature, only to say precisely what is wrong: issuer,
 * audience (RFC 8707: a token for another resource must not be replayed here), {@code exp} and {@code nbf} with a
 * small leeway. A token is accepted only when both checks pass.
 */
public final class JwtAuthenticator implements Authenticator {

  private static final Logger LOG = LoggerFactory.getLogger(JwtAuthenticator.class);

  /** The keys in force: a provider built from them, and their ids (a token naming another id needs a refresh). */
  private record Keys(JWTAuth provider, Set<String> ids, long fetchedAt) {
  }

  private final Vertx vertx;
  private final ServerConfig.Auth config;
  private final Challenges challenges;
  private final LongSupplier clock;
  private final WebClient http;
  private final AtomicReference<Keys> keys = new AtomicReference<>();
  /** The JWKS fetch under way, shared by every request that needs it (on any event loop). */
  private final AtomicReference<Future<Keys>> refreshing = new AtomicReference<>();

  public JwtAuthenticator(Vertx vertx, ServerConfig.Auth config, Challenges challenges, LongSupplier clockMillis) {
    this.vertx = vertx;
    this.config = config;
    this.challenges = challenges;
    this.clock = clockMillis;
    this.http = config.jwksUrl() == null ? null
        : WebClient.create(vertx, new WebClientOptions().setConnectTimeout(5_000).setIdleTimeout(30));
    if (config.jwksUrl() == null) {
      keys.set(staticKeys());
    }
  }

  /** Fetches the JWKS once (when keys come from a URL); a failure is logged, and retried at the first request. */
  public Future<Void> start() {
    if (http == null) {
      return Future.succeededFuture();
    }
    return refresh().<Void>mapEmpty().recover(err -> {
      LOG.warn("Could not fetch the JWKS from {} at start ({}); tokens are refused until it answers",
          config.jwksUrl(), err.getMessage());
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<Identity> authenticate(HttpServerRequest request) {
    String token = bearer(request.getHeader("Authorization"));
    if (token == null) {
      return Future.failedFuture(challenges.missing());
    }
    JsonObject header;
    JsonObject claims;
    try {
      String[] parts = token.split("\\.", -1);
      if (parts.length != 3) {
        throw new IllegalArgumentException("not three parts");
      }
      header = new JsonObject(decode(parts[0]));
      claims = new JsonObject(decode(parts[1]));
    } catch (RuntimeException e) {
      return Future.failedFuture(challenges.invalid("malformed", "The bearer token is not a JWT"));
    }
    AuthException wrong = claimProblem(claims);
    if (wrong != null) {
      return Future.failedFuture(wrong);
    }
    String kid = header.getValue("kid") instanceof String k ? k : null;
    return keysFor(kid).compose(k -> {
      if (kid != null && !k.ids().isEmpty() && !k.ids().contains(kid)) {
        return Future.failedFuture(challenges.invalid("unknown_key", "The token is signed with an unknown key"));
      }
      return k.provider().authenticate(new TokenCredentials(token))
          .recover(err -> Future.failedFuture(challenges.invalid("bad_signature",
              "The token's signature or claims do not verify")));
    }).compose(user -> identity(claims));
  }

  /** The keys to check a token naming {@code kid} with: a fresh JWKS when that id is unknown (rate-limited). */
  private Future<Keys> keysFor(String kid) {
    Keys current = keys.get();
    if (http == null) {
      return Future.succeededFuture(current);
    }
    boolean unknown = current == null || kid != null && !current.ids().contains(kid);
    if (!unknown) {
      return Future.succeededFuture(current);
    }
    if (current != null && clock.getAsLong() - current.fetchedAt() < config.jwksMinRefreshSeconds() * 1000L) {
      return Future.succeededFuture(current);
    }
    return refresh().recover(err -> current != null ? Future.succeededFuture(current)
        : Future.failedFuture(challenges.unavailable()));
  }

  private Future<Keys> refresh() {
    Future<Keys> running = refreshing.get();
    if (running != null) {
      return running;
    }
    io.vertx.core.Promise<Keys> promise = io.vertx.core.Promise.promise();
    if (!refreshing.compareAndSet(null, promise.future())) {
      return refreshing.get();
    }
    http.getAbs(config.jwksUrl()).timeout(10_000).send()
        .map(response -> {
          if (response.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + response.statusCode());
          }
          return fromJwks(response.bodyAsJsonObject());
        })
        .onComplete(ar -> {
          if (ar.succeeded()) {
            keys.set(ar.result());
            LOG.info("JWKS from {}: key ids {}", config.jwksUrl(), ar.result().ids());
          } else {
            LOG.warn("JWKS fetch from {} failed: {}", config.jwksUrl(), ar.cause().getMessage());
          }
          refreshing.set(null);
          promise.handle(ar);
        });
    return promise.future();
  }

  private Keys fromJwks(JsonObject jwks) {
    JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(jwtOptions());
    Set<String> ids = new LinkedHashSet<>();
    JsonArray list = jwks == null ? null : jwks.getJsonArray("keys");
    if (list == null) {
      throw new IllegalStateException("the JWKS has no keys array");
    }
    for (Object o : list) {
      if (!(o instanceof JsonObject jwk) || "enc".equals(jwk.getString("use"))) {
        continue;
      }
      JsonObject key = jwk.copy();
      if (!key.containsKey("alg")) {
        // Some authorization servers leave alg out; the key type says which one they sign with.
        String kty = key.getString("kty", "");
        key.put("alg", "EC".equals(kty) ? "ES256" : "OKP".equals(kty) ? "EdDSA" : "RS256");
      }
      options.addJwk(key);
      if (key.getString("kid") != null) {
        ids.add(key.getString("kid"));
      }
    }
    return new Keys(JWTAuth.create(vertx, options), Set.copyOf(ids), clock.getAsLong());
  }

  private Keys staticKeys() {
    JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(jwtOptions());
    if (config.secret() != null) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
          .setBuffer(Buffer.buffer(config.secret().getBytes(StandardCharsets.UTF_8))));
    } else {
      String pem;
      try {
        pem = Files.readString(Path.of(config.publicKeyFile()));
      } catch (IOException e) {
        throw new IllegalStateException("AUTH_JWT_PUBLIC_KEY_FILE cannot be read: " + e.getMessage(), e);
      }
      if (!pem.contains("PUBLIC KEY")) {
        throw new IllegalStateException("AUTH_JWT_PUBLIC_KEY_FILE must hold a PEM public key");
      }
      String algorithm = pem.contains("BEGIN EC") ? "ES256" : "RS256";
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm(algorithm).setBuffer(pem));
      // An RSA file may sign RS256 or PS256 tokens; the same key serves both.
      if ("RS256".equals(algorithm)) {
        options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("PS256").setBuffer(pem));
      }
    }
    return new Keys(JWTAuth.create(vertx, options), Set.of(), clock.getAsLong());
  }

  private JWTOptions jwtOptions() {
    JWTOptions options = new JWTOptions().setLeeway(config.leewaySeconds());
    if (config.issuer() != null) {
      options.setIssuer(config.issuer());
    }
    if (config.audience() != null) {
      options.setAudience(List.of(config.audience()));
    }
    return options;
  }

  /** What is wrong with the claims, or null; checked again by vertx-auth-jwt once the signature holds. */
  private AuthException claimProblem(JsonObject claims) {
    long now = clock.getAsLong() / 1000;
    long leeway = config.leewaySeconds();
    Object exp = claims.getValue("exp");
    if (!(exp instanceof Number e)) {
      return challenges.invalid("no_expiry", "The token has no expiry (exp)");
    }
    if (now - leeway >= e.longValue()) {
      return challenges.invalid("expired", "The token has expired");
    }
    if (claims.getValue("nbf") instanceof Number nbf && now + leeway < nbf.longValue()) {
      return challenges.invalid("not_yet_valid", "The token is not valid yet");
    }
    if (config.issuer() != null && !config.issuer().equals(claims.getValue("iss"))) {
      return challenges.invalid("wrong_issuer", "The token was issued by another authorization server");
    }
    if (config.audience() != null && !audiences(claims).contains(config.audience())) {
      return challenges.invalid("wrong_audience", "The token is meant for another resource");
    }
    return null;
  }

  private static Set<String> audiences(JsonObject claims) {
    Object aud = claims.getValue("aud");
    Set<String> out = new HashSet<>();
    if (aud instanceof String s) {
      out.add(s);
    } else if (aud instanceof JsonArray a) {
      a.forEach(v -> {
        if (v instanceof String s) {
          out.add(s);
        }
      });
    }
    return out;
  }

  private Future<Identity> identity(JsonObject claims) {
    Object user = claims.getValue(config.userClaim());
    if (!(user instanceof String u) || u.isBlank() || u.length() > 256) {
      return Future.failedFuture(challenges.invalid("no_user",
          "The token has no usable " + config.userClaim() + " claim naming the user"));
    }
    return Future.succeededFuture(new Identity(u, scopes(claims)));
  }

  /** {@code scope} (space-separated, RFC 9068) or {@code scp} (an array, as some servers send it). */
  static Set<String> scopes(JsonObject claims) {
    Set<String> out = new HashSet<>();
    if (claims.getValue("scope") instanceof String s) {
      for (String part : s.trim().split("\\s+")) {
        if (!part.isEmpty()) {
          out.add(part);
        }
      }
    }
    if (claims.getValue("scp") instanceof JsonArray a) {
      a.forEach(v -> {
        if (v instanceof String s) {
          out.add(s);
        }
      });
    } else if (claims.getValue("scp") instanceof String s) {
      out.add(s);
    }
    return out;
  }

  /** The token of an {@code Authorization: Bearer …} header, or null. */
  static String bearer(String authorization) {
    if (authorization == null || authorization.length() < 8
        || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String token = authorization.substring(7).trim();
    return token.isEmpty() || token.length() > 16_384 ? null : token;
  }

  private static String decode(String part) {
    return new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8);
  }
}
