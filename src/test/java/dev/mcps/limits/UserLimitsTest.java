package dev.mcps.limits;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.ApiException;
import dev.mcps.Server;
import dev.mcps.chat.ChatVerticle;
import dev.mcps.config.ConfigLoader;
import dev.mcps.provider.LlmProvider;
import dev.mcps.provider.ProviderReply;
import dev.mcps.testing.Http;
import dev.mcps.testing.SseStream;
import dev.mcps.testing.TestServers;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * USER_RATE_LIMIT_PER_MINUTE and USER_MAX_CONCURRENT_TURNS on a real server (memory store): /chat, event-bus turns
 * and every MCP era answer 429 Rate_Limited with Retry-After past a user's limit, other users go on, and a turn's
 * slot comes back however the turn ended. The limits' clock stands still, so no bucket refills mid-test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UserLimitsTest {

  static final int RATE = 5;
  /** A frozen clock and 5 a minute: an empty bucket's next token is 12 s away. */
  static final String RATE_RETRY_AFTER = "12";

  private final GatedProvider provider = new GatedProvider();
  private Server server;
  private Http http;
  private Mcp mcp;

  @BeforeAll
  void start() {
    Map<String, String> env = TestServers.env(Map.of("USER_RATE_LIMIT_PER_MINUTE", String.valueOf(RATE),
        "USER_MAX_CONCURRENT_TURNS", "1"));
    Map<String, LlmProvider> providers = Map.of("anthropic", provider.provider());
    server = TestServers.await(Server.start(ConfigLoader.load(env), providers,
        Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC)));
    http = new Http(server.port());
    mcp = new Mcp(server.port());
  }

  @AfterAll
  void stop() {
    TestServers.await(server.stop());
  }

  private static String user(String name) {
    return name + "-" + UUID.randomUUID();
  }

  private Http.Response chat(JsonObject who, String message) {
    return http.post("/chat", who.copy().put("message", message));
  }

  static void assertRateLimited(Http.Response r, String retryAfter) {
    assertThat(r.status()).as(r.body()).isEqualTo(429);
    assertThat(r.json().getString("error")).isEqualTo("Rate_Limited");
    assertThat(r.json().getString("message")).isNotBlank();
    assertThat(r.headers().firstValue("Retry-After")).hasValue(retryAfter);
  }

  /** An MCP 429: a JSON-RPC error answering {@code id}, {@code data.error} Rate_Limited, and Retry-After. */
  static void assertMcpRateLimited(HttpResponse<String> r, Object id) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
    JsonObject body = new JsonObject(r.body());
    assertThat(body.getString("jsonrpc")).isEqualTo("2.0");
    assertThat(body.getValue("id")).isEqualTo(id);
    assertThat(body.getJsonObject("error").getJsonObject("data").getString("error")).isEqualTo("Rate_Limited");
    assertThat(r.headers().firstValue("Retry-After")).hasValue(RATE_RETRY_AFTER);
  }

  // --- the request rate ---

  @Test
  void chatPastTheRatePerMinuteAnswers429RateLimitedWithRetryAfterWhileOtherUsersGoOn() {
    JsonObject alice = new JsonObject().put("userId", user("alice"));
    for (int i = 0; i < RATE; i++) {
      assertThat(chat(alice, "hi " + i).status()).as("turn " + i).isEqualTo(200);
    }

    Http.Response refused = chat(alice, "one too many");
    Http.Response streamed = http.post("/chat", alice.copy().put("message", "streamed").put("stream", true));
    Http.Response bob = chat(new JsonObject().put("userId", user("bob")), "hello");

    assertRateLimited(refused, RATE_RETRY_AFTER);
    assertThat(refused.json().getInteger("retryAfter")).isEqualTo(12);
    assertRateLimited(streamed, RATE_RETRY_AFTER);
    assertThat(bob.status()).isEqualTo(200);
  }

  @Test
  void aRequestNamingOnlyASessionCountsAgainstItsOwner() {
    String owner = user("owner");
    String sessionId = chat(new JsonObject().put("userId", owner), "first").json().getString("sessionId");
    JsonObject bySession = new JsonObject().put("sessionId", sessionId);
    for (int i = 1; i < RATE; i++) {
      assertThat(chat(bySession, "by id " + i).status()).isEqualTo(200);
    }

    assertRateLimited(chat(bySession, "by id, one too many"), RATE_RETRY_AFTER);
    assertRateLimited(chat(new JsonObject().put("userId", owner), "by user"), RATE_RETRY_AFTER);
    assertMcpRateLimited(mcp.statelessToolsList(9, Map.of("X-Session-Id", sessionId)), 9);
  }

  @Test
  void chatAndMcpRequestsOfOneUserDrawOnOneBucket() {
    String carol = user("carol");
    for (int i = 0; i < 3; i++) {
      assertThat(chat(new JsonObject().put("userId", carol), "chat " + i).status()).isEqualTo(200);
    }
    assertThat(mcp.statelessToolsList(1, Map.of("X-User-Id", carol)).statusCode()).isEqualTo(200);
    assertThat(mcp.statelessToolsList(2, Map.of("X-User-Id", carol)).statusCode()).isEqualTo(200);

    assertMcpRateLimited(mcp.statelessToolsList(3, Map.of("X-User-Id", carol)), 3);
  }

  @Test
  void statelessMcpPastTheRateAnswers429AndOtherUsersGoOn() {
    String dave = user("dave");
    for (int i = 0; i < RATE; i++) {
      assertThat(mcp.statelessToolsList(i, Map.of("X-User-Id", dave)).statusCode()).isEqualTo(200);
    }

    assertMcpRateLimited(mcp.statelessToolsList(99, Map.of("X-User-Id", dave)), 99);
    assertThat(mcp.statelessToolsList(100, Map.of("X-User-Id", user("erin"))).statusCode()).isEqualTo(200);
    assertThat(mcp.statelessToolsList(101, Map.of()).statusCode()).as("a request that names no user is not counted")
        .isEqualTo(200);
  }

  @Test
  void streamableMcpCountsInitializeAndEachRequestAndStillLetsTheSessionEnd() throws Exception {
    String frank = user("frank");
    HttpResponse<String> init = mcp.initialize(frank);
    assertThat(init.statusCode()).as(init.body()).isEqualTo(200);
    String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
    assertThat(mcp.onSession(session, Mcp.notification("notifications/initialized")).statusCode()).isEqualTo(202);
    for (int id = 2; id <= 4; id++) {
      assertThat(mcp.onSession(session, Mcp.rpc(id, "tools/list", new JsonObject())).statusCode()).isEqualTo(200);
    }

    assertMcpRateLimited(mcp.onSession(session, Mcp.rpc(5, "tools/list", new JsonObject())), 5);
    try (SseStream listening = SseStream.open(mcp.client(), SseStream.listening(mcp.base(), session, null))) {
      assertThat(listening.status).as("a listening GET is a request too").isEqualTo(429);
    }
    assertMcpRateLimited(mcp.initialize(frank), 1);
    assertThat(mcp.deleteSession(session).statusCode()).as("DELETE is never refused").isEqualTo(204);
    assertThat(mcp.initialize(user("grace")).statusCode()).isEqualTo(200);
  }

  @Test
  void legacySseCountsTheStreamAndEachMessage() throws Exception {
    String heidi = user("heidi");
    HttpRequest get = HttpRequest.newBuilder(URI.create(mcp.base() + "/mcp/sse?userId=" + heidi))
        .header("Accept", "text/event-stream").GET().build();
    try (SseStream stream = SseStream.open(mcp.client(), get)) {
      assertThat(stream.status).isEqualTo(200);
      String endpoint = stream.next().data();
      JsonObject init = Mcp.rpc(1, "initialize", new JsonObject().put("protocolVersion", "2024-11-05")
          .put("capabilities", new JsonObject()).put("clientInfo", new JsonObject().put("name", "t")
              .put("version", "1")));
      assertThat(mcp.sseMessage(endpoint, init).statusCode()).isEqualTo(202);
      assertThat(mcp.sseMessage(endpoint, Mcp.notification("notifications/initialized")).statusCode())
          .isEqualTo(202);
      assertThat(mcp.sseMessage(endpoint, Mcp.rpc(2, "tools/list", new JsonObject())).statusCode()).isEqualTo(202);
      assertThat(mcp.sseMessage(endpoint, Mcp.rpc(3, "tools/list", new JsonObject())).statusCode()).isEqualTo(202);

      assertMcpRateLimited(mcp.sseMessage(endpoint, Mcp.rpc(4, "tools/list", new JsonObject())), 4);
    }
    HttpResponse<String> reconnect = mcp.send(get);
    assertThat(reconnect.statusCode()).isEqualTo(429);
    assertThat(new JsonObject(reconnect.body()).getString("error")).as("a stream, not a JSON-RPC request")
        .isEqualTo("Rate_Limited");
    assertThat(reconnect.headers().firstValue("Retry-After")).hasValue(RATE_RETRY_AFTER);
  }

  // --- turns at once ---

  @Test
  void aSecondConcurrentTurnIs429AndANewTurnWorksOnceTheFirstEnded() throws Exception {
    JsonObject ivan = new JsonObject().put("userId", user("ivan"));
    CompletableFuture<Http.Response> first = http.postAsync("/chat", ivan.copy().put("message", "hold on"));
    Promise<ProviderReply> running = provider.nextHeld();

    Http.Response second = chat(ivan, "meanwhile");
    Http.Response otherUser = chat(new JsonObject().put("userId", user("judy")), "unaffected");
    running.complete(GatedProvider.reply("done holding"));
    Http.Response firstDone = first.get(20, TimeUnit.SECONDS);
    Http.Response after = chat(ivan, "after");

    assertRateLimited(second, "2");
    assertThat(otherUser.status()).isEqualTo(200);
    assertThat(firstDone.status()).as(firstDone.body()).isEqualTo(200);
    assertThat(after.status()).as("the slot came back").isEqualTo(200);
  }

  @Test
  void aFailedTurnGivesItsSlotBack() throws Exception {
    JsonObject kim = new JsonObject().put("userId", user("kim"));
    CompletableFuture<Http.Response> first = http.postAsync("/chat", kim.copy().put("message", "hold then fail"));
    Promise<ProviderReply> running = provider.nextHeld();
    assertRateLimited(chat(kim, "meanwhile"), "2");

    running.fail(new dev.mcps.provider.ProviderException(502, "Provider_Error", "gone wrong"));
    assertThat(first.get(20, TimeUnit.SECONDS).status()).isEqualTo(502);
    assertThat(chat(kim, "please fail").status()).isEqualTo(502);

    assertThat(chat(kim, "afterwards").status()).isEqualTo(200);
  }

  @Test
  void eventBusTurnsAreLimitedLikeChat() throws Exception {
    String leo = user("leo");
    CompletableFuture<Http.Response> held = http.postAsync("/chat", new JsonObject().put("userId", leo)
        .put("message", "hold"));
    Promise<ProviderReply> running = provider.nextHeld();

    Throwable refused = TestServers.await(server.vertx().eventBus()
        .request(ChatVerticle.ADDRESS, new JsonObject().put("userId", leo).put("message", "over the bus"),
            new DeliveryOptions().setSendTimeout(10_000))
        .<Throwable>map(reply -> null).otherwise(err -> err));
    running.complete(GatedProvider.reply("ok"));
    held.get(20, TimeUnit.SECONDS);

    ApiException api = ApiException.fromReply(refused);
    assertThat(api).as(String.valueOf(refused)).isNotNull();
    assertThat(api.status()).isEqualTo(429);
    assertThat(api.code()).isEqualTo("Rate_Limited");
    assertThat(api.retryAfterSeconds()).isEqualTo(2);
  }
}
