package dev.mcps.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link SessionStore} must have. Each store's test class extends this and says how to build
 * one; the same tests then run against memory and a real Redis.
 */
public abstract class SessionStoreContract {

  protected static final long LONG_TIMEOUT = 60_000;

  protected Vertx vertx;
  protected final SessionCodec codec = new SessionCodec(CredentialCipher.withRandomKey());
  private final List<SessionStore> stores = new ArrayList<>();

  /** A new, empty store over the same backend. */
  protected abstract SessionStore newStore(Vertx vertx, long idleTimeoutMillis, int maxSessions);

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stopVertx() throws Exception {
    for (SessionStore s : stores) {
      await(s.close());
    }
    stores.clear();
    await(vertx.close());
  }

  protected SessionStore store(long idleTimeoutMillis, int maxSessions) {
    SessionStore s = newStore(vertx, idleTimeoutMillis, maxSessions);
    stores.add(s);
    return s;
  }

  protected static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private SessionEnv create(SessionStore store, String userId) throws Exception {
    return await(store.create(SessionEnv.newSession(userId, null, System.currentTimeMillis()))).session();
  }

  @Test
  void aCreatedSessionCanBeReadBackWithItsIdentity() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    SessionEnv s = await(store.create(SessionEnv.newSession("alice", "pl-1", System.currentTimeMillis()))).session();

    SessionEnv read = await(store.get(s.sessionId()));

    assertThat(SessionEnv.isWellFormedId(s.sessionId())).isTrue();
    assertThat(read.sessionId()).isEqualTo(s.sessionId());
    assertThat(read.anthropicConversationId()).isEqualTo(s.anthropicConversationId()).isNotEqualTo(s.sessionId());
    assertThat(read.userId()).isEqualTo("alice");
    assertThat(read.productLabUserId()).isEqualTo("pl-1");
    assertThat(read.createdAt()).isEqualTo(s.createdAt());
    assertThat(read.lastAccessTime()).isGreaterThanOrEqualTo(s.createdAt());
  }

  @Test
  void unknownSessionsAnswerNullEverywhere() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = SessionEnv.randomId();

    assertThat(await(store.get(id))).isNull();
    assertThat(await(store.peek(id))).isNull();
    assertThat(await(store.update(id, s -> s.notes().put("x", 1)))).isNull();
    assertThat(await(store.history(id))).isNull();
    assertThat(await(store.appendHistory(id, List.of(msg("user", "hi"))))).isNull();
    assertThat(await(store.replaceHistory(id, List.of()))).isFalse();
    assertThat(await(store.reset(id))).isFalse();
    assertThat(await(store.delete(id))).isNull();
  }

  @Test
  void aUserGetsTheirLiveSessionBackInsteadOfANewOne() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    SessionStore.Resolved first = await(store.getOrCreateForUser(SessionEnv.newSession("bob", null, now())));
    SessionStore.Resolved second = await(store.getOrCreateForUser(SessionEnv.newSession("bob", null, now())));
    SessionStore.Resolved other = await(store.getOrCreateForUser(SessionEnv.newSession("carol", null, now())));

    assertThat(first.created()).isTrue();
    assertThat(second.created()).isFalse();
    assertThat(second.session().sessionId()).isEqualTo(first.session().sessionId());
    assertThat(other.session().sessionId()).isNotEqualTo(first.session().sessionId());
  }

  @Test
  void concurrentGetOrCreateForOneUserEndsWithOneSession() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 1000);
    List<SessionEnv> got = concurrently(64, i -> store.getOrCreateForUser(SessionEnv.newSession("dave", null, now()))
        .map(SessionStore.Resolved::session));

    assertThat(got.stream().map(SessionEnv::sessionId).distinct()).hasSize(1);
    assertThat(await(store.count())).isEqualTo(1L);
  }

  @Test
  void concurrentUpdatesOnOneSessionLoseNothing() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "erin").sessionId();

    concurrently(200, i -> store.update(id, s -> s.notes().put("k" + i, i)));

    SessionEnv after = await(store.get(id));
    assertThat(after.notes().size()).isEqualTo(200);
    assertThat(after.version()).isEqualTo(200);
    IntStream.range(0, 200).forEach(i -> assertThat(after.notes().getInteger("k" + i)).isEqualTo(i));
  }

  @Test
  void twoHundredUsersWithInterleavedUpdatesNeverSeeEachOthersData() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 1000);
    int users = 200;
    int rounds = 5;
    List<SessionEnv> sessions = concurrently(users, i ->
        store.getOrCreateForUser(SessionEnv.newSession("user-" + i, null, now())).map(SessionStore.Resolved::session));
    String[] ids = new String[users];
    for (SessionEnv s : sessions) {
      ids[Integer.parseInt(s.userId().substring(5))] = s.sessionId();
    }

    // Every operation of every user in one interleaved burst: credentials, a counter note, history appends.
    concurrently(users * rounds * 3, n -> {
      int u = n % users;
      int kind = (n / users) % 3;
      int round = n / (users * 3);
      return switch (kind) {
        case 0 -> store.update(ids[u], s -> s.setJiraCredentials(
            new JiraCredentials("https://u" + u + ".atlassian.net", "user-" + u + "@example.com", "token-" + u)))
            .<Object>map(s -> s);
        case 1 -> store.update(ids[u], s -> s.notes().put("count", s.notes().getInteger("count", 0) + 1)
            .put("owner", "user-" + u)).<Object>map(s -> s);
        default -> store.appendHistory(ids[u], List.of(msg("user", "user-" + u + " round " + round)))
            .<Object>map(len -> len);
      };
    });

    for (int u = 0; u < users; u++) {
      SessionEnv s = await(store.get(ids[u]));
      assertThat(s.userId()).isEqualTo("user-" + u);
      assertThat(s.jiraCredentials().apiToken()).isEqualTo("token-" + u);
      assertThat(s.jiraCredentials().email()).isEqualTo("user-" + u + "@example.com");
      assertThat(s.notes().getString("owner")).isEqualTo("user-" + u);
      assertThat(s.notes().getInteger("count")).as("no lost counter update").isEqualTo(rounds);
      List<JsonObject> history = await(store.history(ids[u]));
      assertThat(history).hasSize(rounds);
      for (JsonObject m : history) {
        assertThat(m.getJsonArray("content").getJsonObject(0).getString("text")).startsWith("user-" + u + " round ");
      }
    }
  }

  @Test
  void historyAppendsInOrderAndCanBeReplaced() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "frank").sessionId();

    assertThat(await(store.appendHistory(id, List.of(msg("user", "one"), msg("assistant", "two"))))).isEqualTo(2);
    assertThat(await(store.appendHistory(id, List.of(msg("user", "three"))))).isEqualTo(3);
    assertThat(texts(await(store.history(id)))).containsExactly("one", "two", "three");
    assertThat(await(store.peek(id)).historyLength()).isEqualTo(3);

    assertThat(await(store.replaceHistory(id, List.of(msg("user", "fresh"))))).isTrue();
    assertThat(texts(await(store.history(id)))).containsExactly("fresh");
  }

  @Test
  void aTurnAppendedTwiceUnderOneTurnIdLandsOnceAndTheRepeatAnswersTheFirstLength() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "turner").sessionId();
    await(store.appendHistory(id, List.of(msg("user", "before"))));

    Integer first = await(store.appendTurn(id, "turn-1", 0, List.of(msg("user", "q1"), msg("assistant", "a1"))));
    Integer again = await(store.appendTurn(id, "turn-1", 0, List.of(msg("user", "q1"), msg("assistant", "a1"))));
    Integer next = await(store.appendTurn(id, "turn-2", 0, List.of(msg("user", "q2"))));
    Integer lateRepeat = await(store.appendTurn(id, "turn-1", 0, List.of(msg("user", "q1"), msg("assistant", "a1"))));

    assertThat(first).isEqualTo(3);
    assertThat(again).as("the length recorded when turn-1 landed").isEqualTo(3);
    assertThat(next).isEqualTo(4);
    assertThat(lateRepeat).as("still the length turn-1 left, not today's").isEqualTo(3);
    assertThat(texts(await(store.history(id)))).containsExactly("before", "q1", "a1", "q2");
  }

  @Test
  void aTurnDropsTheOldestMessagesBeforeAppendingAndDroppingMoreThanThereAreEmptiesTheHistory() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "trimmer").sessionId();
    await(store.appendHistory(id, List.of(msg("user", "m1"), msg("assistant", "m2"), msg("user", "m3"))));

    assertThat(await(store.appendTurn(id, "t-a", 2, List.of(msg("user", "m4"))))).isEqualTo(2);
    assertThat(texts(await(store.history(id)))).containsExactly("m3", "m4");
    assertThat(await(store.appendTurn(id, "t-b", 50, List.of(msg("user", "m5"), msg("assistant", "m6")))))
        .isEqualTo(2);
    assertThat(texts(await(store.history(id)))).containsExactly("m5", "m6");
    assertThat(await(store.peek(id)).historyLength()).isEqualTo(2);
  }

  @Test
  void aTurnOnAnUnknownOrDeletedSessionAnswersNullAndStoresNothing() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "vanishing").sessionId();
    await(store.appendTurn(id, "t-1", 0, List.of(msg("user", "x"))));
    await(store.delete(id));

    assertThat(await(store.appendTurn(SessionEnv.randomId(), "t-1", 0, List.of(msg("user", "x"))))).isNull();
    assertThat(await(store.appendTurn(id, "t-1", 0, List.of(msg("user", "x"))))).isNull();
    assertThat(await(store.history(id))).isNull();
  }

  @Test
  void aTurnThatLandedIsFoundByItsIdWithTheLengthItLeftAndOneThatDidNotIsNot() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "finder").sessionId();
    await(store.appendTurn(id, "landed", 0, List.of(msg("user", "q1"), msg("assistant", "a1"))));
    await(store.appendTurn(id, "later", 0, List.of(msg("user", "q2"))));

    assertThat(await(store.storedTurn(id, "landed"))).isEqualTo(2);
    assertThat(await(store.storedTurn(id, "later"))).isEqualTo(3);
    assertThat(await(store.storedTurn(id, "never"))).isNull();
    assertThat(await(store.storedTurn("no-such-session", "landed"))).isNull();
    assertThat(await(store.history(id))).as("looking changes nothing").hasSize(3);
  }

  @Test
  void concurrentRepeatsOfOneTurnLandItExactlyOnce() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "racer").sessionId();

    List<Integer> answers = concurrently(32, i -> store.appendTurn(id, "the-turn", 0,
        List.of(msg("user", "once"), msg("assistant", "only once"))));

    assertThat(answers).containsOnly(2);
    assertThat(texts(await(store.history(id)))).containsExactly("once", "only once");
  }

  @Test
  void aSessionRemembersOnlyItsRecentTurnIdsAndTheNewestAlways() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "forgetful").sessionId();
    for (int i = 0; i < 40; i++) {
      await(store.appendTurn(id, "t" + i, 0, List.of(msg("user", "m" + i))));
    }

    assertThat(await(store.appendTurn(id, "t39", 0, List.of(msg("user", "m39"))))).isEqualTo(40);
    assertThat(await(store.appendTurn(id, "t10", 0, List.of(msg("user", "m10"))))).isEqualTo(11);
    assertThat(await(store.history(id))).hasSize(40);
  }

  @Test
  void aStoreThatSharesItsHistoryHandsOutTheSameMessagesUntilTheyAreReplacedAndNeverTheCallersOwn()
      throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "grace").sessionId();
    JsonObject mine = msg("user", "one");
    await(store.appendHistory(id, List.of(mine)));

    List<JsonObject> first = await(store.history(id));
    await(store.appendHistory(id, List.of(msg("assistant", "two"))));
    List<JsonObject> second = await(store.history(id));
    await(store.replaceHistory(id, List.of(msg("user", "one"))));
    List<JsonObject> replaced = await(store.history(id));

    // The message a caller appended is never the stored one: changing it later cannot change the history.
    assertThat(first.get(0)).isEqualTo(mine).isNotSameAs(mine);
    assertThat(texts(second)).containsExactly("one", "two");
    assertThat(replaced.get(0)).isEqualTo(first.get(0)).isNotSameAs(first.get(0));
    if (store.historyIsShared()) {
      assertThat(second.get(0)).isSameAs(first.get(0));
    } else {
      assertThat(second.get(0)).isEqualTo(first.get(0)).isNotSameAs(first.get(0));
    }
  }

  @Test
  void resetEmptiesHistoryAndNotesButKeepsIdentityAndCredentials() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "gina").sessionId();
    JiraCredentials creds = new JiraCredentials("https://g.atlassian.net", "g@example.com", "secret-g");
    await(store.update(id, s -> {
      s.setJiraCredentials(creds);
      s.notes().put("a", 1);
    }));
    await(store.appendHistory(id, List.of(msg("user", "hello"))));

    assertThat(await(store.reset(id))).isTrue();

    SessionEnv after = await(store.get(id));
    assertThat(after.notes().isEmpty()).isTrue();
    assertThat(await(store.history(id))).isEmpty();
    assertThat(after.jiraCredentials()).isEqualTo(creds);
    assertThat(after.userId()).isEqualTo("gina");
  }

  @Test
  void deleteRemovesTheSessionAndTheUsersPointerToIt() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = await(store.getOrCreateForUser(SessionEnv.newSession("hank", null, now()))).session().sessionId();
    await(store.appendHistory(id, List.of(msg("user", "x"))));

    SessionStore.Removed removed = await(store.delete(id));

    assertThat(removed).isEqualTo(new SessionStore.Removed(id, "hank"));
    assertThat(await(store.get(id))).isNull();
    assertThat(await(store.history(id))).isNull();
    SessionStore.Resolved again = await(store.getOrCreateForUser(SessionEnv.newSession("hank", null, now())));
    assertThat(again.created()).isTrue();
    assertThat(again.session().sessionId()).isNotEqualTo(id);
  }

  @Test
  void listPagesMostRecentlyUsedFirstWithHistoryLengths() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(create(store, "list-" + i).sessionId());
      Thread.sleep(3); // distinct access times
    }
    await(store.appendHistory(ids.get(0), List.of(msg("user", "a"), msg("assistant", "b"))));

    SessionStore.Page first = await(store.list(0, 2));
    SessionStore.Page rest = await(store.list(2, 10));

    assertThat(first.totalCount()).isEqualTo(5);
    assertThat(first.sessions()).extracting(SessionEnv::sessionId).containsExactly(ids.get(0), ids.get(4));
    assertThat(first.sessions().get(0).historyLength()).isEqualTo(2);
    assertThat(rest.sessions()).extracting(SessionEnv::sessionId).containsExactly(ids.get(3), ids.get(2), ids.get(1));
  }

  @Test
  void idleSessionsExpireAndTheSweepCountsWhatItRemoved() throws Exception {
    SessionStore store = store(400, 100);
    SessionEnv a = create(store, "idle-a");
    SessionEnv b = create(store, "idle-b");
    waitUntil(() -> System.currentTimeMillis() - Math.max(a.lastAccessTime(), b.lastAccessTime()) > 600);

    SessionEnv fresh = create(store, "fresh");
    assertThat(await(store.get(a.sessionId()))).isNull();
    SessionStore.Sweep sweep = await(store.sweep());

    assertThat(sweep.removed()).extracting(SessionStore.Removed::sessionId)
        .containsExactlyInAnyOrder(a.sessionId(), b.sessionId());
    assertThat(sweep.beforeCount() - sweep.afterCount()).isEqualTo(2);
    assertThat(sweep.afterCount()).isEqualTo(1);
    assertThat(await(store.get(fresh.sessionId()))).isNotNull();
    assertThat(await(store.count())).isEqualTo(1L);
  }

  @Test
  void accessSlidesTheIdleTimeout() throws Exception {
    SessionStore store = store(1500, 100);
    String id = create(store, "slider").sessionId();
    long end = System.currentTimeMillis() + 2500;
    while (System.currentTimeMillis() < end) {
      assertThat(await(store.get(id))).as("touched every 250 ms, so still live").isNotNull();
      Thread.sleep(250);
    }
  }

  @Test
  void atTheCapTheLeastRecentlyUsedTenPercentAreEvicted() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 20);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      ids.add(create(store, "cap-" + i).sessionId());
      Thread.sleep(2);
    }
    await(store.get(ids.get(0))); // now the most recently used

    SessionStore.Resolved r = await(store.create(SessionEnv.newSession("cap-new", null, now())));

    assertThat(r.evicted()).extracting(SessionStore.Removed::sessionId).containsExactlyInAnyOrder(ids.get(1), ids.get(2));
    assertThat(r.evicted()).extracting(SessionStore.Removed::userId).containsExactlyInAnyOrder("cap-1", "cap-2");
    assertThat(await(store.get(ids.get(1)))).isNull();
    assertThat(await(store.get(ids.get(0)))).isNotNull();
    assertThat(await(store.count())).isEqualTo(19L);
  }

  @Test
  void aSmallCapStillEvictsAtLeastOne() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 3);
    String oldest = create(store, "s-0").sessionId();
    Thread.sleep(2);
    create(store, "s-1");
    create(store, "s-2");

    SessionStore.Resolved r = await(store.create(SessionEnv.newSession("s-3", null, now())));

    assertThat(r.evicted()).extracting(SessionStore.Removed::sessionId).containsExactly(oldest);
    assertThat(await(store.count())).isEqualTo(3L);
  }

  @Test
  void anAnonymousSessionAtTheCapEvictsTheLeastRecentlyUsedAnonymousOneNeverAUsers() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 10);
    List<String> named = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      named.add(create(store, "named-" + i).sessionId());
      Thread.sleep(2);
    }
    List<String> anonymous = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      anonymous.add(create(store, null).sessionId());
      Thread.sleep(2);
    }

    SessionStore.Resolved r = await(store.create(SessionEnv.newSession(null, null, now())));

    assertThat(r.evicted()).extracting(SessionStore.Removed::sessionId).containsExactly(anonymous.get(0));
    for (String id : named) {
      assertThat(await(store.peek(id))).as("a user's session stays").isNotNull();
    }
    assertThat(await(store.count())).isEqualTo(10L);
  }

  @Test
  void anAnonymousSessionAtACapFullOfUsersSessionsIsRefusedAndEvictsNobody() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 5);
    List<String> named = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      named.add(create(store, "full-" + i).sessionId());
    }

    Throwable refused = store.create(SessionEnv.newSession(null, null, now()))
        .toCompletionStage().toCompletableFuture().handle((ok, err) -> err).get(30, TimeUnit.SECONDS);

    assertThat(refused).isInstanceOf(dev.mcps.ApiException.class);
    assertThat(((dev.mcps.ApiException) refused).status()).isEqualTo(503);
    assertThat(((dev.mcps.ApiException) refused).code()).isEqualTo("Session_Limit_Reached");
    assertThat(await(store.count())).isEqualTo(5L);
    for (String id : named) {
      assertThat(await(store.peek(id))).isNotNull();
    }
  }

  @Test
  void aUsersSessionAtTheCapEvictsTheLeastRecentlyUsedWhetherAnonymousOrNot() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 3);
    String oldestAnonymous = create(store, null).sessionId();
    Thread.sleep(2);
    create(store, "u-1");
    create(store, "u-2");

    SessionStore.Resolved r = await(store.create(SessionEnv.newSession("u-3", null, now())));

    assertThat(r.evicted()).extracting(SessionStore.Removed::sessionId).containsExactly(oldestAnonymous);
  }

  @Test
  void expiredUsersSessionsMakeRoomForAnAnonymousOne() throws Exception {
    SessionStore store = store(300, 2);
    create(store, "gone-1");
    create(store, "gone-2");
    waitUntil(() -> {
      try {
        return await(store.count()) == 0L;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });

    SessionStore.Resolved r = await(store.create(SessionEnv.newSession(null, null, now())));

    assertThat(r.created()).isTrue();
    assertThat(r.evicted()).hasSize(1);
  }

  @Test
  void theTurnLockHasOneOwnerAtATimeAndOnlyTheOwnerReleasesIt() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "locker").sessionId();

    String first = await(store.tryLock(id, 10_000));
    String second = await(store.tryLock(id, 10_000));
    await(store.unlock(id, "not-the-token"));
    String stillHeld = await(store.tryLock(id, 10_000));
    await(store.unlock(id, first));
    String afterRelease = await(store.tryLock(id, 10_000));

    assertThat(first).isNotNull();
    assertThat(second).isNull();
    assertThat(stillHeld).isNull();
    assertThat(afterRelease).isNotNull().isNotEqualTo(first);
  }

  @Test
  void anExpiredTurnLockCanBeTakenAgain() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String id = create(store, "crashed").sessionId();
    String dead = await(store.tryLock(id, 100));
    waitUntil(() -> {
      try {
        return await(store.tryLock(id, 10_000)) != null;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    await(store.unlock(id, dead));
    assertThat(await(store.tryLock(id, 10_000))).as("the late unlock of the dead owner freed nothing").isNull();
  }

  // --- helpers ---

  protected static long now() {
    return System.currentTimeMillis();
  }

  protected static JsonObject msg(String role, String text) {
    return new JsonObject().put("role", role)
        .put("content", new io.vertx.core.json.JsonArray().add(new JsonObject().put("type", "text").put("text", text)));
  }

  private static List<String> texts(List<JsonObject> history) {
    return history.stream().map(m -> m.getJsonArray("content").getJsonObject(0).getString("text")).toList();
  }

  protected static void waitUntil(Supplier<Boolean> condition) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 20_000;
    while (!condition.get()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("condition not reached in 20 s");
      }
      Thread.sleep(20);
    }
  }

  /** Starts {@code n} operations from 8 threads at once (real parallelism for the memory store too). */
  protected static <T> List<T> concurrently(int n, java.util.function.IntFunction<Future<T>> op) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<Future<T>>> started = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int k = i;
        started.add(pool.submit(() -> op.apply(k)));
      }
      List<T> out = new ArrayList<>(n);
      for (var f : started) {
        out.add(await(f.get(30, TimeUnit.SECONDS)));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  protected static Set<String> distinct(List<String> values) {
    return new HashSet<>(values);
  }

  // --- Idempotency-Key records ---

  @Test
  void anIdempotencyKeyIsClaimedOnceAndThenShowsItsRecord() throws Exception {
    SessionStore store = store(60_000, 100);
    assertThat(await(store.claimIdempotency("u:k1", "{\"claim\":\"a\"}", 60_000))).isNull();
    assertThat(await(store.claimIdempotency("u:k1", "{\"claim\":\"b\"}", 60_000))).isEqualTo("{\"claim\":\"a\"}");

    await(store.completeIdempotency("u:k1", "{\"claim\":\"b\"}", "{\"not\":\"mine\"}", 60_000));
    assertThat(await(store.claimIdempotency("u:k1", "{}", 60_000))).as("only the claim's owner completes it")
        .isEqualTo("{\"claim\":\"a\"}");
    await(store.completeIdempotency("u:k1", "{\"claim\":\"a\"}", "{\"done\":1}", 60_000));
    assertThat(await(store.claimIdempotency("u:k1", "{}", 60_000))).isEqualTo("{\"done\":1}");
    assertThat(await(store.claimIdempotency("v:k1", "{}", 60_000))).as("another user's key").isNull();
  }

  @Test
  void aReleasedOrExpiredIdempotencyClaimCanBeClaimedAgain() throws Exception {
    SessionStore store = store(60_000, 100);
    await(store.claimIdempotency("u:k2", "{\"claim\":\"a\"}", 60_000));
    await(store.releaseIdempotency("u:k2", "{\"claim\":\"other\"}"));
    assertThat(await(store.claimIdempotency("u:k2", "{}", 60_000))).as("not released by a stranger").isNotNull();
    await(store.releaseIdempotency("u:k2", "{\"claim\":\"a\"}"));
    assertThat(await(store.claimIdempotency("u:k2", "{\"claim\":\"c\"}", 50))).isNull();

    long until = System.currentTimeMillis() + 5_000;
    String found;
    do {
      found = await(store.claimIdempotency("u:k2", "{\"claim\":\"d\"}", 60_000));
      Thread.sleep(10);
    } while (found != null && System.currentTimeMillis() < until);
    assertThat(found).as("the 50 ms claim expired and was claimed anew").isNull();
  }

  // --- Streamable MCP session state and events ---

  @Test
  void anMcpSessionStateIsReadBackAsStoredAndExpiresUnlessTouched() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    String json = new JsonObject().put("userSessionId", "u-1").put("protocolVersion", "2025-06-18").encode();
    await(store.putMcpSession("m-1", json, 400));

    assertThat(await(store.getMcpSession("m-1", 400))).isEqualTo(json);
    assertThat(await(store.getMcpSession("m-unknown", 400))).isNull();
    for (int i = 0; i < 4; i++) {
      Thread.sleep(200);
      assertThat(await(store.touchMcpSession("m-1", 400))).as("a touched state stays").isTrue();
    }
    Thread.sleep(700);
    assertThat(await(store.getMcpSession("m-1", 400))).as("an untouched state expires").isNull();
    assertThat(await(store.touchMcpSession("m-1", 400))).isFalse();
  }

  @Test
  void anMcpSessionStateIsReplacedOnlyWhileItIsStillTheExpectedOne() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    await(store.putMcpSession("m-2", "{\"v\":1}", 60_000));

    assertThat(await(store.replaceMcpSession("m-2", "{\"v\":1}", "{\"v\":2}", 60_000))).isTrue();
    assertThat(await(store.replaceMcpSession("m-2", "{\"v\":1}", "{\"v\":3}", 60_000))).isFalse();
    assertThat(await(store.getMcpSession("m-2", 60_000))).isEqualTo("{\"v\":2}");
    assertThat(await(store.replaceMcpSession("m-none", "{}", "{}", 60_000))).isFalse();
    assertThat(await(store.getMcpSession("m-none", 60_000))).as("nothing created").isNull();
  }

  @Test
  void mcpEventsAreReadBackAfterAnIdInOrderPerStreamAndOnlyTheNewestAreKept() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    await(store.putMcpSession("m-3", "{}", 60_000));
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 6; i++) {
      ids.add(await(store.appendMcpEvent("m-3", "listen", "e" + i, 4, 60_000)));
      await(store.appendMcpEvent("m-3", "other", "x" + i, 4, 60_000));
    }

    assertThat(new HashSet<>(ids)).hasSize(6);
    List<SessionStore.McpEvent> after = await(store.mcpEventsAfter("m-3", "listen", ids.get(4)));
    assertThat(after).extracting(SessionStore.McpEvent::data).containsExactly("e6");
    assertThat(after.get(0).id()).isEqualTo(ids.get(5));
    assertThat(await(store.mcpEventsAfter("m-3", "listen", ids.get(5)))).as("nothing missed").isEmpty();
    assertThat(await(store.mcpEventsAfter("m-3", "listen", ids.get(0)))).as("trimmed away: too old").isNull();
    assertThat(await(store.mcpEventsAfter("m-3", "listen", "99999999999999-0"))).as("unknown").isNull();
    assertThat(await(store.appendMcpEvent("m-unknown", "listen", "lost", 4, 60_000)))
        .as("no events for a session that does not exist").isNull();
  }

  @Test
  void deletingAnMcpSessionRemovesItsStateAndEvents() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    await(store.putMcpSession("m-4", "{}", 60_000));
    String first = await(store.appendMcpEvent("m-4", "listen", "a", 10, 60_000));
    await(store.appendMcpEvent("m-4", "listen", "b", 10, 60_000));

    assertThat(await(store.deleteMcpSession("m-4"))).isTrue();

    assertThat(await(store.getMcpSession("m-4", 60_000))).isNull();
    assertThat(await(store.mcpEventsAfter("m-4", "listen", first))).isNull();
    assertThat(await(store.deleteMcpSession("m-4"))).isFalse();
  }

  @Test
  void mcpEventsExpireWithTheirOwnTtl() throws Exception {
    SessionStore store = store(LONG_TIMEOUT, 100);
    await(store.putMcpSession("m-5", "{}", 60_000));
    String first = await(store.appendMcpEvent("m-5", "listen", "a", 10, 300));
    await(store.appendMcpEvent("m-5", "listen", "b", 10, 300));
    assertThat(await(store.mcpEventsAfter("m-5", "listen", first))).hasSize(1);

    Thread.sleep(700);

    assertThat(await(store.mcpEventsAfter("m-5", "listen", first))).isNull();
    assertThat(await(store.getMcpSession("m-5", 60_000))).as("the state has its own TTL").isEqualTo("{}");
  }
}
