package dev.mcps.chat;

import dev.mcps.ApiException;
import dev.mcps.session.SessionEnv;
import dev.mcps.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code Idempotency-Key} of /chat (DESIGN.md §4): a client that lost the answer to a turn retries with the same
 * key and gets the first turn's answer instead of a second turn (a second set of Jira changes). The first request
 * claims the key in the store (so across instances with Redis), runs the turn and records its 200 reply; a retry
 * replays that reply, or waits for it while the turn runs. A turn that fails has stored nothing (its messages are all
 * or none), so its claim is released and a retry runs the turn again. Keys belong to one user (or, for a session
 * without one, one session) and last the session timeout.
 */
final class IdempotentTurns {

  private static final Logger LOG = LoggerFactory.getLogger(IdempotentTurns.class);
  /** Wide enough for UUIDs, ULIDs and base64 tokens; no ':' so that {@code {userId}:{key}} splits one way only. */
  private static final Pattern KEY = Pattern.compile("[A-Za-z0-9._~+/=-]{1,255}");

  private final Vertx vertx;
  private final Sessions sessions;
  private final long recordTtlMillis;
  private final long claimTtlMillis;

  /**
   * @param recordTtlMillis how long an outcome is replayed (the session timeout)
   * @param claimTtlMillis  how long a running turn holds its key: longer than a turn can take (lock wait and turn),
   *                        so that the claim of an instance that died frees itself
   */
  IdempotentTurns(Vertx vertx, Sessions sessions, long recordTtlMillis, long claimTtlMillis) {
    this.vertx = vertx;
    this.sessions = sessions;
    this.recordTtlMillis = recordTtlMillis;
    this.claimTtlMillis = claimTtlMillis;
  }

  /** The key as sent, checked; a 400 when it is not one we can keep. */
  static String checkKey(String key) {
    if (!KEY.matcher(key).matches()) {
      throw ApiException.badRequest("Invalid_Request", "Idempotency-Key must be 1 to 255 characters among letters, "
          + "digits and . _ ~ + / = -");
    }
    return key;
  }

  /**
   * What makes two requests the same turn: the body without {@code stream} (a retry may stream or not) and without
   * {@code jiraAuth} (no credential, even hashed, goes into the record).
   */
  static String fingerprint(JsonObject body) {
    JsonObject same = body.copy();
    same.remove("stream");
    same.remove("jiraAuth");
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(same.toBuffer().getBytes());
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The id under which the turn of this key and request is stored: the same on every attempt. An instance that dies
   * after storing the turn but before recording the key's outcome leaves a turn a retry finds by this id and answers
   * from, instead of running (and storing) it a second time.
   */
  static String turnId(SessionEnv session, String key, String fingerprint) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest((scopedKey(session, key) + "\n" + fingerprint).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return "idem-" + HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String scopedKey(SessionEnv session, String key) {
    String owner = session.userId() != null ? session.userId() : "session-" + session.sessionId();
    return owner + ":" + key;
  }

  /** Runs {@code turn} once per key of the session's owner; a retry gets the first run's reply. */
  Future<TurnReply> run(SessionEnv session, String key, String fingerprint, Supplier<Future<TurnReply>> turn) {
    String scopedKey = scopedKey(session, key);
    String claim = new JsonObject().put("fingerprint", fingerprint).put("state", "running")
        .put("claim", SessionEnv.randomId()).encode();
    long waitUntil = System.currentTimeMillis() + claimTtlMillis;
    return claimOrReplay(scopedKey, claim, fingerprint, session.sessionId(), waitUntil, 20, turn);
  }

  private Future<TurnReply> claimOrReplay(String scopedKey, String claim, String fingerprint, String sessionId,
                                          long waitUntil, long backoff, Supplier<Future<TurnReply>> turn) {
    return sessions.claimIdempotency(scopedKey, claim, claimTtlMillis).compose(found -> {
      if (found == null) {
        return runClaimed(scopedKey, claim, turn);
      }
      JsonObject record = new JsonObject(found);
      if (!fingerprint.equals(record.getString("fingerprint"))) {
        return Future.failedFuture(new ApiException(422, "Idempotency_Key_Reused", "This Idempotency-Key was used "
            + "for another request; use a new key for a new message", sessionId));
      }
      if ("done".equals(record.getString("state"))) {
        return Future.succeededFuture(replay(record.getJsonObject("reply")));
      }
      if (System.currentTimeMillis() + backoff > waitUntil) {
        return Future.failedFuture(new ApiException(409, "Idempotency_Key_In_Progress", "The turn with this "
            + "Idempotency-Key is still running; retry later", sessionId));
      }
      // The first request's turn is still running (maybe on another instance): wait for its outcome.
      return vertx.timer(backoff, TimeUnit.MILLISECONDS).compose(t -> claimOrReplay(scopedKey, claim, fingerprint,
          sessionId, waitUntil, Math.min(500, backoff * 2), turn));
    });
  }

  private Future<TurnReply> runClaimed(String scopedKey, String claim, Supplier<Future<TurnReply>> turn) {
    return turn.get().transform(ar -> {
      if (ar.failed()) {
        return sessions.releaseIdempotency(scopedKey, claim).transform(v -> Future.failedFuture(ar.cause()));
      }
      TurnReply reply = ar.result();
      JsonObject done = new JsonObject(claim).put("state", "done").put("reply", reply.encoded() != null
          ? new JsonObject(reply.encoded()) : reply.json());
      // The turn is stored: its answer goes out even if the record could not be kept (a retry would then run again).
      return sessions.completeIdempotency(scopedKey, claim, done.encode(), recordTtlMillis)
          .onFailure(err -> LOG.warn("Could not record the outcome of an idempotent turn: {}", err.getMessage()))
          .transform(v -> Future.succeededFuture(reply));
    });
  }

  /** The recorded 200 body, sent as it was. */
  private static TurnReply replay(JsonObject reply) {
    JsonArray history = reply.getJsonArray("history", new JsonArray());
    List<JsonObject> messages = new ArrayList<>(history.size());
    for (int i = 0; i < history.size(); i++) {
      messages.add(history.getJsonObject(i));
    }
    return new TurnReply(reply.getString("response"), reply.getString("sessionId"), messages, reply.toBuffer());
  }
}
