package dev.mcps.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.TimeoutException;

/**
 * The browser fixture itself: it must see what a page does wrong (a console error, a request to another origin), and
 * nothing on a page that does nothing wrong, or the console tests built on it prove nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BrowserTest {

  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  /** Another origin on loopback where nothing listens: the image load is refused at once. */
  private static final String FOREIGN_IMAGE = "http://127.0.0.2:1/pixel.png";

  private static final Map<String, String> PAGES = Map.of(
      "/clean.html", """
          <!doctype html>
          <html><head><meta charset="utf-8"><title>clean</title><link rel="icon" href="data:,">
          <script src="/clean.js" defer></script></head>
          <body><p id="status">loading</p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt=""></body></html>
          """,
      "/clean.js", """
          console.log("just information");
          setTimeout(() => { document.getElementById("status").textContent = "ready after a while"; }, 300);
          """,
      "/dirty.html", """
          <!doctype html>
          <html><head><meta charset="utf-8"><title>dirty</title><link rel="icon" href="data:,">
          <script src="/boom.js"></script></head>
          <body><p>dirty</p><img src="%s" alt=""></body></html>
          """.formatted(FOREIGN_IMAGE),
      "/boom.js", "console.error(\"boom-123\");\n",
      "/tall.html", """
          <!doctype html>
          <html><head><meta charset="utf-8"><title>tall</title><link rel="icon" href="data:,"></head>
          <body style="margin:0"><div style="height:2500px;background:linear-gradient(#fff,#36c)">top</div>
          <p>bottom</p></body></html>
          """);

  private Vertx vertx;
  private HttpServer server;
  private String base;
  private Browser browser;

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
    server = TestServers.await(vertx.createHttpServer().requestHandler(req -> {
      String body = PAGES.get(req.path());
      if (body == null) {
        req.response().setStatusCode(404).end();
        return;
      }
      req.response()
          .putHeader("Content-Type", req.path().endsWith(".js") ? "text/javascript" : "text/html; charset=utf-8")
          .end(body);
    }).listen(TestServers.freePort(), "127.0.0.1"));
    base = "http://127.0.0.1:" + server.actualPort();
    browser = Browser.start(1280, 900);
  }

  @AfterAll
  void stop() {
    if (browser != null) {
      browser.close();
    }
    if (vertx != null) {
      TestServers.await(vertx.close());
    }
  }

  @Test
  void aCleanPageHasNoConsoleProblemsAndNoRequestsToOtherOrigins() {
    browser.open(base + "/clean.html");
    browser.waitForText(By.id("status"), "ready");

    assertThat(browser.consoleProblems()).isEmpty();
    assertThat(browser.requestsOutside(base)).isEmpty();
    assertThat(browser.requests()).contains(base + "/clean.html", base + "/clean.js");
  }

  @Test
  void aConsoleErrorFromAScriptFileAndAFailedLoadFromAnotherOriginAreReported() {
    browser.open(base + "/dirty.html");

    assertThat(browser.requestsOutside(base)).containsExactly(FOREIGN_IMAGE);
    // The failed image load is logged when it fails, possibly just after the load event.
    TestServers.awaitCondition(10, new BooleanSupplier() {
      private final StringBuilder seen = new StringBuilder();

      @Override
      public boolean getAsBoolean() {
        browser.consoleProblems().forEach(p -> seen.append(p).append('\n'));
        return seen.toString().contains("boom-123") && seen.toString().contains(FOREIGN_IMAGE);
      }
    });
  }

  @Test
  void consoleProblemsAreReportedOnceAndNotCarriedToTheNextPage() {
    browser.open(base + "/dirty.html");
    TestServers.awaitCondition(10, () -> browser.consoleProblems().stream().anyMatch(p -> p.contains("boom-123")));

    assertThat(browser.consoleProblems()).noneMatch(p -> p.contains("boom-123"));

    browser.open(base + "/dirty.html");
    browser.open(base + "/clean.html");
    browser.waitForText(By.id("status"), "ready");
    assertThat(browser.consoleProblems()).isEmpty();
    assertThat(browser.requestsOutside(base)).isEmpty();
  }

  @Test
  void aScreenshotIsAPngFileUnderTarget() throws IOException {
    browser.open(base + "/dirty.html");

    Path shot = browser.screenshot("browser-test-dirty");

    assertThat(shot).exists().hasFileName("browser-test-dirty.png");
    assertThat(shot.toString()).contains("target/console-screenshots");
    byte[] png = Files.readAllBytes(shot);
    assertThat(png).startsWith(PNG_MAGIC);
    assertThat(pngSize(png)).containsExactly(1280, 900);
  }

  @Test
  void aScreenshotOfAPageTallerThanTheWindowShowsTheWholePage() throws IOException {
    browser.open(base + "/tall.html");

    byte[] png = Files.readAllBytes(browser.screenshot("browser-test-tall"));

    assertThat(png).startsWith(PNG_MAGIC);
    assertThat(pngSize(png)[1]).isGreaterThan(2500);
    // Only the picture is taller: the page keeps its viewport.
    assertThat(viewport(browser)).containsExactly(1280L, 900L);
  }

  @Test
  void aPhoneSizedBrowserGivesThePageThatViewport() throws IOException {
    try (Browser phone = Browser.start(360, 780)) {
      phone.open(base + "/clean.html");

      assertThat(viewport(phone)).containsExactly(360L, 780L);
      assertThat(pngSize(Files.readAllBytes(phone.screenshot("browser-test-phone")))).containsExactly(360, 780);
    }
  }

  @Test
  void waitingForTextThatNeverComesFailsWithWhatTheElementSaid() {
    browser.open(base + "/clean.html");
    browser.timeout(Duration.ofMillis(800));
    try {
      assertThatThrownBy(() -> browser.waitForText(By.id("status"), "never"))
          .isInstanceOf(TimeoutException.class)
          .hasMessageContaining("to contain \"never\"")
          .hasMessageContaining("it was \"");
    } finally {
      browser.timeout(Browser.DEFAULT_TIMEOUT);
    }
  }

  @Test
  void withoutChromiumABrowserTestFailsAndSaysWhatToInstall() {
    List<Path> missing = List.of(Path.of("/nonexistent/chromium"), Browser.CHROMEDRIVER);

    assertThatThrownBy(() -> Browser.requireAvailable(missing))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("/nonexistent/chromium")
        .hasMessageContaining("Chromium and ChromeDriver are required: run scripts/test.sh as root, or apt-get install "
            + "chromium chromium-driver");
  }

  @Test
  void theOriginOfAWebSocketIsThatOfItsHttpPage() {
    assertThat(Browser.origin("ws://127.0.0.1:8080/x")).isEqualTo(Browser.origin("http://127.0.0.1:8080/"));
    assertThat(Browser.origin("http://Example.com/a")).isEqualTo(Browser.origin("http://example.com:80"));
    assertThat(Browser.origin("https://example.com/a")).isNotEqualTo(Browser.origin("http://example.com/a"));
    assertThat(Browser.origin("http://127.0.0.2:1/pixel.png")).isNotEqualTo(Browser.origin("http://127.0.0.1:1"));
  }

  @SuppressWarnings("unchecked")
  private static List<Object> viewport(Browser browser) {
    JavascriptExecutor js = (JavascriptExecutor) browser.driver();
    return (List<Object>) js.executeScript("return [window.innerWidth, window.innerHeight];");
  }

  /** Width and height from a PNG's IHDR chunk. */
  private static int[] pngSize(byte[] png) {
    ByteBuffer header = ByteBuffer.wrap(png, 16, 8);
    return new int[] {header.getInt(), header.getInt()};
  }
}
