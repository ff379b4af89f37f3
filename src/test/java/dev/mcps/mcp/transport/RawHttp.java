package dev.mcps.mcp.transport;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * One HTTP/1.1 exchange on a bare socket, for what a real client hides: reading a stream line by line, seeing it
 * end, sending any Host header, and vanishing mid-call by closing the socket.
 */
final class RawHttp implements AutoCloseable {

  private final Socket socket;
  private final InputStream in;
  /** The part of a line read before a read timed out: kept, so no byte is ever lost between two waits. */
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
  private boolean eof;
  private final int status;
  private final List<String> headers = new ArrayList<>();

  private RawHttp(int port, String method, String path, String body, String... headerPairs) {
    try {
      socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout(200);
      StringBuilder request = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n");
      boolean hostGiven = false;
      for (int i = 0; i + 1 < headerPairs.length; i += 2) {
        hostGiven |= headerPairs[i].equalsIgnoreCase("Host");
        request.append(headerPairs[i]).append(": ").append(headerPairs[i + 1]).append("\r\n");
      }
      if (!hostGiven) {
        request.append("Host: 127.0.0.1:").append(port).append("\r\n");
      }
      byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      if (body != null) {
        request.append("Content-Type: application/json\r\nContent-Length: ").append(bytes.length).append("\r\n");
      }
      // Without keep-alive the server closes the connection when the response ends, so its end is observable.
      request.append("Connection: close\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(request.toString().getBytes(StandardCharsets.UTF_8));
      out.write(bytes);
      out.flush();
      in = new BufferedInputStream(socket.getInputStream());
      String statusLine = nextLine(Duration.ofSeconds(10));
      if (statusLine == null) {
        throw new IllegalStateException("no response to " + method + " " + path);
      }
      status = Integer.parseInt(statusLine.split(" ")[1]);
      String line;
      while ((line = nextLine(Duration.ofSeconds(10))) != null && !line.isEmpty()) {
        headers.add(line);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static RawHttp get(int port, String path, String... headers) {
    return new RawHttp(port, "GET", path, null, headers);
  }

  static RawHttp post(int port, String path, String body, String... headers) {
    return new RawHttp(port, "POST", path, body, headers);
  }

  int status() {
    return status;
  }

  String header(String name) {
    String prefix = name.toLowerCase(Locale.ROOT) + ":";
    return headers.stream().filter(h -> h.toLowerCase(Locale.ROOT).startsWith(prefix))
        .map(h -> h.substring(prefix.length()).trim()).findFirst().orElse(null);
  }

  /** The first line (chunk-size lines included, they never match a test's predicate) that matches, or null. */
  String awaitLine(Predicate<String> wanted, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      String line = nextLine(Duration.ofNanos(deadline - System.nanoTime()));
      if (line == null) {
        return null;
      }
      if (wanted.test(line)) {
        return line;
      }
    }
    return null;
  }

  /** Whether the server ended the response (and so the connection) within the time. */
  boolean awaitEnd(Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!eof && System.nanoTime() < deadline) {
      nextLine(Duration.ofNanos(deadline - System.nanoTime()));
    }
    return eof;
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The next line without its line break; null at the end of the stream or when the time is up. */
  private String nextLine(Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!eof) {
      int b;
      try {
        b = in.read();
      } catch (SocketTimeoutException e) {
        if (System.nanoTime() >= deadline) {
          return null;
        }
        continue;
      } catch (IOException e) {
        b = -1;
      }
      if (b == -1) {
        eof = true;
        // A body's last line has no line break of its own (a JSON error): it ends at the end of the stream.
        if (partial.size() > 0) {
          String line = partial.toString(StandardCharsets.UTF_8);
          partial.reset();
          return line;
        }
      } else if (b == '\n') {
        String line = partial.toString(StandardCharsets.UTF_8);
        partial.reset();
        return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
      } else {
        partial.write(b);
      }
    }
    return null;
  }
}
