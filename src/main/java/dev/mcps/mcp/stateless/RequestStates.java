package dev.mcps.mcp.stateless;

import dev.mcps.mcp.features.McpFailure;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@code requestState} of multi round-trip requests (2026-07-28): what earlier rounds of one request learnt,
 * sealed with AES-GCM so that the client carries it without being able to read or change it. It names the principal
 * it was issued to, the request it belongs to (method, name and a digest of the arguments) and when it lapses; state
 * presented by another user, on another request, after its lapse, or altered in any way is refused with -32602.
 * The key comes from configuration, so every instance of a deployment opens what any other sealed.
 */
public final class RequestStates {

  private static final int IV_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final SecretKeySpec key;
  private final Duration ttl;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final int maxChars;

  /**
   * @param key      32 bytes of key material (see {@link #deriveKey})
   * @param ttl      how long a sealed state may be presented back
   * @param maxChars the longest requestState accepted (answers accumulate over rounds)
   */
  public RequestStates(byte[] key, Duration ttl, int maxChars, Clock clock) {
    if (key.length != 32) {
      throw new IllegalArgumentException("the request-state key must be 32 bytes");
    }
    this.key = new SecretKeySpec(key, "AES");
    this.ttl = ttl;
    this.maxChars = maxChars;
    this.clock = clock;
  }

  /**
   * A key of its own for request states from other key material (the session encryption key), so that the same
   * secret never serves two purposes directly.
   */
  public static byte[] deriveKey(byte[] material) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(material, "HmacSHA256"));
      return mac.doFinal("mcp-session-server/request-state/v1".getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What identifies one request across its rounds: the method, the tool/prompt/resource, and its arguments. */
  public static String requestDigest(String method, String name, JsonObject arguments) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update((method + '\n' + (name == null ? "" : name) + '\n').getBytes(StandardCharsets.UTF_8));
      sha.update(canonical(arguments).getBytes(StandardCharsets.UTF_8));
      return B64.encodeToString(sha.digest());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** JSON with object keys sorted at every level: the same arguments give the same digest in any key order. */
  static String canonical(Object value) {
    if (value instanceof JsonObject o) {
      return canonical(o.getMap());
    }
    if (value instanceof Map<?, ?> m) {
      Map<String, Object> sorted = new TreeMap<>();
      m.forEach((k, v) -> sorted.put(String.valueOf(k), v));
      StringBuilder out = new StringBuilder("{");
      sorted.forEach((k, v) -> {
        if (out.length() > 1) {
          out.append(',');
        }
        out.append(Json.encode(k)).append(':').append(canonical(v));
      });
      return out.append('}').toString();
    }
    if (value instanceof JsonArray a) {
      return canonical(a.getList());
    }
    if (value instanceof java.util.List<?> l) {
      StringBuilder out = new StringBuilder("[");
      for (Object v : l) {
        if (out.length() > 1) {
          out.append(',');
        }
        out.append(canonical(v));
      }
      return out.append(']').toString();
    }
    return Json.encode(value);
  }

  /** Seals the answers gathered so far for {@code principal}'s request {@code digest}. */
  public String seal(String principal, String digest, JsonObject answers) {
    JsonObject payload = new JsonObject()
        .put("p", principal)
        .put("r", digest)
        .put("e", clock.millis() + ttl.toMillis())
        .put("a", answers);
    try {
      byte[] iv = new byte[IV_BYTES];
      random.nextBytes(iv);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
      byte[] sealed = cipher.doFinal(payload.encode().getBytes(StandardCharsets.UTF_8));
      byte[] out = new byte[IV_BYTES + sealed.length];
      System.arraycopy(iv, 0, out, 0, IV_BYTES);
      System.arraycopy(sealed, 0, out, IV_BYTES, sealed.length);
      return B64.encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The answers sealed in {@code state}, when it is intact, was issued to {@code principal} for request
   * {@code digest}, and has not lapsed; otherwise an {@link McpFailure} -32602 that says which (never what the
   * state held).
   */
  public JsonObject open(String state, String principal, String digest) {
    if (state.isEmpty() || state.length() > maxChars) {
      throw McpFailure.invalidParams("requestState is not one this server issued");
    }
    JsonObject payload;
    try {
      byte[] in = B64D.decode(state);
      if (in.length <= IV_BYTES) {
        throw McpFailure.invalidParams("requestState is not one this server issued");
      }
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, in, 0, IV_BYTES));
      byte[] plain = cipher.doFinal(in, IV_BYTES, in.length - IV_BYTES);
      payload = new JsonObject(new String(plain, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | GeneralSecurityException | DecodeException e) {
      throw McpFailure.invalidParams("requestState failed its integrity check: it was altered or not issued here");
    }
    if (!principal.equals(payload.getString("p"))) {
      throw McpFailure.invalidParams("requestState was issued to another user");
    }
    if (!digest.equals(payload.getString("r"))) {
      throw McpFailure.invalidParams("requestState belongs to another request (method, name or arguments differ)");
    }
    Long expires = payload.getLong("e");
    if (expires == null || clock.millis() > expires) {
      throw McpFailure.invalidParams("requestState has expired; send the request again without it");
    }
    JsonObject answers = payload.getJsonObject("a");
    return answers == null ? new JsonObject() : answers;
  }
}
