package dev.mcps.mcp;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The MCP connections (open SSE streams and live Streamable sessions) each user session holds on this instance, so
 * that one client cannot take every stream and file descriptor of the server. Counted per instance: a user spread
 * over N instances may hold up to N times the limit.
 */
final class UserConnectionLimit {

  private final int max;
  private final ConcurrentMap<String, Integer> held = new ConcurrentHashMap<>();

  /** @param max connections per user session; 0 or less means no limit */
  UserConnectionLimit(int max) {
    this.max = max;
  }

  /** Takes a slot; false (and nothing taken) when the user session already holds {@code max}. */
  boolean tryTake(String userSessionId) {
    if (max <= 0) {
      return true;
    }
    boolean[] taken = {false};
    held.compute(userSessionId, (id, n) -> {
      int count = n == null ? 0 : n;
      if (count >= max) {
        return n;
      }
      taken[0] = true;
      return count + 1;
    });
    return taken[0];
  }

  void release(String userSessionId) {
    if (max > 0) {
      held.computeIfPresent(userSessionId, (id, n) -> n <= 1 ? null : n - 1);
    }
  }

  int max() {
    return max;
  }
}
