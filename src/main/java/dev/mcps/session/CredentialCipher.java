package dev.mcps.session;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for credentials at rest. Each value gets a fresh 96-bit nonce, and the session id is bound in as
 * associated data, so a ciphertext copied into another session's record does not decrypt there.
 * Format: {@code v1:} + base64(nonce ‖ ciphertext ‖ tag).
 *
 * <p>Key rotation: values are always encrypted with the current key; the former keys
 * ({@code SESSION_ENCRYPTION_OLD_KEYS}) are tried after it when decrypting, so that what older instances wrote stays
 * readable until it is written again under the current key.
 */
public final class CredentialCipher {

  private static final String PREFIX = "v1:";
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final SecretKeySpec key;
  /** The current key first, then the former ones, in the order they were configured. */
  private final List<SecretKeySpec> decryptionKeys;
  private final SecureRandom random = new SecureRandom();

  public CredentialCipher(byte[] key) {
    this(key, List.of());
  }

  public CredentialCipher(byte[] key, List<byte[]> oldKeys) {
    this.key = aesKey(key);
    List<SecretKeySpec> all = new ArrayList<>(1 + oldKeys.size());
    all.add(this.key);
    oldKeys.forEach(k -> all.add(aesKey(k)));
    this.decryptionKeys = List.copyOf(all);
  }

  private static SecretKeySpec aesKey(byte[] key) {
    if (key == null || key.length != 32) {
      throw new IllegalArgumentException("AES-256 key must be 32 bytes");
    }
    return new SecretKeySpec(key.clone(), "AES");
  }

  /** A cipher with a random key: enough for the memory store, whose data dies with the process. */
  public static CredentialCipher withRandomKey() {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    return new CredentialCipher(k);
  }

  public String encrypt(String plaintext, String sessionId) {
    try {
      byte[] nonce = new byte[NONCE_BYTES];
      random.nextBytes(nonce);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(sessionId.getBytes(StandardCharsets.UTF_8));
      byte[] ct = c.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
      return PREFIX + Base64.getEncoder().encodeToString(ByteBuffer.allocate(nonce.length + ct.length)
          .put(nonce).put(ct).array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("credential encryption failed", e);
    }
  }

  /**
   * The plaintext, decrypted with the current key or else a former one. Fails (without revealing anything about the
   * value) when no key fits or the data was altered.
   */
  public String decrypt(String stored, String sessionId) {
    if (stored == null || !stored.startsWith(PREFIX)) {
      throw new IllegalStateException("unrecognised credential format");
    }
    byte[] all;
    try {
      all = Base64.getDecoder().decode(stored.substring(PREFIX.length()));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("unrecognised credential format");
    }
    if (all.length <= NONCE_BYTES) {
      throw new IllegalStateException("unrecognised credential format");
    }
    for (SecretKeySpec candidate : decryptionKeys) {
      try {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.DECRYPT_MODE, candidate, new GCMParameterSpec(TAG_BITS, all, 0, NONCE_BYTES));
        c.updateAAD(sessionId.getBytes(StandardCharsets.UTF_8));
        return new String(c.doFinal(all, NONCE_BYTES, all.length - NONCE_BYTES), StandardCharsets.UTF_8);
      } catch (GeneralSecurityException wrongKeyOrAltered) {
        // GCM's tag check tells a wrong key from the right one: try the next.
      }
    }
    throw new IllegalStateException("no configured key decrypts them (SESSION_ENCRYPTION_KEY, "
        + "SESSION_ENCRYPTION_OLD_KEYS)");
  }
}
