package dev.mcps.stats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.chat.ChatVerticle;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * GET /admin/stats on a memory-store server whose turns go to the fake Anthropic API: which requests count as turns
 * (finished ok or failed, over HTTP or the event bus) and which do not (refusals, Idempotency-Key replays), the
 * zero-filled shape, the {@code minutes} checks and the admin token. Each test reads the difference its own requests
 * made to the current minute, so the tests can share one server.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminStatsTest {

  private static final String KEY = "stats-test-anthropic-key";

  private Vertx side;
  private FakeAnthropic fake;
  private Server server;
  private Http http;
  private Path auditFile;

  @BeforeAll
  void start() throws IOException {
    side = Vertx.vertx();
    fake = FakeAnthropic.start(side, KEY);
    auditFile = Files.createTempDirectory("mcps-stats-test").resolve("audit.log");
    server = TestServers.start(Map.of("ANTHROPIC_API_KEY", KEY, "ANTHROPIC_BASE_URL", fake.baseUrl(),
        "PROVIDER_MAX_ATTEMPTS", "1", "AUDIT_LOG", auditFile.toString()));
    http = new Http(server.port());
  }

  @AfterAll
  void stop() {
    TestServers.await(server.stop());
    fake.close();
    TestServers.await(side.close());
  }

  @BeforeEach
  void notAtTheEndOfAMinute() {
    awayFromTheEndOfAMinute();
  }

  /** Waits out the last seconds of a minute: a test's turns and its reading then fall in one minute. */
  static void awayFromTheEndOfAMinute() {
    long intoMinute = System.currentTimeMillis() % 60_000;
    if (intoMinute > 50_000) {
      try {
        Thread.sleep(60_000 - intoMinute + 50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The current minute's entry of a 200 answer. */
  static JsonObject currentMinute(JsonObject stats) {
    JsonArray minutes = stats.getJsonArray("minutes");
    return minutes.getJsonObject(minutes.size() - 1);
  }

  private JsonObject stats() {
    Http.Response r = http.get("/admin/stats?minutes=1", Http.admin());
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return currentMinute(r.json());
  }

  private static JsonObject chat(String message) {
    return new JsonObject().put("userId", "stats-" + UUID.randomUUID()).put("message", message);
  }

  @Test
  void aCompletedTurnAndAFailedTurnAppearInTheCurrentMinute() {
    JsonObject before = stats();

    Http.Response ok = http.post("/chat", chat("hello"));
    fake.failNext(500, 1, null);
    Http.Response failed = http.post("/chat", chat("this one fails"));
    JsonObject after = stats();

    assertThat(ok.status()).as(ok.body()).isEqualTo(200);
    assertThat(failed.status()).as(failed.body()).isEqualTo(502);
    assertThat(after.getLong("turns") - before.getLong("turns")).isEqualTo(2);
    assertThat(after.getLong("failed") - before.getLong("failed")).isEqualTo(1);
  }

  @Test
  void eachMinuteCarriesThePeakOfActiveSessionsTheServerSampledItselfNotOnlyWhileSomeoneLooks() {
    for (int i = 0; i < 3; i++) {
      assertThat(http.post("/chat", chat("hello")).status()).isEqualTo(200);
    }
    long live = http.get("/admin/stats?minutes=1", Http.admin()).json().getLong("activeSessions");

    // The session verticle samples every 5 s on its own; no reader asks it to.
    TestServers.awaitCondition(() -> {
      Long sampled = stats().getLong("activeSessions");
      return sampled != null && sampled >= live;
    });
    JsonArray hour = http.get("/admin/stats?minutes=60", Http.admin()).json().getJsonArray("minutes");
    assertThat(hour.getJsonObject(0).containsKey("activeSessions")).isTrue();
    assertThat(hour.getJsonObject(0).getValue("activeSessions")).as("an hour ago this server was not running")
        .isNull();
  }

  @Test
  void requestsRefusedBeforeATurnRunsAreNotTurns() {
    JsonObject before = stats();

    Http.Response noMessage = http.post("/chat", new JsonObject().put("userId", "stats-refused"));
    Http.Response unknownSession = http.post("/chat", new JsonObject().put("sessionId", "no-such-session")
        .put("message", "hello"));
    JsonObject after = stats();

    assertThat(noMessage.status()).isEqualTo(400);
    assertThat(unknownSession.status()).isEqualTo(404);
    assertThat(after.getLong("turns")).isEqualTo(before.getLong("turns"));
    assertThat(after.getLong("failed")).isEqualTo(before.getLong("failed"));
  }

  @Test
  void aTurnOverTheEventBusCountsLikeOneOverHttp() {
    JsonObject before = stats();

    JsonObject reply = TestServers.await(server.vertx().eventBus()
        .<JsonObject>request(ChatVerticle.ADDRESS, chat("over the bus"))).body();

    assertThat(reply.getString("response")).isNotNull();
    assertThat(stats().getLong("turns") - before.getLong("turns")).isEqualTo(1);
  }

  @Test
  void anIdempotentReplayIsNotANewTurn() {
    JsonObject body = chat("once only");
    String[] key = {"Idempotency-Key", "stats-" + UUID.randomUUID()};
    JsonObject before = stats();

    Http.Response first = http.post("/chat", body, key);
    Http.Response replay = http.post("/chat", body, key);

    assertThat(first.status()).isEqualTo(200);
    assertThat(replay.status()).isEqualTo(200);
    assertThat(replay.body()).isEqualTo(first.body());
    assertThat(stats().getLong("turns") - before.getLong("turns")).isEqualTo(1);
  }

  @Test
  void theAnswerHoldsExactlyTheMinutesAskedForOldestFirstZeroFilled() {
    Http.Response r = http.get("/admin/stats?minutes=5", Http.admin());

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonObject json = r.json();
    assertThat(json.fieldNames()).containsExactlyInAnyOrder("now", "store", "activeSessions", "minutes");
    assertThat(json.getString("store")).isEqualTo("memory");
    assertThat(json.getLong("activeSessions")).isEqualTo(TestServers.await(server.sessions().count()));
    long now = json.getLong("now");
    assertThat(now).isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(5_000L));
    JsonArray minutes = json.getJsonArray("minutes");
    assertThat(minutes).hasSize(5);
    long current = now - now % 60_000;
    for (int i = 0; i < 5; i++) {
      JsonObject m = minutes.getJsonObject(i);
      assertThat(m.fieldNames()).containsExactlyInAnyOrder("start", "turns", "failed", "activeSessions");
      assertThat(m.getLong("start")).isEqualTo(current - (4 - i) * 60_000L);
      assertThat(m.getLong("turns")).isGreaterThanOrEqualTo(m.getLong("failed")).isGreaterThanOrEqualTo(0);
    }
  }

  @Test
  void withoutMinutesTheLastThirtyAreAnswered() {
    assertThat(http.get("/admin/stats", Http.admin()).json().getJsonArray("minutes")).hasSize(30);
    assertThat(http.get("/admin/stats?minutes=60", Http.admin()).json().getJsonArray("minutes")).hasSize(60);
  }

  @Test
  void minutesOutsideOneToSixtyIsA400LikeThePagingErrors() {
    for (String bad : List.of("0", "61", "abc", "-1", "1.5")) {
      Http.Response r = http.get("/admin/stats?minutes=" + bad, Http.admin());

      assertThat(r.status()).as(bad).isEqualTo(400);
      assertThat(r.json().getString("error")).isEqualTo("Invalid_Request");
      assertThat(r.json().getString("message")).isEqualTo("minutes must be a whole number between 1 and 60");
    }
    Http.Response paging = http.get("/admin/sessions?limit=abc", Http.admin());
    assertThat(paging.json().getString("error")).isEqualTo("Invalid_Request");
  }

  @Test
  void aWrongOrMissingTokenIsA401() {
    Http.Response wrong = http.get("/admin/stats", "Authorization", "Bearer not-the-token");
    Http.Response missing = http.get("/admin/stats");

    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.json().getString("error")).isEqualTo("Unauthorized");
    assertThat(missing.status()).isEqualTo(401);
  }

  @Test
  void pollingTheStatsWritesNothingToTheAuditTrail() {
    http.get("/admin/stats", Http.admin());
    http.get("/admin/stats?minutes=2", Http.admin());
    String marker = "audit-probe-" + UUID.randomUUID();
    http.delete("/admin/sessions/" + marker, Http.admin());

    // The delete's line comes after the stats requests: once it is in the file, theirs would be too.
    TestServers.awaitCondition(10, () -> auditLines().stream().anyMatch(l -> marker.equals(l.getString("sessionId"))));
    assertThat(auditLines()).filteredOn(l -> "admin_action".equals(l.getString("event")))
        .extracting(l -> l.getString("action")).isSubsetOf("delete", "list");
  }

  private List<JsonObject> auditLines() {
    try {
      return Files.exists(auditFile) ? Files.readString(auditFile).lines().map(JsonObject::new).toList() : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void withoutAnAdminTokenTheRouteDoesNotExist() {
    Server closed = TestServers.start(Map.of("ADMIN_TOKEN", ""));
    try {
      Http.Response r = new Http(closed.port()).get("/admin/stats", Http.admin());

      assertThat(r.status()).isEqualTo(404);
    } finally {
      TestServers.await(closed.stop());
    }
  }
}
