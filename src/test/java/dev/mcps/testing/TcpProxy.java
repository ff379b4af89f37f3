package dev.mcps.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on a free loopback port in front of a real server, that injects the network faults a store must live
 * through: replies delayed by N ms, every connection reset, and a black hole (connections are accepted and read, and
 * nothing is ever answered). {@link #restore()} passes everything again. Plain threads and blocking sockets, so it
 * shares nothing with the Vert.x instance under test.
 */
public final class TcpProxy implements AutoCloseable {

  private enum Mode { PASS, DELAY, BLACKHOLE }

  private final int targetPort;
  private final ServerSocket listener;
  private final Set<Pair> pairs = ConcurrentHashMap.newKeySet();
  private volatile Mode mode = Mode.PASS;
  private volatile long delayMillis;
  private volatile boolean closed;

  private TcpProxy(int targetPort) {
    this.targetPort = targetPort;
    try {
      this.listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Thread acceptor = new Thread(this::acceptLoop, "tcp-proxy-accept-" + port());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** A proxy to {@code 127.0.0.1:targetPort}, passing everything. */
  public static TcpProxy to(int targetPort) {
    return new TcpProxy(targetPort);
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** {@code redis://127.0.0.1:<proxy port>}. */
  public String redisUrl() {
    return "redis://127.0.0.1:" + port();
  }

  /** From now on every reply chunk reaches the client {@code millis} after the server sent it. */
  public void delayReplies(long millis) {
    delayMillis = millis;
    mode = Mode.DELAY;
  }

  /** From now on bytes in either direction are read and dropped; new connections are accepted all the same. */
  public void blackhole() {
    mode = Mode.BLACKHOLE;
  }

  /** Resets (RST) every open connection now; later connections pass as the current mode says. */
  public void resetAll() {
    for (Pair p : pairs) {
      p.reset();
    }
  }

  /** Passes everything again, on open and new connections. */
  public void restore() {
    mode = Mode.PASS;
  }

  /** Connections currently open through the proxy. */
  public int openConnections() {
    return pairs.size();
  }

  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    resetAll();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return;
      }
      Socket server;
      try {
        server = new Socket();
        server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5_000);
      } catch (IOException e) {
        // The target is down: the client sees its connection refused as a reset.
        closeQuietly(client, true);
        continue;
      }
      Pair p = new Pair(client, server);
      pairs.add(p);
      p.start();
    }
  }

  /** One proxied connection: a pump each way. */
  private final class Pair {
    private final Socket client;
    private final Socket server;

    Pair(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }

    void start() {
      pump(client, server, false, "up");
      pump(server, client, true, "down");
    }

    private void pump(Socket from, Socket to, boolean replies, String direction) {
      Thread t = new Thread(() -> {
        byte[] buf = new byte[16 * 1024];
        try {
          InputStream in = from.getInputStream();
          OutputStream out = to.getOutputStream();
          int n;
          while ((n = in.read(buf)) >= 0) {
            long readAt = System.currentTimeMillis();
            Mode now = mode;
            if (now == Mode.BLACKHOLE) {
              continue;
            }
            if (replies && now == Mode.DELAY) {
              long wait = readAt + delayMillis - System.currentTimeMillis();
              if (wait > 0) {
                Thread.sleep(wait);
              }
            }
            out.write(Arrays.copyOf(buf, n));
            out.flush();
          }
          end(false);
        } catch (IOException | InterruptedException e) {
          end(true);
        }
      }, "tcp-proxy-" + direction + "-" + port());
      t.setDaemon(true);
      t.start();
    }

    void reset() {
      end(true);
    }

    private void end(boolean abort) {
      if (pairs.remove(this)) {
        closeQuietly(client, abort);
        closeQuietly(server, abort);
      }
    }
  }

  private static void closeQuietly(Socket s, boolean reset) {
    try {
      if (reset) {
        // Linger 0: the close sends RST, as a crashed peer or a dropped NAT entry would.
        s.setSoLinger(true, 0);
      }
      s.close();
    } catch (SocketException ignored) {
      // already gone
    } catch (IOException ignored) {
      // already gone
    }
  }
}
