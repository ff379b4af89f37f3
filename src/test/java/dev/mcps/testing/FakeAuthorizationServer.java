package dev.mcps.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The signing side of an OAuth 2.1 authorization server, as a resource server sees it: RS256 keys published as a
 * JWKS over real HTTP on loopback (how often it was fetched is counted), and access tokens signed with them. Keys can
 * be rotated in (a new kid the server has not seen), and tokens can be signed with a key that is never published.
 */
public final class FakeAuthorizationServer implements AutoCloseable {

  public static final String ISSUER = "https://auth.example.test/realms/team";

  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;
  private final Map<String, KeyPair> published = new ConcurrentHashMap<>();
  private final Map<String, KeyPair> unpublished = new ConcurrentHashMap<>();
  private final List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final AtomicInteger fetches = new AtomicInteger();
  /** 0: the JWKS is served; otherwise every fetch is answered with this status (an authorization server in trouble). */
  private volatile int failing;

  public FakeAuthorizationServer() {
    publish("key-1");
    server = TestServers.await(vertx.createHttpServer().requestHandler(req -> {
      if (!"/jwks".equals(req.path())) {
        req.response().setStatusCode(404).end();
        return;
      }
      fetches.incrementAndGet();
      if (failing != 0) {
        req.response().setStatusCode(failing).end();
        return;
      }
      JsonArray keys = new JsonArray();
      for (String kid : order) {
        keys.add(jwk(kid, (RSAPublicKey) published.get(kid).getPublic()));
      }
      req.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("keys", keys).encode());
    }).listen(0, "127.0.0.1"));
  }

  public String jwksUrl() {
    return "http://127.0.0.1:" + server.actualPort() + "/jwks";
  }

  /** Answers every JWKS fetch with {@code status} from now on; 0 serves it again. */
  public void failWith(int status) {
    failing = status;
  }

  public int fetches() {
    return fetches.get();
  }

  /** Adds a key to the JWKS (a rotation when the server already fetched it). */
  public void publish(String kid) {
    // A kid some token was already signed with keeps its key: publishing it is the rotation that token waited for.
    published.computeIfAbsent(kid, k -> unpublished.containsKey(k) ? unpublished.remove(k) : rsa());
    if (!order.contains(kid)) {
      order.add(kid);
    }
  }

  /** A token for {@code user} valid for an hour from now, for {@code audience}, signed with key-1. */
  public String token(String user, String audience, String scope) {
    long now = System.currentTimeMillis() / 1000;
    JsonObject claims = new JsonObject().put("iss", ISSUER).put("sub", user).put("aud", audience)
        .put("iat", now).put("exp", now + 3600);
    if (scope != null) {
      claims.put("scope", scope);
    }
    return sign("key-1", claims);
  }

  /** {@code claims} signed with the published key {@code kid}, or, for a kid never published, with a key of its own. */
  public String sign(String kid, JsonObject claims) {
    KeyPair key = published.containsKey(kid) ? published.get(kid) : unpublished.computeIfAbsent(kid, k -> rsa());
    return signWith(key, kid, claims);
  }

  /** As {@link #sign}, but with another key than the one {@code kid} names: a signature that cannot verify. */
  public String forge(String kid, JsonObject claims) {
    return signWith(rsa(), kid, claims);
  }

  /** The public half of published key {@code kid} as a PEM file's text (AUTH_JWT_PUBLIC_KEY_FILE). */
  public String publicKeyPem(String kid) {
    String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(published.get(kid).getPublic().getEncoded());
    return "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n";
  }

  /** {@code claims} as an HS256 token under {@code secret} (AUTH_JWT_SECRET). */
  public static String hs256(String secret, JsonObject claims) {
    String header = b64(new JsonObject().put("alg", "HS256").put("typ", "JWT").encode());
    String payload = b64(claims.encode());
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] sig = mac.doFinal((header + "." + payload).getBytes(StandardCharsets.US_ASCII));
      return header + "." + payload + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String signWith(KeyPair key, String kid, JsonObject claims) {
    String header = b64(new JsonObject().put("alg", "RS256").put("typ", "JWT").put("kid", kid).encode());
    String payload = b64(claims.encode());
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(key.getPrivate());
      signature.update((header + "." + payload).getBytes(StandardCharsets.US_ASCII));
      return header + "." + payload + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature.sign());
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonObject jwk(String kid, RSAPublicKey key) {
    return new JsonObject().put("kty", "RSA").put("kid", kid).put("use", "sig").put("alg", "RS256")
        .put("n", unsigned(key.getModulus())).put("e", unsigned(key.getPublicExponent()));
  }

  private static String unsigned(BigInteger value) {
    byte[] bytes = value.toByteArray();
    if (bytes.length > 1 && bytes[0] == 0) {
      bytes = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static KeyPair rsa() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      return generator.generateKeyPair();
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    TestServers.await(vertx.close());
  }
}
