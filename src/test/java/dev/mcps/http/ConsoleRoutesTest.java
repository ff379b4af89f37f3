package dev.mcps.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.Server;
import dev.mcps.testing.Http;
import dev.mcps.testing.TestServers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * GET /console: the console's files come from the jar with strict headers, reach nothing on another origin, carry
 * no inline script, and can be turned off; with bearer auth the page itself needs no token.
 */
class ConsoleRoutesTest {

  /** Every file of the console, as packaged: a new module is checked without being listed here. */
  private static List<String> files() throws IOException {
    try (java.util.stream.Stream<java.nio.file.Path> all = java.nio.file.Files.list(
        java.nio.file.Path.of("src/main/resources/webroot/console"))) {
      return all.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void theConsoleIsServedFromTheJarWithStrictHeaders() {
    Server server = TestServers.start(Map.of());
    try {
      Http http = new Http(server.port());
      Http.Response page = http.get("/console/");
      assertThat(page.status()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
      assertThat(page.headers().firstValue("Content-Security-Policy")).hasValue(ConsoleRoutes.CSP);
      assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
      assertThat(page.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
      assertThat(page.body()).contains("<script type=\"module\" src=\"console.js\"></script>");

      Http.Response script = http.get("/console/console.js");
      assertThat(script.status()).isEqualTo(200);
      assertThat(script.headers().firstValue("Content-Type").orElse("")).contains("javascript");
      Http.Response bare = http.get("/console");
      assertThat(bare.status()).as("redirected to /console/").isEqualTo(302);
      assertThat(bare.headers().firstValue("Location")).as("relative, for proxies with a prefix").hasValue("console/");
      assertThat(http.get("/health").headers().firstValue("Cache-Control")).hasValue("no-store");
      assertThat(http.get("/admin/sessions", Http.admin()).headers().firstValue("Cache-Control")).hasValue("no-store");
      assertThat(http.get("/admin/sessions").headers().firstValue("Cache-Control")).as("401 too").hasValue("no-store");
      assertThat(http.post("/chat", "{}").headers().firstValue("Cache-Control")).hasValue("no-store");
      assertThat(http.get("/console/../conf/server.json").status()).isIn(400, 404);
    } finally {
      TestServers.await(server.stop());
    }
  }

  @Test
  void noConsoleFileHasInlineScriptOrReachesAnotherOrigin() throws IOException {
    Pattern external = Pattern.compile("(?i)(?:src|href|url\\(|fetch\\(|import)\\s*=?\\s*[\"'(]?\\s*(https?:)?//");
    Pattern inlineScript = Pattern.compile("(?i)<script(?![^>]*\\bsrc=)[^>]*>");
    List<String> files = files();
    assertThat(files).contains("index.html", "console.js", "console.css", "api.js", "operator.js", "playground.js");
    for (String file : files) {
      String text;
      try (InputStream in = getClass().getClassLoader().getResourceAsStream("webroot/console/" + file)) {
        assertThat(in).as(file).isNotNull();
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      Matcher m = external.matcher(text);
      assertThat(m.find()).as("%s refers to another origin", file).isFalse();
      assertThat(inlineScript.matcher(text).find()).as("%s has an inline script", file).isFalse();
      assertThat(text).as(file).doesNotContain("onclick=").doesNotContain("style=\"");
    }
  }

  @Test
  void theConsoleSettingsOfferOnlyTheConfiguredProvidersAndNoSecret() {
    Server server = TestServers.start(Map.of("ANTHROPIC_API_KEY", "sk-ant-SECRET-1", "ANTHROPIC_MODEL", "claude-x",
        "OPENAI_API_KEY", "", "CHAT_DEFAULT_MODEL", "anthropic"));
    try {
      Http.Response settings = new Http(server.port()).get("/console/config.json");
      assertThat(settings.status()).isEqualTo(200);
      assertThat(settings.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
      assertThat(settings.headers().firstValue("Cache-Control")).hasValue("no-cache");
      assertThat(settings.body()).doesNotContain("SECRET");
      assertThat(settings.json().getString("authMode")).isEqualTo("none");
      assertThat(settings.json().getBoolean("admin")).isTrue();
      assertThat(settings.json().getString("defaultModel")).isEqualTo("anthropic");
      assertThat(settings.json().getJsonArray("models").encode())
          .isEqualTo("[{\"id\":\"anthropic\",\"label\":\"Anthropic (claude-x)\"}]");
    } finally {
      TestServers.await(server.stop());
    }
    Server bare = TestServers.start(Map.of("ADMIN_TOKEN", "", "ANTHROPIC_API_KEY", ""));
    try {
      Http.Response settings = new Http(bare.port()).get("/console/config.json");
      assertThat(settings.json().getJsonArray("models")).isEmpty();
      assertThat(settings.json().getBoolean("admin")).isFalse();
    } finally {
      TestServers.await(bare.stop());
    }
  }

  @Test
  void consoleEnabledFalseTurnsItOff() {
    Server server = TestServers.start(Map.of("CONSOLE_ENABLED", "false"));
    try {
      assertThat(new Http(server.port()).get("/console/").status()).isEqualTo(404);
    } finally {
      TestServers.await(server.stop());
    }
  }

  @Test
  void withBearerAuthThePageItselfNeedsNoToken() {
    Server server = TestServers.start(Map.of("AUTH_MODE", "jwt", "AUTH_RESOURCE_URL", "https://mcp.example.test/mcp",
        "AUTH_JWT_SECRET", "0123456789abcdef0123456789abcdef0123"));
    try {
      Http http = new Http(server.port());
      assertThat(http.get("/console/").status()).isEqualTo(200);
      assertThat(http.get("/console/config.json").json().getString("authMode")).isEqualTo("jwt");
      assertThat(http.get("/admin/sessions").status()).as("the API still needs its token").isEqualTo(401);
    } finally {
      TestServers.await(server.stop());
    }
  }
}
