package dev.mcps.chat;

import static dev.mcps.chat.ScriptedProvider.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.session.CredentialCipher;
import dev.mcps.session.MemorySessionStore;
import dev.mcps.session.SessionCodec;
import dev.mcps.session.SessionContext;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.SessionStore;
import dev.mcps.session.Sessions;
import dev.mcps.testing.TestServers;
import dev.mcps.tools.ToolCatalog;
import dev.mcps.tools.ToolSelector;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The turn deadline against the store write: after a 504 nothing of the turn is stored, after a 200 all of it. */
class TurnDeadlineTest {

  private static final long TURN_TIMEOUT_MS = 300;
  private static final Set<String> WRITES = Set.of("appendHistory", "replaceHistory", "appendTurn");

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void tearDown() {
    TestServers.await(vertx.close());
  }

  /** A memory store whose history writes land at once but answer only {@code answerAfterMs} later (a slow store). */
  private SessionStore slowWrites(long answerAfterMs) {
    SessionStore memory = new MemorySessionStore(600_000, 100, new SessionCodec(CredentialCipher.withRandomKey()));
    return (SessionStore) Proxy.newProxyInstance(SessionStore.class.getClassLoader(), new Class<?>[] {SessionStore.class},
        (proxy, method, args) -> {
          Object result;
          try {
            result = method.invoke(memory, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (WRITES.contains(method.getName())) {
            Future<?> written = (Future<?>) result;
            return vertx.timer(answerAfterMs, TimeUnit.MILLISECONDS).compose(t -> written);
          }
          return result;
        });
  }

  @Test
  void aDeadlinePassingWhileTheTurnIsStoredWaitsForTheStoreAndAnswersWithEverythingStored() {
    Sessions sessions = new Sessions(vertx, slowWrites(3 * TURN_TIMEOUT_MS), 10_000);
    AgentLoop loop = new AgentLoop(vertx, sessions, Map.of("anthropic", new ScriptedProvider(
        r -> Future.succeededFuture(text("quick")))), new ToolSelector(new ToolCatalog(List.of(), false)),
        new TurnLimits(5, TURN_TIMEOUT_MS, 200, 524_288, 32_768, 3));
    SessionEnv session = TestServers.await(sessions.forUser("slow-store", null));

    TurnReply reply = TestServers.await(SessionContext.runWith(vertx, session,
        () -> loop.run("hi", "anthropic", null, TurnEvents.NONE, false)));

    assertThat(reply.response()).isEqualTo("quick");
    assertThat(reply.history()).hasSize(2);
    assertThat(TestServers.await(sessions.history(session.sessionId()))).hasSize(2);
  }
}
