package dev.mcps.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ToolResultClipTest {

  private static int bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  @Test
  void aResultThatFitsIsKeptAsIs() {
    String text = "é".repeat(50);
    assertThat(ToolResultClip.clip(text, 100)).isSameAs(text);
  }

  @Test
  void aLongResultIsCutToTheLimitWithAMarkerSayingHowMuchWasLeftOut() {
    String text = "x".repeat(10_000);
    String clipped = ToolResultClip.clip(text, 1000);
    assertThat(bytes(clipped)).isLessThanOrEqualTo(1000);
    assertThat(clipped).endsWith("\n[clipped: " + (10_000 - clipped.indexOf('\n')) + " bytes omitted]");
    assertThat(clipped).startsWith("x".repeat(900));
  }

  @Test
  void theCutNeverSplitsACharacter() {
    // 4-byte characters (an emoji is a surrogate pair in Java) and 3-byte ones, at every alignment.
    for (int pad = 0; pad < 4; pad++) {
      String text = "a".repeat(pad) + "😀€".repeat(500);
      String clipped = ToolResultClip.clip(text, 300);
      String kept = clipped.substring(0, clipped.indexOf("\n[clipped: "));
      assertThat(new String(kept.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)).isEqualTo(kept);
      assertThat(Character.isHighSurrogate(kept.charAt(kept.length() - 1))).isFalse();
      assertThat(bytes(clipped)).isLessThanOrEqualTo(300);
      long omitted = Long.parseLong(clipped.replaceAll("(?s).*\\[clipped: (\\d+) bytes omitted\\]$", "$1"));
      assertThat(bytes(kept) + omitted).isEqualTo(bytes(text));
    }
  }
}
