package dev.mcps.mcp.stateless;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcps.mcp.features.McpFailure;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RequestStatesTest {

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final Clock clock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(now.get());
    }
  };
  private final byte[] key = RequestStates.deriveKey(new byte[32]);
  private final RequestStates states = new RequestStates(key, Duration.ofMinutes(10), 100_000, clock);

  @Test
  void aSealedStateOpensForItsUserAndRequestWithTheAnswersItCarries() {
    JsonObject answers = new JsonObject().put("confirm", new JsonObject().put("action", "accept"));
    String digest = RequestStates.requestDigest("tools/call", "jira_create_issue", new JsonObject().put("a", 1));

    String state = states.seal("u:alice|s:", digest, answers);

    assertThat(states.open(state, "u:alice|s:", digest)).isEqualTo(answers);
    assertThat(state).doesNotContain("accept");
  }

  @Test
  void anotherInstanceWithTheSameConfiguredKeyOpensIt() {
    String digest = RequestStates.requestDigest("tools/call", "t", new JsonObject());
    String state = states.seal("u:bob|s:", digest, new JsonObject());

    RequestStates other = new RequestStates(RequestStates.deriveKey(new byte[32]), Duration.ofMinutes(10), 100_000,
        clock);

    assertThat(other.open(state, "u:bob|s:", digest)).isEmpty();
  }

  @Test
  void itIsRefusedAfterItsLifetimeOrUnderAnotherKey() {
    String digest = RequestStates.requestDigest("tools/call", "t", new JsonObject());
    String state = states.seal("", digest, new JsonObject());
    RequestStates otherKey = new RequestStates(RequestStates.deriveKey(new byte[] {1, 2, 3}), Duration.ofMinutes(10),
        100_000, clock);

    assertThatThrownBy(() -> otherKey.open(state, "", digest)).isInstanceOf(McpFailure.class)
        .hasMessageContaining("integrity");
    now.addAndGet(Duration.ofMinutes(11).toMillis());
    assertThatThrownBy(() -> states.open(state, "", digest)).isInstanceOf(McpFailure.class)
        .hasMessageContaining("expired");
  }

  @Test
  void theRequestDigestIgnoresKeyOrderButNotValues() {
    String one = RequestStates.requestDigest("tools/call", "t",
        new JsonObject().put("a", 1).put("b", new JsonObject().put("x", "y").put("z", 2)));
    String sameInOtherOrder = RequestStates.requestDigest("tools/call", "t",
        new JsonObject().put("b", new JsonObject().put("z", 2).put("x", "y")).put("a", 1));
    String otherValue = RequestStates.requestDigest("tools/call", "t",
        new JsonObject().put("a", 2).put("b", new JsonObject().put("x", "y").put("z", 2)));

    assertThat(one).isEqualTo(sameInOtherOrder).isNotEqualTo(otherValue);
  }

  @Test
  void garbageAndOversizedStatesAreRefusedAsInvalidParams() {
    String digest = RequestStates.requestDigest("tools/call", "t", new JsonObject());
    for (String bad : new String[] {"", "!!!", "AAAA", "x".repeat(100_001)}) {
      assertThatThrownBy(() -> states.open(bad, "", digest)).isInstanceOf(McpFailure.class)
          .satisfies(e -> assertThat(((McpFailure) e).code()).isEqualTo(-32602));
    }
  }
}
