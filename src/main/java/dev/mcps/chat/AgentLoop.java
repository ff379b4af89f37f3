package dev.mcps.chat;

import dev.mcps.ApiException;
import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.ProviderException;
import dev.mcps.provider.ProviderReply;
import dev.mcps.provider.ProviderRequest;
import dev.mcps.provider.WireMemo;
import dev.mcps.session.SessionContext;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import dev.mcps.tools.Tool;
import dev.mcps.tools.ToolCalls;
import dev.mcps.tools.ToolResult;
import dev.mcps.tools.ToolSelector;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chat turn, run inside the session context: take the session's turn lock, read the history, then call the
 * model and run the tools it asks for (in parallel, through the tools verticle, with this session) until it answers
 * or the iteration cap is reached, and persist the new messages in one append. Turns of one session are serialized
 * by the lock, so their histories never interleave, also across instances.
 */
public final class AgentLoop {

  private static final Logger LOG = LoggerFactory.getLogger(AgentLoop.class);

  static final String SYSTEM_PROMPT = "You are a helpful assistant working for one user. You can act on the user's "
      + "Jira with the tools provided; they always use this user's own Jira account. Prefer reading before "
      + "changing, confirm what you changed, and answer concisely.";

  private final Vertx vertx;
  private final Sessions sessions;
  private final Map<String, LlmProvider> providers;
  private final ToolSelector selector;
  /**
   * The encoded messages kept between a session's turns, bounded: at most this many sessions and this many bytes
   * (a few thousand active conversations of some KiB each). Only with a store that hands out the same messages.
   */
  static final int MEMO_SESSIONS = 4096;
  static final long MEMO_BYTES = 64L << 20;

  private final int maxIterations;
  private final long turnTimeoutMs;
  /** Null when the store decodes the history afresh on every read: no message would be recognised. */
  private final TurnMemos memos;

  public AgentLoop(Vertx vertx, Sessions sessions, Map<String, LlmProvider> providers, ToolSelector selector,
                   int maxIterations, long turnTimeoutMs) {
    this.vertx = vertx;
    this.sessions = sessions;
    this.providers = providers;
    this.selector = selector;
    this.maxIterations = maxIterations;
    this.turnTimeoutMs = turnTimeoutMs;
    this.memos = sessions.historyIsShared() ? new TurnMemos(MEMO_SESSIONS, MEMO_BYTES) : null;
    if (memos != null) {
      vertx.eventBus().<JsonObject>localConsumer(Sessions.EVENTS_ADDRESS, msg -> sessionEvent(msg.body()));
    }
  }

  /**
   * A session lifecycle event ({@link Sessions#EVENTS_ADDRESS}): the memo of a session that has ended or was reset
   * is dropped at once. A memo holds the messages it encoded, which would otherwise outlive their session until
   * evicted from the memos.
   */
  void sessionEvent(JsonObject event) {
    String type = event.getString("type");
    if (memos != null && (Sessions.ENDING_EVENTS.contains(type) || "reset".equals(type))) {
      memos.drop(event.getString("sessionId"));
    }
  }

  /** The memos kept between turns (null without a sharing store); for tests. */
  TurnMemos memos() {
    return memos;
  }

  /** The provider for {@code model}, or a 503 Provider_Not_Configured. */
  public LlmProvider provider(String model, String sessionId) {
    LlmProvider p = providers.get(model);
    if (p == null || !p.configured()) {
      throw new ApiException(503, "Provider_Not_Configured", "No " + model + " provider is configured on this server",
          sessionId);
    }
    return p;
  }

  /**
   * Runs the turn for the session in context; the reply is the /chat 200 body, also encoded when {@code encodeReply}
   * (for a sender that only writes it to HTTP).
   */
  public Future<TurnReply> run(String message, String model, TurnEvents events, boolean encodeReply) {
    SessionEnv session = SessionContext.require();
    String id = session.sessionId();
    LlmProvider provider;
    try {
      provider = provider(model, id);
    } catch (ApiException e) {
      return Future.failedFuture(e);
    }
    AtomicBoolean abandoned = new AtomicBoolean();
    return sessions.lock(id, turnTimeoutMs + 10_000, turnTimeoutMs)
        .compose(token -> turn(session, provider, message, events, encodeReply, abandoned)
            .timeout(turnTimeoutMs, TimeUnit.MILLISECONDS)
            .recover(err -> {
              // A turn past its deadline stops at its next step and persists nothing.
              abandoned.set(true);
              return Future.failedFuture(err instanceof TimeoutException
                  ? new ApiException(504, "Provider_Timeout", "The turn did not finish within "
                      + (turnTimeoutMs / 1000) + " s", id)
                  : err);
            })
            .eventually(() -> sessions.unlock(id, token)))
        .recover(err -> Future.failedFuture(asApiError(err, id)));
  }

  private Future<TurnReply> turn(SessionEnv session, LlmProvider provider, String message, TurnEvents events,
                                 boolean encodeReply, AtomicBoolean abandoned) {
    String id = session.sessionId();
    List<JsonObject> tools = selector.select(message).stream().map(AgentLoop::describe).toList();
    WireMemo memo = memos == null ? new WireMemo() : memos.take(id);
    return sessions.history(id).compose(history -> {
      List<JsonObject> added = new ArrayList<>();
      added.add(new JsonObject().put("role", "user")
          .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", message))));
      return step(session, provider, history, added, tools, memo, events, abandoned, 1)
          .compose(answer -> abandoned.get() ? Future.failedFuture(new TimeoutException())
              : sessions.appendHistory(id, added).map(n -> {
                List<JsonObject> all = new ArrayList<>(history.size() + added.size());
                all.addAll(history);
                all.addAll(added);
                TurnReply reply = encodeReply ? TurnReply.encode(answer, id, all, memo)
                    : new TurnReply(answer, id, all, null);
                // Still inside the turn lock: the session's next turn cannot have taken the memo yet.
                if (memos != null && !abandoned.get()) {
                  memos.give(id, memo);
                }
                return reply;
              }));
    });
  }

  private Future<String> step(SessionEnv session, LlmProvider provider, List<JsonObject> history,
                              List<JsonObject> added, List<JsonObject> tools, WireMemo memo, TurnEvents events,
                              AtomicBoolean abandoned, int iteration) {
    if (abandoned.get()) {
      return Future.failedFuture(new TimeoutException());
    }
    List<JsonObject> conversation = new ArrayList<>(history.size() + added.size());
    conversation.addAll(history);
    conversation.addAll(added);
    ProviderRequest request = new ProviderRequest(SYSTEM_PROMPT, conversation, tools, userHash(session),
        session.anthropicConversationId(), memo);
    LOG.debug("Turn step {}/{} on {}", iteration, maxIterations, provider.name());
    return provider.complete(request).compose(reply -> {
      added.add(new JsonObject().put("role", "assistant").put("content", new JsonArray(new ArrayList<>(reply.content()))));
      String text = text(reply);
      if (!text.isEmpty()) {
        events.emit("text", new JsonObject().put("text", text));
      }
      if (!reply.wantsTools()) {
        return Future.succeededFuture(text);
      }
      return runTools(session.sessionId(), reply, events).compose(results -> {
        added.add(new JsonObject().put("role", "user").put("content", new JsonArray(results)));
        if (iteration >= maxIterations) {
          String stop = (text.isEmpty() ? "" : text + "\n\n") + "(Stopped after " + maxIterations
              + " model steps, the limit for one turn; ask me to continue.)";
          added.add(new JsonObject().put("role", "assistant")
              .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", stop))));
          events.emit("text", new JsonObject().put("text", stop));
          return Future.succeededFuture(stop);
        }
        return step(session, provider, history, added, tools, memo, events, abandoned, iteration + 1);
      });
    });
  }

  /** Every tool the model asked for, in parallel; a failing tool is an error result, and the loop goes on. */
  private Future<List<JsonObject>> runTools(String sessionId, ProviderReply reply, TurnEvents events) {
    List<Future<JsonObject>> calls = new ArrayList<>();
    for (JsonObject block : reply.content()) {
      if (!"tool_use".equals(block.getString("type"))) {
        continue;
      }
      events.emit("tool_call", new JsonObject().put("id", block.getString("id")).put("name", block.getString("name"))
          .put("input", block.getValue("input")));
      JsonObject input = block.getValue("input") instanceof JsonObject o ? o : new JsonObject();
      calls.add(ToolCalls.call(vertx, sessionId, block.getString("name"), input)
          .recover(err -> Future.succeededFuture(ToolResult.error("Tool " + block.getString("name") + " failed: "
              + errorText(err))))
          .map(result -> {
            JsonObject toolResult = new JsonObject().put("type", "tool_result")
                .put("tool_use_id", block.getString("id")).put("content", result.text())
                .put("is_error", result.isError());
            events.emit("tool_result", toolResult);
            return toolResult;
          }));
    }
    return Future.all(calls).map(all -> all.<JsonObject>list());
  }

  private static String errorText(Throwable err) {
    ApiException api = ApiException.fromReply(err);
    return api != null ? api.getMessage() : "internal error";
  }

  private static String text(ProviderReply reply) {
    StringBuilder out = new StringBuilder();
    for (JsonObject b : reply.content()) {
      if ("text".equals(b.getString("type")) && b.getString("text") != null) {
        if (!out.isEmpty()) {
          out.append('\n');
        }
        out.append(b.getString("text"));
      }
    }
    return out.toString();
  }

  static JsonObject describe(Tool tool) {
    return new JsonObject().put("name", tool.name()).put("description", tool.description())
        .put("inputSchema", tool.inputSchema());
  }

  /** A stable id of the user for the provider's abuse tracking that reveals nothing about the user. */
  static String userHash(SessionEnv session) {
    String who = session.userId() != null ? "user:" + session.userId() : "session:" + session.sessionId();
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(who.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Throwable asApiError(Throwable err, String sessionId) {
    if (err instanceof ApiException api) {
      return api.sessionId() == null ? api.withSessionId(sessionId) : api;
    }
    if (err instanceof ProviderException p) {
      return new ApiException(p.status(), p.code(), p.getMessage(), sessionId);
    }
    LOG.error("Turn failed", err);
    return new ApiException(500, "Internal_Error", "The turn failed unexpectedly", sessionId);
  }
}
