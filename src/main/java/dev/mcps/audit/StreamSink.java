package dev.mcps.audit;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Audit lines written to standard output ({@code AUDIT_LOG=stdout}) or appended to a file, by a thread of its own.
 *
 * <p>Callers (event loops) only add the line to a lock-free queue: no lock, no wake-up of the writer. The writer
 * drains the queue every {@value #PERIOD_MS} ms and writes all it took with one write call, whole lines only, then
 * flushes. Waking a writer thread for every line (a blocking queue, or logback's async appender) cost more than the
 * rest of a tool call on a loaded machine; a line now reaches its stream at most {@value #PERIOD_MS} ms after its
 * event. On standard output the one write goes through {@code System.out}, whose lock keeps the batch whole among the
 * application log's lines. A queue of {@value #MAX_QUEUED} lines (the stream far behind) drops further lines rather
 * than stall a request, and the count is reported in the application log.
 */
final class StreamSink implements AuditSink {

  private static final Logger LOG = LoggerFactory.getLogger(StreamSink.class);
  static final int PERIOD_MS = 100;
  static final int MAX_QUEUED = 65_536;

  private final String name;
  private final OutputStream out;
  private final boolean closeStream;
  private final ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicLong dropped = new AtomicLong();
  private final Thread writer;
  private volatile boolean closed;

  private StreamSink(String name, OutputStream out, boolean closeStream) {
    this.name = name;
    this.out = out;
    this.closeStream = closeStream;
    this.writer = new Thread(this::drain, "mcps-audit-writer");
    writer.setDaemon(true);
    writer.start();
  }

  static StreamSink stdout() {
    return new StreamSink("standard output", System.out, false);
  }

  /** Opens (creates or appends to) {@code path}; throws when it cannot be written, naming AUDIT_LOG. */
  static StreamSink file(Path path) {
    try {
      return new StreamSink(path.toString(), Files.newOutputStream(path, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND, StandardOpenOption.WRITE), true);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("AUDIT_LOG: cannot write to " + path + " (" + e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
    }
  }

  @Override
  public void write(String line) {
    if (closed || queued.incrementAndGet() > MAX_QUEUED) {
      if (!closed) {
        queued.decrementAndGet();
      }
      dropped.incrementAndGet();
      return;
    }
    queue.add(line);
  }

  private void drain() {
    StringBuilder batch = new StringBuilder(8192);
    try {
      while (true) {
        boolean last = closed;
        String line;
        while ((line = queue.poll()) != null) {
          queued.decrementAndGet();
          batch.append(line).append('\n');
        }
        if (batch.length() > 0) {
          out.write(batch.toString().getBytes(StandardCharsets.UTF_8));
          out.flush();
          batch.setLength(0);
        }
        reportDrops();
        if (last) {
          return;
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(PERIOD_MS));
      }
    } catch (IOException e) {
      LOG.error("Audit log {} cannot be written any more: {}", name, e.toString());
    } finally {
      if (closeStream) {
        try {
          out.close();
        } catch (IOException e) {
          LOG.warn("Audit log {} did not close cleanly: {}", name, e.toString());
        }
      }
    }
  }

  private void reportDrops() {
    long lost = dropped.getAndSet(0);
    if (lost > 0) {
      LOG.warn("Audit log {} fell behind: {} line(s) dropped", name, lost);
    }
  }

  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(writer);
    try {
      // Blocking here is fine: close runs once, at server stop, never on a request's path.
      writer.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
