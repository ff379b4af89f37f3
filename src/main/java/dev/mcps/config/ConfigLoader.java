package dev.mcps.config;

import dev.mcps.config.ServerConfig.AuthMode;
import dev.mcps.config.ServerConfig.StoreType;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the configuration once: the defaults packaged from {@code conf/server.json}, then a config file
 * ({@code CONFIG_FILE}, or {@code ./conf/server.json} when present), then environment variables of the same names.
 * Every key of the file is an environment variable name (DESIGN.md §3), so there is one vocabulary for both.
 */
public final class ConfigLoader {

  private static final String DEFAULTS_RESOURCE = "server.json";

  private final Map<String, String> values;

  private ConfigLoader(Map<String, String> values) {
    this.values = values;
  }

  /** Loads from the real process environment. */
  public static ServerConfig load() {
    return load(System.getenv());
  }

  /** Loads with {@code env} in place of the process environment (tests pass their own map). */
  public static ServerConfig load(Map<String, String> env) {
    return new ConfigLoader(merged(env)).build();
  }

  /**
   * Only the cluster settings, for a member that is no server (scripts/bus-client.sh): the same names and defaults,
   * none of the server's other requirements.
   */
  public static ServerConfig.Cluster loadCluster(Map<String, String> env) {
    return new ConfigLoader(merged(env)).cluster(true);
  }

  private ServerConfig.Cluster cluster(boolean enabled) {
    return new ServerConfig.Cluster(enabled, list("CLUSTER_MEMBERS"), required("CLUSTER_NAME"), string("CLUSTER_HOST"),
        string("CLUSTER_PUBLIC_HOST"), integer("CLUSTER_PORT", 0, 65535), integer("CLUSTER_MEMBER_PORT", 1, 65535),
        string("CLUSTER_KUBERNETES_SERVICE_DNS"));
  }

  private static Map<String, String> merged(Map<String, String> env) {
    Map<String, String> merged = new HashMap<>();
    merged.putAll(readDefaults());
    String file = env.get("CONFIG_FILE");
    Path path = file != null && !file.isBlank() ? Path.of(file) : Path.of("conf", "server.json");
    if (Files.isRegularFile(path)) {
      merged.putAll(readFile(path));
    } else if (file != null && !file.isBlank()) {
      throw new ConfigException("CONFIG_FILE: " + file + " does not exist");
    }
    for (String key : List.copyOf(merged.keySet())) {
      String v = env.get(key);
      if (v != null) {
        merged.put(key, v);
      }
    }
    return merged;
  }

  private ServerConfig build() {
    StoreType storeType = enumValue("STORE", StoreType.class);
    String redisUrl = string("REDIS_URL");
    if (storeType == StoreType.REDIS) {
      if (redisUrl == null) {
        throw new ConfigException("REDIS_URL is required when STORE=redis");
      }
      if (!redisUrl.startsWith("redis://") && !redisUrl.startsWith("rediss://") && !redisUrl.startsWith("unix://")) {
        throw new ConfigException("REDIS_URL must start with redis://, rediss:// or unix:// (got an invalid URL)");
      }
    }
    byte[] key = encryptionKey();
    if (storeType == StoreType.REDIS && key == null) {
      throw new ConfigException("SESSION_ENCRYPTION_KEY is required when STORE=redis (base64 of 32 random bytes; "
          + "every instance must share it), e.g. `openssl rand -base64 32`");
    }
    ServerConfig.Auth auth = auth();
    AuthMode authMode = auth.mode();
    boolean cluster = bool("CLUSTER");
    if (cluster && storeType != StoreType.REDIS) {
      throw new ConfigException("CLUSTER=true requires STORE=redis: the instances of a cluster share their sessions "
          + "through Redis");
    }
    String defaultModel = string("CHAT_DEFAULT_MODEL");
    if (!List.of("anthropic", "openai", "bedrock").contains(defaultModel)) {
      throw new ConfigException("CHAT_DEFAULT_MODEL must be anthropic, openai or bedrock (got '" + defaultModel + "')");
    }
    int instances = integer("HTTP_INSTANCES", 0, 256);
    return new ServerConfig(
        new ServerConfig.Http(required("HTTP_HOST"), integer("HTTP_PORT", 0, 65535),
            integer("HTTP_BODY_LIMIT_BYTES", 1024, 64 * 1024 * 1024),
            instances == 0 ? Runtime.getRuntime().availableProcessors() : instances),
        new ServerConfig.Store(storeType, redisUrl, string("REDIS_KEY_PREFIX") == null ? "" : string("REDIS_KEY_PREFIX"),
            integer("REDIS_POOL_SIZE", 1, 1024), integer("STORE_TIMEOUT_MS", 50, 600_000)),
        new ServerConfig.Session(integer("SESSION_TIMEOUT_SECONDS", 1, 365 * 24 * 3600),
            integer("SESSION_MAX", 1, 10_000_000), integer("SESSION_CLEANUP_INTERVAL_SECONDS", 1, 365 * 24 * 3600), key,
            oldEncryptionKeys()),
        string("ADMIN_TOKEN"),
        new ServerConfig.Chat(defaultModel, integer("CHAT_MAX_ITERATIONS", 1, 100),
            integer("CHAT_TURN_TIMEOUT_SECONDS", 1, 3600),
            new ServerConfig.Provider(string("ANTHROPIC_API_KEY"), url("ANTHROPIC_BASE_URL"), string("ANTHROPIC_MODEL")),
            new ServerConfig.Provider(string("OPENAI_API_KEY"), url("OPENAI_BASE_URL"), string("OPENAI_MODEL")),
            new ServerConfig.Bedrock(string("AWS_REGION"), string("BEDROCK_MODEL_ID"), url("BEDROCK_ENDPOINT")),
            integer("PROVIDER_TIMEOUT_MS", 100, 3_600_000), integer("PROVIDER_MAX_ATTEMPTS", 1, 10),
            integer("PROVIDER_RETRY_MAX_DELAY_MS", 0, 600_000)),
        new ServerConfig.Jira(list("JIRA_ALLOWED_HOSTS"), bool("JIRA_USE_ENV_CREDENTIALS"), url("JIRA_BASE_URL"),
            string("JIRA_EMAIL"), string("JIRA_API_TOKEN"), bool("JIRA_ALLOW_HTTP"), bool("JIRA_READ_ONLY"),
            integer("JIRA_TIMEOUT_MS", 100, 600_000), integer("JIRA_MAX_ATTEMPTS", 1, 10),
            integer("JIRA_RETRY_MAX_DELAY_MS", 0, 600_000)),
        new ServerConfig.Mcp(list("MCP_ALLOWED_ORIGINS"), list("MCP_ALLOWED_HOSTS"),
            integer("MCP_KEEP_ALIVE_SECONDS", 0, 3600), integer("MCP_SESSION_IDLE_SECONDS", 1, 365 * 24 * 3600),
            integer("MCP_EVENT_STORE_MAX_EVENTS", 1, 100_000), integer("MCP_EVENT_STORE_TTL_SECONDS", 1, 7 * 24 * 3600),
            requestStateKey(), integer("MCP_REQUEST_STATE_TTL_SECONDS", 1, 24 * 3600),
            integer("MCP_LIST_TTL_SECONDS", 0, 7 * 24 * 3600), bool("MCP_CONFIRM_JIRA_WRITES"),
            integer("MCP_MAX_LISTEN_STREAMS", 1, 10_000_000),
            bool("MCP_CONFORMANCE_TOOLS")),
        authMode,
        cluster(cluster),
        integer("SHUTDOWN_GRACE_SECONDS", 0, 3600),
        new ServerConfig.Limits(integer("HTTP_IDLE_TIMEOUT_SECONDS", 1, 24 * 3600),
            integer("MCP_MAX_CONNECTIONS_PER_USER", 1, 100_000), integer("HISTORY_MAX_MESSAGES", 2, 1_000_000),
            integer("HISTORY_MAX_BYTES", 1024, 1 << 30), integer("TOOL_RESULT_MAX_BYTES", 256, 64 << 20),
            integer("CHAT_MAX_WRITES_PER_TURN", 0, 1000), integer("JIRA_MAX_RESPONSE_BYTES", 1024, 1 << 30),
            integer("PROVIDER_MAX_RESPONSE_BYTES", 1024, 1 << 30),
            list("JIRA_PROJECTS").stream().map(k -> k.toUpperCase(Locale.ROOT)).toList()),
        workers(),
        auth,
        new ServerConfig.UserLimits(integer("USER_RATE_LIMIT_PER_MINUTE", 0, 10_000_000),
            integer("USER_MAX_CONCURRENT_TURNS", 0, 100_000)),
        auditLog(),
        bool("CONSOLE_ENABLED"));
  }

  /**
   * "stdout", "off" or a file path whose directory exists (and is not itself a directory). Whether the file can be
   * written is found out when the server opens it at start-up, which fails with one line naming AUDIT_LOG.
   */
  private String auditLog() {
    String v = string("AUDIT_LOG");
    if (v == null || v.equalsIgnoreCase("off")) {
      return "off";
    }
    if (v.equalsIgnoreCase("stdout")) {
      return "stdout";
    }
    Path file;
    try {
      file = Path.of(v).toAbsolutePath();
    } catch (java.nio.file.InvalidPathException e) {
      throw new ConfigException("AUDIT_LOG must be stdout, off or a file path; got an invalid path: " + v);
    }
    if (Files.isDirectory(file)) {
      throw new ConfigException("AUDIT_LOG: " + v + " is a directory; name a file in it");
    }
    Path dir = file.getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new ConfigException("AUDIT_LOG: the directory of " + v + " does not exist");
    }
    return v;
  }

  /** AUTH_MODE and what it needs; a mode missing a setting it cannot work without stops start-up naming it. */
  private ServerConfig.Auth auth() {
    AuthMode mode = enumValue("AUTH_MODE", AuthMode.class);
    String resourceUrl = url("AUTH_RESOURCE_URL");
    String audience = string("AUTH_AUDIENCE");
    String jwks = url("AUTH_JWKS_URL");
    String pem = string("AUTH_JWT_PUBLIC_KEY_FILE");
    String secret = string("AUTH_JWT_SECRET");
    if (mode == AuthMode.JWT) {
      int sources = (jwks == null ? 0 : 1) + (pem == null ? 0 : 1) + (secret == null ? 0 : 1);
      if (sources != 1) {
        throw new ConfigException("AUTH_MODE=jwt needs exactly one of AUTH_JWKS_URL, AUTH_JWT_PUBLIC_KEY_FILE or "
            + "AUTH_JWT_SECRET (got " + sources + ")");
      }
      if (pem != null && !Files.isReadable(Path.of(pem))) {
        throw new ConfigException("AUTH_JWT_PUBLIC_KEY_FILE: " + pem + " cannot be read");
      }
      if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length < 32) {
        throw new ConfigException("AUTH_JWT_SECRET must be at least 32 bytes (HS256)");
      }
      if (resourceUrl == null) {
        throw new ConfigException("AUTH_MODE=jwt needs AUTH_RESOURCE_URL (this server's MCP URL as clients reach it, "
            + "e.g. https://mcp.example.com/mcp): it is the resource named in the protected resource metadata and "
            + "the audience tokens must carry unless AUTH_AUDIENCE says otherwise");
      }
    }
    String userHeader = string("AUTH_USER_HEADER");
    String gatewaySecretHeader = string("AUTH_GATEWAY_SECRET_HEADER");
    String gatewaySecret = string("AUTH_GATEWAY_SECRET");
    if (mode == AuthMode.HEADER) {
      if (userHeader == null) {
        throw new ConfigException("AUTH_MODE=header needs AUTH_USER_HEADER, the header your gateway puts the user in");
      }
      if (gatewaySecretHeader == null || gatewaySecret == null) {
        throw new ConfigException("AUTH_MODE=header needs AUTH_GATEWAY_SECRET_HEADER and AUTH_GATEWAY_SECRET: the "
            + "header and the shared secret that prove a request came through the gateway");
      }
      if (gatewaySecret.length() < 16) {
        throw new ConfigException("AUTH_GATEWAY_SECRET must be at least 16 characters");
      }
    }
    String writeScope = string("JIRA_WRITE_SCOPE");
    return new ServerConfig.Auth(mode, jwks, pem, secret, string("AUTH_ISSUER"),
        audience == null ? resourceUrl : audience, resourceUrl, required("AUTH_USER_CLAIM"),
        list("AUTH_AUTHORIZATION_SERVERS"), list("AUTH_REQUIRED_SCOPES"), writeScope,
        integer("AUTH_LEEWAY_SECONDS", 0, 3600), integer("AUTH_JWKS_MIN_REFRESH_SECONDS", 0, 86_400),
        userHeader, gatewaySecretHeader, gatewaySecret);
  }

  /**
   * WORKER_POOL_SIZE 0 = a few threads a core: the workers mostly run short CPU steps of many turns at once, and now
   * and then a call that blocks (the Bedrock SDK), which must not leave the others waiting.
   */
  private ServerConfig.Workers workers() {
    int size = integer("WORKER_POOL_SIZE", 0, 1024);
    return new ServerConfig.Workers(bool("WORKER_VERTICLES"),
        size == 0 ? Math.max(8, 4 * Runtime.getRuntime().availableProcessors()) : size,
        integer("WORKER_INLINE_MAX_BYTES", 0, 1 << 30));
  }

  private byte[] encryptionKey() {
    String raw = string("SESSION_ENCRYPTION_KEY");
    return raw == null ? null : aesKey("SESSION_ENCRYPTION_KEY", raw);
  }

  /** Of its own, or derived from the session key, so that every instance opens the request states any other sealed. */
  private byte[] requestStateKey() {
    String raw = string("MCP_REQUEST_STATE_KEY");
    if (raw != null) {
      return aesKey("MCP_REQUEST_STATE_KEY", raw);
    }
    byte[] session = encryptionKey();
    return session == null ? null : dev.mcps.mcp.stateless.RequestStates.deriveKey(session);
  }

  private List<byte[]> oldEncryptionKeys() {
    List<String> raw = list("SESSION_ENCRYPTION_OLD_KEYS");
    return raw.stream().map(k -> aesKey("SESSION_ENCRYPTION_OLD_KEYS", k)).toList();
  }

  private static byte[] aesKey(String name, String raw) {
    byte[] key;
    try {
      key = Base64.getDecoder().decode(raw.trim());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(name + " must be base64 (of 32 random bytes)");
    }
    if (key.length != 32) {
      throw new ConfigException(name + " must decode to 32 bytes (256 bits), not " + key.length);
    }
    return key;
  }

  /** Blank means unset: an empty string in the file or the environment is the same as no value. */
  private String string(String name) {
    String v = values.get(name);
    return v == null || v.isBlank() ? null : v.trim();
  }

  private String required(String name) {
    String v = string(name);
    if (v == null) {
      throw new ConfigException(name + " is required");
    }
    return v;
  }

  private int integer(String name, int min, int max) {
    String v = required(name);
    int n;
    try {
      n = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new ConfigException(name + " must be a whole number (got '" + v + "')");
    }
    if (n < min || n > max) {
      throw new ConfigException(name + " must be between " + min + " and " + max + " (got " + n + ")");
    }
    return n;
  }

  private boolean bool(String name) {
    String v = string(name);
    if (v == null) {
      return false;
    }
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes" -> true;
      case "false", "0", "no" -> false;
      default -> throw new ConfigException(name + " must be true or false (got '" + v + "')");
    };
  }

  private <E extends Enum<E>> E enumValue(String name, Class<E> type) {
    String v = required(name);
    try {
      return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(name + " must be one of " + Arrays.stream(type.getEnumConstants())
          .map(c -> c.name().toLowerCase(Locale.ROOT)).toList() + " (got '" + v + "')");
    }
  }

  private List<String> list(String name) {
    String v = string(name);
    return v == null ? List.of() : Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  private String url(String name) {
    String v = string(name);
    if (v == null) {
      return null;
    }
    try {
      URI uri = new URI(v);
      if (uri.getScheme() == null || uri.getHost() == null
          || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
        throw new ConfigException(name + " must be an http(s) URL (got '" + v + "')");
      }
    } catch (java.net.URISyntaxException e) {
      throw new ConfigException(name + " must be an http(s) URL (got '" + v + "')");
    }
    return v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
  }

  private static Map<String, String> readDefaults() {
    try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream(DEFAULTS_RESOURCE)) {
      if (in == null) {
        throw new ConfigException("the packaged defaults (" + DEFAULTS_RESOURCE + ") are missing from the classpath");
      }
      return flatten(new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)), DEFAULTS_RESOURCE);
    } catch (IOException e) {
      throw new ConfigException("cannot read packaged defaults: " + e.getMessage());
    }
  }

  private static Map<String, String> readFile(Path path) {
    try {
      return flatten(new JsonObject(Files.readString(path)), path.toString());
    } catch (IOException e) {
      throw new ConfigException("cannot read " + path + ": " + e.getMessage());
    } catch (DecodeException e) {
      throw new ConfigException(path + " is not valid JSON");
    }
  }

  private static Map<String, String> flatten(JsonObject json, String source) {
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, Object> e : json) {
      Object v = e.getValue();
      if (v instanceof JsonObject || v instanceof io.vertx.core.json.JsonArray) {
        throw new ConfigException(source + ": " + e.getKey() + " must be a string, number or boolean");
      }
      out.put(e.getKey(), v == null ? "" : String.valueOf(v));
    }
    return out;
  }
}
