package dev.mcps.provider;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The scrubbing of provider error texts, without a server. */
class ProviderCallsTest {

  private final ProviderCalls calls = new ProviderCalls(null, "Test", "API key", new CallPolicy(1000, 3, 5000),
      "sk-live-abcdef0123456789");

  @Test
  void providerTextsLoseAnythingThatLooksLikeACredential() {
    assertThat(calls.safe("max_tokens: must be at most 8192")).isEqualTo("max_tokens: must be at most 8192");
    assertThat(calls.safe("Incorrect API key provided: sk-live-***6789.")).isEmpty();
    assertThat(calls.safe("bad header Authorization: Bearer eyJhbGciOi.xyz")).isEqualTo("bad header Authorization: ***");
    assertThat(calls.safe("key sk-other-0123abcd is revoked")).isEqualTo("key *** is revoked");
    assertThat(calls.safe("access key AKIAIOSFODNN7EXAMPLE is unknown")).isEqualTo("access key *** is unknown");
    assertThat(calls.safe("x".repeat(2000))).hasSizeLessThan(600);
    assertThat(calls.safe(null)).isEmpty();
  }
}
