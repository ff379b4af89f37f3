package dev.mcps.audit;

/** Where audit lines go. {@link #write} is called on event loops: it must return at once, never wait on I/O. */
interface AuditSink {

  /** Hands over one complete line (one JSON object, no line break). */
  void write(String line);

  /** Writes what is still queued and releases the sink; nothing is written after. */
  void close();
}
