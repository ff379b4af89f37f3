package dev.mcps.session;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.mcps.testing.CapturedLogs;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Key rotation at the codec: the current key encrypts, former keys decrypt, unreadable ciphertext survives. */
class SessionCodecTest {

  private static final byte[] K1 = key();
  private static final byte[] K2 = key();
  private static final JiraCredentials CREDS = new JiraCredentials("https://a.atlassian.net", "a@x.com", "tok-SECRET");

  @Test
  void ciphertextThisInstanceCannotDecryptIsWrittenBackUnchangedAndReadsAsNoCredentials() {
    JsonObject written = new SessionCodec(new CredentialCipher(K1)).encode(withCredentials());
    SessionCodec otherKey = new SessionCodec(new CredentialCipher(K2));

    SessionEnv read = otherKey.decode(written, 1);
    read.setProductLabUserId("changed");
    JsonObject rewritten = otherKey.encode(read);

    assertThat(read.hasJiraCredentials()).isFalse();
    assertThat(read.jiraCredentials()).isNull();
    assertThat(rewritten.getString("jiraCredentials")).isEqualTo(written.getString("jiraCredentials"));
    assertThat(rewritten.getString("productLabUserId")).isEqualTo("changed");
    assertThat(new SessionCodec(new CredentialCipher(K1)).decode(rewritten, 1).jiraCredentials()).isEqualTo(CREDS);
  }

  @Test
  void aFormerKeyDecryptsAndTheNextWriteUsesTheCurrentKey() {
    JsonObject written = new SessionCodec(new CredentialCipher(K1)).encode(withCredentials());
    SessionCodec rotated = new SessionCodec(new CredentialCipher(K2, List.of(K1)));

    SessionEnv read = rotated.decode(written, 1);
    JsonObject rewritten = rotated.encode(read);

    assertThat(read.jiraCredentials()).isEqualTo(CREDS);
    assertThat(rewritten.getString("jiraCredentials")).isNotEqualTo(written.getString("jiraCredentials"));
    assertThat(new SessionCodec(new CredentialCipher(K2)).decode(rewritten, 1).jiraCredentials())
        .as("readable with the current key alone").isEqualTo(CREDS);
  }

  @Test
  void newCredentialsOrTheirRemovalReplaceUnreadableOnes() {
    JsonObject written = new SessionCodec(new CredentialCipher(K1)).encode(withCredentials());
    SessionCodec otherKey = new SessionCodec(new CredentialCipher(K2));
    JiraCredentials fresh = new JiraCredentials("https://b.atlassian.net", "b@x.com", "tok-B");

    SessionEnv replaced = otherKey.decode(written, 1);
    replaced.setJiraCredentials(fresh);
    SessionEnv removed = otherKey.decode(written, 1);
    removed.setJiraCredentials(null);

    assertThat(otherKey.decode(otherKey.encode(replaced), 1).jiraCredentials()).isEqualTo(fresh);
    assertThat(otherKey.encode(removed).containsKey("jiraCredentials")).isFalse();
  }

  @Test
  void unreadableCredentialsAreReportedOnceAsAnErrorWithoutTheCiphertext() {
    SessionCodec writer = new SessionCodec(new CredentialCipher(K1));
    JsonObject first = writer.encode(withCredentials());
    JsonObject second = writer.encode(withCredentials());
    SessionCodec otherKey = new SessionCodec(new CredentialCipher(K2));

    try (CapturedLogs logs = CapturedLogs.start()) {
      for (int i = 0; i < 5; i++) {
        otherKey.decode(first, 1);
        otherKey.decode(second, 1);
      }

      var errors = logs.matching(CapturedLogs.at(Level.ERROR, SessionCodec.class));
      assertThat(errors).hasSize(1);
      assertThat(errors.get(0).getFormattedMessage()).contains(first.getString("sessionId"))
          .contains("SESSION_ENCRYPTION_KEY").doesNotContain("v1:").doesNotContain("SECRET");
      assertThat(logs.matching(CapturedLogs.at(Level.WARN, SessionCodec.class))).isEmpty();
    }
  }

  private static SessionEnv withCredentials() {
    SessionEnv s = SessionEnv.newSession("alice", null, 1);
    s.setJiraCredentials(CREDS);
    return s;
  }

  private static byte[] key() {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    return k;
  }
}
