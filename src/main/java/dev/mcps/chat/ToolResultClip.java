package dev.mcps.chat;

/**
 * Clips a tool result to {@code TOOL_RESULT_MAX_BYTES} of UTF-8 before it enters the history: a result stays in the
 * conversation and is resent to the model on every later step and turn, so one huge answer (a 20 MB label list)
 * would otherwise weigh on everything after it. The cut never splits a character, and a marker tells the model (and
 * whoever reads the history) how much was left out.
 */
final class ToolResultClip {

  private ToolResultClip() {
  }

  /** {@code text} itself when it fits in {@code maxBytes}; else its longest fitting start plus the marker. */
  static String clip(String text, int maxBytes) {
    if (text == null || text.length() <= maxBytes / 3) {
      // At most 3 UTF-8 bytes per UTF-16 unit: it fits without counting.
      return text;
    }
    long total = utf8Length(text);
    if (total <= maxBytes) {
      return text;
    }
    // The marker's width is bounded by that of the total, so the clipped text never exceeds maxBytes.
    int budget = (int) Math.max(0, maxBytes - marker(total).length());
    int end = 0;
    long kept = 0;
    while (end < text.length()) {
      int cp = text.codePointAt(end);
      int size = utf8Length(cp);
      if (kept + size > budget) {
        break;
      }
      kept += size;
      end += Character.charCount(cp);
    }
    return text.substring(0, end) + marker(total - kept);
  }

  static String marker(long omitted) {
    return "\n[clipped: " + omitted + " bytes omitted]";
  }

  static long utf8Length(String text) {
    long n = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      n += utf8Length(cp);
      i += Character.charCount(cp);
    }
    return n;
  }

  private static int utf8Length(int codePoint) {
    if (codePoint < 0x80) {
      return 1;
    }
    if (codePoint < 0x800) {
      return 2;
    }
    // A lone surrogate is encoded as '?' (1 byte) by Java, but counting 3 only makes the cut a little earlier.
    return codePoint < 0x10000 ? 3 : 4;
  }
}
