package dev.mcps.testing;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PfxOptions;
import io.vertx.core.net.TrustOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Jira or LLM API gone bad, on loopback, in its own Vert.x (as another process would be). The first path segment of
 * the base URL picks the misbehaviour, so one server serves every test case: {@code baseUrl("huge")} + the API path.
 * <ul>
 *   <li>{@code redirect}: 302 to {@link #thief()}, an http server on another port reached by another host name,
 *       which records every request it gets (it must get none);</li>
 *   <li>{@code redirect-downgrade}: 302 to {@link #downgradeTarget()}, a recording server on the same host name
 *       over plain http (with {@link #startWithTls()} the base URL is https: this is the downgrade);</li>
 *   <li>{@code huge}: 200 with a chunked 100 MB body, written with back-pressure, never held in memory;</li>
 *   <li>{@code huge-announced}: the same with {@code Content-Length: 104857600};</li>
 *   <li>{@code endless}: 200, then 1 KiB every 20 ms until the client goes away;</li>
 *   <li>{@code drip-N}: 200, then one byte every N ms until the client goes away;</li>
 *   <li>{@code echo}: 400 whose Jira- and provider-shaped error texts repeat the credential headers it received.</li>
 * </ul>
 * Every streamed answer is recorded as a {@link Stream}: how much was written and whether the client closed it.
 */
public final class HostileUpstream implements AutoCloseable {

  public static final long HUGE_BYTES = 100L * 1024 * 1024;

  /** One streamed answer as the server saw it. */
  public static final class Stream {
    private final String kind;
    private final AtomicLong written = new AtomicLong();
    private final AtomicBoolean closedByClient = new AtomicBoolean();

    Stream(String kind) {
      this.kind = kind;
    }

    public String kind() {
      return kind;
    }

    public long written() {
      return written.get();
    }

    public boolean closedByClient() {
      return closedByClient.get();
    }
  }

  private static final Buffer CHUNK = Buffer.buffer(filler(64 * 1024));
  private static final Buffer KIB = Buffer.buffer(filler(1024));

  private static final String STORE_PASSWORD = "hostile-test";

  private final Vertx vertx = Vertx.vertx();
  private final Path keyStore;
  private final boolean tls;
  private final HttpServer server;
  private final HttpServer thiefServer;
  private final HttpServer localThiefServer;
  private final ConcurrentLinkedQueue<MultiMap> thiefRequests = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Stream> streams = new ConcurrentLinkedQueue<>();

  private HostileUpstream(Path keyStore) {
    this.keyStore = keyStore;
    this.tls = keyStore != null;
    HttpServerOptions options = new HttpServerOptions();
    if (tls) {
      options.setSsl(true).setKeyCertOptions(new PfxOptions().setPath(keyStore.toString())
          .setPassword(STORE_PASSWORD));
    }
    server = vertx.createHttpServer(options).requestHandler(this::handle);
    thiefServer = vertx.createHttpServer().requestHandler(this::steal);
    localThiefServer = vertx.createHttpServer().requestHandler(this::steal);
  }

  public static HostileUpstream start() {
    return start(null);
  }

  /**
   * Serves https with a self-signed certificate for 127.0.0.1 made for the test ({@link #trust()} trusts it); the
   * redirect target stays plain http.
   */
  public static HostileUpstream startWithTls() {
    return start(selfSignedKeyStore());
  }

  private static HostileUpstream start(Path keyStore) {
    HostileUpstream h = new HostileUpstream(keyStore);
    TestServers.await(h.server.listen(0, "127.0.0.1"));
    // 127.0.0.2: another loopback host, one no allowlist in the tests names.
    TestServers.await(h.thiefServer.listen(0, "127.0.0.2"));
    TestServers.await(h.localThiefServer.listen(0, "127.0.0.1"));
    return h;
  }

  /** The base URL whose requests get {@code behaviour}. */
  public String baseUrl(String behaviour) {
    return (tls ? "https" : "http") + "://127.0.0.1:" + server.actualPort() + "/" + behaviour;
  }

  /** What a client must trust to reach {@link #startWithTls()}'s server. */
  public TrustOptions trust() {
    return new PfxOptions().setPath(keyStore.toString()).setPassword(STORE_PASSWORD);
  }

  /** Where {@code redirect} points: plain http, another host, another port. */
  public String thief() {
    return "http://127.0.0.2:" + thiefServer.actualPort() + "/collect";
  }

  /** Where {@code redirect-downgrade} points: plain http on the upstream's own host name, another port. */
  public String downgradeTarget() {
    return "http://127.0.0.1:" + localThiefServer.actualPort() + "/collect";
  }

  /** The headers of every request either redirect target received. */
  private void steal(HttpServerRequest req) {
    thiefRequests.add(MultiMap.caseInsensitiveMultiMap().addAll(req.headers()));
    req.response().end("{}");
  }

  /** The headers of every request the redirect targets received. */
  public List<MultiMap> thiefRequests() {
    return List.copyOf(thiefRequests);
  }

  public List<Stream> streams() {
    return List.copyOf(streams);
  }

  /**
   * Waits (up to 20 s) until the client has hung up on every {@code kind} answer — what a cut-off or a reset looks
   * like from this end — and fails the test if it has not.
   */
  public void awaitClosedByClient(String kind) {
    awaitClosedByClient(kind, 20);
  }

  /** As {@link #awaitClosedByClient(String)}, waiting up to {@code seconds}. */
  public void awaitClosedByClient(String kind, int seconds) {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < until && !streams.stream().filter(s -> s.kind().equals(kind))
        .allMatch(Stream::closedByClient)) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    List<Stream> ofKind = streams.stream().filter(s -> s.kind().equals(kind)).toList();
    if (ofKind.isEmpty() || !ofKind.stream().allMatch(Stream::closedByClient)) {
      throw new AssertionError("the client did not close every '" + kind + "' answer within " + seconds + " s ("
          + ofKind.size() + " seen)");
    }
  }

  /** Used heap after a full collection (the least of three tries, so that a collection in flight does not count). */
  public static long usedHeapAfterGc() {
    long least = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      least = Math.min(least, java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage()
          .getUsed());
    }
    return least;
  }

  private void handle(HttpServerRequest req) {
    String behaviour = req.path().split("/")[1];
    HttpServerResponse res = req.response();
    switch (behaviour) {
      case "redirect" -> res.setStatusCode(302).putHeader("Location", thief()).end();
      case "redirect-downgrade" -> res.setStatusCode(302)
          .putHeader("Location", downgradeTarget()).end();
      case "huge" -> req.body().onSuccess(b -> streamHuge(res.setChunked(true), record("huge", res)));
      case "huge-announced" -> req.body().onSuccess(b -> streamHuge(
          res.putHeader("Content-Length", String.valueOf(HUGE_BYTES)), record("huge-announced", res)));
      case "endless" -> req.body().onSuccess(b -> trickle(res, record("endless", res), KIB, 20));
      case "echo" -> req.body().onSuccess(b -> echo(req));
      default -> {
        if (behaviour.startsWith("drip-")) {
          long every = Long.parseLong(behaviour.substring(5));
          req.body().onSuccess(b -> trickle(res, record(behaviour, res), Buffer.buffer("{"), every));
        } else {
          res.setStatusCode(404).end();
        }
      }
    }
  }

  private Stream record(String kind, HttpServerResponse res) {
    Stream s = new Stream(kind);
    streams.add(s);
    res.closeHandler(v -> s.closedByClient.set(true));
    res.putHeader("Content-Type", "application/json");
    return s;
  }

  /** Writes as fast as the client reads, 64 KiB at a time (one shared chunk), until 100 MB or the client leaves. */
  private void streamHuge(HttpServerResponse res, Stream s) {
    while (!s.closedByClient() && s.written() < HUGE_BYTES && !res.writeQueueFull()) {
      res.write(CHUNK);
      s.written.addAndGet(CHUNK.length());
    }
    if (s.closedByClient()) {
      return;
    }
    if (s.written() >= HUGE_BYTES) {
      res.end();
    } else {
      res.drainHandler(v -> streamHuge(res, s));
    }
  }

  private void trickle(HttpServerResponse res, Stream s, Buffer piece, long everyMs) {
    res.setChunked(true).writeHead();
    long timer = vertx.setPeriodic(everyMs, id -> {
      if (!s.closedByClient()) {
        res.write(piece);
        s.written.addAndGet(piece.length());
      }
    });
    res.closeHandler(v -> {
      s.closedByClient.set(true);
      vertx.cancelTimer(timer);
    });
  }

  private void echo(HttpServerRequest req) {
    String auth = String.valueOf(req.getHeader("Authorization"));
    String apiKey = String.valueOf(req.getHeader("x-api-key"));
    String decoded = "";
    if (auth.startsWith("Basic ")) {
      decoded = new String(java.util.Base64.getDecoder().decode(auth.substring(6)),
          java.nio.charset.StandardCharsets.UTF_8);
    }
    JsonObject body = new JsonObject()
        .put("errorMessages", new JsonArray().add("Header Authorization: " + auth + " is not valid here")
            .add("Credentials " + decoded + " rejected").add("Raw " + auth.replace("Basic ", "")))
        .put("errors", new JsonObject().put("token", decoded.contains(":") ? decoded.substring(decoded.indexOf(':') + 1)
            : decoded))
        .put("error", new JsonObject().put("message", "Invalid request: x-api-key " + apiKey + ", authorization "
            + auth));
    req.response().setStatusCode(400).putHeader("Content-Type", "application/json").end(body.toBuffer());
  }

  /** A PKCS#12 key store with one self-signed certificate for 127.0.0.1, made by the JDK's keytool. */
  private static Path selfSignedKeyStore() {
    try {
      Path dir = Files.createTempDirectory("hostile-tls");
      Path store = dir.resolve("hostile.p12");
      Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
      Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "hostile", "-keyalg", "EC",
          "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2",
          "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", STORE_PASSWORD, "-keypass",
          STORE_PASSWORD).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("keytool failed: " + out);
      }
      store.toFile().deleteOnExit();
      dir.toFile().deleteOnExit();
      return store;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static byte[] filler(int size) {
    byte[] b = new byte[size];
    Arrays.fill(b, (byte) 'x');
    b[0] = '[';
    return b;
  }

  @Override
  public void close() {
    TestServers.await(vertx.close());
  }
}
