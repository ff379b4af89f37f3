package dev.mcps.provider;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The encoded forms of a conversation's messages, kept while the conversation keeps those very messages. Every step
 * of a turn resends the whole conversation to the provider, and every turn does again, then returns the whole history
 * to the client: converting and encoding each message once instead of every time took the largest cost of a chat turn
 * away (profiled under chat load). Messages are recognised by position and identity, since canonical messages are
 * never changed once in a conversation; a store that hands out the same objects from turn to turn (the memory store)
 * lets one memo serve all of a session's turns.
 *
 * <p>Each encoding (a provider's wire form, the canonical JSON) is a track of its own. Parts (model, system prompt,
 * tools) hold for one turn only: {@link #nextTurn} forgets them, since the next turn may offer other tools. A memo is
 * used by one turn at a time, on one Vert.x context; it is not thread-safe.
 */
public final class WireMemo {

  /** A message that has no wire form (e.g. only empty text): encoded as nothing. */
  public static final Buffer NOTHING = Buffer.buffer();

  private final Map<String, Track> tracks = new HashMap<>(4);
  private final Map<String, Buffer> parts = new HashMap<>();
  private long bytes;

  /** The messages seen on one track, by position in the conversation, and their encoded forms. */
  private static final class Track {
    final List<JsonObject> messages = new ArrayList<>();
    final List<Buffer> encoded = new ArrayList<>();
  }

  /**
   * The encoded form on {@code track} of the conversation's message at {@code index}, as {@code encode} gives it
   * (NOTHING for none), worked out once as long as the conversation keeps that very message there: a conversation
   * only grows, so positions are a cheaper key than identity hashes.
   */
  public Buffer message(String track, int index, JsonObject message, Function<JsonObject, Buffer> encode) {
    Track t = tracks.computeIfAbsent(track, k -> new Track());
    if (index < t.messages.size() && t.messages.get(index) == message) {
      return t.encoded.get(index);
    }
    Buffer wire = encode.apply(message);
    if (index < t.messages.size()) {
      // Not the conversation this memo saw: forget what followed, it cannot be reused either.
      List<Buffer> stale = t.encoded.subList(index, t.encoded.size());
      stale.forEach(b -> bytes -= b.length());
      stale.clear();
      t.messages.subList(index, t.messages.size()).clear();
    }
    if (index == t.messages.size()) {
      t.messages.add(message);
      t.encoded.add(wire);
      bytes += wire.length();
    }
    return wire;
  }

  /**
   * How many leading messages of {@code conversation} this memo already holds an encoding of (the very same message
   * objects, on any track): what encoding the conversation again costs next to nothing for. Pointer comparisons only.
   */
  public int encodedPrefix(List<JsonObject> conversation) {
    int best = 0;
    for (Track t : tracks.values()) {
      int n = Math.min(t.messages.size(), conversation.size());
      int i = 0;
      while (i < n && t.messages.get(i) == conversation.get(i)) {
        i++;
      }
      best = Math.max(best, i);
    }
    return best;
  }

  /** A part of the request that does not change within the turn (model, system prompt, tools), by its name. */
  public Buffer part(String name, Supplier<Buffer> encode) {
    return parts.computeIfAbsent(name, k -> encode.get());
  }

  /** Ready for the session's next turn: the messages are kept, the parts are not. */
  public WireMemo nextTurn() {
    parts.clear();
    return this;
  }

  /**
   * The conversation lost its {@code n} oldest messages (its history was trimmed): every track forgets them, and
   * the messages after keep their encodings at their new positions.
   */
  public void dropOldest(int n) {
    for (Track t : tracks.values()) {
      int k = Math.min(n, t.messages.size());
      List<Buffer> gone = t.encoded.subList(0, k);
      gone.forEach(b -> bytes -= b.length());
      gone.clear();
      t.messages.subList(0, k).clear();
    }
  }

  /** The encoded bytes this memo holds for messages, which is what it costs to keep between turns. */
  public long bytes() {
    return bytes;
  }
}
