package dev.mcps.limits;

import dev.mcps.chat.ScriptedProvider;
import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.ProviderException;
import dev.mcps.provider.ProviderReply;
import dev.mcps.provider.ProviderRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A chat provider whose answers the test decides: a message containing "hold" waits until the test lets it go (the
 * turn is running meanwhile), one containing "fail" fails as a provider error, any other is answered at once.
 */
final class GatedProvider {

  private final BlockingQueue<Promise<ProviderReply>> held = new LinkedBlockingQueue<>();
  private final LlmProvider provider = new ScriptedProvider(this::answer);

  LlmProvider provider() {
    return provider;
  }

  private Future<ProviderReply> answer(ProviderRequest request) {
    String text = ScriptedProvider.userText(request);
    if (text.contains("hold")) {
      Promise<ProviderReply> answer = Promise.promise();
      held.add(answer);
      return answer.future();
    }
    if (text.contains("fail")) {
      return Future.failedFuture(new ProviderException(502, "Provider_Error", "the test's provider failed"));
    }
    return Future.succeededFuture(reply("answered: " + text));
  }

  /** The next held turn, once its provider call arrived (the turn is running then). */
  Promise<ProviderReply> nextHeld() throws InterruptedException {
    Promise<ProviderReply> p = held.poll(20, TimeUnit.SECONDS);
    if (p == null) {
      throw new AssertionError("no held turn reached the provider within 20 s");
    }
    return p;
  }

  static ProviderReply reply(String text) {
    return ScriptedProvider.text(text);
  }
}
