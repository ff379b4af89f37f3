package dev.mcps.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestCluster;
import dev.mcps.testing.TestServers;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Session events on a cluster: every instance sweeps and creates, one Redis decides. Each session's end is
 * announced once on {@code mcps.session.events}, whichever instance found it, and every member hears it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterSessionEventsTest {

  private static final int CAP = 10;

  private TestCluster cluster;
  /** Events as instance 2 hears them (it creates nothing and sweeps like the others). */
  private final ConcurrentLinkedQueue<JsonObject> heard = new ConcurrentLinkedQueue<>();
  private MessageConsumer<JsonObject> listener;

  @BeforeAll
  void start() {
    cluster = TestCluster.withOwnRedis(3, Map.of("SESSION_TIMEOUT_SECONDS", "2",
        "SESSION_CLEANUP_INTERVAL_SECONDS", "1", "SESSION_MAX", String.valueOf(CAP)));
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @BeforeEach
  void listen() {
    heard.clear();
    listener = cluster.get(2).vertx().eventBus().consumer(Sessions.EVENTS_ADDRESS, msg -> heard.add(msg.body()));
    TestServers.await(listener.completion());
    // The registration reaches the other members' views of the cluster a moment later: until a probe published on
    // each of them is heard here, an event they publish could miss this listener (seen once in a full run).
    String probe = "probe-" + UUID.randomUUID();
    TestServers.awaitCondition(() -> {
      for (int i = 0; i < 2; i++) {
        cluster.get(i).vertx().eventBus().publish(Sessions.EVENTS_ADDRESS,
            new JsonObject().put("type", probe).put("from", i));
      }
      return heard.stream().filter(e -> probe.equals(e.getString("type"))).map(e -> e.getInteger("from"))
          .distinct().count() == 2;
    });
    heard.clear();
  }

  @AfterEach
  void stopListening() {
    TestServers.await(listener.unregister());
  }

  @Test
  void everyExpiredSessionIsAnnouncedExactlyOnceThoughEveryInstanceSweeps() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ids.add(TestServers.await(cluster.get(i % 2).sessions().forUser("idle-" + UUID.randomUUID(), null))
          .sessionId());
    }
    // On top of the periodic sweeps, sweeps racing on every instance every 10 ms around the moment they expire:
    // a sweep that listed and removed in two steps would announce some session twice here.
    TestServers.awaitCondition(() -> {
      Future.all(cluster.servers().stream().map(s -> s.sessions().sweep()).toList());
      return count("expired", ids) == ids.size();
    });
    Thread.sleep(2_500);

    assertThat(perSession("created", ids)).as("created, heard on another instance, once each")
        .containsOnlyKeys(ids).allSatisfy((id, n) -> assertThat(n).isOne());
    assertThat(perSession("expired", ids)).as("expired once each").containsOnlyKeys(ids)
        .allSatisfy((id, n) -> assertThat(n).isOne());
  }

  @Test
  void concurrentCreatesOnEveryInstanceKeepTheCapAndAnnounceEachEvictionOnce() throws Exception {
    List<Future<SessionEnv>> creates = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      creates.add(cluster.get(i % 3).sessions().forUser("crowd-" + UUID.randomUUID(), null));
    }
    List<String> ids = TestServers.await(Future.all(creates)).<SessionEnv>list().stream()
        .map(SessionEnv::sessionId).toList();
    assertThat(new HashSet<>(ids)).hasSize(60);
    assertThat(TestServers.await(cluster.get(1).sessions().count())).as("never more than the cap")
        .isLessThanOrEqualTo(CAP);

    // Every session ends, by eviction or, the last ones, by expiry: each end announced once, never both.
    TestServers.awaitCondition(() -> count("evicted", ids) + count("expired", ids) == ids.size());
    Thread.sleep(2_500);
    Map<String, Long> evicted = perSession("evicted", ids);
    Map<String, Long> expired = perSession("expired", ids);
    assertThat(evicted.values()).allSatisfy(n -> assertThat(n).isOne());
    assertThat(expired.values()).allSatisfy(n -> assertThat(n).isOne());
    assertThat(evicted.keySet()).doesNotContainAnyElementsOf(expired.keySet());
    assertThat(evicted.size() + expired.size()).isEqualTo(ids.size());
    assertThat(evicted.size()).as("the cap held: at most CAP survived to expire").isGreaterThanOrEqualTo(60 - CAP);
  }

  @Test
  void aResetAndADeleteOnOneInstanceAreHeardOnceOnAnother() throws Exception {
    String id = TestServers.await(cluster.get(0).sessions().forUser("admin-" + UUID.randomUUID(), null)).sessionId();
    assertThat(new Http(cluster.port(1)).post("/admin/sessions/" + id + "/reset", new JsonObject(), Http.admin())
        .status()).isEqualTo(200);
    assertThat(new Http(cluster.port(0)).delete("/admin/sessions/" + id, Http.admin()).status()).isEqualTo(204);
    TestServers.awaitCondition(() -> count("deleted", List.of(id)) == 1);
    Thread.sleep(500);

    assertThat(heard.stream().filter(e -> id.equals(e.getString("sessionId"))).map(e -> e.getString("type")))
        .containsExactly("created", "reset", "deleted");
  }

  private long count(String type, List<String> ids) {
    Set<String> wanted = Set.copyOf(ids);
    return heard.stream().filter(e -> type.equals(e.getString("type")) && wanted.contains(e.getString("sessionId")))
        .count();
  }

  private Map<String, Long> perSession(String type, List<String> ids) {
    Set<String> wanted = Set.copyOf(ids);
    return heard.stream().filter(e -> type.equals(e.getString("type")))
        .map(e -> e.getString("sessionId")).filter(wanted::contains)
        .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
  }
}
