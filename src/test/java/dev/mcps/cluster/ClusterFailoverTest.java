package dev.mcps.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestCluster;
import dev.mcps.testing.TestServers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three clustered instances on one Redis behind a load balancer with no stickiness; one of them dies abruptly while
 * users keep chatting. The balancer (like nginx's {@code proxy_next_upstream error}) sends a request whose connection
 * failed to the next instance, and the users retry a turn with the same {@code Idempotency-Key}, so a turn the dead
 * instance had finished is answered from its record instead of running again.
 */
class ClusterFailoverTest {

  private static final int USERS = 30;
  private static final int TURNS_AFTER_THE_KILL = 3;

  private TestCluster cluster;

  @BeforeEach
  void start() {
    cluster = TestCluster.chatting(3, Map.of(
        // A dead instance's turn lock and Idempotency-Key claim free themselves after their expiry, which follows
        // the turn deadline: keep it short so that the users whose turn it held wait seconds, not minutes.
        "CHAT_TURN_TIMEOUT_SECONDS", "5",
        // Nothing is trimmed: the check below looks for every answered turn in the stored history.
        "HISTORY_MAX_MESSAGES", "100000", "HISTORY_MAX_BYTES", "100000000"));
  }

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void killingAnInstanceUnderLoadLeavesTheOthersServingAndLosesNoSessionAndStoresNoTurnTwice() throws Exception {
    Balancer balancer = new Balancer(List.of(cluster.port(0), cluster.port(1), cluster.port(2)));
    List<User> users = new ArrayList<>();
    for (int u = 0; u < USERS; u++) {
      users.add(new User("failover-user-" + u, balancer));
    }
    AtomicBoolean running = new AtomicBoolean(true);
    ExecutorService pool = Executors.newFixedThreadPool(USERS);
    List<Future<?>> loops = new ArrayList<>();
    try {
      for (User user : users) {
        loops.add(pool.submit(() -> user.chatUntil(running)));
      }
      TestServers.awaitCondition(60, () -> users.stream().allMatch(u -> u.answered.size() >= 3 || u.failed()));
      assertNoFailures(users);

      cluster.kill(0);
      long killedAt = System.nanoTime();
      for (User user : users) {
        user.killedAt.set(killedAt);
      }

      // B and C keep serving every user, also those whose turn was on A when it died (they wait out its lock and
      // claim, about 40 s).
      TestServers.awaitCondition(120, () -> users.stream()
          .allMatch(u -> u.answeredAfterKill.get() >= TURNS_AFTER_THE_KILL || u.failed()));
      assertNoFailures(users);
    } finally {
      running.set(false);
      for (Future<?> loop : loops) {
        loop.get(150, TimeUnit.SECONDS);
      }
      pool.shutdownNow();
    }
    assertNoFailures(users);
    assertThat(balancer.failedOver.get()).as("requests that met the dead instance went to another").isPositive();

    for (int i = 1; i <= 2; i++) {
      Http http = new Http(cluster.port(i));
      TestServers.awaitCondition(60, () -> http.get("/health").json().getJsonObject("cluster")
          .getInteger("members") == 2);
    }

    JsonObject listed = new Http(cluster.port(1)).get("/admin/sessions?limit=1000", Http.admin()).json();
    Set<String> listedIds = new HashSet<>();
    listed.getJsonArray("sessions").forEach(s -> listedIds.add(((JsonObject) s).getString("sessionId")));
    for (User user : users) {
      assertThat(listedIds).as("%s's session is still listed on B", user.id).contains(user.sessionId.get());
      List<JsonObject> history = TestServers.await(cluster.get(1).sessions().history(user.sessionId.get()));
      assertThat(history.size() % 4).as("%s's history is whole turns", user.id).isZero();
      List<String> stored = new ArrayList<>();
      for (int m = 0; m < history.size(); m += 4) {
        String asked = text(history.get(m));
        assertThat(type(history.get(m + 1))).isEqualTo("tool_use");
        assertThat(type(history.get(m + 2))).isEqualTo("tool_result");
        assertThat(text(history.get(m + 3))).as("each turn's four messages stay together")
            .isEqualTo("answer to " + asked);
        stored.add(asked);
      }
      // Every turn ran to its answer before the load stopped: what is stored is exactly what was answered, in order,
      // each once.
      assertThat(stored).as("%s's stored turns", user.id).containsExactlyElementsOf(user.answered);
    }
  }

  private static void assertNoFailures(List<User> users) {
    for (User user : users) {
      assertThat(user.failure.get()).as("%s's failure", user.id).isNull();
    }
  }

  /**
   * The load balancer: round robin over the instances; a request whose connection fails (refused, reset, closed
   * before the answer) goes to the next one, as nginx does with {@code proxy_next_upstream error} — for a POST too,
   * which is safe here because the request carries an Idempotency-Key.
   */
  private static final class Balancer {
    private final List<Integer> ports;
    private final AtomicInteger next = new AtomicInteger();
    /** Requests sent on to the next instance after a connection error. */
    private final AtomicInteger failedOver = new AtomicInteger();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();

    Balancer(List<Integer> ports) {
      this.ports = ports;
    }

    HttpResponse<String> post(String path, JsonObject body, String idempotencyKey) throws InterruptedException {
      IOException last = null;
      int first = Math.floorMod(next.getAndIncrement(), ports.size());
      for (int i = 0; i < ports.size(); i++) {
        int port = ports.get((first + i) % ports.size());
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(100)).header("Content-Type", "application/json")
            .header("Idempotency-Key", idempotencyKey).POST(HttpRequest.BodyPublishers.ofString(body.encode()))
            .build();
        try {
          return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
          last = e;
          failedOver.incrementAndGet();
        }
      }
      throw new IllegalStateException("no instance answered", last);
    }
  }

  /** One user chatting in one session, one turn at a time, until told to stop. */
  private static final class User {
    private final String id;
    private final Balancer balancer;
    private final AtomicReference<String> sessionId = new AtomicReference<>();
    /** The messages of the turns answered 200, in order. */
    private final Queue<String> answered = new ConcurrentLinkedQueue<>();
    private final AtomicInteger answeredAfterKill = new AtomicInteger();
    private final AtomicReference<Long> killedAt = new AtomicReference<>();
    private final AtomicReference<String> failure = new AtomicReference<>();

    User(String id, Balancer balancer) {
      this.id = id;
      this.balancer = balancer;
    }

    boolean failed() {
      return failure.get() != null;
    }

    void chatUntil(AtomicBoolean running) {
      try {
        for (int turn = 0; running.get() && !failed(); turn++) {
          String message = id + " turn " + turn;
          long startedAt = System.nanoTime();
          if (answer(message)) {
            answered.add(message);
            Long kill = killedAt.get();
            if (kill != null && startedAt > kill) {
              answeredAfterKill.incrementAndGet();
            }
          }
          Thread.sleep(100);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        failure.compareAndSet(null, e.toString());
      }
    }

    /**
     * One turn, retried with the same body and key until it is answered: after a 409 (the dead instance's lock or
     * claim has not expired yet), a 503 or a 504 (a failed turn stores nothing and frees its key). False when it
     * failed for another reason (recorded as the user's failure).
     */
    private boolean answer(String message) throws InterruptedException {
      JsonObject body = new JsonObject().put("userId", id).put("message", message);
      if (sessionId.get() != null) {
        body.put("sessionId", sessionId.get());
      }
      String key = "k-" + message.replace(' ', '-');
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline) {
        HttpResponse<String> r = balancer.post("/chat", body, key);
        if (r.statusCode() == 200) {
          JsonObject reply = new JsonObject(r.body());
          if (!("answer to " + message).equals(reply.getString("response"))) {
            failure.compareAndSet(null, message + " was answered " + reply.getString("response"));
            return false;
          }
          if (!sessionId.compareAndSet(null, reply.getString("sessionId"))
              && !sessionId.get().equals(reply.getString("sessionId"))) {
            failure.compareAndSet(null, message + " landed in another session: " + r.body());
            return false;
          }
          return true;
        }
        if (r.statusCode() != 409 && r.statusCode() != 503 && r.statusCode() != 504) {
          failure.compareAndSet(null, message + " answered " + r.statusCode() + " " + r.body());
          return false;
        }
        Thread.sleep(200);
      }
      failure.compareAndSet(null, message + " was not answered within 120 s");
      return false;
    }
  }

  private static String type(JsonObject message) {
    return ((JsonArray) message.getValue("content")).getJsonObject(0).getString("type");
  }

  private static String text(JsonObject message) {
    return FakeAnthropic.textOf(message);
  }
}
