package dev.mcps.provider;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The encoded wire form of what a turn sends its provider again and again. Every step of a turn resends the whole
 * conversation, and every message but the newest is the same object as in the step before: converting and encoding
 * it once per turn instead of once per step took the largest cost of a multi-step turn away (profiled under chat
 * load). Messages are keyed by identity, since canonical messages are never changed once in a conversation. A memo
 * belongs to one turn, which runs on one Vert.x context; it is not thread-safe.
 */
public final class WireMemo {

  /** A message that has no wire form (e.g. only empty text): encoded as nothing. */
  public static final Buffer NOTHING = Buffer.buffer();

  private final Map<JsonObject, Buffer> messages = new IdentityHashMap<>();
  private final Map<String, Buffer> parts = new HashMap<>();

  /** {@code message}'s wire form as {@code encode} gives it (NOTHING for none), worked out the first time only. */
  public Buffer message(JsonObject message, Function<JsonObject, Buffer> encode) {
    return messages.computeIfAbsent(message, encode);
  }

  /** A part of the request that does not change within the turn (model, system prompt, tools), by its name. */
  public Buffer part(String name, Supplier<Buffer> encode) {
    return parts.computeIfAbsent(name, k -> encode.get());
  }
}
