package dev.mcps.bench;

import dev.mcps.bench.LoadOptions.Transport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The MCP sessions (or stateless virtual users) of one event loop, with their own HTTP clients and statistics. */
final class LoadShard extends Shard {

  private static final long SWEEP_MILLIS = 250;

  final LoadOptions options;
  private final List<Integer> sessionIndexes;
  private final List<McpSession> sessions = new ArrayList<>();
  private final byte[] callHead;
  private final byte[] callTail;
  /** Tools/call POSTs (and, for Streamable HTTP, every request). */
  HttpClient calls;
  /** Legacy SSE GET streams, each holding a connection for the whole run. */
  HttpClient streams;
  private long sweepTimer = -1;

  LoadShard(LoadOptions options, LoadClock clock, List<Integer> sessionIndexes) {
    super(clock, McpLoadClient.TAG);
    this.options = options;
    this.sessionIndexes = sessionIndexes;
    JsonObject params = new JsonObject().put("name", options.tool).put("arguments", options.toolArguments);
    if (options.transport == Transport.STATELESS) {
      // What initialize would have told the server, on every request of the stateless era.
      params.put("_meta", new JsonObject()
          .put("io.modelcontextprotocol/protocolVersion", options.protocolVersion)
          .put("io.modelcontextprotocol/clientCapabilities", new JsonObject())
          .put("io.modelcontextprotocol/clientInfo", McpSession.CLIENT_INFO.copy()));
    }
    this.callHead = "{\"jsonrpc\":\"2.0\",\"id\":".getBytes(StandardCharsets.UTF_8);
    this.callTail = (",\"method\":\"tools/call\",\"params\":" + params.encode() + "}").getBytes(StandardCharsets.UTF_8);
  }

  Vertx vertx() {
    return vertx;
  }

  /** The request body is the same for every call but the id: splice it in rather than encode JSON per call. */
  Buffer callBody(long id) {
    byte[] idBytes = Long.toString(id).getBytes(StandardCharsets.US_ASCII);
    return Buffer.buffer(callHead.length + idBytes.length + callTail.length)
        .appendBytes(callHead)
        .appendBytes(idBytes)
        .appendBytes(callTail);
  }

  /** Completes once every session of this shard has connected (and started calling), fails on the first that cannot. */
  @Override
  public Future<?> start() {
    int n = sessionIndexes.size();
    HttpClientOptions http = new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_1_1)
        .setKeepAlive(true)
        .setPipelining(false)
        .setTcpNoDelay(true)
        .setConnectTimeout(5_000);
    boolean sse = options.transport == Transport.SSE;
    // Streamable and stateless: one connection per session (user), plus room for a stray DELETE or reply, so that a
    // user's POSTs go over a kept-alive connection and none waits for another's. Legacy SSE: a session's next POST
    // can leave before the 202 of its previous one has arrived (the response comes on the stream), so allow two.
    calls = vertx.httpClientBuilder()
        .with(http)
        .with(new PoolOptions().setHttp1MaxSize(sse ? 2 * n + 2 : n + 2))
        .build();
    if (sse) {
      streams = vertx.httpClientBuilder()
          .with(new HttpClientOptions(http).setIdleTimeout(0))
          .with(new PoolOptions().setHttp1MaxSize(n))
          .build();
    }
    List<Future<Void>> connected = new ArrayList<>();
    for (int index : sessionIndexes) {
      McpSession session = switch (options.transport) {
        case SSE -> new LegacySseSession(this, index);
        case STREAMABLE -> new StreamableSession(this, index);
        case STATELESS -> new StatelessSession(this, index);
      };
      sessions.add(session);
      connected.add(session.connect()
          .recover(e -> Future.failedFuture("session " + session.user + ": " + e.getMessage()))
          .onSuccess(v -> session.sendNext()));
    }
    if (sse) {
      // Streamable calls time out through the request's idle timeout; on SSE the answer comes on another connection.
      sweepTimer = vertx.setPeriodic(SWEEP_MILLIS, t -> {
        long now = System.nanoTime();
        for (McpSession session : sessions) {
          session.checkTimeout(now);
        }
      });
    }
    return Future.all(connected);
  }

  /** Lets the calls in flight finish, then ends every session; never fails, so the results are always reported. */
  @Override
  public Future<?> stop() {
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
    }
    List<Future<Void>> idle = sessions.stream().map(McpSession::whenIdle).toList();
    return Future.join(idle)
        .timeout(options.callTimeoutMillis + 1_000, TimeUnit.MILLISECONDS)
        .transform(ar -> Future.join(sessions.stream().map(McpSession::close).toList())
            .timeout(5, TimeUnit.SECONDS))
        .transform(ar -> streams == null ? calls.close() : Future.join(calls.close(), streams.close()).mapEmpty())
        .recover(e -> Future.succeededFuture());
  }
}
