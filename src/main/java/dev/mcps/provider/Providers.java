package dev.mcps.provider;

import dev.mcps.config.ServerConfig;
import dev.mcps.provider.anthropic.AnthropicProvider;
import dev.mcps.provider.bedrock.BedrockProvider;
import dev.mcps.provider.openai.OpenAiProvider;
import io.vertx.core.Vertx;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The three providers built once from the chat configuration, found by their /chat {@code model} name. A provider
 * whose settings are missing is still here, answering {@link LlmProvider#configured()} false.
 */
public final class Providers implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Providers.class);

  private final Map<String, LlmProvider> byName = new LinkedHashMap<>();

  private Providers(LlmProvider... providers) {
    for (LlmProvider p : providers) {
      byName.put(p.name(), p);
    }
  }

  public static Providers create(Vertx vertx, ServerConfig.Chat chat) {
    return create(vertx, chat, CallPolicy.DEFAULT);
  }

  public static Providers create(Vertx vertx, ServerConfig.Chat chat, CallPolicy policy) {
    Providers providers = new Providers(
        new AnthropicProvider(vertx, chat.anthropic(), policy),
        new OpenAiProvider(vertx, chat.openai(), policy),
        new BedrockProvider(vertx, chat.bedrock(), policy));
    LOG.info("LLM providers configured: {}", providers.byName.values().stream().filter(LlmProvider::configured)
        .map(LlmProvider::name).toList());
    return providers;
  }

  /** The provider for a /chat {@code model} value; empty for an unknown name (400 Unsupported_Model). */
  public Optional<LlmProvider> find(String name) {
    return Optional.ofNullable(name == null ? null : byName.get(name));
  }

  /** Every provider by name, configured or not (an unconfigured one answers 503 when chosen). */
  public Map<String, LlmProvider> byName() {
    return Map.copyOf(byName);
  }

  public Set<String> names() {
    return byName.keySet();
  }

  @Override
  public void close() {
    for (LlmProvider p : byName.values()) {
      if (p instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception e) {
          LOG.debug("Closing provider {} failed", p.name(), e);
        }
      }
    }
  }
}
