package dev.mcps.provider;

import io.vertx.core.Future;

/**
 * One LLM API (Anthropic Messages, OpenAI Chat Completions, Bedrock Converse). A provider converts the canonical
 * conversation ({@link ProviderRequest}) to its wire format, calls the API without blocking, and converts the answer
 * back ({@link ProviderReply}). Failures are {@link ProviderException}s that never contain an API key.
 */
public interface LlmProvider {

  /** "anthropic", "openai" or "bedrock": the /chat {@code model} value that selects this provider. */
  String name();

  /** False when the configuration lacks what the provider needs (then /chat answers 503 Provider_Not_Configured). */
  boolean configured();

  Future<ProviderReply> complete(ProviderRequest request);

  /**
   * True when {@link #complete} may block the calling thread (an SDK that resolves credentials or signs on the
   * caller's thread): with worker verticles it is then always called on a worker.
   */
  default boolean mayBlock() {
    return false;
  }
}
