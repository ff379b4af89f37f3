package dev.mcps.provider.bedrock;

import dev.mcps.config.ServerConfig;
import dev.mcps.provider.CallPolicy;
import dev.mcps.provider.Canonical;
import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.ProviderCalls;
import dev.mcps.provider.ProviderException;
import dev.mcps.provider.ProviderReply;
import dev.mcps.provider.ProviderRequest;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClientBuilder;
import software.amazon.awssdk.services.bedrockruntime.model.ContentBlock;
import software.amazon.awssdk.services.bedrockruntime.model.ConversationRole;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseRequest;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseResponse;
import software.amazon.awssdk.services.bedrockruntime.model.Message;
import software.amazon.awssdk.services.bedrockruntime.model.StopReason;
import software.amazon.awssdk.services.bedrockruntime.model.SystemContentBlock;
import software.amazon.awssdk.services.bedrockruntime.model.Tool;
import software.amazon.awssdk.services.bedrockruntime.model.ToolInputSchema;
import software.amazon.awssdk.services.bedrockruntime.model.ToolResultBlock;
import software.amazon.awssdk.services.bedrockruntime.model.ToolResultContentBlock;
import software.amazon.awssdk.services.bedrockruntime.model.ToolResultStatus;
import software.amazon.awssdk.services.bedrockruntime.model.ToolSpecification;
import software.amazon.awssdk.services.bedrockruntime.model.ToolUseBlock;

/**
 * Amazon Bedrock Converse through the AWS SDK v2 async client; credentials from the AWS default chain.
 *
 * <p>The SDK's Netty client ({@code netty-nio-client}) runs on the project's Netty 4.2 with its own small event loop
 * group; it is built for HTTP/1.1 (a plain-http {@code BEDROCK_ENDPOINT} would otherwise get h2c) and without SDK
 * retries, so that 429/5xx are retried by {@link ProviderCalls} like the other providers. The SDK completes its
 * futures on its own threads: {@link Future#fromCompletionStage(java.util.concurrent.CompletionStage, Context)} brings
 * the result back to the caller's (duplicated) context, where the session's context-local lives.
 */
public final class BedrockProvider implements LlmProvider, AutoCloseable {

  static final int MAX_TOKENS = 4096;

  private final Vertx vertx;
  private final ServerConfig.Bedrock config;
  private final ProviderCalls calls;
  private final EventLoopGroup eventLoops;
  private final BedrockRuntimeAsyncClient client;

  public BedrockProvider(Vertx vertx, ServerConfig.Bedrock config, CallPolicy policy) {
    this.vertx = vertx;
    this.config = config;
    this.calls = new ProviderCalls(vertx, "Bedrock", "AWS credentials", policy, null);
    if (config.configured()) {
      // Our own group, so that close() can shut it down without waiting (the SDK-managed one blocks close() ~2 s).
      // NioEventLoopGroup, deprecated in Netty 4.2, because the SDK (2.57) resolves channel types by group class and
      // rejects 4.2's MultiThreadIoEventLoopGroup (aws-sdk-java-v2#6757).
      this.eventLoops = nioEventLoops();
      this.client = client(config, policy, eventLoops);
    } else {
      this.eventLoops = null;
      this.client = null;
    }
  }

  @SuppressWarnings("deprecation")
  private static EventLoopGroup nioEventLoops() {
    return new io.netty.channel.nio.NioEventLoopGroup(2, new DefaultThreadFactory("bedrock-netty", true));
  }

  private static BedrockRuntimeAsyncClient client(ServerConfig.Bedrock config, CallPolicy policy,
                                                  EventLoopGroup eventLoops) {
    Duration timeout = Duration.ofMillis(policy.timeoutMs());
    BedrockRuntimeAsyncClientBuilder builder = BedrockRuntimeAsyncClient.builder()
        .region(Region.of(config.region()))
        .httpClientBuilder(NettyNioAsyncHttpClient.builder()
            .protocol(Protocol.HTTP1_1)
            .eventLoopGroup(SdkEventLoopGroup.create(eventLoops, NioSocketChannel::new))
            .connectionTimeout(Duration.ofMillis(Math.min(policy.timeoutMs(), 10_000)))
            // After refused connections the SDK's pool now and then leaves an acquire pending (seen on Netty 4.1 and
            // 4.2 alike); this bounds it well inside the attempt timeout, and the failure is retried like a refusal.
            .connectionAcquisitionTimeout(Duration.ofMillis(Math.min(policy.timeoutMs() / 2, 10_000)))
            // One connection per call in flight (HTTP/1.1) and LLM calls are long: room for many concurrent turns.
            .maxConcurrency(256)
            // Netty's own read timeout (30 s by default) must not cut a long generation short: the attempt timeout rules.
            .readTimeout(timeout.plusSeconds(5))
            .writeTimeout(timeout.plusSeconds(5)))
        .overrideConfiguration(o -> o
            .retryStrategy(AwsRetryStrategy.doNotRetry())
            // The whole call, body included, like the other providers' total deadline (the read timeout above
            // only measures idleness, which a byte-every-few-seconds drip never reaches).
            .apiCallAttemptTimeout(timeout)
            .apiCallTimeout(timeout)
            .addExecutionInterceptor(new ResponseCap(policy.maxResponseBytes())));
    if (config.endpoint() != null && !config.endpoint().isBlank()) {
      builder.endpointOverride(URI.create(config.endpoint()));
    }
    return builder.build();
  }

  @Override
  public String name() {
    return "bedrock";
  }

  @Override
  public boolean configured() {
    return client != null;
  }

  /** The SDK resolves credentials (files, instance metadata) and signs the request on the calling thread. */
  @Override
  public boolean mayBlock() {
    return true;
  }

  @Override
  public Future<ProviderReply> complete(ProviderRequest request) {
    if (!configured()) {
      return Future.failedFuture(new ProviderException(503, "Provider_Not_Configured",
          "Bedrock is not configured (AWS_REGION, BEDROCK_MODEL_ID)"));
    }
    Context caller = vertx.getOrCreateContext();
    ConverseRequest converse = converseRequest(config.modelId(), request);
    return calls.run(() -> Future.fromCompletionStage(client.converse(converse), caller)
            .recover(e -> Future.failedFuture(failure(e))),
        BedrockProvider::reply);
  }

  static ConverseRequest converseRequest(String modelId, ProviderRequest request) {
    ConverseRequest.Builder builder = ConverseRequest.builder()
        .modelId(modelId)
        .messages(messages(request.messages()))
        .inferenceConfig(i -> i.maxTokens(MAX_TOKENS));
    if (request.system() != null && !request.system().isBlank()) {
      builder.system(SystemContentBlock.fromText(request.system()));
    }
    if (request.tools() != null && !request.tools().isEmpty()) {
      List<Tool> tools = new ArrayList<>();
      for (JsonObject tool : request.tools()) {
        tools.add(Tool.fromToolSpec(ToolSpecification.builder()
            .name(tool.getString("name"))
            .description(tool.getString("description", ""))
            .inputSchema(ToolInputSchema.fromJson(Documents.fromJson(
                tool.getJsonObject("inputSchema", new JsonObject().put("type", "object")))))
            .build()));
      }
      builder.toolConfig(t -> t.tools(tools));
    }
    return builder.build();
  }

  private static List<Message> messages(List<JsonObject> canonical) {
    List<Message> messages = new ArrayList<>();
    for (JsonObject message : canonical) {
      ConversationRole role = switch (message.getString("role", "")) {
        case "user" -> ConversationRole.USER;
        case "assistant" -> ConversationRole.ASSISTANT;
        default -> null;
      };
      if (role == null) {
        continue;
      }
      List<ContentBlock> content = new ArrayList<>();
      for (JsonObject block : Canonical.blocks(message)) {
        ContentBlock converted = block(block);
        if (converted != null) {
          content.add(converted);
        }
      }
      if (!content.isEmpty()) {
        messages.add(Message.builder().role(role).content(content).build());
      }
    }
    return messages;
  }

  private static ContentBlock block(JsonObject block) {
    switch (Canonical.type(block)) {
      case "text": {
        String text = block.getString("text", "");
        return text.isBlank() ? null : ContentBlock.fromText(text); // Converse refuses blank text blocks
      }
      case "tool_use":
        return ContentBlock.fromToolUse(ToolUseBlock.builder()
            .toolUseId(block.getString("id"))
            .name(block.getString("name"))
            .input(Documents.fromJson(block.getJsonObject("input", new JsonObject())))
            .build());
      case "tool_result": {
        String text = Canonical.toolResultText(block);
        ToolResultBlock.Builder result = ToolResultBlock.builder()
            .toolUseId(block.getString("tool_use_id"))
            .content(ToolResultContentBlock.fromText(text.isBlank() ? "(no output)" : text));
        if (block.getBoolean("is_error", false)) {
          result.status(ToolResultStatus.ERROR); // only sent for errors: not every Bedrock model accepts the field
        }
        return ContentBlock.fromToolResult(result.build());
      }
      default:
        return null;
    }
  }

  static ProviderReply reply(ConverseResponse response) {
    List<JsonObject> content = new ArrayList<>();
    for (ContentBlock block : response.output().message().content()) {
      if (block.text() != null) {
        content.add(Canonical.text(block.text()));
      } else if (block.toolUse() != null) {
        ToolUseBlock use = block.toolUse();
        Object input = Documents.toJson(use.input());
        content.add(Canonical.toolUse(use.toolUseId(), use.name(),
            input instanceof JsonObject object ? object : new JsonObject()));
      }
    }
    StopReason stop = response.stopReason();
    return new ProviderReply(content, stop == StopReason.TOOL_USE ? "tool_use"
        : stop == StopReason.MAX_TOKENS ? "max_tokens" : "end_turn");
  }

  /** The SDK's failure as ProviderCalls reads it: the HTTP status, Retry-After and Bedrock's own message. */
  static ProviderCalls.Failure failure(Throwable error) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    // Only "no answer in time" is a 504; the pool's acquire timeout (a java TimeoutException inside an
    // SdkClientException) means no connection was had, and is retried like a refusal.
    if (cause instanceof ApiCallAttemptTimeoutException || cause instanceof ApiCallTimeoutException
        || hasCause(cause, ReadTimeoutException.class)) {
      return ProviderCalls.Failure.timeout();
    }
    ResponseCap.TooLarge tooLarge = findCause(cause, ResponseCap.TooLarge.class);
    if (tooLarge != null) {
      return ProviderCalls.Failure.unusable(tooLarge.getMessage());
    }
    if (cause instanceof SdkServiceException service && service.statusCode() >= 300 && service.statusCode() < 400) {
      // The SDK never follows one; say so rather than "rejected the request".
      return ProviderCalls.Failure.unusable("answered with a redirect (" + service.statusCode()
          + "); redirects are not followed");
    }
    if (cause instanceof AwsServiceException aws && aws.awsErrorDetails() != null) {
      String retryAfter = aws.awsErrorDetails().sdkHttpResponse() == null ? null
          : aws.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("Retry-After").orElse(null);
      return ProviderCalls.Failure.status(aws.statusCode(), retryAfter, aws.awsErrorDetails().errorMessage());
    }
    if (cause instanceof SdkServiceException service) {
      return ProviderCalls.Failure.status(service.statusCode(), null, null);
    }
    return ProviderCalls.Failure.transport(cause);
  }

  private static boolean hasCause(Throwable error, Class<? extends Throwable> type) {
    return findCause(error, type) != null;
  }

  private static <T extends Throwable> T findCause(Throwable error, Class<T> type) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  @Override
  public void close() {
    if (client != null) {
      client.close();
      // A short quiet period lets the SDK's channel pools finish closing on the loops; nothing here waits for it.
      eventLoops.shutdownGracefully(200, 2_000, TimeUnit.MILLISECONDS);
    }
  }
}
