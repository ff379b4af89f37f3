package dev.mcps.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} for tests, on its own free loopback port and in its own temporary directory. It does
 * not depend on JUnit or Vert.x: it talks RESP over a plain socket. The process is also killed by a JVM shutdown
 * hook, so a crashed test run leaves no server behind.
 *
 * <p>{@link #stop()} keeps the directory so that {@link #restart()} can bring the same server back (with its data
 * when started {@linkplain #startPersistent() persistent}); {@link #close()} also removes the directory.
 */
public final class RedisServer implements AutoCloseable {

  private static final String BINARY = System.getProperty("redis.server", "redis-server");
  private static final long START_TIMEOUT_MILLIS = 10_000;
  private static final int SOCKET_TIMEOUT_MILLIS = 5_000;
  private static final int PORT_ATTEMPTS = 3;

  private final boolean persistent;
  private final Path dir;
  private final Thread killOnExit;
  private int port;
  private Process process;

  private RedisServer(boolean persistent) {
    this.persistent = persistent;
    try {
      this.dir = Files.createTempDirectory("mcps-redis-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.killOnExit = new Thread(() -> {
      halt();
      deleteDir();
    }, "redis-server-cleanup");
    Runtime.getRuntime().addShutdownHook(killOnExit);
  }

  /** A throwaway server: nothing is written to disk. */
  public static RedisServer start() {
    return launchNew(false);
  }

  /** A server that fsyncs every write to its append-only file, so {@link #restart()} keeps every acknowledged write. */
  public static RedisServer startPersistent() {
    return launchNew(true);
  }

  private static RedisServer launchNew(boolean persistent) {
    RedisServer server = new RedisServer(persistent);
    RuntimeException last = null;
    // The free port we picked can be taken by someone else before redis-server binds it: then try another.
    for (int i = 0; i < PORT_ATTEMPTS; i++) {
      server.port = freePort();
      try {
        server.launch();
        return server;
      } catch (RuntimeException e) {
        last = e;
        server.halt();
      }
    }
    server.close();
    throw last;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** Stops the server and waits for it to exit. Its directory stays, for {@link #restart()}. */
  public synchronized void stop() {
    halt();
  }

  /** Starts the server again on the same port and directory (stopping it first if it runs). */
  public synchronized void restart() {
    halt();
    launch();
  }

  public void flushAll() {
    Object reply = call("FLUSHALL");
    if (!"OK".equals(reply)) {
      throw new IllegalStateException("FLUSHALL answered " + reply);
    }
  }

  /**
   * Sends one command and returns its reply: a String (simple or bulk), a Long, a List of those, or null for nil.
   * An error reply is thrown as an IllegalStateException.
   */
  public Object call(String... command) {
    try (Socket socket = connect()) {
      write(socket.getOutputStream(), command);
      return read(socket.getInputStream());
    } catch (IOException e) {
      throw new UncheckedIOException("redis on port " + port + " did not answer " + command[0], e);
    }
  }

  @Override
  public synchronized void close() {
    halt();
    deleteDir();
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException alreadyExiting) {
      // The hook is running or about to: it does the same work.
    }
  }

  // --- process ---

  private void launch() {
    List<String> cmd = new ArrayList<>(List.of(BINARY,
        "--port", String.valueOf(port),
        "--bind", "127.0.0.1",
        "--dir", dir.toString(),
        "--save", "",
        "--daemonize", "no"));
    if (persistent) {
      cmd.addAll(List.of("--appendonly", "yes", "--appendfsync", "always"));
    } else {
      cmd.addAll(List.of("--appendonly", "no"));
    }
    Path log = dir.resolve("redis.log");
    try {
      process = new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + BINARY + " (is Redis installed and on the PATH?)", e);
    }
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("redis-server on port " + port + " exited with " + process.exitValue()
            + ":\n" + tail(log));
      }
      if (answersPing()) {
        return;
      }
      if (System.currentTimeMillis() > deadline) {
        halt();
        throw new IllegalStateException("redis-server on port " + port + " did not answer PING within "
            + START_TIMEOUT_MILLIS + " ms:\n" + tail(log));
      }
      sleep(20);
    }
  }

  /** SIGTERM: Redis shuts down cleanly (the append-only file is already fsynced); kill it if it takes too long. */
  private synchronized void halt() {
    Process p = process;
    if (p == null) {
      return;
    }
    process = null;
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private boolean answersPing() {
    try {
      return "PONG".equals(call("PING"));
    } catch (RuntimeException notYet) {
      return false;
    }
  }

  private void deleteDir() {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException ignored) {
      // Best effort: it is a temporary directory.
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  // --- a minimal RESP client ---

  private Socket connect() throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), SOCKET_TIMEOUT_MILLIS);
    socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
    return socket;
  }

  private static void write(OutputStream out, String... command) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    buf.writeBytes(("*" + command.length + "\r\n").getBytes(StandardCharsets.UTF_8));
    for (String arg : command) {
      byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
      buf.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.UTF_8));
      buf.writeBytes(bytes);
      buf.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }
    out.write(buf.toByteArray());
    out.flush();
  }

  private static Object read(InputStream in) throws IOException {
    String line = readLine(in);
    char type = line.charAt(0);
    String rest = line.substring(1);
    switch (type) {
      case '+':
        return rest;
      case '-':
        throw new IllegalStateException(rest);
      case ':':
        return Long.parseLong(rest);
      case '$': {
        int len = Integer.parseInt(rest);
        if (len < 0) {
          return null;
        }
        byte[] data = in.readNBytes(len + 2);
        return new String(data, 0, len, StandardCharsets.UTF_8);
      }
      case '*': {
        int n = Integer.parseInt(rest);
        if (n < 0) {
          return null;
        }
        List<Object> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          items.add(read(in));
        }
        return items;
      }
      default:
        throw new IOException("unexpected RESP reply: " + line);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int prev = -1;
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed");
      }
      if (prev == '\r' && b == '\n') {
        byte[] bytes = line.toByteArray();
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
      }
      line.write(b);
      prev = b;
    }
  }
}
