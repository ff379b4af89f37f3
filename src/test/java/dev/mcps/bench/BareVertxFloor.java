package dev.mcps.bench;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The floor of the MCP benchmark: a bare Vert.x HTTP server that does only what any JSON-RPC server over HTTP must do
 * per call, on as many event loops as our server has (one per core). It reads the body, decodes it into a
 * {@link JsonObject}, builds a {@code tools/call} result of the same shape and size as ours (content,
 * structuredContent, resultType, serverInfo in {@code _meta}) and encodes it. No routing, no checks, no session, no
 * tool: it answers any POST. What it reaches on a machine, with the same load client in the same run, is as fast as
 * a Vert.x MCP server can go there, and so tells which ratios over a reference are reachable at all.
 *
 * <p>{@code java -cp … dev.mcps.bench.BareVertxFloor --port=N}
 */
public final class BareVertxFloor {

  private static final String TAG = "vertx-floor";

  private BareVertxFloor() {
  }

  public static void main(String[] args) {
    int port = -1;
    for (String arg : args) {
      if (arg.startsWith("--port=")) {
        port = Integer.parseInt(arg.substring("--port=".length()));
      }
    }
    if (port < 0 || port > 65_535) {
      System.err.println("usage: BareVertxFloor --port=N");
      System.exit(2);
    }
    int listenOn = port;
    Vertx vertx = Vertx.vertx();
    int loops = Runtime.getRuntime().availableProcessors();
    vertx.deployVerticle(() -> new VerticleBase() {
      @Override
      public Future<?> start() {
        return listen(vertx, listenOn);
      }
    }, new DeploymentOptions().setInstances(loops)).onComplete(ar -> {
      if (ar.failed()) {
        System.err.println(TAG + ": cannot listen on 127.0.0.1:" + listenOn + ": " + ar.cause());
        System.exit(1);
      }
      System.err.println(TAG + ": listening on 127.0.0.1:" + listenOn + " with " + loops + " event loops");
    });
  }

  static Future<HttpServer> listen(Vertx vertx, int port) {
    return vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      Object id;
      try {
        id = body.toJsonObject().getValue("id");
      } catch (RuntimeException e) {
        req.response().setStatusCode(400).end();
        return;
      }
      JsonObject result = new JsonObject()
          .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", "{}")))
          .put("isError", false)
          .put("structuredContent", new JsonObject().put("notes", new JsonObject()))
          .put("resultType", "complete")
          .put("_meta", new JsonObject().put("io.modelcontextprotocol/serverInfo",
              new JsonObject().put("name", TAG).put("version", "0")));
      req.response().putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("jsonrpc", "2.0").put("id", id).put("result", result).toBuffer());
    })).listen(port, "127.0.0.1");
  }
}
