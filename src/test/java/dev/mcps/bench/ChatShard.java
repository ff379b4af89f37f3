package dev.mcps.bench;

import static dev.mcps.bench.McpSession.snippet;

import dev.mcps.bench.CallStats.ErrorKind;
import dev.mcps.bench.McpSession.Reply;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The chat users of one event loop, with their HTTP client and statistics. */
final class ChatShard extends Shard {

  final ChatLoadOptions options;
  private final List<Integer> slots;
  private final List<User> users = new ArrayList<>();
  private HttpClient http;
  /** Vert.x reads request options on each request and never keeps them, so one instance serves every turn. */
  private RequestOptions post;

  ChatShard(ChatLoadOptions options, LoadClock clock, List<Integer> slots) {
    super(clock, ChatLoadClient.TAG);
    this.options = options;
    this.slots = slots;
  }

  /** Completes once every user's first turn has succeeded; fails, with the reason, on the first that has not. */
  @Override
  public Future<?> start() {
    http = vertx.httpClientBuilder()
        .with(new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_1_1)
            .setKeepAlive(true)
            .setPipelining(false)
            .setTcpNoDelay(true)
            .setConnectTimeout(5_000))
        // One keep-alive connection per user, since each has one turn outstanding; two spare for the odd reconnect.
        .with(new PoolOptions().setHttp1MaxSize(slots.size() + 2))
        .build();
    post = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setHost(options.host)
        .setPort(options.port)
        .setURI(options.path)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .setIdleTimeout(options.callTimeoutMillis);
    List<Future<Void>> ready = new ArrayList<>();
    for (int slot : slots) {
      User user = new User(slot);
      users.add(user);
      ready.add(user.firstTurn().onSuccess(v -> user.next()));
    }
    return Future.all(ready);
  }

  /** Lets the turns in flight finish, then closes the client; never fails, so the results are always reported. */
  @Override
  public Future<?> stop() {
    return Future.join(users.stream().map(User::whenIdle).toList())
        .timeout(options.callTimeoutMillis + 1_000, TimeUnit.MILLISECONDS)
        .transform(ar -> http.close())
        .recover(e -> Future.succeededFuture());
  }

  /** What a 200 answer to a turn says: the session to go on with, and what is wrong with the turn, if anything. */
  record TurnReply(String sessionId, ErrorKind error, String detail) {

    static TurnReply protocol(String detail) {
      return new TurnReply(null, ErrorKind.PROTOCOL, detail);
    }
  }

  /**
   * Checks that a /chat 200 is the turn this benchmark makes — the message, one tool call, its result, an answer —
   * at the end of the history it returns. A turn whose tool failed is a {@code TOOL} error (its session goes on);
   * any other shape is a {@code PROTOCOL} error, because then the benchmark no longer measures what it says.
   */
  static TurnReply check(Buffer body, String message) {
    JsonObject json;
    try {
      json = body.toJsonObject();
    } catch (RuntimeException e) {
      return TurnReply.protocol("the 200 body is not a JSON object: " + snippet(body.toString(StandardCharsets.UTF_8)));
    }
    if (!(json.getValue("sessionId") instanceof String sessionId) || sessionId.isEmpty()) {
      return TurnReply.protocol("the 200 body has no sessionId: " + snippet(json.encode()));
    }
    if (!(json.getValue("response") instanceof String)) {
      return TurnReply.protocol("the 200 body has no response text: " + snippet(json.encode()));
    }
    if (!(json.getValue("history") instanceof JsonArray history) || history.size() < 4) {
      return new TurnReply(sessionId, ErrorKind.PROTOCOL, "the 200 body has no history of at least this turn's 4 "
          + "messages: " + snippet(json.encode()));
    }
    int n = history.size();
    JsonObject asked = block(history, n - 4, "user", 0);
    JsonObject use = block(history, n - 3, "assistant", -1);
    JsonObject result = block(history, n - 2, "user", 0);
    JsonObject answer = block(history, n - 1, "assistant", 0);
    boolean shaped = asked != null && "text".equals(asked.getValue("type")) && message.equals(asked.getValue("text"))
        && use != null && "tool_use".equals(use.getValue("type"))
        && result != null && "tool_result".equals(result.getValue("type"))
        && use.getValue("id") != null && use.getValue("id").equals(result.getValue("tool_use_id"))
        && answer != null && "text".equals(answer.getValue("type"));
    if (!shaped) {
      return new TurnReply(sessionId, ErrorKind.PROTOCOL, "the turn is not message, one tool call, its result, an "
          + "answer: " + snippet(new JsonArray(history.getList().subList(n - 4, n)).encode()));
    }
    if (Boolean.TRUE.equals(result.getValue("is_error"))) {
      return new TurnReply(sessionId, ErrorKind.TOOL, "the tool failed: " + snippet(result.encode()));
    }
    return new TurnReply(sessionId, null, null);
  }

  /**
   * Block {@code index} (-1 = the only one) of message {@code at} when the message has that role, else null. The
   * tool call must be the only block of its message: one tool call per turn.
   */
  private static JsonObject block(JsonArray history, int at, String role, int index) {
    if (!(history.getValue(at) instanceof JsonObject m) || !role.equals(m.getValue("role"))
        || !(m.getValue("content") instanceof JsonArray content) || content.isEmpty()) {
      return null;
    }
    if (index < 0) {
      return content.size() == 1 && content.getValue(0) instanceof JsonObject only ? only : null;
    }
    return content.getValue(index) instanceof JsonObject b ? b : null;
  }

  /**
   * One chat user: exactly one turn outstanding. In the closed loop the next is sent as soon as the last is answered;
   * in the open loop ({@code --rate}) each turn has a due time on the user's own schedule, one every
   * {@code users / rate} seconds, the users staggered evenly. An open-loop turn's latency counts from its due time
   * whenever it went out late (the last turn ran over): a client that waited for a slow server and then timed only
   * the request would hide the queue the server built up. Its first turn names
   * the user; later ones the session that turn returned. After {@code --turns-per-user} turns it starts over under a
   * new user id, so that no history grows without bound. Every method runs on the shard's event loop.
   */
  private final class User {

    private final int slot;
    private int generation;
    private String userId;
    private String sessionId;
    private int turns;
    private byte[] body;
    private boolean inflight;
    private long sentAt;
    /** Open loop: when the next turn is due (System.nanoTime, so any sign), once {@link #scheduled}. */
    private long due;
    /** Open loop: whether the schedule has started (it starts with the measured window). */
    private boolean scheduled;
    /** Whether the turn in flight counts: in the open loop, only turns sent on the schedule do. */
    private boolean counted;
    private Promise<Void> idle;

    User(int slot) {
      this.slot = slot;
      startOver(0);
    }

    /** A turn outside the measurement whose failure stops the run, with the server's own answer as the reason. */
    Future<Void> firstTurn() {
      return McpSession.exchange(http, post, Buffer.buffer(body))
          .recover(e -> Future.failedFuture("POST " + options.path + " (first turn of " + userId + ") failed: " + e))
          .compose(reply -> {
            if (reply.status() != 200) {
              return Future.failedFuture("POST " + options.path + " (first turn of " + userId + ") answered "
                  + reply.describe() + hint(reply));
            }
            TurnReply turn = check(reply.body(), options.message);
            if (turn.error() != null) {
              return Future.failedFuture("POST " + options.path + " (first turn of " + userId + "): "
                  + turn.detail());
            }
            advance(turn.sessionId());
            return Future.succeededFuture();
          });
    }

    void next() {
      if (clock.stopping) {
        if (idle != null) {
          idle.tryComplete();
        }
        return;
      }
      inflight = true;
      if (options.rate > 0 && !waitForDueTime()) {
        return;
      }
      sentAt = System.nanoTime();
      counted = options.rate == 0 || scheduled;
      if (options.rate > 0 && scheduled) {
        if (sentAt - due > 0) {
          // Late, because the last turn ran over (or the timer fired late): the user has been waiting since `due`.
          sentAt = due;
        }
        due += options.userIntervalNanos();
      }
      McpSession.exchange(http, post, Buffer.buffer(body)).onComplete(this::answered);
    }

    private void answered(AsyncResult<Reply> ar) {
      long now = System.nanoTime();
      boolean inWindow = clock.inWindow(now) && counted;
      long delayMillis = 0;
      if (ar.failed()) {
        if (McpSession.isTimeout(ar.cause())) {
          stats.error(ErrorKind.TIMEOUT, inWindow, userId + ": no answer to a turn within "
              + options.callTimeoutMillis + " ms");
        } else {
          stats.error(ErrorKind.IO, inWindow, userId + ": POST " + options.path + " failed: " + ar.cause());
          // A refused connection must not turn the loop into a busy spin.
          delayMillis = McpSession.IO_RETRY_DELAY_MILLIS;
        }
      } else if (ar.result().status() == 200) {
        TurnReply turn = check(ar.result().body(), options.message);
        if (turn.error() == null) {
          clock.completed.increment();
          if (inWindow) {
            stats.success((now - sentAt) / 1_000);
          }
        } else {
          stats.error(turn.error(), inWindow, userId + ": " + turn.detail());
        }
        if (turn.sessionId() != null) {
          advance(turn.sessionId());
        }
      } else if (ar.result().status() == 404 && sessionId != null) {
        // Evicted or expired: what a real client does is start a new conversation.
        stats.error(ErrorKind.SESSION_LOST, inWindow, userId + ": session " + sessionId + " answered "
            + ar.result().describe());
        startOver(generation + 1);
      } else {
        stats.error(ErrorKind.HTTP, inWindow, userId + ": POST " + options.path + " answered "
            + ar.result().describe());
      }
      inflight = false;
      if (delayMillis > 0) {
        vertx.setTimer(delayMillis, t -> next());
      } else {
        next();
      }
    }

    /**
     * Open loop: true when this turn is due now; otherwise sets a timer that calls {@link #next()} just before it is
     * due (timers have millisecond steps; a turn sent up to a millisecond early is timed from when it is sent). The
     * warm-up runs as a closed loop — the most turns a second warm both JVMs fastest and leave no backlog — and the
     * schedule starts with the window; a turn sent before it does not count.
     */
    private boolean waitForDueTime() {
      long now = System.nanoTime();
      if (now < clock.measureStart) {
        return true;
      }
      if (!scheduled) {
        scheduled = true;
        due = clock.measureStart + slot * (long) (1e9 / options.rate) % options.userIntervalNanos();
      }
      long waitMillis = (due - now) / 1_000_000;
      if (waitMillis < 1) {
        return true;
      }
      vertx.setTimer(waitMillis, t -> next());
      return false;
    }

    /** A turn went through on {@code session}: go on with it, or start over once the user has had its turns. */
    private void advance(String session) {
      turns++;
      if (options.turnsPerUser > 0 && turns >= options.turnsPerUser) {
        startOver(generation + 1);
      } else if (!session.equals(sessionId)) {
        sessionId = session;
        body = new JsonObject().put("sessionId", session).put("message", options.message).toBuffer().getBytes();
      }
    }

    private void startOver(int nextGeneration) {
      generation = nextGeneration;
      userId = options.user(slot, generation);
      sessionId = null;
      turns = 0;
      body = new JsonObject().put("userId", userId).put("message", options.message).toBuffer().getBytes();
    }

    Future<Void> whenIdle() {
      if (!inflight) {
        return Future.succeededFuture();
      }
      if (idle == null) {
        idle = Promise.promise();
      }
      return idle.future();
    }
  }

  /** What a refusal most likely means, for the ones a benchmark setup runs into. */
  static String hint(Reply reply) {
    String text = reply.body().toString(StandardCharsets.UTF_8);
    if (reply.status() == 503 && text.contains("Provider_Not_Configured")) {
      return " (the server has no configured provider for the turn's model; for this benchmark that is the Anthropic "
          + "provider, built from ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY with CHAT_DEFAULT_MODEL=anthropic)";
    }
    if (reply.status() == 502 && text.contains("Provider_Error")) {
      return " (the provider call failed: is the fake provider running at ANTHROPIC_BASE_URL, and does its key match "
          + "ANTHROPIC_API_KEY?)";
    }
    return "";
  }
}
