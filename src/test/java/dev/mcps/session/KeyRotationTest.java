package dev.mcps.session;

import static dev.mcps.testing.Http.admin;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.mcps.Server;
import dev.mcps.testing.CapturedLogs;
import dev.mcps.testing.Http;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SESSION_ENCRYPTION_KEY / SESSION_ENCRYPTION_OLD_KEYS across instances sharing one real Redis: an instance with
 * another key never erases credentials it cannot read, and a rotated instance reads and re-encrypts them.
 */
class KeyRotationTest {

  private static final String K1 = TestServers.ENCRYPTION_KEY;
  private static final String K2 = randomKey();

  private RedisServer redis;
  private final List<Server> servers = new ArrayList<>();

  @BeforeEach
  void start() {
    redis = RedisServer.start();
  }

  @AfterEach
  void stop() {
    servers.forEach(s -> TestServers.await(s.stop()));
    redis.close();
  }

  @Test
  void anInstanceWithAnotherKeyKeepsTheCiphertextAndOneWithTheOldKeyReadsAndReEncryptsIt() {
    Http a = http(start("SESSION_ENCRYPTION_KEY", K1));
    Http b = http(start("SESSION_ENCRYPTION_KEY", K2));
    Server cServer = start("SESSION_ENCRYPTION_KEY", K2, "SESSION_ENCRYPTION_OLD_KEYS", "  " + K1 + "  ");
    Http c = http(cServer);
    String id = a.post("/chat", new JsonObject().put("userId", "rot").put("message", "hi")
        .put("jiraAuth", new JsonObject().put("baseUrl", "https://rot.atlassian.net").put("email", "r@x.com")
            .put("apiToken", "tok-rot-SECRET"))).json().getString("sessionId");
    String sealedByA = storedCiphertext(id);

    try (CapturedLogs logs = CapturedLogs.start()) {
      Http.Response update = b.post("/chat", new JsonObject().put("sessionId", id).put("message", "hi again")
          .put("productLabUserId", "pl-42"));
      JsonObject seenByB = b.get("/admin/sessions/" + id, admin()).json();
      b.get("/admin/sessions", admin());
      b.get("/admin/sessions/" + id, admin());

      assertThat(update.json().getString("sessionId")).isEqualTo(id);
      assertThat(seenByB.getBoolean("hasJiraCredentials")).isFalse();
      assertThat(seenByB.getString("productLabUserId")).as("B's update was stored").isEqualTo("pl-42");
      assertThat(storedCiphertext(id)).as("B wrote the ciphertext back unchanged").isEqualTo(sealedByA);
      var errors = logs.matching(CapturedLogs.at(Level.ERROR, SessionCodec.class));
      assertThat(errors).as("one ERROR however many requests").hasSize(1);
      assertThat(errors.get(0).getFormattedMessage()).doesNotContain("SECRET").doesNotContain(sealedByA);
    }

    JsonObject seenByC = c.get("/admin/sessions/" + id, admin()).json();
    assertThat(seenByC.getBoolean("hasJiraCredentials")).isTrue();
    assertThat(seenByC.getString("productLabUserId")).isEqualTo("pl-42");
    assertThat(TestServers.await(cServer.sessions().peek(id)).jiraCredentials().apiToken()).isEqualTo("tok-rot-SECRET");

    c.post("/chat", new JsonObject().put("sessionId", id).put("message", "rotate").put("productLabUserId", "pl-43"));

    assertThat(storedCiphertext(id)).as("C's write re-encrypted them").isNotEqualTo(sealedByA);
    assertThat(b.get("/admin/sessions/" + id, admin()).json().getBoolean("hasJiraCredentials"))
        .as("now readable with K2 alone").isTrue();
    assertThat(a.get("/admin/sessions/" + id, admin()).json().getBoolean("hasJiraCredentials"))
        .as("and no longer with K1 alone").isFalse();
  }

  private Server start(String... settings) {
    Server s = TestServers.start(TestServers.redis(redis, settings));
    servers.add(s);
    return s;
  }

  private static Http http(Server s) {
    return new Http(s.port());
  }

  private String storedCiphertext(String sessionId) {
    String json = (String) redis.call("GET", "mcps:session:" + sessionId);
    String sealed = new JsonObject(json).getString("jiraCredentials");
    assertThat(sealed).startsWith("v1:");
    return sealed;
  }

  private static String randomKey() {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    return Base64.getEncoder().encodeToString(k);
  }
}
