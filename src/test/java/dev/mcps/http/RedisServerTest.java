package dev.mcps.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.session.SessionEnv;
import dev.mcps.testing.Http;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TestServers;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class RedisServerTest extends ServerContract {

  private RedisServer redis;

  @Override
  protected Map<String, String> storeEnv() {
    if (redis == null) {
      redis = RedisServer.start();
    }
    // A key space of its own per server, so the servers of this class never see each other's sessions.
    // The contract is about isolation on a healthy Redis, not deadlines (RedisFaultTurnsTest and the other fault tests
    // hold those): a roomy store deadline keeps 600 concurrent turns on a busy 2-core runner from a stray 503.
    return TestServers.redis(redis, "REDIS_KEY_PREFIX", "t" + UUID.randomUUID().toString().substring(0, 8) + ":",
        "STORE_TIMEOUT_MS", "15000");
  }

  @Test
  void aSearchReadsPastAPageWhoseSessionsVanishedFromUnderTheListing() {
    String prefix = "v" + UUID.randomUUID().toString().substring(0, 8) + ":";
    Map<String, String> env = new java.util.HashMap<>(TestServers.redis(redis, "REDIS_KEY_PREFIX", prefix,
        "SESSION_MAX", "5000"));
    Server s = TestServers.start(env);
    try {
      String run = UUID.randomUUID().toString().substring(0, 8);
      String needle = TestServers.await(s.sessions().forUser("deep-" + run, null)).sessionId();
      TestServers.nextMillisecond();
      List<Future<SessionEnv>> newer = new ArrayList<>();
      for (int i = 0; i < 520; i++) {
        newer.add(s.sessions().forUser("gone-" + run + "-" + i, null));
      }
      TestServers.await(Future.all(newer));
      // Their keys deleted by hand (or lost): still scored in the listing, so its first 500 places list nothing.
      for (Future<SessionEnv> f : newer) {
        redis.call("DEL", prefix + "session:" + f.result().sessionId());
      }

      JsonObject found = new Http(s.port()).get("/admin/sessions?q=deep-" + run, Http.admin()).json();

      assertThat(found.getJsonArray("sessions")).hasSize(1);
      assertThat(found.getJsonArray("sessions").getJsonObject(0).getString("sessionId")).isEqualTo(needle);
      assertThat(found.getBoolean("complete")).isTrue();
    } finally {
      TestServers.await(s.stop());
    }
  }

  @AfterAll
  void stopRedis() {
    if (redis != null) {
      redis.stop();
    }
  }
}
