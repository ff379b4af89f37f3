package dev.mcps.session;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for credentials at rest. Each value gets a fresh 96-bit nonce, and the session id is bound in as
 * associated data, so a ciphertext copied into another session's record does not decrypt there.
 * Format: {@code v1:} + base64(nonce ‖ ciphertext ‖ tag).
 */
public final class CredentialCipher {

  private static final String PREFIX = "v1:";
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final SecretKeySpec key;
  private final SecureRandom random = new SecureRandom();

  public CredentialCipher(byte[] key) {
    if (key == null || key.length != 32) {
      throw new IllegalArgumentException("AES-256 key must be 32 bytes");
    }
    this.key = new SecretKeySpec(key.clone(), "AES");
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

  /** Fails (without revealing anything about the value) when the key is wrong or the data was altered. */
  public String decrypt(String stored, String sessionId) {
    if (stored == null || !stored.startsWith(PREFIX)) {
      throw new IllegalStateException("unrecognised credential format");
    }
    try {
      byte[] all = Base64.getDecoder().decode(stored.substring(PREFIX.length()));
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, all, 0, NONCE_BYTES));
      c.updateAAD(sessionId.getBytes(StandardCharsets.UTF_8));
      return new String(c.doFinal(all, NONCE_BYTES, all.length - NONCE_BYTES), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalStateException("stored credentials cannot be decrypted (wrong SESSION_ENCRYPTION_KEY?)");
    }
  }
}
