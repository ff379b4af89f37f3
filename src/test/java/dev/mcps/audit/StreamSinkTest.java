package dev.mcps.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The audit writer: lines from many threads arrive whole, each once, and none queued before close is lost. */
class StreamSinkTest {

  @Test
  void linesFromManyThreadsAreWrittenWholeAndEachOnceByClose() throws Exception {
    Path file = Files.createTempFile("audit-sink", ".log");
    StreamSink sink = StreamSink.file(file);
    int threads = 8;
    int perThread = 5_000;
    CountDownLatch done = new CountDownLatch(threads);
    for (int t = 0; t < threads; t++) {
      int id = t;
      new Thread(() -> {
        for (int i = 0; i < perThread; i++) {
          sink.write("{\"thread\":" + id + ",\"n\":" + i + ",\"pad\":\"" + "x".repeat(i % 200) + "\"}");
        }
        done.countDown();
      }).start();
    }
    done.await();
    sink.close();

    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(threads * perThread);
    Set<String> seen = new HashSet<>();
    for (String line : lines) {
      assertThat(line).startsWith("{\"thread\":").endsWith("\"}");
      assertThat(seen.add(line.substring(0, line.indexOf(",\"pad\"")))).isTrue();
    }
  }
}
