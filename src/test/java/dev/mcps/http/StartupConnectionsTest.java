package dev.mcps.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.TestServers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Connections that arrive while the server is binding its port, as a load balancer's health checks and retried
 * requests do when an instance (re)starts. Vert.x 5.0.7 accepts connections before it has created the server's
 * metrics, so such a connection has no socket metric while its requests meet metrics that exist: without the guard
 * in {@link dev.mcps.metrics.BindRaceSafeMetrics} the request dies with a NullPointerException inside Vert.x and
 * the client waits for an answer that never comes (found by MainIT, whose health poll hit that window). Whether a
 * start-up meets that instant is chance (this test made two requests hang in one run of three without the guard);
 * {@code BindRaceSafeMetricsTest} replays the exact calls deterministically. With the guard, this one never fails.
 */
class StartupConnectionsTest {

  private static final int CLIENTS = 6;
  private static final int STARTS = 6;
  /** Far above any answer's time on a busy runner: a request past it was never going to be answered. */
  private static final int READ_TIMEOUT_MS = 20_000;

  @Test
  void everyConnectionAcceptedWhileTheServerStartsGetsAnAnswer() throws Exception {
    List<String> hung = new ArrayList<>();
    int answered = 0;
    for (int start = 0; start < STARTS; start++) {
      int port = TestServers.freePort();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger ok = new AtomicInteger();
      ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        Thread t = new Thread(() -> hammer(port, stop, ok, problems), "startup-client-" + c);
        t.start();
        clients.add(t);
      }
      Server server = TestServers.start(Map.of("HTTP_PORT", String.valueOf(port)));
      try {
        // Each client keeps asking until it has had some answers from the running server.
        TestServers.awaitCondition(30, () -> ok.get() >= CLIENTS * 3 || !problems.isEmpty());
      } finally {
        stop.set(true);
        for (Thread t : clients) {
          t.join(READ_TIMEOUT_MS + 5_000);
        }
        TestServers.await(server.stop());
      }
      hung.addAll(problems);
      answered += ok.get();
    }
    assertThat(hung).as("connections accepted at start-up that never got an answer").isEmpty();
    assertThat(answered).isGreaterThanOrEqualTo(STARTS * CLIENTS * 3);
  }

  /** Connects again and again (refused until the port is bound), sending GET /health on each connection. */
  private static void hammer(int port, AtomicBoolean stop, AtomicInteger ok, ConcurrentLinkedQueue<String> problems) {
    byte[] request = ("GET /health HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    while (!stop.get()) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
        socket.setSoTimeout(READ_TIMEOUT_MS);
        OutputStream out = socket.getOutputStream();
        out.write(request);
        out.flush();
        InputStream in = socket.getInputStream();
        byte[] head = in.readNBytes(12);
        String status = new String(head, StandardCharsets.US_ASCII);
        if (status.startsWith("HTTP/1.1 200")) {
          ok.incrementAndGet();
        } else if (!status.isEmpty()) {
          problems.add("answered '" + status + "'");
        }
        // An empty read is a connection closed without a word: the server was still starting or stopping.
      } catch (SocketTimeoutException e) {
        problems.add("no answer within " + READ_TIMEOUT_MS + " ms");
      } catch (IOException refused) {
        // Not bound yet: try again at once, so that some connection lands in the instant the port opens (a pause
        // of even 0.2 ms between tries misses that instant).
        Thread.onSpinWait();
      }
    }
  }
}
