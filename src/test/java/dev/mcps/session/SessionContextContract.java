package dev.mcps.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcps.ApiException;
import dev.mcps.testing.TestServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The session context survives every kind of async hop, and never shows one request another's session. Runs on
 * each store: the event-bus hop reloads the session from it.
 */
abstract class SessionContextContract {

  private Vertx vertx;
  private Sessions sessions;
  private HttpServer slowServer;
  private WebClient client;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    sessions = new Sessions(vertx, newStore(vertx, new SessionCodec(CredentialCipher.withRandomKey())), 5_000);
    // A loopback server that answers after a random delay, so client callbacks interleave.
    slowServer = TestServers.await(vertx.createHttpServer().requestHandler(req ->
        vertx.setTimer(1 + ThreadLocalRandom.current().nextInt(20), t -> req.response().end("ok")))
        .listen(0, "127.0.0.1"));
    client = WebClient.create(vertx);
  }

  @AfterEach
  void tearDown() {
    TestServers.await(sessions.close());
    TestServers.await(vertx.close());
  }

  protected abstract SessionStore newStore(Vertx vertx, SessionCodec codec);

  @Test
  void aThousandConcurrentRequestsEachSeeTheirOwnSessionAtEveryAsyncStep() {
    // A consumer on another address, as other verticles would be: it gets the session only from the header.
    TestServers.await(SessionBus.<JsonObject>consumer(vertx, sessions, "test.whoami", msg ->
        vertx.timer(1 + ThreadLocalRandom.current().nextInt(10), TimeUnit.MILLISECONDS)
            .map(v -> new JsonObject().put("seen", SessionContext.require().sessionId())
                .put("asked", msg.body().getString("expect")))).completion());

    int requests = 1000;
    List<SessionEnv> all = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      all.add(TestServers.await(sessions.forUser("ctx-user-" + i, null)));
    }
    Set<String> mismatches = ConcurrentHashMap.newKeySet();
    AtomicInteger steps = new AtomicInteger();
    int port = slowServer.actualPort();

    List<Future<Void>> runs = new ArrayList<>();
    for (SessionEnv session : all) {
      String expected = session.sessionId();
      Runnable check = () -> {
        steps.incrementAndGet();
        SessionEnv now = SessionContext.current();
        if (now == null || !now.sessionId().equals(expected)) {
          mismatches.add(expected + " saw " + (now == null ? "none" : now.sessionId()));
        }
      };
      runs.add(SessionContext.runWith(vertx, session, () -> {
        check.run();
        return vertx.executeBlocking(() -> {
              Thread.sleep(ThreadLocalRandom.current().nextInt(3));
              check.run();
              return null;
            }, false)
            .compose(v -> {
              check.run();
              return vertx.timer(1 + ThreadLocalRandom.current().nextInt(15), TimeUnit.MILLISECONDS);
            })
            .compose(v -> {
              check.run();
              return client.get(port, "127.0.0.1", "/").send();
            })
            .compose(resp -> {
              check.run();
              return SessionBus.<JsonObject>request(vertx, "test.whoami", new JsonObject().put("expect", expected));
            })
            .map(reply -> {
              check.run();
              if (!expected.equals(reply.getString("seen"))) {
                mismatches.add(expected + " consumer saw " + reply.getString("seen"));
              }
              return (Void) null;
            });
      }));
    }
    TestServers.await(Future.all(runs));

    assertThat(mismatches).isEmpty();
    assertThat(steps.get()).isEqualTo(requests * 6);
  }

  /** How the wrapped store's {@code get} answers: from a thread of its own, or never. */
  private enum Answer { SUCCEED_ELSEWHERE, FAIL_ELSEWHERE, NEVER }

  /** The real store, except that {@code get} answers as {@code answer} says. */
  private SessionStore misbehaving(SessionStore real, Answer answer) {
    return (SessionStore) java.lang.reflect.Proxy.newProxyInstance(SessionStore.class.getClassLoader(),
        new Class<?>[] {SessionStore.class}, (proxy, method, args) -> {
          if (!method.getName().equals("get")) {
            try {
              return method.invoke(real, args);
            } catch (java.lang.reflect.InvocationTargetException e) {
              throw e.getCause();
            }
          }
          io.vertx.core.Promise<SessionEnv> promise = io.vertx.core.Promise.promise();
          if (answer != Answer.NEVER) {
            Future<SessionEnv> real1 = real.get((String) args[0]);
            new Thread(() -> real1.toCompletionStage().whenComplete((s, err) -> {
              if (answer == Answer.SUCCEED_ELSEWHERE) {
                promise.complete(s);
              } else {
                promise.fail(new IllegalStateException("the store broke"));
              }
            }), "not-a-vertx-thread").start();
          }
          return promise.future();
        });
  }

  @Test
  void aStoreCallThatSucceedsFailsOrTimesOutAnswersOnTheCallersSession() {
    SessionStore real = newStore(vertx, new SessionCodec(CredentialCipher.withRandomKey()));
    SessionEnv session = TestServers.await(sessions.forUser("ctx-after-store", null));
    try {
      for (Answer answer : Answer.values()) {
        Sessions guarded = new Sessions(vertx, misbehaving(real, answer), 300);
        Future<String> seen = SessionContext.runWith(vertx, session, () -> guarded.find(session.sessionId())
            .transform(ar -> {
              SessionEnv now = SessionContext.current();
              String outcome = ar.succeeded() ? "ok" : ((ApiException) ar.cause()).code();
              return Future.succeededFuture(outcome + " in " + (now == null ? "no session" : now.sessionId()));
            }));

        String expected = (answer == Answer.SUCCEED_ELSEWHERE ? "ok" : "Store_Unavailable") + " in "
            + session.sessionId();
        assertThat(TestServers.<String>await(seen)).as(answer.name()).isEqualTo(expected);
      }
    } finally {
      TestServers.await(real.close());
    }
  }

  @Test
  void logLinesCarryTheSessionIdOfTheCodeThatWritesThem() {
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("mdc-probe");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      SessionEnv a = TestServers.await(sessions.forUser("mdc-a", null));
      SessionEnv b = TestServers.await(sessions.forUser("mdc-b", null));
      TestServers.await(Future.all(
          SessionContext.runWith(vertx, a, () -> vertx.timer(5, TimeUnit.MILLISECONDS).map(v -> {
            logger.info("from a");
            return null;
          })),
          SessionContext.runWith(vertx, b, () -> vertx.timer(1, TimeUnit.MILLISECONDS).map(v -> {
            logger.info("from b");
            return null;
          }))));
      logger.info("from nobody");

      assertThat(appender.list).extracting(e -> e.getFormattedMessage() + "=" + e.getMDCPropertyMap().get("sessionId"))
          .containsExactlyInAnyOrder("from a=" + a.sessionId(), "from b=" + b.sessionId(), "from nobody=null");
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void requireOutsideASessionFailsClearly() {
    assertThat(SessionContext.current()).isNull();
    assertThatThrownBy(SessionContext::require).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("No session in context");
  }

  @Test
  void aBusMessageWithoutASessionRunsWithoutOne() {
    TestServers.await(SessionBus.<String>consumer(vertx, sessions, "test.none", msg ->
        Future.succeededFuture(SessionContext.current() == null ? "none" : "leak")).completion());
    assertThat(TestServers.<String>await(SessionBus.request(vertx, "test.none", "x"))).isEqualTo("none");
  }

  @Test
  void aBusMessageNamingAnEndedSessionFailsWith404() {
    SessionEnv s = TestServers.await(sessions.forUser("gone", null));
    TestServers.await(sessions.delete(s.sessionId()));
    TestServers.await(SessionBus.<String>consumer(vertx, sessions, "test.gone", msg ->
        Future.succeededFuture("ran")).completion());

    Future<String> reply = SessionContext.runWith(vertx, s, () -> SessionBus.request(vertx, "test.gone", "x"));

    assertThatThrownBy(() -> TestServers.await(reply)).hasCauseInstanceOf(ReplyException.class)
        .satisfies(e -> {
          ReplyException re = (ReplyException) e.getCause();
          assertThat(re.failureCode()).isEqualTo(404);
          assertThat(new JsonObject(re.getMessage()).getString("error")).isEqualTo("Session_Not_Found");
        });
  }

  @Test
  void aHandlerFailureTravelsBackAsTheHttpStatusAndErrorJson() {
    TestServers.await(SessionBus.<String>consumer(vertx, sessions, "test.fail", msg ->
        Future.failedFuture(new ApiException(409, "Conflict_Test", "nope"))).completion());

    Future<String> reply = SessionBus.request(vertx, "test.fail", "x");

    assertThatThrownBy(() -> TestServers.await(reply)).hasCauseInstanceOf(ReplyException.class)
        .satisfies(e -> assertThat(((ReplyException) e.getCause()).failureCode()).isEqualTo(409));
  }
}
