package dev.mcps.provider;

import static dev.mcps.provider.ProviderContract.ask;
import static dev.mcps.provider.ProviderContract.failure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.config.ServerConfig;
import dev.mcps.provider.anthropic.AnthropicProvider;
import dev.mcps.provider.openai.OpenAiProvider;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.FakeLlmServer;
import dev.mcps.testing.HostileUpstream;
import dev.mcps.testing.TestServers;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JSON-over-HTTP providers against an API gone bad ({@link HostileUpstream}): a redirect never carries the key
 * anywhere, an answer past {@code PROVIDER_MAX_RESPONSE_BYTES} is cut off, every attempt ends at its total deadline,
 * and an error text that echoes the key is not repeated.
 */
class ProviderOutboundTest {

  private static final String ANTHROPIC_KEY = "sk-ant-api03-hostile-test-5e6f7a8b9c";
  private static final String OPENAI_KEY = "sk-proj-hostile-test-1a2b3c4d5e6f";
  private static final int CAP = 1024 * 1024;

  private Vertx vertx;
  private HostileUpstream hostile;
  private final List<AutoCloseable> opened = new ArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    hostile = HostileUpstream.start();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : opened) {
      c.close();
    }
    hostile.close();
    TestServers.await(vertx.close());
  }

  private LlmProvider provider(String name, String baseUrl, CallPolicy policy) {
    JsonHttpProvider p = name.equals("anthropic")
        ? new AnthropicProvider(vertx, new ServerConfig.Provider(ANTHROPIC_KEY, baseUrl, "claude-test"), policy)
        : new OpenAiProvider(vertx, new ServerConfig.Provider(OPENAI_KEY, baseUrl, "gpt-test"), policy);
    opened.add(p);
    return p;
  }

  /** A generous deadline: only the tests of the deadline itself want it short. */
  private LlmProvider at(String name, String behaviour) {
    return at(name, behaviour, 15_000);
  }

  private LlmProvider at(String name, String behaviour, long deadlineMs) {
    return provider(name, hostile.baseUrl(behaviour), new CallPolicy(deadlineMs, 3, 200, CAP));
  }

  private static String display(String name) {
    return name.equals("anthropic") ? "Anthropic" : "OpenAI";
  }

  private static void assertNoKeyIn(String text) {
    for (String key : List.of(ANTHROPIC_KEY, OPENAI_KEY)) {
      for (int i = 0; i + 6 <= key.length(); i++) {
        assertThat(text).doesNotContain(key.substring(i, i + 6));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"anthropic", "openai"})
  void aRedirectIsAProviderErrorAndItsTargetNeverSeesTheKey(String name) {
    ProviderException e = failure(ask(at(name, "redirect")));

    String target = hostile.thief().substring(0, hostile.thief().indexOf("/collect"));
    assertThat(e.status()).isEqualTo(502);
    assertThat(e.code()).isEqualTo("Provider_Error");
    assertThat(e.getMessage()).isEqualTo(display(name) + " answered with a redirect (302) to " + target
        + "; redirects are not followed");
    assertThat(hostile.thiefRequests()).as("the redirect target received nothing").isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"huge", "huge-announced"})
  void anAnswerPastTheCapIsCutOffAsAProviderErrorAndNotRetried(String behaviour) throws Exception {
    ProviderException e = failure(ask(at("anthropic", behaviour)));

    assertThat(e.status()).isEqualTo(502);
    assertThat(e.code()).isEqualTo("Provider_Error");
    assertThat(e.getMessage()).isEqualTo("Anthropic answered with more than " + CAP
        + " bytes (PROVIDER_MAX_RESPONSE_BYTES)");
    hostile.awaitClosedByClient(behaviour);
    assertThat(hostile.streams()).as("one attempt: the same answer would come back").hasSize(1);
    assertThat(hostile.streams().get(0).written()).isLessThan(HostileUpstream.HUGE_BYTES);
  }

  @ParameterizedTest
  @ValueSource(strings = {"endless", "drip-200", "drip-5000"})
  void anAnswerThatNeverEndsIsResetAtTheTotalDeadlineAs504(String behaviour) throws Exception {
    ProviderException e = failure(ask(at("openai", behaviour, 1500)));

    assertThat(e.status()).isEqualTo(504);
    assertThat(e.code()).isEqualTo("Provider_Timeout");
    assertThat(e.getMessage()).isEqualTo("OpenAI did not answer within 1.5 s");
    hostile.awaitClosedByClient(behaviour);
    assertThat(hostile.streams()).hasSize(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"anthropic", "openai"})
  void anErrorThatEchoesTheKeyIsNotRepeated(String name) {
    ProviderException e = failure(ask(at(name, "echo")));

    assertThat(e.status()).isEqualTo(502);
    assertThat(e.getMessage()).startsWith(display(name) + " rejected the request (400)");
    assertNoKeyIn(e.getMessage());
  }

  @Test
  void whileHostileAnswersFloodOtherCallsStayFastAndTheHeapStaysBounded() throws Exception {
    FakeLlmServer calm = FakeAnthropic.start(vertx, ANTHROPIC_KEY);
    opened.add(calm);
    LlmProvider calmProvider = provider("anthropic", calm.baseUrl(), new CallPolicy(10_000, 3, 200));
    CallPolicy flooded = new CallPolicy(20_000, 1, 200); // the default cap, 32 MiB
    CallPolicy stalled = new CallPolicy(3000, 1, 200);
    long before = HostileUpstream.usedHeapAfterGc();

    List<Future<ProviderReply>> hostileCalls = new ArrayList<>();
    for (String behaviour : List.of("huge", "huge", "huge", "huge-announced", "endless", "drip-5000")) {
      hostileCalls.add(ask(provider("anthropic", hostile.baseUrl(behaviour),
          behaviour.startsWith("huge") ? flooded : stalled)));
    }
    long start = System.nanoTime();
    List<Future<ProviderReply>> calmCalls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      calmCalls.add(ask(calmProvider));
    }
    TestServers.await(Future.all(calmCalls));
    long calmMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    TestServers.await(Future.join(hostileCalls).otherwiseEmpty());
    long after = HostileUpstream.usedHeapAfterGc();

    assertThat(calmMs).as("20 calls to a sound API while another floods").isLessThan(5_000);
    assertThat(hostileCalls).extracting(f -> ((ProviderException) f.cause()).status())
        .containsExactly(502, 502, 502, 502, 504, 504);
    assertThat(after / (1024 * 1024)).as("used heap after the hostile calls, MiB")
        .isLessThan(before / (1024 * 1024) + 64);
    MultiMap sent = calm.requests().get(0).headers();
    assertThat(sent.get("x-api-key")).isEqualTo(ANTHROPIC_KEY);
  }

}
