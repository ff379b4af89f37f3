package dev.mcps.provider;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.config.ServerConfig;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ProvidersTest {

  private Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    TestServers.await(vertx.close());
  }

  private static ServerConfig.Chat chat(String anthropicKey, String openAiKey, String region) {
    return new ServerConfig.Chat("anthropic", 5, 120,
        new ServerConfig.Provider(anthropicKey, "https://api.anthropic.com", "claude-sonnet-4-5"),
        new ServerConfig.Provider(openAiKey, "https://api.openai.com/v1", "gpt-4o-mini"),
        new ServerConfig.Bedrock(region, "anthropic.claude-test-v1:0", null), 120_000, 3, 20_000);
  }

  @Test
  void theFactoryServesTheThreeProvidersByTheirChatModelNames() {
    try (Providers providers = Providers.create(vertx, chat("sk-ant-x", null, "eu-west-1"))) {
      assertThat(providers.names()).containsExactly("anthropic", "openai", "bedrock");
      assertThat(providers.find("anthropic")).get().extracting(LlmProvider::configured).isEqualTo(true);
      assertThat(providers.find("openai")).get().extracting(LlmProvider::configured).isEqualTo(false);
      assertThat(providers.find("bedrock")).get().extracting(LlmProvider::configured).isEqualTo(true);
      assertThat(providers.find("gemini")).isEmpty();
      assertThat(providers.find(null)).isEmpty();
    }
  }

  @Test
  void aProviderWithoutItsSettingsIsNotConfiguredAndAnswers503() throws Exception {
    try (Providers providers = Providers.create(vertx, chat("", null, ""))) {
      for (String name : List.of("anthropic", "openai", "bedrock")) {
        LlmProvider p = providers.find(name).orElseThrow();
        assertThat(p.configured()).as(name).isFalse();
        try {
          p.complete(new ProviderRequest(null, List.of(), List.of(), null, null)).toCompletionStage()
              .toCompletableFuture().get(5, TimeUnit.SECONDS);
          throw new AssertionError(name + " answered without configuration");
        } catch (ExecutionException e) {
          ProviderException pe = (ProviderException) e.getCause();
          assertThat(pe.status()).isEqualTo(503);
          assertThat(pe.code()).isEqualTo("Provider_Not_Configured");
        }
      }
    }
  }
}
