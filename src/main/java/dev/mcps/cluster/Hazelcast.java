package dev.mcps.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import dev.mcps.config.ServerConfig;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/**
 * Builds the Hazelcast cluster manager of CLUSTER=true from the typed settings: TCP-IP join from CLUSTER_MEMBERS
 * (multicast is off: it is unusable in most data centres and containers), or Kubernetes DNS discovery.
 */
public final class Hazelcast {

  private Hazelcast() {
  }

  /** A full member: a server instance. */
  public static HazelcastClusterManager clusterManager(ServerConfig.Cluster cluster) {
    return clusterManager(cluster, false);
  }

  /**
   * @param lite a lite member holds no cluster data (a client of the event bus, such as scripts/bus-client.sh): its
   *             coming and going moves no partitions between the servers
   */
  public static HazelcastClusterManager clusterManager(ServerConfig.Cluster cluster, boolean lite) {
    Config config = ConfigUtil.loadConfig();
    config.setLiteMember(lite);
    config.setClusterName(cluster.name());
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    // The server stops itself on SIGTERM (leaving the cluster on the way); Hazelcast's own hook would leave first
    // and strand the requests still draining.
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    // A member that died without leaving (kill -9, a lost host) is suspected after this long without a heartbeat,
    // instead of Hazelcast's 60 s: until then the event bus may still route to it.
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
    // Nothing to wait for when the members are listed: join at once.
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(cluster.memberPort()).setPortAutoIncrement(true);
    if (cluster.publicHost() != null) {
      network.setPublicAddress(cluster.publicHost() + ":" + cluster.memberPort());
    }
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (cluster.kubernetesDns() != null) {
      join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", cluster.kubernetesDns());
    } else {
      join.getTcpIpConfig().setEnabled(true).setMembers(cluster.members());
    }
    return new HazelcastClusterManager(config);
  }
}
