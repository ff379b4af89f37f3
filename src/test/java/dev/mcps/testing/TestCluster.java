package dev.mcps.testing;

import dev.mcps.Server;
import dev.mcps.config.ConfigLoader;
import dev.mcps.config.ServerConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Several clustered instances (CLUSTER=true, Hazelcast over TCP-IP on 127.0.0.1) on one Redis, as in production
 * behind a load balancer. Each cluster gets a name of its own and free ports, so clusters of different tests never
 * meet. {@link #close} stops whatever is still running.
 */
public final class TestCluster implements AutoCloseable {

  private final String name = "test-" + UUID.randomUUID();
  private final RedisServer redis;
  private final List<Integer> memberPorts = new ArrayList<>();
  private final List<Server> servers = new ArrayList<>();
  private final List<Server> stopped = new ArrayList<>();
  /** Started by {@link #withOwnRedis} and stopped by {@link #close}; null when the test owns the Redis. */
  private RedisServer ownRedis;
  /** Started by {@link #chatting} and closed by {@link #close}. */
  private io.vertx.core.Vertx side;

  private TestCluster(RedisServer redis, int size) {
    this.redis = redis;
    for (int i = 0; i < size; i++) {
      memberPorts.add(TestServers.freePort());
    }
  }

  /** Starts {@code size} instances, one after the other, each with {@code overrides} on top of the test defaults. */
  public static TestCluster start(RedisServer redis, int size, Map<String, String> overrides) {
    TestCluster cluster = new TestCluster(redis, size);
    try {
      for (int i = 0; i < size; i++) {
        cluster.servers.add(TestServers.await(Server.start(ConfigLoader.load(cluster.env(i, overrides)))));
      }
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  /** Starts a redis-server of its own and {@code size} instances on it; {@link #close} stops both. */
  public static TestCluster withOwnRedis(int size, Map<String, String> overrides) {
    RedisServer redis = RedisServer.start();
    try {
      TestCluster cluster = start(redis, size, overrides);
      cluster.ownRedis = redis;
      return cluster;
    } catch (RuntimeException e) {
      redis.stop();
      throw e;
    }
  }

  /** The API key of the fake Anthropic API that {@link #chatting} clusters talk to. */
  public static final String ANTHROPIC_KEY = "sk-ant-cluster";

  /**
   * A cluster with its own Redis and a fake Anthropic API on loopback whose every turn is model -> notes_get -> model
   * ({@link FakeAnthropic#notesGetThenAnswer}); {@link #close} stops all of it.
   */
  public static TestCluster chatting(int size, Map<String, String> overrides) {
    io.vertx.core.Vertx side = io.vertx.core.Vertx.vertx();
    FakeAnthropic fake = FakeAnthropic.start(side, ANTHROPIC_KEY);
    fake.script(FakeAnthropic::notesGetThenAnswer);
    Map<String, String> env = new HashMap<>(overrides);
    env.put("ANTHROPIC_API_KEY", ANTHROPIC_KEY);
    env.put("ANTHROPIC_BASE_URL", fake.baseUrl());
    try {
      TestCluster cluster = withOwnRedis(size, env);
      cluster.side = side;
      return cluster;
    } catch (RuntimeException e) {
      side.close();
      throw e;
    }
  }

  public RedisServer redis() {
    return redis;
  }

  /** The settings of instance {@code i}. */
  public Map<String, String> env(int i, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>(TestServers.redis(redis));
    env.putAll(clusterSettings(i));
    env.putAll(overrides);
    return TestServers.env(env);
  }

  /** CLUSTER_* for member {@code i}; for a non-server member (the bus client) any index past the servers' works. */
  public Map<String, String> clusterSettings(int i) {
    Map<String, String> env = new HashMap<>();
    env.put("CLUSTER", "true");
    env.put("CLUSTER_NAME", name);
    env.put("CLUSTER_HOST", "127.0.0.1");
    env.put("CLUSTER_MEMBERS", memberPorts.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(",")));
    env.put("CLUSTER_MEMBER_PORT", String.valueOf(i < memberPorts.size() ? memberPorts.get(i) : TestServers.freePort()));
    return env;
  }

  /** The cluster settings a non-server member would read (scripts/bus-client.sh). */
  public ServerConfig.Cluster clientSettings() {
    return ConfigLoader.loadCluster(clusterSettings(memberPorts.size()));
  }

  public Server get(int i) {
    return servers.get(i);
  }

  public List<Server> servers() {
    return List.copyOf(servers);
  }

  public int port(int i) {
    return servers.get(i).port();
  }

  /** Instance {@code i} dies: no drain, no goodbye (see {@link Server#halt}). */
  public void kill(int i) {
    Server s = servers.get(i);
    if (!stopped.contains(s)) {
      stopped.add(s);
      TestServers.await(s.halt());
    }
  }

  @Override
  public void close() {
    for (Server s : servers) {
      if (!stopped.contains(s)) {
        stopped.add(s);
        try {
          TestServers.await(s.stop());
        } catch (RuntimeException e) {
          // Stopping the others matters more than one failed stop.
        }
      }
    }
    if (ownRedis != null) {
      ownRedis.stop();
      ownRedis = null;
    }
    if (side != null) {
      // Closing the fake's Vert.x closes the fake.
      side.close();
      side = null;
    }
  }
}
