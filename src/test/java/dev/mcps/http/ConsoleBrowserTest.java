package dev.mcps.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.Browser;
import dev.mcps.testing.FakeAnthropic;
import dev.mcps.testing.FakeAuthorizationServer;
import dev.mcps.testing.Http;
import dev.mcps.testing.RedisServer;
import dev.mcps.testing.TcpProxy;
import dev.mcps.testing.TestCluster;
import dev.mcps.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chromium.HasCdp;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * The console in a real browser (headless Chromium driven by Selenium): it loads clean, the operator signs in and
 * manages the sessions the API made, and the playground streams a turn against the fake Anthropic server. Every
 * test saves a screenshot of its view under {@code target/console-screenshots/}.
 */
class ConsoleBrowserTest {

  private static Vertx side;
  private static FakeAnthropic anthropic;
  private static Server server;
  private static String origin;
  private static Http http;
  private static Browser shared;
  private Browser browser;

  @BeforeAll
  static void startServer() {
    Browser.requireAvailable();
    side = Vertx.vertx();
    anthropic = FakeAnthropic.start(side, "sk-console-test");
    anthropic.script(ConsoleBrowserTest::noteThenAnswer);
    server = TestServers.start(Map.of("ANTHROPIC_API_KEY", "sk-console-test",
        "ANTHROPIC_BASE_URL", anthropic.baseUrl(), "ANTHROPIC_MODEL", "claude-test"));
    origin = "http://127.0.0.1:" + server.port();
    http = new Http(server.port());
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      TestServers.await(server.stop());
    }
    if (side != null) {
      TestServers.await(side.close());
    }
  }

  @BeforeEach
  void openBrowser() {
    // One browser for the class (a start costs seconds); open() below gives each test a clean tab state.
    if (shared == null) {
      shared = Browser.start(1280, 900);
    }
    browser = shared;
  }

  @AfterEach
  void closeOwnBrowser() {
    if (browser != shared) {
      browser.close();
    }
  }

  @AfterAll
  static void closeBrowser() {
    if (shared != null) {
      shared.close();
    }
  }

  @Test
  void theConsoleLoadsWithNoConsoleErrorAndNoRequestToAnotherOrigin() {
    open("");
    browser.waitUntil(ExpectedConditions.textToBePresentInElementLocated(By.id("health"), "ok"));
    assertThat(text("health")).contains("memory").contains("single instance");
    browser.screenshot("operator-signed-out");

    browser.driver().findElement(By.id("show-playground")).click();
    browser.waitUntil(ExpectedConditions.visibilityOfElementLocated(By.id("chat-message")));
    assertThat(browser.driver().findElements(By.cssSelector("#chat-model option")))
        .extracting(WebElement::getText).containsExactly("Anthropic (claude-test)");

    assertThat(browser.consoleProblems()).isEmpty();
    assertThat(browser.requestsOutside(origin)).isEmpty();
  }

  @Test
  void aWrongAdminTokenShowsAClearMessageAndKeepsTheSessionsHidden() {
    open("");
    signIn("not-the-token");
    browser.waitUntil(ExpectedConditions.textToBePresentInElementLocated(By.id("operator-status"),
        "Wrong admin token"));
    assertThat(text("operator-status")).contains("Unauthorized (401)");
    assertThat(browser.driver().findElement(By.id("operator-panels")).isDisplayed()).isFalse();
    assertThat(sessionStorageToken()).isNull();
    browser.screenshot("operator-wrong-token");
  }

  @Test
  void theRightTokenListsTheSessionsTheApiMadeAndDeletingOneInThePageRemovesIt() {
    String keep = chat("alice-" + System.nanoTime(), "hello from alice");
    String doomed = chat("bob-" + System.nanoTime(), "hello from bob");

    open("");
    signIn(TestServers.ADMIN_TOKEN);
    WebElement doomedRow = browser.waitFor(row(doomed));
    browser.waitFor(row(keep));
    assertThat(doomedRow.getText()).contains("bob-").contains("4 messages");
    assertThat(sessionStorageToken()).isEqualTo(TestServers.ADMIN_TOKEN);
    assertThat(browser.driver().getCurrentUrl()).doesNotContain(TestServers.ADMIN_TOKEN);
    browser.waitUntil(ExpectedConditions.textToBePresentInElementLocated(By.id("activity-summary"), "this minute"));
    // The peak comes from the server's own samples (every 5 s), not from what this page has seen: up to one sample
    // and one page refresh (5 s each) after the sessions were made, so longer than the usual wait.
    new org.openqa.selenium.support.ui.WebDriverWait(browser.driver(), java.time.Duration.ofSeconds(30)).until(d -> {
      java.util.regex.Matcher peak = java.util.regex.Pattern.compile("peak (\\d+) in 30 minutes")
          .matcher(d.findElement(By.id("activity-summary")).getText());
      return peak.find() && Long.parseLong(peak.group(1)) >= 2;
    });
    browser.screenshot("operator-sessions");

    WebElement filter = browser.driver().findElement(By.id("sessions-filter"));
    filter.sendKeys("bob-");
    browser.waitUntil(ExpectedConditions.invisibilityOfElementLocated(row(keep)));
    assertThat(browser.driver().findElements(row(doomed))).hasSize(1);
    filter.clear();
    filter.sendKeys(Keys.BACK_SPACE);
    browser.waitFor(row(keep));

    doomedRow = browser.waitFor(row(doomed));
    doomedRow.findElement(By.cssSelector("button.detail")).click();
    browser.waitUntil(ExpectedConditions.textToBePresentInElementLocated(By.id("detail-fields"), doomed));
    browser.screenshot("operator-session-detail");

    doomedRow = browser.waitFor(row(doomed));
    doomedRow.findElement(By.cssSelector("button.delete")).click();
    browser.waitUntil(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
    browser.screenshot("operator-confirm-delete");
    browser.driver().findElement(By.id("confirm-ok")).click();

    browser.waitUntil(ExpectedConditions.invisibilityOfElementLocated(row(doomed)));
    JsonArray listed = http.get("/admin/sessions?limit=200", Http.admin()).json().getJsonArray("sessions");
    List<String> ids = listed.stream().map(s -> ((JsonObject) s).getString("sessionId")).collect(Collectors.toList());
    assertThat(ids).contains(keep).doesNotContain(doomed);
    assertThat(http.get("/admin/sessions/" + doomed, Http.admin()).status()).isEqualTo(404);
    assertThat(browser.consoleProblems()).isEmpty();
  }

  @Test
  void theFilterFindsASessionFarBelowTheTwoHundredTheListShows() {
    String olive = "olive-" + System.nanoTime();
    String old = chat(olive, "hello from olive");
    TestServers.nextMillisecond();
    List<io.vertx.core.Future<dev.mcps.session.SessionEnv>> newer = new java.util.ArrayList<>();
    for (int i = 0; i < 210; i++) {
      newer.add(server.sessions().forUser("filler-" + i + "-" + System.nanoTime(), null));
    }
    TestServers.await(io.vertx.core.Future.all(newer));
    try {
      findsTheOldSession(olive, old);
    } finally {
      // The other tests (and their screenshots) see a short list again.
      TestServers.await(io.vertx.core.Future.all(newer.stream()
          .map(f -> server.sessions().delete(f.result().sessionId())).toList()));
    }
  }

  private void findsTheOldSession(String olive, String old) {
    open("");
    signIn(TestServers.ADMIN_TOKEN);
    browser.waitForText(By.id("sessions-count"), "showing 200");
    assertThat(browser.driver().findElements(row(old))).as("not among the 200 most recent").isEmpty();

    browser.driver().findElement(By.id("sessions-filter")).sendKeys(olive.toUpperCase());

    browser.waitFor(row(old));
    browser.waitForText(By.id("sessions-count"), "1 found among");
    assertThat(browser.driver().findElements(By.cssSelector("#sessions-body tr"))).hasSize(1);
    assertThat(browser.consoleProblems()).isEmpty();
  }

  @Test
  void cancellingTheConfirmationDeletesNothingAndResetEmptiesTheHistory() {
    String session = chat("carol-" + System.nanoTime(), "hello from carol");
    open("");
    signIn(TestServers.ADMIN_TOKEN);
    browser.waitFor(row(session)).findElement(By.cssSelector("button.delete")).click();
    browser.waitUntil(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
    browser.driver().findElement(By.id("confirm-cancel")).click();
    browser.waitUntil(ExpectedConditions.invisibilityOfElementLocated(By.id("confirm-dialog")));
    assertThat(http.get("/admin/sessions/" + session, Http.admin()).status()).isEqualTo(200);

    browser.waitFor(row(session)).findElement(By.cssSelector("button.reset")).click();
    browser.waitUntil(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
    browser.driver().findElement(By.id("confirm-ok")).click();
    browser.waitForText(By.id("operator-status"), "reset");
    assertThat(http.get("/admin/sessions/" + session, Http.admin()).json().getInteger("historyLength")).isZero();
    browser.waitForText(row(session), "0 messages");

    browser.driver().findElement(By.id("sessions-cleanup")).click();
    browser.waitForText(By.id("operator-status"), "Cleanup removed");
    assertThat(browser.consoleProblems()).isEmpty();
  }

  @Test
  void thePlaygroundShowsTheToolCallBeforeTheAnswerAndASecondTurnContinuesTheSession() {
    String user = "dana-" + System.nanoTime();
    open("#playground");
    browser.waitFor(By.id("chat-user")).sendKeys(user);
    send("what do you know about me?");
    browser.waitUntil(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#chat-log .step-answer"),
        "answer to what do you know about me?"));

    List<String> kinds = stepKinds();
    assertThat(kinds).containsExactly("user", "text", "tool-call", "tool-result", "answer");
    assertThat(kinds.indexOf("tool-call")).isLessThan(kinds.indexOf("answer"));
    WebElement call = browser.driver().findElement(By.cssSelector("#chat-log .step-tool-call"));
    assertThat(call.getText()).contains("notes_set").contains("last_question");
    WebElement result = browser.driver().findElement(By.cssSelector("#chat-log .step-tool-result details"));
    assertThat(result.getAttribute("open")).as("tool results start collapsed").isNull();
    String sessionId = browser.driver().findElement(By.id("chat-session")).getAttribute("data-session-id");
    assertThat(sessionId).isNotBlank();

    send("and a second question");
    browser.waitUntil(d -> d.findElements(By.cssSelector("#chat-log .step-answer")).size() == 2);
    assertThat(browser.driver().findElement(By.id("chat-session")).getAttribute("data-session-id"))
        .isEqualTo(sessionId);
    JsonObject stored = http.get("/admin/sessions/" + sessionId, Http.admin()).json();
    assertThat(stored.getString("userId")).isEqualTo(user);
    assertThat(stored.getInteger("historyLength")).as("both turns, four messages each").isEqualTo(8);
    browser.screenshot("playground-conversation");

    browser.driver().findElement(By.id("chat-new-session")).click();
    send("a fresh start");
    browser.waitUntil(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#chat-log .step-answer"),
        "answer to a fresh start"));
    String fresh = browser.driver().findElement(By.id("chat-session")).getAttribute("data-session-id");
    assertThat(fresh).isNotBlank().isNotEqualTo(sessionId);
    assertThat(browser.consoleProblems()).isEmpty();

    // An operator deletes the session: the page says so, and its next message starts a new one.
    assertThat(http.delete("/admin/sessions/" + fresh, Http.admin()).status()).isEqualTo(204);
    send("are you still there?");
    assertThat(browser.waitFor(By.cssSelector("#chat-log .step-error")).getText()).contains("Session_Not_Found");
    send("then a new one");
    browser.waitForText(By.id("chat-status"), "Done.");
    String after = browser.driver().findElement(By.id("chat-session")).getAttribute("data-session-id");
    assertThat(after).isNotBlank().isNotEqualTo(fresh).isNotEqualTo(sessionId);
    assertThat(browser.requestsOutside(origin)).isEmpty();
  }

  @Test
  void newSessionDuringAStreamingTurnStopsItAndNothingOfItLandsInTheNewConversation() {
    open("#playground");
    browser.waitFor(By.id("chat-user")).sendKeys("ivan-" + System.nanoTime());
    anthropic.stallNext(1);
    send("this one hangs at the model");
    browser.waitForText(By.id("chat-status"), "Working");
    browser.driver().findElement(By.id("chat-new-session")).click();
    browser.waitUntil(ExpectedConditions.elementToBeClickable(By.id("chat-send")));
    assertThat(stepKinds()).isEmpty();

    send("a fresh question");
    browser.waitForText(By.cssSelector("#chat-log .step-answer"), "answer to a fresh question");
    assertThat(stepKinds()).containsExactly("user", "text", "tool-call", "tool-result", "answer");
    assertThat(browser.driver().findElements(By.cssSelector("#chat-log .step-error"))).isEmpty();
  }

  @Test
  void whenTheInstanceGoesAwayMidTurnThePageSaysSoAndCanSendAgain() {
    Server doomed = TestServers.start(Map.of("ANTHROPIC_API_KEY", "sk-console-test",
        "ANTHROPIC_BASE_URL", anthropic.baseUrl()));
    try {
      browser.open("http://127.0.0.1:" + doomed.port() + "/console/#playground");
      browser.waitFor(By.cssSelector("body[data-ready='true']"));
      browser.waitFor(By.id("chat-user")).sendKeys("jules-" + System.nanoTime());
      anthropic.stallNext(1);
      send("are you there?");
      browser.waitForText(By.id("chat-status"), "Working");
    } finally {
      TestServers.await(doomed.stop());
    }
    WebElement error = browser.waitFor(By.cssSelector("#chat-log .step-error"));
    assertThat(error.getText()).containsAnyOf("Stream_Ended", "Network_Error");
    browser.waitUntil(ExpectedConditions.elementToBeClickable(By.id("chat-send")));
    browser.screenshot("playground-instance-gone");
  }

  @Test
  void behindAProxyThatAddsAPathPrefixTheConsoleCallsTheApiUnderThatPrefix() {
    try (Gateway gateway = Gateway.start(server.port(), "/team", Map.of())) {
      String prefixed = gateway.origin();
      browser.open(prefixed + "/team/console");
      assertThat(browser.driver().getCurrentUrl()).isEqualTo(prefixed + "/team/console/");
      browser.open(prefixed + "/team/console/#playground");
      browser.waitFor(By.cssSelector("body[data-ready='true']"));
      browser.waitFor(By.id("chat-user")).sendKeys("kim-" + System.nanoTime());
      send("through the proxy");
      browser.waitForText(By.cssSelector("#chat-log .step-answer"), "answer to through the proxy");
      browser.driver().findElement(By.id("show-operator")).click();
      browser.waitForText(By.id("health"), "ok");
      signIn(TestServers.ADMIN_TOKEN);
      browser.waitForText(By.id("sessions-body"), "kim-");
      assertThat(browser.requests()).filteredOn(u -> u.startsWith(prefixed))
          .allMatch(u -> u.startsWith(prefixed + "/team/"), "every request under the prefix");
      assertThat(browser.consoleProblems()).isEmpty();
    }
  }

  @Test
  void behindAnIdentityGatewayThePlaygroundAsksForNoUserAndTheTurnRunsAsTheGatewaysUser() {
    String secret = "gateway-secret-0123456789abcdef";
    Server gated = TestServers.start(Map.of("AUTH_MODE", "header", "AUTH_USER_HEADER", "X-Forwarded-User",
        "AUTH_GATEWAY_SECRET_HEADER", "X-Gateway-Secret", "AUTH_GATEWAY_SECRET", secret,
        "ANTHROPIC_API_KEY", "sk-console-test", "ANTHROPIC_BASE_URL", anthropic.baseUrl()));
    String user = "lena-" + System.nanoTime();
    try (Gateway gateway = Gateway.start(gated.port(), "", Map.of("X-Forwarded-User", user,
        "X-Gateway-Secret", secret))) {
      browser.open(gateway.origin() + "/console/#playground");
      browser.waitFor(By.cssSelector("body[data-ready='true']"));
      assertThat(browser.driver().findElement(By.id("user-field")).isDisplayed()).isFalse();
      assertThat(browser.driver().findElement(By.id("token-field")).isDisplayed()).isFalse();
      assertThat(text("identity-hint")).contains("gateway");
      send("who am I?");
      browser.waitForText(By.cssSelector("#chat-log .step-answer"), "answer to who am I?");
      String sessionId = browser.driver().findElement(By.id("chat-session")).getAttribute("data-session-id");
      assertThat(new Http(gated.port()).get("/admin/sessions/" + sessionId, Http.admin()).json().getString("userId"))
          .isEqualTo(user);
      assertThat(browser.consoleProblems()).isEmpty();
    } finally {
      TestServers.await(gated.stop());
    }
  }

  /**
   * A reverse proxy in front of a server: serves it under {@code prefix} and adds {@code headers} to every request
   * (an identity gateway's user and secret), streaming answers through.
   */
  private record Gateway(io.vertx.core.http.HttpServer server, io.vertx.core.http.HttpClient client)
      implements AutoCloseable {

    static Gateway start(int target, String prefix, Map<String, String> headers) {
      io.vertx.core.http.HttpClient client = side.createHttpClient();
      io.vertx.core.http.HttpServer server = TestServers.await(side.createHttpServer().requestHandler(req -> {
        if (!req.path().startsWith(prefix + "/")) {
          req.response().setStatusCode(404).end();
          return;
        }
        req.pause();
        io.vertx.core.http.RequestOptions options = new io.vertx.core.http.RequestOptions().setHost("127.0.0.1")
            .setPort(target).setMethod(req.method()).setURI(req.uri().substring(prefix.length()))
            .setHeaders(req.headers());
        headers.forEach(options::putHeader);
        client.request(options)
            .compose(out -> out.send(req).onSuccess(in -> {
              req.response().setStatusCode(in.statusCode()).headers().setAll(in.headers());
              in.pipeTo(req.response());
            }))
            .onFailure(err -> req.response().setStatusCode(502).end());
      }).listen(0, "127.0.0.1"));
      return new Gateway(server, client);
    }

    String origin() {
      return "http://127.0.0.1:" + server.actualPort();
    }

    @Override
    public void close() {
      TestServers.await(server.close());
      TestServers.await(client.close());
    }
  }

  @Test
  void aProviderFailureShowsTheServersErrorCodeAndMessage() {
    open("#playground");
    browser.waitFor(By.id("chat-user")).sendKeys("erin-" + System.nanoTime());
    browser.driver().findElement(By.cssSelector("#jira-details summary")).click();
    browser.waitFor(By.id("jira-base-url")).sendKeys("http://127.0.0.1:9/jira");
    send("half the Jira fields");
    browser.waitForText(By.id("chat-status"), "all three Jira fields");
    assertThat(browser.driver().findElements(By.cssSelector("#chat-log > li"))).as("nothing was sent").isEmpty();

    browser.driver().findElement(By.id("jira-email")).sendKeys("erin@example.com");
    browser.driver().findElement(By.id("jira-token")).sendKeys("erin-jira-SECRET");
    browser.driver().findElement(By.id("chat-message")).clear();
    anthropic.failNext(400, 1, null, "the fake refused this request");
    send("this one fails");
    WebElement error = browser.waitFor(By.cssSelector("#chat-log .step-error"));
    assertThat(error.getText()).contains("Provider_Error");
    assertThat(text("chat-status")).contains("Provider_Error");
    browser.screenshot("playground-error");

    String sessionId = browser.driver().findElement(By.id("chat-session")).getAttribute("data-session-id");
    JsonObject stored = http.get("/admin/sessions/" + sessionId, Http.admin()).json();
    assertThat(stored.getBoolean("hasJiraCredentials")).as("the turn stored the credentials it carried").isTrue();
    Object storage = ((JavascriptExecutor) browser.driver()).executeScript(
        "return JSON.stringify(sessionStorage) + JSON.stringify(localStorage) + document.body.innerText;");
    assertThat((String) storage).doesNotContain("erin-jira-SECRET");
  }

  @Test
  void onAClusterHealthShowsItsMembersAndEveryInstanceListsTheSessionsOfAll() {
    try (TestCluster cluster = TestCluster.withOwnRedis(2, Map.of())) {
      Http other = new Http(cluster.port(1));
      Http.Response made = other.post("/chat", new JsonObject().put("userId", "gus-" + System.nanoTime())
          .put("message", "made on the second instance"));
      String sessionId = made.json().getString("sessionId");
      assertThat(sessionId).as(made.body()).isNotBlank();

      String first = "http://127.0.0.1:" + cluster.port(0);
      browser.open(first + "/console/");
      browser.waitFor(By.cssSelector("body[data-ready='true']"));
      browser.waitForText(By.id("health"), "2 members");
      assertThat(text("health")).contains("redis (up)");
      signIn(TestServers.ADMIN_TOKEN);
      browser.waitFor(row(sessionId));

      // An MCP stream held by the second instance shows as connected in the page the first one serves.
      String streamer = "ines-" + System.nanoTime();
      java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
          .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
      try (dev.mcps.testing.SseStream stream = dev.mcps.testing.SseStream.open(client, java.net.http.HttpRequest
          .newBuilder(java.net.URI.create("http://127.0.0.1:" + cluster.port(1) + "/mcp/sse"))
          .header("Accept", "text/event-stream").header("X-User-Id", streamer).GET().build())) {
        assertThat(stream.next().data()).contains("sessionId=");
        By streamerRow = By.xpath("//tbody[@id='sessions-body']/tr[td[1][normalize-space()='" + streamer + "']]");
        // It shows at the page's next refresh (every 5 s): longer than the usual wait.
        new org.openqa.selenium.support.ui.WebDriverWait(browser.driver(), java.time.Duration.ofSeconds(30))
            .until(ExpectedConditions.textToBePresentInElementLocated(streamerRow, "connected"));
        browser.screenshot("operator-cluster");
      } catch (Exception e) {
        throw new AssertionError(e);
      }
      assertThat(browser.requestsOutside(first)).isEmpty();
    }
  }

  @Test
  void whileRedisIsSilentTheOperatorViewSaysSoAndRecoversByItselfWhenItAnswersAgain() {
    try (RedisServer redis = RedisServer.start(); TcpProxy proxy = TcpProxy.to(redis.port())) {
      Server proxied = TestServers.start(Map.of("STORE", "redis", "REDIS_URL", proxy.redisUrl(),
          "STORE_TIMEOUT_MS", "1000"));
      try {
        String sessionId = new Http(proxied.port()).post("/chat", new JsonObject()
            .put("userId", "hana-" + System.nanoTime()).put("message", "hi")).json().getString("sessionId");
        String page = "http://127.0.0.1:" + proxied.port();
        browser.open(page + "/console/");
        browser.waitFor(By.cssSelector("body[data-ready='true']"));
        signIn(TestServers.ADMIN_TOKEN);
        browser.waitFor(row(sessionId));

        proxy.blackhole();
        browser.driver().findElement(By.id("sessions-refresh")).click();
        browser.waitForText(By.id("operator-status"), "Refresh failed: Store_Unavailable (503)");
        browser.waitForText(By.id("health"), "degraded");
        assertThat(text("health")).contains("redis (down)");
        browser.screenshot("operator-store-down");

        proxy.restore();
        browser.timeout(Duration.ofSeconds(30));
        browser.waitForText(By.id("operator-status"), "up to date again");
        browser.waitForText(By.id("health"), "redis (up)");
        browser.waitFor(row(sessionId));
      } finally {
        browser.timeout(Browser.DEFAULT_TIMEOUT);
        TestServers.await(proxied.stop());
      }
    }
  }

  @Test
  void withJwtAuthThePlaygroundAsksForABearerTokenAndTheTurnRunsAsItsUser() {
    String secret = "console-secret-0123456789abcdef-0123";
    String resource = "https://mcp.example.test/mcp";
    Server jwt = TestServers.start(Map.of("AUTH_MODE", "jwt", "AUTH_JWT_SECRET", secret, "AUTH_RESOURCE_URL", resource,
        "ANTHROPIC_API_KEY", "sk-console-test", "ANTHROPIC_BASE_URL", anthropic.baseUrl()));
    try {
      String jwtOrigin = "http://127.0.0.1:" + jwt.port();
      browser.open(jwtOrigin + "/console/#playground");
      browser.waitFor(By.cssSelector("body[data-ready='true']"));
      assertThat(browser.driver().findElement(By.id("user-field")).isDisplayed()).isFalse();
      WebElement token = browser.waitFor(By.id("chat-token"));
      long now = System.currentTimeMillis() / 1000;
      JsonObject claims = new JsonObject().put("sub", "frank-jwt").put("aud", resource).put("exp", now + 600);

      token.sendKeys(FakeAuthorizationServer.hs256("another-secret-0123456789abcdef-0123", claims));
      send("with a forged token");
      assertThat(browser.waitFor(By.cssSelector("#chat-log .step-error")).getText()).contains("(401)");

      token.clear();
      token.sendKeys(FakeAuthorizationServer.hs256(secret, claims));
      send("with my own token");
      browser.waitUntil(ExpectedConditions.textToBePresentInElementLocated(
          By.cssSelector("#chat-log .step-answer"), "answer to with my own token"));
      String sessionId = browser.driver().findElement(By.id("chat-session")).getAttribute("data-session-id");
      Http.Response stored = new Http(jwt.port()).get("/admin/sessions/" + sessionId, Http.admin());
      assertThat(stored.json().getString("userId")).isEqualTo("frank-jwt");
      browser.screenshot("playground-jwt");
      assertThat(browser.requestsOutside(jwtOrigin)).isEmpty();
    } finally {
      TestServers.await(jwt.stop());
    }
  }

  @Test
  void everyControlHasALabelAndThePageFitsA360PixelScreenInLightAndDark() {
    browser = Browser.start(360, 780);
    open("");
    browser.waitUntil(ExpectedConditions.textToBePresentInElementLocated(By.id("health"), "ok"));
    JavascriptExecutor js = (JavascriptExecutor) browser.driver();
    Object unlabelled = js.executeScript("return [...document.querySelectorAll('input, select, textarea, button')]"
        + ".filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.textContent.trim())"
        + ".map(c => c.id || c.outerHTML);");
    assertThat((List<?>) unlabelled).isEmpty();
    assertThat(overflow(js)).as("no sideways scrolling at 360 px").isLessThanOrEqualTo(0L);
    browser.screenshot("operator-360px");

    // Keyboard only: the token field takes the token and Enter signs in.
    WebElement token = browser.driver().findElement(By.id("admin-token"));
    token.sendKeys(TestServers.ADMIN_TOKEN, Keys.ENTER);
    browser.waitUntil(ExpectedConditions.visibilityOfElementLocated(By.id("operator-panels")));
    assertThat(overflow(js)).isLessThanOrEqualTo(0L);
    browser.screenshot("operator-360px-signed-in");

    ((HasCdp) browser.driver()).executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features",
        List.of(Map.of("name", "prefers-color-scheme", "value", "dark"))));
    browser.driver().findElement(By.id("show-playground")).click();
    String background = (String) js.executeScript("return getComputedStyle(document.body).backgroundColor;");
    assertThat(background).isEqualTo("rgb(13, 17, 23)");
    assertThat(overflow(js)).as("the playground fits 360 px too").isLessThanOrEqualTo(0L);
    browser.screenshot("playground-360px-dark");
    assertThat(browser.consoleProblems()).isEmpty();
  }

  private static long overflow(JavascriptExecutor js) {
    return (Long) js.executeScript(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
  }

  /** The console with nothing of an earlier test: the origin's sessionStorage (the admin token) is cleared first. */
  private void open(String hash) {
    browser.open(origin + "/console/config.json");
    ((JavascriptExecutor) browser.driver()).executeScript("sessionStorage.clear();");
    browser.open(origin + "/console/" + hash);
    browser.waitFor(By.cssSelector("body[data-ready='true']"));
  }

  private void signIn(String token) {
    WebElement field = browser.waitFor(By.id("admin-token"));
    field.clear();
    field.sendKeys(token);
    browser.driver().findElement(By.id("admin-signin")).click();
  }

  private void send(String message) {
    browser.waitUntil(ExpectedConditions.elementToBeClickable(By.id("chat-send")));
    WebElement box = browser.driver().findElement(By.id("chat-message"));
    box.sendKeys(message);
    browser.driver().findElement(By.id("chat-send")).click();
  }

  private List<String> stepKinds() {
    return browser.driver().findElements(By.cssSelector("#chat-log > li")).stream()
        .map(li -> li.getAttribute("data-kind")).collect(Collectors.toList());
  }

  private String text(String id) {
    return browser.driver().findElement(By.id(id)).getText();
  }

  private Object sessionStorageToken() {
    return ((JavascriptExecutor) browser.driver()).executeScript(
        "return sessionStorage.getItem('mcps.adminToken');");
  }

  private static By row(String sessionId) {
    return By.cssSelector("#sessions-body tr[data-session-id='" + sessionId + "']");
  }

  /**
   * Every turn: the model saves the user's message as a note (a tool call with arguments to show), then answers
   * "answer to " + the message.
   */
  private static JsonObject noteThenAnswer(FakeAnthropic.Recorded request) {
    JsonArray messages = request.body().getJsonArray("messages");
    JsonObject last = messages.getJsonObject(messages.size() - 1);
    Object content = last.getValue("content");
    boolean toolResult = content instanceof JsonArray blocks
        && "tool_result".equals(blocks.getJsonObject(0).getString("type"));
    if (!toolResult) {
      return FakeAnthropic.message("tool_use", FakeAnthropic.text("Let me note that."),
          FakeAnthropic.toolUse("t" + messages.size(), "notes_set", new JsonObject().put("key", "last_question")
              .put("value", new JsonObject().put("text", FakeAnthropic.textOf(last)))));
    }
    return FakeAnthropic.message("end_turn",
        FakeAnthropic.text("answer to " + FakeAnthropic.textOf(messages.getJsonObject(messages.size() - 3))));
  }

  /** A session made through the API: one /chat turn of the user (tool call, tool result, answer: 4 messages). */
  private static String chat(String user, String message) {
    Http.Response answer = http.post("/chat", new JsonObject().put("userId", user).put("message", message));
    assertThat(answer.status()).as(answer.body()).isEqualTo(200);
    return answer.json().getString("sessionId");
  }
}
