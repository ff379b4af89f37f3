package dev.mcps.provider;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.config.ServerConfig;
import dev.mcps.provider.bedrock.BedrockProvider;
import dev.mcps.testing.HostileUpstream;
import dev.mcps.testing.TestServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real Bedrock client (AWS SDK, its Netty HTTP client) against an endpoint gone bad ({@link HostileUpstream}). */
class BedrockOutboundTest {

  private static final String ACCESS_KEY = "AKIAHOSTILETEST98765";
  private static final int CAP = 1024 * 1024;

  private Vertx vertx;
  private HostileUpstream hostile;
  private BedrockProvider provider;

  @BeforeAll
  static void dummyAwsCredentials() {
    System.setProperty("aws.accessKeyId", ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", "fake-secret-key-for-tests-only");
    System.setProperty("aws.disableEc2Metadata", "true");
  }

  @AfterAll
  static void clearAwsCredentials() {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
    System.clearProperty("aws.disableEc2Metadata");
  }

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    hostile = HostileUpstream.start();
  }

  @AfterEach
  void tearDown() {
    if (provider != null) {
      provider.close();
    }
    hostile.close();
    TestServers.await(vertx.close());
  }

  private ProviderException failure(String behaviour, long deadlineMs) {
    provider = new BedrockProvider(vertx, new ServerConfig.Bedrock("us-east-1", "anthropic.claude-test-v1:0",
        hostile.baseUrl(behaviour)), new CallPolicy(deadlineMs, 1, 200, CAP));
    Future<ProviderReply> call = provider.complete(new ProviderRequest("system", List.of(new JsonObject()
        .put("role", "user").put("content", "hello")), List.of(), "u-1", null, new WireMemo()));
    try {
      call.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(ProviderException.class);
      return (ProviderException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("the call succeeded");
  }

  @Test
  void aRedirectIsAProviderErrorAndItsTargetReceivesNothing() {
    ProviderException e = failure("redirect", 15_000);

    assertThat(e.status()).isEqualTo(502);
    assertThat(e.getMessage()).isEqualTo("Bedrock answered with a redirect (302); redirects are not followed");
    assertThat(hostile.thiefRequests()).isEmpty();
  }

  @Test
  void anAnswerStreamingPastTheCapIsCutOffAsAProviderError() throws Exception {
    ProviderException e = failure("huge", 15_000);

    assertThat(e.status()).isEqualTo(502);
    assertThat(e.getMessage()).isEqualTo("Bedrock answered with more than " + CAP
        + " bytes (PROVIDER_MAX_RESPONSE_BYTES)");
    hostile.awaitClosedByClient("huge");
    assertThat(hostile.streams().get(0).written()).isLessThan(HostileUpstream.HUGE_BYTES);
  }

  @Test
  void anAnnouncedAnswerAboveTheCapFailsBeforeItsBodyIsRead() throws Exception {
    ProviderException e = failure("huge-announced", 15_000);

    assertThat(e.status()).isEqualTo(502);
    assertThat(e.getMessage()).isEqualTo("Bedrock answered with more than " + CAP
        + " bytes (PROVIDER_MAX_RESPONSE_BYTES)");
    hostile.awaitClosedByClient("huge-announced");
  }

  @Test
  void aDripThatNeverGoesIdleEndsAtTheTotalDeadlineAs504() throws Exception {
    // A cold SDK client (class loading, signing) can spend most of a short deadline before sending anything.
    failure("redirect", 15_000);
    provider.close();

    ProviderException e = failure("drip-200", 1500);

    assertThat(e.status()).isEqualTo(504);
    assertThat(e.code()).isEqualTo("Provider_Timeout");
    hostile.awaitClosedByClient("drip-200");
  }
}
