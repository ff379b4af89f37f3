package dev.mcps.chat;

import dev.mcps.ApiException;
import dev.mcps.audit.AuditLog;
import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.ProviderException;
import dev.mcps.provider.ProviderReply;
import dev.mcps.provider.ProviderRequest;
import dev.mcps.provider.WireMemo;
import dev.mcps.session.SessionContext;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import dev.mcps.stats.TurnStats;
import dev.mcps.tools.Tool;
import dev.mcps.tools.ToolCalls;
import dev.mcps.tools.ToolResult;
import dev.mcps.tools.ToolSelector;
import io.vertx.core.Future;
import io.vertx.core.Promise;
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
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
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

  private final TurnLimits limits;
  private final TurnThreads threads;
  private final AuditLog audit;
  private final TurnStats stats;
  /** Null when the store decodes the history afresh on every read: no message would be recognised. */
  private final TurnMemos memos;

  public AgentLoop(Vertx vertx, Sessions sessions, Map<String, LlmProvider> providers, ToolSelector selector,
                   TurnLimits limits) {
    this(vertx, sessions, providers, selector, limits, TurnThreads.EVENT_LOOPS);
  }

  /** {@code threads}: where the turn's heavy steps run (worker verticles or not). */
  public AgentLoop(Vertx vertx, Sessions sessions, Map<String, LlmProvider> providers, ToolSelector selector,
                   TurnLimits limits, TurnThreads threads) {
    this(vertx, sessions, providers, selector, limits, threads, AuditLog.off());
  }

  /** @param audit where the tool calls this loop refuses (they never reach the tool executor) are written */
  public AgentLoop(Vertx vertx, Sessions sessions, Map<String, LlmProvider> providers, ToolSelector selector,
                   TurnLimits limits, TurnThreads threads, AuditLog audit) {
    this(vertx, sessions, providers, selector, limits, threads, audit, TurnStats.NONE);
  }

  /** @param stats where every turn this loop runs is counted when it ends, ok or failed (GET /admin/stats) */
  public AgentLoop(Vertx vertx, Sessions sessions, Map<String, LlmProvider> providers, ToolSelector selector,
                   TurnLimits limits, TurnThreads threads, AuditLog audit, TurnStats stats) {
    this.stats = stats;
    this.audit = audit;
    this.threads = threads;
    this.vertx = vertx;
    this.sessions = sessions;
    this.providers = providers;
    this.selector = selector;
    this.limits = limits;
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

  /** What to set for each provider, for the newcomer who meets a 503. */
  private static final Map<String, String> PROVIDER_SETTINGS = Map.of(
      "anthropic", "ANTHROPIC_API_KEY",
      "openai", "OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server such as Ollama)",
      "bedrock", "AWS_REGION and BEDROCK_MODEL_ID (AWS credentials come from the default chain)");

  /** The provider for {@code model}, or a 503 Provider_Not_Configured that says what to set. */
  public LlmProvider provider(String model, String sessionId) {
    LlmProvider p = providers.get(model);
    if (p == null || !p.configured()) {
      throw new ApiException(503, "Provider_Not_Configured", "No " + model + " provider is configured on this "
          + "server: set " + PROVIDER_SETTINGS.getOrDefault(model, "its settings") + " and restart it, or send a "
          + "\"model\" that is configured", sessionId);
    }
    return p;
  }

  /**
   * Runs the turn for the session in context; the reply is the /chat 200 body, also encoded when {@code encodeReply}
   * (for a sender that only writes it to HTTP). A non-null {@code replacement} replaces the stored history first,
   * under the turn lock, so it never lands in the middle of another turn of the session.
   */
  public Future<TurnReply> run(String message, String model, List<JsonObject> replacement, TurnEvents events,
                               boolean encodeReply) {
    return run(message, model, replacement, events, encodeReply, null);
  }

  /**
   * The same, as the turn {@code turnId} (null: a fresh one). A turn id the store already holds is a repeat of a turn
   * that landed: it is answered from the stored history, and neither the model nor a tool runs again.
   */
  public Future<TurnReply> run(String message, String model, List<JsonObject> replacement, TurnEvents events,
                               boolean encodeReply, String turnId) {
    return run(message, model, replacement, events, encodeReply, turnId, null);
  }

  /** The same, with every Jira write tool the model calls refused with {@code writesRefused} when it is not null. */
  public Future<TurnReply> run(String message, String model, List<JsonObject> replacement, TurnEvents events,
                               boolean encodeReply, String turnId, String writesRefused) {
    SessionEnv session = SessionContext.require();
    String id = session.sessionId();
    if (replacement == null) {
      // Nothing to store first: a server without this model's key answers at once, without the lock.
      try {
        provider(model, id);
      } catch (ApiException e) {
        stats.record(true);
        return Future.failedFuture(e);
      }
    }
    // Counted here, where every turn ends whether it came over HTTP or the event bus: the requests refused before it
    // (400, 404, 429) never get here, nor does an Idempotency-Key replay; nor is a turn found already landed counted
    // again: it is the answer of the run that stored it, counted by that run.
    boolean[] replayed = {false};
    long timeout = limits.turnTimeoutMs();
    return sessions.lock(id, timeout + 10_000, timeout)
        .compose(token -> withDeadline(id, deadline -> turnId == null
                ? turn(session, model, message, replacement, events, encodeReply, deadline, SessionEnv.randomId(),
                    writesRefused)
                : sessions.storedTurn(id, turnId).compose(length -> {
                  if (length != null) {
                    replayed[0] = true;
                    return landed(id, length, encodeReply);
                  }
                  return turn(session, model, message, replacement, events, encodeReply, deadline, turnId,
                      writesRefused);
                }))
            .eventually(() -> sessions.unlock(id, token)))
        .recover(err -> Future.failedFuture(asApiError(err, id)))
        .andThen(ar -> {
          if (!replayed[0]) {
            stats.record(ar.failed());
          }
        });
  }

  /**
   * The turn, answered 504 when its deadline passes before it starts storing its messages. Once the store write has
   * begun the deadline no longer applies: the turn waits for the write's outcome, so after a 504 none of the turn's
   * messages is stored, and after a 200 all of them are.
   */
  private Future<TurnReply> withDeadline(String id, Function<Deadline, Future<TurnReply>> turn) {
    Deadline deadline = new Deadline();
    Promise<TurnReply> outcome = Promise.promise();
    long timer = vertx.setTimer(limits.turnTimeoutMs(), t -> {
      if (deadline.expire()) {
        outcome.tryFail(new ApiException(504, "Provider_Timeout", "The turn did not finish within "
            + (limits.turnTimeoutMs() / 1000) + " s", id));
      }
    });
    turn.apply(deadline).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        outcome.tryComplete(ar.result());
      } else {
        outcome.tryFail(ar.cause());
      }
    });
    return outcome.future();
  }

  /**
   * Where a turn stands against its deadline: running until either the deadline passes (the turn is abandoned and
   * stores nothing) or the turn starts storing (committed; the deadline is ignored). Whichever comes first wins.
   */
  static final class Deadline {
    private static final int RUNNING = 0;
    private static final int EXPIRED = 1;
    private static final int COMMITTED = 2;
    private final AtomicInteger state = new AtomicInteger(RUNNING);

    boolean expire() {
      return state.compareAndSet(RUNNING, EXPIRED);
    }

    boolean commit() {
      return state.compareAndSet(RUNNING, COMMITTED);
    }

    boolean expired() {
      return state.get() == EXPIRED;
    }
  }

  /**
   * The answer of a turn that landed before its caller learnt it (its instance died between storing the turn and
   * recording its Idempotency-Key outcome): the history as that turn left it, whose last assistant text is its answer.
   */
  private Future<TurnReply> landed(String id, int length, boolean encodeReply) {
    return sessions.history(id).map(history -> {
      List<JsonObject> upTo = history.subList(0, Math.min(length, history.size()));
      String answer = "";
      for (int i = upTo.size() - 1; i >= 0 && answer.isEmpty(); i--) {
        if ("assistant".equals(upTo.get(i).getString("role"))) {
          answer = text(upTo.get(i));
        }
      }
      return encodeReply ? TurnReply.encode(answer, id, upTo, new WireMemo()) : new TurnReply(answer, id, upTo, null);
    });
  }

  private Future<TurnReply> turn(SessionEnv session, String model, String message,
                                 List<JsonObject> replacement, TurnEvents events, boolean encodeReply,
                                 Deadline deadline, String turnId, String writesRefused) {
    String id = session.sessionId();
    List<Tool> offered = selector.select(message);
    List<JsonObject> tools = offered.stream().map(AgentLoop::describe).toList();
    ToolGate gate = new ToolGate(offered, limits.maxWritesPerTurn(), selector::refusal, writesRefused);
    JsonObject ask = new JsonObject().put("role", "user")
        .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", message)));
    WireMemo memo;
    Future<List<JsonObject>> start;
    if (replacement == null) {
      memo = memos == null ? new WireMemo() : memos.take(id);
      start = sessions.history(id);
    } else {
      // A replaced history shares no message with what the memo holds.
      if (memos != null) {
        memos.drop(id);
      }
      memo = new WireMemo();
      // The provider is checked after the replacement, so that a request stores what it carries (as it does its Jira
      // credentials) also when it is answered 503 because the server has no key for its model.
      // Trimming encodes every message of the client's history: a long one is measured on a worker.
      start = threads.step(threads.heavy(replacement), () -> trimmed(replacement, ask))
          .compose(kept -> sessions.replaceHistory(id, kept))
          .compose(v -> {
            provider(model, id);
            return sessions.history(id);
          });
    }
    return start.compose(history -> {
      LlmProvider provider = provider(model, id);
      List<JsonObject> added = new ArrayList<>();
      added.add(ask);
      return step(session, provider, history, added, tools, gate, memo, events, deadline, 1)
          .compose(answer -> deadline.commit() ? store(id, turnId, history, added, answer, memo, encodeReply)
              : Future.failedFuture(new TimeoutException()));
    });
  }

  /** A client's history held to the caps as if the turn it starts were already added (see {@link HistoryTrim}). */
  private List<JsonObject> trimmed(List<JsonObject> replacement, JsonObject ask) {
    List<JsonObject> conversation = new ArrayList<>(replacement);
    conversation.add(ask);
    int drop = HistoryTrim.dropOldest(conversation, replacement.size(), limits.historyMaxMessages(),
        limits.historyMaxBytes());
    return replacement.subList(drop, replacement.size());
  }

  /**
   * Stores the turn's messages, with the oldest whole turns dropped to keep the history within its caps, and makes
   * the reply from the history as stored. Sizes come from the memo's reply encodings, so the reply reuses them.
   */
  private Future<TurnReply> store(String id, String turnId, List<JsonObject> history, List<JsonObject> added,
                                  String answer,
                                  WireMemo memo, boolean encodeReply) {
    List<JsonObject> all = new ArrayList<>(history.size() + added.size());
    all.addAll(history);
    all.addAll(added);
    // Sizing encodes every message the memo has not seen yet (all of them on a store that decodes afresh, e.g.
    // Redis), and the reply reuses those encodings: over a long conversation that is a worker's job.
    return threads.step(threads.heavy(all, memo), () -> HistoryTrim.dropOldest(all, history.size(),
            limits.historyMaxMessages(), limits.historyMaxBytes(),
            i -> memo.message(TurnReply.HISTORY_TRACK, i, all.get(i), JsonObject::toBuffer).length()))
        .compose(drop -> {
          List<JsonObject> kept = all.subList(drop, all.size());
          // The store applies this turn at most once, also when it has to repeat a write it lost sight of.
          return sessions.appendTurn(id, turnId, drop, added).map(n -> {
            memo.dropOldest(drop);
            TurnReply reply = encodeReply ? TurnReply.encode(answer, id, kept, memo)
                : new TurnReply(answer, id, kept, null);
            // Still inside the turn lock: the session's next turn cannot have taken the memo yet.
            if (memos != null) {
              memos.give(id, memo);
            }
            return reply;
          });
        });
  }

  private Future<String> step(SessionEnv session, LlmProvider provider, List<JsonObject> history,
                              List<JsonObject> added, List<JsonObject> tools, ToolGate gate, WireMemo memo,
                              TurnEvents events, Deadline deadline, int iteration) {
    if (deadline.expired()) {
      return Future.failedFuture(new TimeoutException());
    }
    List<JsonObject> conversation = new ArrayList<>(history.size() + added.size());
    conversation.addAll(history);
    conversation.addAll(added);
    ProviderRequest request = new ProviderRequest(SYSTEM_PROMPT, conversation, tools, userHash(session),
        session.anthropicConversationId(), memo);
    LOG.debug("Turn step {}/{} on {}", iteration, limits.maxIterations(), provider.name());
    // Building the request encodes the conversation (what the memo has not encoded yet) and a provider SDK may block:
    // then on a worker. The request it sends answers on the turn's event loop either way.
    boolean offload = provider.mayBlock() || threads.heavy(conversation, memo);
    return threads.step(offload, () -> provider.complete(request)).compose(sent -> sent).compose(reply -> {
      added.add(new JsonObject().put("role", "assistant").put("content", new JsonArray(new ArrayList<>(reply.content()))));
      String text = text(reply);
      if (!text.isEmpty()) {
        events.emit("text", new JsonObject().put("text", text));
      }
      if (!reply.wantsTools()) {
        return Future.succeededFuture(text);
      }
      return runTools(session.sessionId(), reply, gate, events).compose(results -> {
        added.add(new JsonObject().put("role", "user").put("content", new JsonArray(results)));
        if (iteration >= limits.maxIterations()) {
          String stop = (text.isEmpty() ? "" : text + "\n\n") + "(Stopped after " + limits.maxIterations()
              + " model steps, the limit for one turn; ask me to continue.)";
          added.add(new JsonObject().put("role", "assistant")
              .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", stop))));
          events.emit("text", new JsonObject().put("text", stop));
          return Future.succeededFuture(stop);
        }
        return step(session, provider, history, added, tools, gate, memo, events, deadline, iteration + 1);
      });
    });
  }

  /**
   * Every tool the model asked for, in parallel; a refused or failing tool is an error result, and the loop goes on.
   * Each result is clipped before it enters the conversation.
   */
  private Future<List<JsonObject>> runTools(String sessionId, ProviderReply reply, ToolGate gate, TurnEvents events) {
    List<Future<JsonObject>> calls = new ArrayList<>();
    for (JsonObject block : reply.content()) {
      if (!"tool_use".equals(block.getString("type"))) {
        continue;
      }
      String name = block.getString("name");
      events.emit("tool_call", new JsonObject().put("id", block.getString("id")).put("name", name)
          .put("input", block.getValue("input")));
      JsonObject input = block.getValue("input") instanceof JsonObject o ? o : new JsonObject();
      String refusal = gate.refusal(name);
      if (refusal != null) {
        SessionEnv session = SessionContext.current();
        audit.toolCall(sessionId, session == null ? null : session.userId(), name, AuditLog.Outcome.REFUSED, 0, null,
            "Refused_By_Turn");
      }
      Future<ToolResult> result = refusal != null ? Future.succeededFuture(ToolResult.error(refusal))
          : ToolCalls.call(vertx, sessionId, name, input)
              .recover(err -> Future.succeededFuture(ToolResult.error("Tool " + name + " failed: " + errorText(err))));
      calls.add(result.map(r -> {
        JsonObject toolResult = new JsonObject().put("type", "tool_result")
            .put("tool_use_id", block.getString("id"))
            .put("content", ToolResultClip.clip(r.text(), limits.toolResultMaxBytes()))
            .put("is_error", r.isError());
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
    return text(reply.content());
  }

  /** The text blocks of a stored message (its content a string or a list of blocks), joined as a reply's are. */
  private static String text(JsonObject message) {
    Object content = message.getValue("content");
    if (content instanceof String s) {
      return s;
    }
    List<JsonObject> blocks = new ArrayList<>();
    if (content instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        if (array.getValue(i) instanceof JsonObject block) {
          blocks.add(block);
        }
      }
    }
    return text(blocks);
  }

  private static String text(List<JsonObject> content) {
    StringBuilder out = new StringBuilder();
    for (JsonObject b : content) {
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
