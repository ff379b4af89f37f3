package dev.mcps.provider.bedrock;

import java.nio.ByteBuffer;
import java.util.Optional;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

/**
 * {@code PROVIDER_MAX_RESPONSE_BYTES} for the AWS SDK, which would otherwise collect any answer whole: an announced
 * {@code Content-Length} above the cap fails before the body is read, and a body that streams past it is cancelled
 * there (the SDK's Netty client then drops the connection). Either way the call fails with {@link TooLarge}.
 */
final class ResponseCap implements ExecutionInterceptor {

  /** The answer was larger than the cap; never retried (it would come back the same). */
  static final class TooLarge extends RuntimeException {
    TooLarge(long cap) {
      super("answered with more than " + cap + " bytes (PROVIDER_MAX_RESPONSE_BYTES)", null, false, false);
    }
  }

  private final long maxBytes;

  ResponseCap(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  @Override
  public void afterTransmission(Context.AfterTransmission context, ExecutionAttributes attributes) {
    context.httpResponse().firstMatchingHeader("Content-Length").ifPresent(length -> {
      try {
        if (Long.parseLong(length.trim()) > maxBytes) {
          throw new TooLarge(maxBytes);
        }
      } catch (NumberFormatException ignored) {
        // No usable length: the count below still applies.
      }
    });
  }

  @Override
  public Optional<Publisher<ByteBuffer>> modifyAsyncHttpResponseContent(Context.ModifyHttpResponse context,
                                                                       ExecutionAttributes attributes) {
    return context.responsePublisher().map(body -> subscriber -> body.subscribe(new Counting(subscriber)));
  }

  /** Passes chunks on until the running total passes the cap, then cancels upstream and fails downstream. */
  private final class Counting implements Subscriber<ByteBuffer> {

    private final Subscriber<? super ByteBuffer> downstream;
    private Subscription upstream;
    private long seen;
    private boolean done;

    Counting(Subscriber<? super ByteBuffer> downstream) {
      this.downstream = downstream;
    }

    @Override
    public void onSubscribe(Subscription subscription) {
      upstream = subscription;
      downstream.onSubscribe(subscription);
    }

    @Override
    public void onNext(ByteBuffer chunk) {
      if (done) {
        return;
      }
      seen += chunk.remaining();
      if (seen > maxBytes) {
        done = true;
        upstream.cancel();
        downstream.onError(new TooLarge(maxBytes));
      } else {
        downstream.onNext(chunk);
      }
    }

    @Override
    public void onError(Throwable error) {
      if (!done) {
        done = true;
        downstream.onError(error);
      }
    }

    @Override
    public void onComplete() {
      if (!done) {
        done = true;
        downstream.onComplete();
      }
    }
  }
}
