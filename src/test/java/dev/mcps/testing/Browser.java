package dev.mcps.testing;

import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedCondition;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A headless Chromium for browser tests: Debian's {@code /usr/bin/chromium} driven by {@code /usr/bin/chromedriver}
 * through Selenium, with a fresh profile, on loopback only. Typically one per test class:
 *
 * <pre>{@code
 * static Browser browser;
 * @BeforeAll static void start() { browser = Browser.start(1280, 900); }   // skips the class without Chromium
 * @AfterAll static void stop() { if (browser != null) browser.close(); }
 *
 * browser.open(base + "/console/");
 * browser.waitForText(By.id("status"), "Signed in");
 * assertThat(browser.consoleProblems()).isEmpty();
 * assertThat(browser.requestsOutside(base)).isEmpty();
 * browser.screenshot("console-signed-in");
 * }</pre>
 *
 * <p>Selenium Manager never runs (the driver and the browser are given by path), and Chromium starts with its
 * background networking, component updates and sync off, so nothing leaves the machine but what a page asks for.
 */
public final class Browser implements AutoCloseable {

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  /** Set to {@code true} (scripts/test.sh does where it can install Chromium) to fail instead of skip without it. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  public static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

  /** A full-page screenshot stops at this height (CSS pixels); a longer page is cut there. */
  private static final int MAX_SCREENSHOT_HEIGHT = 10_000;

  /**
   * Selenium warns on every start that it has no CDP implementation for this Chromium: on purpose, none is on the
   * class path (no version-bound selenium-devtools-vNNN). Kept in a field so that the setting is not collected.
   */
  private static final java.util.logging.Logger CDP_VERSION_FINDER =
      java.util.logging.Logger.getLogger("org.openqa.selenium.devtools.CdpVersionFinder");

  static {
    CDP_VERSION_FINDER.setLevel(Level.SEVERE);
  }

  private final ChromeDriverService service;
  private final ChromeDriver driver;
  private final Path profile;
  private final Thread shutdownHook;
  private final List<String> requests = new ArrayList<>();
  private Duration timeout = DEFAULT_TIMEOUT;
  private boolean closed;

  private Browser(ChromeDriverService service, ChromeDriver driver, Path profile) {
    this.service = service;
    this.driver = driver;
    this.profile = profile;
    // A JVM that exits without close() (a test run cut short) still takes its browser along.
    this.shutdownHook = new Thread(this::quit, "browser-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Fails the calling test (class, when called from {@code @BeforeAll}) when Chromium or ChromeDriver is missing,
   * naming what to install: a browser test never skips, since a skipped test proves nothing.
   * {@link #start} calls it first.
   */
  public static void requireAvailable() {
    requireAvailable(List.of(CHROMIUM, CHROMEDRIVER));
  }

  static void requireAvailable(List<Path> executables) {
    List<String> missing = executables.stream().filter(p -> !Files.isExecutable(p)).map(Path::toString).toList();
    if (missing.isEmpty()) {
      return;
    }
    String message = "Chromium and ChromeDriver are required: run scripts/test.sh as root, or apt-get install chromium "
        + "chromium-driver (missing: " + String.join(", ", missing) + ")";
    throw new AssertionError(message);
  }

  /**
   * A new headless Chromium, on about:blank, whose viewport (what a page gets as {@code innerWidth} ×
   * {@code innerHeight}, what media queries see, what a screenshot shows) is {@code width} × {@code height} CSS pixels
   * at device pixel ratio 1. The window is made larger by the browser's own frame (143 px in height with Chromium 156's
   * new headless mode) to get there.
   */
  public static Browser start(int width, int height) {
    requireAvailable();
    Path profile;
    try {
      profile = Files.createTempDirectory("mcps-chromium-profile-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .withAllowedListIps("127.0.0.1")
        .withEnvironment(Map.of("SE_AVOID_STATS", "true"))
        .withLogOutput(OutputStream.nullOutputStream())
        .build();

    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        "--user-data-dir=" + profile, "--window-size=" + width + "," + height);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    logs.enable(LogType.PERFORMANCE, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);

    Browser browser = null;
    try {
      service.start();
      browser = new Browser(service, new ChromeDriver(service, options), profile);
      browser.sizeViewport(width, height);
      return browser;
    } catch (IOException | RuntimeException e) {
      if (browser != null) {
        browser.close();
      } else {
        service.stop();
        deleteRecursively(profile);
      }
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  /** Makes the viewport {@code width} × {@code height}: sets the window, then adds what the frame takes. */
  private void sizeViewport(int width, int height) {
    WebDriver.Window window = driver.manage().window();
    window.setSize(new Dimension(width, height));
    List<?> inner = (List<?>) driver.executeScript("return [window.innerWidth, window.innerHeight];");
    int innerWidth = ((Number) inner.get(0)).intValue();
    int innerHeight = ((Number) inner.get(1)).intValue();
    if (innerWidth != width || innerHeight != height) {
      window.setSize(new Dimension(2 * width - innerWidth, 2 * height - innerHeight));
    }
  }

  public WebDriver driver() {
    return driver;
  }

  /** How long {@link #waitFor}, {@link #waitUntil} and {@link #waitForText} wait: 10 s unless set. */
  public Browser timeout(Duration timeout) {
    this.timeout = timeout;
    return this;
  }

  /**
   * Loads {@code url} (returns when its load event fired). Starts a new record: the requests and console entries of
   * earlier pages are dropped, so {@link #requestsOutside} and {@link #consoleProblems} speak of this page on.
   */
  public void open(String url) {
    // The page before may still be polling (the console refreshes every 5 s): leave it first, so that none of its
    // requests lands between the drain below and the new page, and is counted as the new page's.
    driver.get("about:blank");
    driver.manage().logs().get(LogType.PERFORMANCE);
    driver.manage().logs().get(LogType.BROWSER);
    requests.clear();
    driver.get(url);
  }

  /**
   * The browser log entries at level WARNING or SEVERE since the last call (or {@link #open}), one string each:
   * {@code "SEVERE <message>"}. Chromium puts there what DevTools' console shows as errors and warnings:
   * {@code console.error}/{@code console.warn} calls ({@code "http://host/app.js 3:9 \"text\""}), uncaught
   * exceptions ({@code "... Uncaught Error: ..."}), failed loads ({@code "http://host/x.png - Failed to load
   * resource: net::ERR_CONNECTION_REFUSED"}, also 404s and 500s) and Content-Security-Policy violations
   * ({@code "... Refused to load ... because it violates the following Content Security Policy directive ..."}).
   * {@code console.log} and {@code console.info} (level INFO) are not included.
   */
  public List<String> consoleProblems() {
    List<String> problems = new ArrayList<>();
    for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
      if (entry.getLevel().intValue() >= Level.WARNING.intValue()) {
        problems.add(entry.getLevel().getName() + " " + entry.getMessage());
      }
    }
    return problems;
  }

  /**
   * The URLs of the requests the page made since {@link #open} (documents, frames, scripts, styles, images, fonts,
   * fetch and XHR, EventSource, WebSockets) whose origin is not {@code origin} ({@code "http://127.0.0.1:8080"}; a
   * path after it is ignored), in order, each once. A WebSocket counts as the origin of its HTTP twin
   * ({@code ws://h:p} as {@code http://h:p}). {@code data:}, {@code blob:} and {@code about:} URLs are not requests
   * and are left out. Read from ChromeDriver's performance log ({@code Network.requestWillBeSent},
   * {@code Network.webSocketCreated}).
   *
   * <p>A load that a Content-Security-Policy blocks (an {@code <img>}, a script, a style) is listed: Chromium reports
   * it before it blocks it. A fetch, XHR or WebSocket that {@code connect-src} blocks is not: Chromium refuses it
   * before it becomes a request; it shows in {@link #consoleProblems} instead ({@code "Connecting to '<url>' violates
   * the following Content Security Policy directive ..."}). So a test that a page stays on its origin asserts both.
   */
  public List<String> requestsOutside(String origin) {
    drainPerformanceLog();
    String own = origin(origin);
    Set<String> outside = new LinkedHashSet<>();
    for (String url : requests) {
      String lower = url.toLowerCase(Locale.ROOT);
      if (lower.startsWith("data:") || lower.startsWith("blob:") || lower.startsWith("about:")) {
        continue;
      }
      if (!own.equals(origin(url))) {
        outside.add(url);
      }
    }
    return List.copyOf(outside);
  }

  /** Every URL requested since {@link #open}, in order (what {@link #requestsOutside} filters). */
  public List<String> requests() {
    drainPerformanceLog();
    return List.copyOf(requests);
  }

  /**
   * Saves a PNG of the whole page (beyond the window when the document is taller, up to 10,000 px) to
   * {@code target/console-screenshots/<name>.png} and returns its path.
   */
  public Path screenshot(String name) {
    Path file = SCREENSHOTS.resolve(name.replaceAll("[^A-Za-z0-9._-]", "-") + ".png");
    try {
      Files.createDirectories(SCREENSHOTS);
      Files.write(file, fullPagePng());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file.toAbsolutePath();
  }

  private byte[] fullPagePng() {
    Object size = ((JavascriptExecutor) driver).executeScript(
        "const d = document.documentElement, b = document.body || d;"
            + "return [Math.max(d.scrollWidth, b.scrollWidth), Math.max(d.scrollHeight, b.scrollHeight),"
            + " window.innerWidth, window.innerHeight];");
    List<?> dims = (List<?>) size;
    long width = ((Number) dims.get(0)).longValue();
    long height = Math.min(((Number) dims.get(1)).longValue(), MAX_SCREENSHOT_HEIGHT);
    long viewportWidth = ((Number) dims.get(2)).longValue();
    long viewportHeight = ((Number) dims.get(3)).longValue();
    if (height <= viewportHeight) {
      return driver.getScreenshotAs(OutputType.BYTES);
    }
    // The page is taller than the window: DevTools' own command draws beyond the viewport (through chromedriver's
    // CDP passthrough, no version-bound selenium-devtools artifact).
    Map<String, Object> shot = driver.executeCdpCommand("Page.captureScreenshot", Map.of(
        "format", "png",
        "captureBeyondViewport", true,
        "clip", Map.of("x", 0, "y", 0, "width", Math.max(width, viewportWidth), "height", height, "scale", 1)));
    return Base64.getDecoder().decode((String) shot.get("data"));
  }

  /** Waits until an element matching {@code by} is displayed and returns it. */
  public WebElement waitFor(By by) {
    return waitUntil(ExpectedConditions.visibilityOfElementLocated(by));
  }

  /** Waits until {@code condition} returns neither null nor false, and returns what it returned. */
  public <T> T waitUntil(ExpectedCondition<T> condition) {
    return new WebDriverWait(driver, timeout).until(condition);
  }

  /**
   * Waits until the visible text of the element matching {@code by} contains {@code text}, and returns the element.
   * On time-out the message tells the text it last had.
   */
  public WebElement waitForText(By by, String text) {
    return waitUntil(new ExpectedCondition<WebElement>() {
      private String last = "(no element)";

      @Override
      public WebElement apply(WebDriver d) {
        try {
          WebElement element = d.findElement(by);
          last = "\"" + element.getText() + "\"";
          return element.getText().contains(text) ? element : null;
        } catch (NoSuchElementException | StaleElementReferenceException e) {
          last = "(no element)";
          return null;
        }
      }

      @Override
      public String toString() {
        return "text of " + by + " to contain \"" + text + "\" (it was " + last + ")";
      }
    });
  }

  /** Quits Chromium, stops ChromeDriver and deletes the profile. */
  @Override
  public void close() {
    quit();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // close() from the hook itself, or during shutdown: nothing to remove.
    }
  }

  private synchronized void quit() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      driver.quit();
    } catch (RuntimeException e) {
      // Chromium already gone; the service stop below still ends ChromeDriver.
    } finally {
      service.stop();
      deleteRecursively(profile);
    }
  }

  private void drainPerformanceLog() {
    for (LogEntry entry : driver.manage().logs().get(LogType.PERFORMANCE)) {
      JsonObject message = new JsonObject(entry.getMessage()).getJsonObject("message", new JsonObject());
      JsonObject params = message.getJsonObject("params", new JsonObject());
      switch (message.getString("method", "")) {
        case "Network.requestWillBeSent" -> {
          JsonObject request = params.getJsonObject("request", new JsonObject());
          String url = request.getString("url");
          if (url != null) {
            requests.add(url + request.getString("urlFragment", ""));
          }
        }
        case "Network.webSocketCreated" -> {
          String url = params.getString("url");
          if (url != null) {
            requests.add(url);
          }
        }
        default -> {
        }
      }
    }
  }

  /** scheme://host:port, with the default port made explicit and ws/wss counted as http/https. */
  static String origin(String url) {
    URI uri;
    try {
      uri = URI.create(url.trim());
    } catch (IllegalArgumentException e) {
      return "invalid:" + url;
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    scheme = switch (scheme) {
      case "ws" -> "http";
      case "wss" -> "https";
      default -> scheme;
    };
    if (uri.getHost() == null) {
      return scheme + ":" + uri.getSchemeSpecificPart();
    }
    int port = uri.getPort();
    if (port == -1) {
      port = switch (scheme) {
        case "http" -> 80;
        case "https" -> 443;
        default -> -1;
      };
    }
    return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + port;
  }

  private static void deleteRecursively(Path dir) {
    // Chromium may still be closing files for a moment after quit: a few tries.
    for (int attempt = 0; attempt < 5 && Files.exists(dir); attempt++) {
      try (Stream<Path> paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      } catch (IOException | UncheckedIOException e) {
        // retried below
      }
      if (Files.exists(dir)) {
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}
