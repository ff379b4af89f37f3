package dev.mcps.audit;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code AUDIT_LOG=<file>}: lines appended to a file by a thread of its own. Callers (event loops) only offer the
 * line to a bounded queue; a full queue (the disk far behind) drops the line and counts it rather than stall a
 * request, and the count is reported in the application log once the writer catches up. The file is flushed
 * whenever the queue runs empty, so a line is on disk moments after its event.
 */
final class FileSink implements AuditSink {

  private static final Logger LOG = LoggerFactory.getLogger(FileSink.class);
  private static final int QUEUE_SIZE = 65_536;
  /** Marks the end of the stream for the writer thread (compared by identity). */
  private static final String END = new String("end");

  private final Path path;
  private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE_SIZE);
  private final AtomicLong dropped = new AtomicLong();
  private final Writer out;
  private final Thread writer;
  private volatile boolean closed;

  /** Opens (creates or appends to) {@code path}; throws when it cannot be written, naming AUDIT_LOG. */
  FileSink(Path path) {
    this.path = path;
    try {
      this.out = new BufferedWriter(Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND, StandardOpenOption.WRITE), 64 * 1024);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("AUDIT_LOG: cannot write to " + path + " (" + e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
    }
    this.writer = new Thread(this::drain, "mcps-audit-writer");
    writer.setDaemon(true);
    writer.start();
  }

  @Override
  public void write(String line) {
    if (closed || !queue.offer(line)) {
      dropped.incrementAndGet();
    }
  }

  private void drain() {
    List<String> batch = new ArrayList<>();
    try {
      while (true) {
        String first = queue.poll(1, TimeUnit.SECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch);
        boolean end = false;
        for (String line : batch) {
          if (line == END) {
            end = true;
            break;
          }
          out.write(line);
          out.write('\n');
        }
        batch.clear();
        out.flush();
        reportDrops();
        if (end) {
          return;
        }
      }
    } catch (IOException e) {
      LOG.error("Audit log {} cannot be written any more: {}", path, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      try {
        out.close();
      } catch (IOException e) {
        LOG.warn("Audit log {} did not close cleanly: {}", path, e.toString());
      }
    }
  }

  private void reportDrops() {
    long lost = dropped.getAndSet(0);
    if (lost > 0) {
      LOG.warn("Audit log {} fell behind: {} line(s) dropped", path, lost);
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      // Blocking here is fine: close runs once, at server stop, never on a request's path.
      if (queue.offer(END, 5, TimeUnit.SECONDS)) {
        writer.join(TimeUnit.SECONDS.toMillis(10));
      } else {
        writer.interrupt();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
