package dev.mcps.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcps.testing.TestServers;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

  @Test
  void theDefaultsNeedNoEnvironmentAtAll() {
    ServerConfig c = ConfigLoader.load(Map.of());
    assertThat(c.http().port()).isEqualTo(3333);
    assertThat(c.http().host()).isEqualTo("0.0.0.0");
    assertThat(c.store().type()).isEqualTo(ServerConfig.StoreType.MEMORY);
    assertThat(c.store().keyPrefix()).isEqualTo("mcps:");
    assertThat(c.session().timeoutSeconds()).isEqualTo(1800);
    assertThat(c.session().max()).isEqualTo(1000);
    assertThat(c.session().cleanupIntervalSeconds()).isEqualTo(600);
    assertThat(c.session().encryptionKey()).isNull();
    assertThat(c.adminEnabled()).isFalse();
    assertThat(c.chat().defaultModel()).isEqualTo("anthropic");
    assertThat(c.chat().maxIterations()).isEqualTo(5);
    assertThat(c.jira().allowedHosts()).containsExactly("*.atlassian.net");
    assertThat(c.http().instances()).isPositive();
  }

  @Test
  void everyLimitHasADefault() {
    ServerConfig.Limits l = ConfigLoader.load(Map.of()).limits();
    assertThat(l.httpIdleTimeoutSeconds()).isEqualTo(60);
    assertThat(l.mcpMaxConnectionsPerUser()).isEqualTo(32);
    assertThat(l.historyMaxMessages()).isEqualTo(200);
    assertThat(l.historyMaxBytes()).isEqualTo(512 * 1024);
    assertThat(l.toolResultMaxBytes()).isEqualTo(32 * 1024);
    assertThat(l.chatMaxWritesPerTurn()).isEqualTo(3);
    assertThat(l.jiraMaxResponseBytes()).isEqualTo(10 * 1024 * 1024);
    assertThat(l.providerMaxResponseBytes()).isEqualTo(32 * 1024 * 1024);
    assertThat(l.jiraProjects()).isEmpty();
  }

  @Test
  void oldEncryptionKeysAreReadAsAListOfKeys() {
    String k1 = java.util.Base64.getEncoder().encodeToString(new byte[32]);
    String k2 = java.util.Base64.getEncoder().encodeToString(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
        15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32});
    ServerConfig c = ConfigLoader.load(Map.of("SESSION_ENCRYPTION_OLD_KEYS", k1 + ", " + k2,
        "JIRA_PROJECTS", "proj, ops"));
    assertThat(c.session().oldEncryptionKeys()).hasSize(2);
    assertThat(c.session().oldEncryptionKeys().get(1)[31]).isEqualTo((byte) 32);
    assertThat(c.limits().jiraProjects()).containsExactly("PROJ", "OPS");
    assertThat(c.toString()).doesNotContain(k1).doesNotContain(k2);
    assertBad(Map.of("SESSION_ENCRYPTION_OLD_KEYS", k1 + ",c2hvcnQ="),
        "SESSION_ENCRYPTION_OLD_KEYS must decode to 32 bytes");
    assertBad(Map.of("HISTORY_MAX_MESSAGES", "1"), "HISTORY_MAX_MESSAGES must be between 2");
  }

  @Test
  void providerLoopsAndJiraToolsRunInWorkerVerticlesUnlessWorkerVerticlesIsFalse() {
    ServerConfig.Workers byDefault = ConfigLoader.load(Map.of()).workers();
    assertThat(byDefault.enabled()).isTrue();
    assertThat(byDefault.poolSize()).isGreaterThanOrEqualTo(8);
    assertThat(byDefault.inlineMaxBytes()).isEqualTo(65536);
    ServerConfig.Workers off = ConfigLoader.load(Map.of("WORKER_VERTICLES", "false", "WORKER_POOL_SIZE", "3")).workers();
    assertThat(off.enabled()).isFalse();
    assertThat(off.poolSize()).isEqualTo(3);
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("WORKER_VERTICLES", "sometimes")))
        .hasMessageContaining("WORKER_VERTICLES");
  }

  @Test
  void environmentVariablesOverrideTheDefaults() {
    ServerConfig c = ConfigLoader.load(Map.of("HTTP_PORT", "8080", "SESSION_MAX", "50", "ADMIN_TOKEN", "t",
        "JIRA_ALLOWED_HOSTS", "a.example.com, *.atlassian.net", "JIRA_READ_ONLY", "true"));
    assertThat(c.http().port()).isEqualTo(8080);
    assertThat(c.session().max()).isEqualTo(50);
    assertThat(c.adminEnabled()).isTrue();
    assertThat(c.jira().allowedHosts()).containsExactly("a.example.com", "*.atlassian.net");
    assertThat(c.jira().readOnly()).isTrue();
  }

  @Test
  void eachBadValueIsNamedInOneLine() {
    assertBad(Map.of("HTTP_PORT", "abc"), "HTTP_PORT must be a whole number (got 'abc')");
    assertBad(Map.of("HTTP_PORT", "70000"), "HTTP_PORT must be between 0 and 65535 (got 70000)");
    assertBad(Map.of("STORE", "postgres"), "STORE must be one of [memory, redis] (got 'postgres')");
    assertBad(Map.of("STORE", "redis"), "REDIS_URL is required when STORE=redis");
    assertBad(Map.of("STORE", "redis", "REDIS_URL", "redis://127.0.0.1:6379"),
        "SESSION_ENCRYPTION_KEY is required when STORE=redis");
    assertBad(Map.of("SESSION_ENCRYPTION_KEY", "c2hvcnQ="), "SESSION_ENCRYPTION_KEY must decode to 32 bytes");
    assertBad(Map.of("SESSION_ENCRYPTION_KEY", "***"), "SESSION_ENCRYPTION_KEY must be base64");
    assertBad(Map.of("JIRA_READ_ONLY", "maybe"), "JIRA_READ_ONLY must be true or false (got 'maybe')");
    assertBad(Map.of("CHAT_DEFAULT_MODEL", "llama"), "CHAT_DEFAULT_MODEL must be anthropic, openai or bedrock");
    assertBad(Map.of("OPENAI_BASE_URL", "ftp://x"), "OPENAI_BASE_URL must be an http(s) URL");
    assertBad(Map.of("SESSION_TIMEOUT_SECONDS", "0"), "SESSION_TIMEOUT_SECONDS must be between 1");
    assertBad(Map.of("CONFIG_FILE", "/nonexistent.json"), "CONFIG_FILE: /nonexistent.json does not exist");
    assertBad(Map.of("CLUSTER", "true"), "CLUSTER=true requires STORE=redis");
    assertBad(Map.of("CLUSTER_PORT", "-1"), "CLUSTER_PORT must be between 0 and 65535");
  }

  @Test
  void theClusterIsReadFromItsOwnSettings() {
    ServerConfig c = ConfigLoader.load(Map.of("CLUSTER", "true", "STORE", "redis", "REDIS_URL", "redis://127.0.0.1:1",
        "SESSION_ENCRYPTION_KEY", TestServers.ENCRYPTION_KEY, "CLUSTER_MEMBERS", "10.0.0.1:5701, 10.0.0.2",
        "CLUSTER_HOST", "10.0.0.3", "CLUSTER_PORT", "15701"));
    assertThat(c.cluster().enabled()).isTrue();
    assertThat(c.cluster().members()).containsExactly("10.0.0.1:5701", "10.0.0.2");
    assertThat(c.cluster().name()).isEqualTo("mcps");
    assertThat(c.cluster().host()).isEqualTo("10.0.0.3");
    assertThat(c.cluster().publicHost()).isNull();
    assertThat(c.cluster().port()).isEqualTo(15701);
    assertThat(c.cluster().memberPort()).isEqualTo(5701);
    assertThat(ConfigLoader.loadCluster(Map.of("CLUSTER_NAME", "other")).name())
        .as("a bus client reads the cluster settings alone").isEqualTo("other");
  }

  @Test
  void secretsNeverAppearInTheConfigsText() {
    ServerConfig c = ConfigLoader.load(Map.of("ADMIN_TOKEN", "adm-SECRET", "ANTHROPIC_API_KEY", "sk-SECRET",
        "JIRA_API_TOKEN", "jira-SECRET", "SESSION_ENCRYPTION_KEY", TestServers.ENCRYPTION_KEY,
        "STORE", "redis", "REDIS_URL", "redis://user:pw-SECRET@127.0.0.1:6379"));
    assertThat(c.toString()).doesNotContain("SECRET").doesNotContain(TestServers.ENCRYPTION_KEY);
  }

  private static void assertBad(Map<String, String> env, String message) {
    assertThatThrownBy(() -> ConfigLoader.load(env)).isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(message).hasMessageNotContaining("\n");
  }
}
