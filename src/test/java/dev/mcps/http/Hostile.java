package dev.mcps.http;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * Generators of what a hostile or broken client sends: malformed, oversized, deeply nested and type-confused JSON,
 * odd headers and query strings. Every generated value is built from parts that cannot spell a Java class name or a
 * stack trace, so a body that contains one wrote it itself rather than echoing the input.
 */
final class Hostile {

  /** What a response body must never contain: the marks of a Java exception leaking out. */
  static final List<String> FORBIDDEN = List.of("java.", "Exception", "\tat ", "io.vertx", "dev.mcps");

  /** One request as sent on the wire; {@code toString} is what a failure report shows. */
  record Request(HttpMethod method, String target, List<Map.Entry<String, String>> headers, String body) {
    @Override
    public String toString() {
      return method + " " + clip(target) + " " + headers.stream().map(h -> h.getKey() + ": " + clip(h.getValue()))
          .toList() + (body == null ? "" : " body(" + body.length() + ")=" + clip(body));
    }
  }

  private Hostile() {
  }

  static String clip(String s) {
    return s.length() <= 300 ? s : s.substring(0, 300) + "…(" + s.length() + " chars)";
  }

  static boolean clean(String s) {
    for (String f : FORBIDDEN) {
      if (s.contains(f)) {
        return false;
      }
    }
    return true;
  }

  // --- strings and JSON values ---

  private static final List<String> NASTY = List.of("", " ", "\t\n", "null", "undefined", "0", "-1", "true", "NaN",
      "../../etc/passwd", "..%2f..%2f", "%ZZ", "%", "a\r\nX-Injected: 1", "\u0000", "\ud800", "\udfff", "😀", "\u202erlt",
      "<script>alert(1)</script>", "' OR 1=1 --", "{{7*7}}", "${jndi:ldap://x/a}", "0123456789abcdef0123456789abcdef",
      "0123456789ABCDEF0123456789ABCDEF", "https://evil.example", "http://127.0.0.1:1/", "file:///etc/passwd",
      "anthropic", "openai", "bedrock", "gpt-99", "{}", "[]", "\"", "\\", "\\u0000", "mcp-session", "9".repeat(400));

  /** Short, odd, long, or plausible text. */
  static Arbitrary<String> text() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.of(NASTY)),
        Tuple.of(3, Arbitraries.strings().ofMaxLength(30)),
        Tuple.of(3, Arbitraries.strings().alpha().numeric().withChars('-', '_', ' ', '.').ofMinLength(1).ofMaxLength(20)),
        Tuple.of(1, Arbitraries.integers().between(1_000, 10_000).map(n -> "y".repeat(n))))
        .filter(Hostile::clean);
  }

  /** Any JSON value, nested up to a few levels: the type-confused stand-in for any field. */
  static Arbitrary<Object> json() {
    return Arbitraries.recursive(Hostile::leaf, inner -> Arbitraries.oneOf(
        inner.list().ofMaxSize(4).map(l -> (Object) new JsonArray(new ArrayList<>(l))),
        Arbitraries.maps(text().filter(k -> k.length() < 50), inner).ofMaxSize(4)
            .map(m -> (Object) new JsonObject(new java.util.LinkedHashMap<>(m)))), 0, 3);
  }

  private static Arbitrary<Object> leaf() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, text().map(s -> (Object) s)),
        Tuple.of(1, Arbitraries.just((Object) null)),
        Tuple.of(1, Arbitraries.of(true, false).map(b -> (Object) b)),
        Tuple.of(1, Arbitraries.integers().map(i -> (Object) i)),
        Tuple.of(1, Arbitraries.of(Long.MAX_VALUE, Long.MIN_VALUE, -0.0d, 1e308, 4.9e-324, 0.1, -1L)
            .map(n -> (Object) n)),
        Tuple.of(1, Arbitraries.of(new BigInteger("9".repeat(60)), new BigDecimal("1e-400"))
            .map(n -> (Object) n)));
  }

  // --- bodies ---

  private static final List<String> MALFORMED = List.of("{", "}", "[", "{\"message\":", "{'message':'hi'}",
      "{\"message\":\"hi\",}", "{\"a\":NaN}", "\ufeff{}", "{\"message\":\"\\uZZZZ\"}", "{\"message\":\"hi\"} trailing",
      "{\"a\":1e99999}", "{\"a\":--1}", "/* c */ {}", "{\"message\":\"a\",\"message\":5}", "nul", "tru", "\"open",
      "{\"a\" 1}", "{1:2}", "\u0000", "{\"a\":\"\u0001\"}", "[1,2", "{\"jsonrpc\":\"2.0\",\"method\":}", "{{}}",
      "{\"a\":[}]}", "0x10", "+1", ".5", "{\"a\":01}", "\"\\ud800\"");

  /**
   * A body for a JSON route: mostly {@code plausible} (so requests get past the first checks), else another JSON
   * value, broken text, a cut or padded plausible body, deep nesting, or, rarely, more than the body limit.
   */
  static Arbitrary<String> body(Arbitrary<JsonObject> plausible) {
    Arbitrary<String> encoded = plausible.map(JsonObject::encode);
    return Arbitraries.frequencyOf(
        Tuple.of(40, encoded),
        Tuple.of(12, json().map(Hostile::encode)),
        Tuple.of(12, Arbitraries.of(MALFORMED)),
        Tuple.of(8, Combinators.combine(encoded, Arbitraries.integers().between(0, 1000))
            .as((s, cut) -> s.substring(0, Math.min(cut, s.length())))),
        Tuple.of(4, Combinators.combine(encoded, Arbitraries.of(" x", "}", "]", ",", "\u0000", "{}"))
            .as((s, tail) -> s + tail)),
        Tuple.of(6, deeplyNested()),
        Tuple.of(4, Arbitraries.strings().ofMaxLength(200).filter(Hostile::clean)),
        Tuple.of(1, Arbitraries.integers().between(1_048_600, 1_100_000)
            .map(n -> "{\"message\":\"" + "z".repeat(n) + "\"}")));
  }

  static Arbitrary<String> deeplyNested() {
    return Arbitraries.integers().between(50, 50_000).flatMap(n -> Arbitraries.of(
        "[".repeat(n) + "]".repeat(n),
        "{\"a\":".repeat(n) + "1" + "}".repeat(n),
        "{\"message\":\"hi\",\"userId\":\"deep\",\"history\":" + "[".repeat(n) + "]".repeat(n) + "}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":" + "{\"a\":".repeat(n) + "1"
            + "}".repeat(n) + "}",
        "[".repeat(n)));
  }

  static String encode(Object json) {
    if (json instanceof JsonObject o) {
      return o.encode();
    }
    if (json instanceof JsonArray a) {
      return a.encode();
    }
    return io.vertx.core.json.Json.encode(json);
  }

  /** {@code valid} most of the time, otherwise any JSON value: a field of the right or of the wrong type. */
  static Arbitrary<Object> field(Arbitrary<?> valid) {
    return Arbitraries.frequencyOf(Tuple.of(3, valid.map(v -> (Object) v)), Tuple.of(1, json()));
  }

  /** An object built from optional fields: each present (with its generated value) or absent. */
  @SafeVarargs
  static Arbitrary<JsonObject> object(Map.Entry<String, Arbitrary<Object>>... fields) {
    List<Arbitrary<java.util.Optional<Map.Entry<String, Object>>>> parts = new ArrayList<>();
    for (Map.Entry<String, Arbitrary<Object>> f : fields) {
      parts.add(f.getValue().map(v -> Map.entry(f.getKey(), v == null ? NULL : v)).optional(0.8));
    }
    return Combinators.combine(parts).as(present -> {
      JsonObject o = new JsonObject();
      present.forEach(p -> p.ifPresent(e -> o.put(e.getKey(), e.getValue() == NULL ? null : e.getValue())));
      return o;
    });
  }

  private static final Object NULL = new Object();

  static Map.Entry<String, Arbitrary<Object>> f(String name, Arbitrary<Object> value) {
    return Map.entry(name, value);
  }

  // --- headers and query strings ---

  static final List<String> PROTOCOL_VERSIONS = List.of("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25",
      "2026-07-28");

  /**
   * Header values a client can put on the wire (no CR/LF/NUL: an HTTP client refuses to send those), within the
   * server's 8 KiB header limit: past it the HTTP decoder answers 431 and closes, before any code of ours runs.
   */
  static Arbitrary<String> headerValue(Arbitrary<String> plausible) {
    return Arbitraries.frequencyOf(Tuple.of(3, plausible), Tuple.of(1, text()))
        .map(v -> v.replaceAll("[\r\n\u0000]", "").replaceAll("[^\\x20-\\x7e\\t]", "?"))
        .map(v -> v.length() > 2_000 ? v.substring(0, 2_000) : v);
  }

  static Arbitrary<Map.Entry<String, String>> header(String name, Arbitrary<String> plausible) {
    return headerValue(plausible).map(v -> Map.entry(name, v));
  }

  static Arbitrary<Map.Entry<String, String>> contentType() {
    return header("Content-Type", Arbitraries.of("application/json", "application/json; charset=utf-8",
        "application/json; charset=utf-16", "text/plain", "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded", "", "application/json;;;", "*/*", "text/event-stream"));
  }

  static Arbitrary<Map.Entry<String, String>> accept() {
    return header("Accept", Arbitraries.of("*/*", "application/json", "text/event-stream",
        "application/json, text/event-stream", "text/html", "", "application/*;q=0.1"));
  }

  static Arbitrary<Map.Entry<String, String>> origin() {
    return header("Origin", Arbitraries.of("http://localhost:3000", "http://127.0.0.1", "https://evil.example",
        "null", "http://localhost.evil.example", "file://"));
  }

  static Arbitrary<Map.Entry<String, String>> host() {
    return header("Host", Arbitraries.of("localhost", "127.0.0.1:1", "evil.example", "localhost:3333", "[::1]"));
  }

  static Arbitrary<Map.Entry<String, String>> protocolVersion() {
    List<String> versions = new ArrayList<>(PROTOCOL_VERSIONS);
    versions.addAll(List.of("1999-01-01", "latest", "2025-06-18, 2025-03-26", "2025-13-45"));
    return header("MCP-Protocol-Version", Arbitraries.of(versions));
  }

  /** {@code size} headers at most, drawn from {@code kinds} (repeats allowed: a header may come twice). */
  @SafeVarargs
  static Arbitrary<List<Map.Entry<String, String>>> headers(int size,
                                                            Arbitrary<Map.Entry<String, String>>... kinds) {
    return Arbitraries.oneOf(List.of(kinds)).list().ofMaxSize(size);
  }

  /** A raw query string: known names and odd ones, repeated, with broken escapes and huge values. */
  static Arbitrary<String> query(List<String> names, Arbitrary<String> plausibleValue) {
    Arbitrary<String> name = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.of(names)),
        Tuple.of(1, Arbitraries.of("", "%ZZ", "a[]", "__proto__", "sessionId%00")));
    Arbitrary<String> value = Arbitraries.frequencyOf(
        Tuple.of(4, plausibleValue.map(Hostile::escape)),
        Tuple.of(2, text().map(Hostile::escape)),
        Tuple.of(2, Arbitraries.of("%ZZ", "%", "%4", "%%", "%g0", "%C3%28", "%00", "%E2%82", "+", "%2B%2b", "a=b=c",
            "&&", "=")),
        // Huge, yet within the decoder's 4 KiB request line (past it: 414 and a closed connection, as above).
        Tuple.of(1, Arbitraries.integers().between(1_000, 3_000).map(n -> "q".repeat(n))));
    Arbitrary<String> pair = Arbitraries.frequencyOf(
        Tuple.of(6, Combinators.combine(name, value).as((n, v) -> n + "=" + v)),
        Tuple.of(1, name));
    return pair.list().ofMaxSize(5).map(pairs -> String.join("&", pairs))
        .map(q -> q.length() > 3_500 ? q.substring(0, 3_500) : q);
  }

  /** Percent-encodes what may not appear raw in a request target, keeping the text's meaning. */
  static String escape(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (byte b : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
      }
    }
    return out.toString();
  }

  /** A path segment: a real id, a well-formed unknown one, or something odd (escaped so the request can be sent). */
  static Arbitrary<String> segment(Supplier<List<String>> known) {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.lazy(() -> Arbitraries.of(known.get()))),
        Tuple.of(2, Arbitraries.strings().withChars("0123456789abcdef").ofLength(32)),
        Tuple.of(2, text().map(Hostile::escape).map(seg -> seg.length() > 500 ? seg.substring(0, 500) : seg)),
        Tuple.of(1, Arbitraries.of("%ZZ", "%", "..", "%2e%2e", "%2F", ".", "a%00b", "%C3%28", ";x=1")));
  }
}
