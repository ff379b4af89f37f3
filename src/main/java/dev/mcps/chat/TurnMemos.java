package dev.mcps.chat;

import dev.mcps.provider.WireMemo;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sessions' {@link WireMemo}s between their turns, so that a turn encodes only the messages the last one added
 * (used where the store hands out the same message objects from turn to turn). A turn takes its session's memo out
 * and gives it back when it has succeeded; a failed turn's memo is dropped. Taking out and giving back go through
 * this object's lock, which also hands the memo safely from one event loop to another. Bounded in sessions and in
 * encoded bytes, least recently used first out: a memo only saves work, so losing one costs one turn its encoding.
 */
final class TurnMemos {

  private final int maxSessions;
  private final long maxBytes;
  private final LinkedHashMap<String, WireMemo> memos = new LinkedHashMap<>(64, 0.75f, true);
  private long bytes;

  TurnMemos(int maxSessions, long maxBytes) {
    this.maxSessions = maxSessions;
    this.maxBytes = maxBytes;
  }

  /** The memo of the session's last successful turn, ready for the next; a fresh one when there is none. */
  synchronized WireMemo take(String sessionId) {
    WireMemo memo = memos.remove(sessionId);
    if (memo == null) {
      return new WireMemo();
    }
    bytes -= memo.bytes();
    return memo.nextTurn();
  }

  /** Keeps the memo of a turn that succeeded for the session's next turn. */
  synchronized void give(String sessionId, WireMemo memo) {
    if (memo.bytes() > maxBytes) {
      return;
    }
    WireMemo old = memos.put(sessionId, memo);
    if (old != null) {
      bytes -= old.bytes();
    }
    bytes += memo.bytes();
    Iterator<Map.Entry<String, WireMemo>> eldest = memos.entrySet().iterator();
    while ((bytes > maxBytes || memos.size() > maxSessions) && eldest.hasNext()) {
      bytes -= eldest.next().getValue().bytes();
      eldest.remove();
    }
  }

  /** Forgets the session's memo (the session has ended, or its history was emptied). */
  synchronized void drop(String sessionId) {
    WireMemo memo = memos.remove(sessionId);
    if (memo != null) {
      bytes -= memo.bytes();
    }
  }

  synchronized int size() {
    return memos.size();
  }

  synchronized long bytes() {
    return bytes;
  }
}
