package dev.mcps.chat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.provider.WireMemo;
import dev.mcps.session.CredentialCipher;
import dev.mcps.session.MemorySessionStore;
import dev.mcps.session.SessionCodec;
import dev.mcps.session.Sessions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TurnMemosTest {

  /** A memo holding one message encoded as {@code bytes} bytes. */
  private static WireMemo memoOf(int bytes) {
    WireMemo memo = new WireMemo();
    memo.message("wire", 0, new JsonObject(), m -> Buffer.buffer(new byte[bytes]));
    return memo;
  }

  @Test
  void aSessionGetsBackTheMemoOfItsLastTurnAndNoOtherSessionDoes() {
    TurnMemos memos = new TurnMemos(10, 1_000);
    WireMemo first = memos.take("s1");
    memos.give("s1", first);

    assertThat(memos.take("s2")).isNotSameAs(first);
    assertThat(memos.take("s1")).isSameAs(first);
    // Taken out while its turn runs: a second taker (which the turn lock prevents) would get a fresh one.
    assertThat(memos.take("s1")).isNotSameAs(first);
  }

  @Test
  void theLeastRecentlyUsedSessionsGoFirstBeyondTheSessionBound() {
    TurnMemos memos = new TurnMemos(2, 1_000);
    WireMemo a = memoOf(1);
    memos.give("a", a);
    memos.give("b", memoOf(1));
    memos.give("a", memos.take("a"));
    memos.give("c", memoOf(1));

    assertThat(memos.size()).isEqualTo(2);
    assertThat(memos.take("a")).isSameAs(a);
    assertThat(memos.take("b").bytes()).as("b was evicted: a fresh memo").isZero();
  }

  @Test
  void theAgentLoopDropsTheMemoOfASessionThatEndedOrWasReset() {
    Vertx vertx = Vertx.vertx();
    try {
      AgentLoop loop = new AgentLoop(vertx, new Sessions(vertx, new MemorySessionStore(600_000, 100,
          new SessionCodec(CredentialCipher.withRandomKey())), 5_000), Map.of(), null,
          new TurnLimits(5, 10_000, 200, 524_288, 32_768, 3));
      TurnMemos memos = loop.memos();
      for (String id : List.of("created", "expired", "evicted", "deleted", "reset")) {
        memos.give(id, memoOf(1));
      }

      for (String type : List.of("created", "expired", "evicted", "deleted", "reset")) {
        loop.sessionEvent(new JsonObject().put("type", type).put("sessionId", type));
      }

      assertThat(memos.size()).isEqualTo(1);
      assertThat(memos.take("created").bytes()).as("a live session keeps its memo").isEqualTo(1);
    } finally {
      vertx.close();
    }
  }

  @Test
  void theEncodedBytesKeptStayWithinTheBudget() {
    TurnMemos memos = new TurnMemos(100, 100);
    memos.give("a", memoOf(40));
    memos.give("b", memoOf(40));
    memos.give("c", memoOf(40));

    assertThat(memos.bytes()).isEqualTo(80);
    assertThat(memos.size()).isEqualTo(2);
    assertThat(memos.take("a").bytes()).isZero();

    memos.give("huge", memoOf(101));
    assertThat(memos.size()).as("a memo over the whole budget is not kept, and evicts nothing").isEqualTo(2);
    assertThat(memos.bytes()).isEqualTo(80);
  }
}
