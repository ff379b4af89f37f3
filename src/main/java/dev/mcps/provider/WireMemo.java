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
 * The encoded wire form of what a turn sends its provider again and again. Every step of a turn resends the whole
 * conversation, and every message but the newest is the same object as in the step before: converting and encoding
 * it once per turn instead of once per step took the largest cost of a multi-step turn away (profiled under chat
 * load). Messages are recognised by identity, since canonical messages are never changed once in a conversation. A memo
 * belongs to one turn, which runs on one Vert.x context; it is not thread-safe.
 */
public final class WireMemo {

  /** A message that has no wire form (e.g. only empty text): encoded as nothing. */
  public static final Buffer NOTHING = Buffer.buffer();

  /** The messages seen, by position in the conversation, and their wire forms. */
  private final List<JsonObject> messages = new ArrayList<>();
  private final List<Buffer> encoded = new ArrayList<>();
  private final Map<String, Buffer> parts = new HashMap<>();

  /**
   * The wire form of the conversation's message at {@code index} as {@code encode} gives it (NOTHING for none),
   * worked out once as long as the conversation keeps that very message there: a conversation only grows within a
   * turn, so positions are a cheaper key than identity hashes.
   */
  public Buffer message(int index, JsonObject message, Function<JsonObject, Buffer> encode) {
    if (index < messages.size() && messages.get(index) == message) {
      return encoded.get(index);
    }
    Buffer wire = encode.apply(message);
    if (index < messages.size()) {
      // Not the conversation this memo saw: forget what followed, it cannot be reused either.
      messages.subList(index, messages.size()).clear();
      encoded.subList(index, encoded.size()).clear();
    }
    if (index == messages.size()) {
      messages.add(message);
      encoded.add(wire);
    }
    return wire;
  }

  /** A part of the request that does not change within the turn (model, system prompt, tools), by its name. */
  public Buffer part(String name, Supplier<Buffer> encode) {
    return parts.computeIfAbsent(name, k -> encode.get());
  }
}
