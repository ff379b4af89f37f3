package dev.mcps.cluster;

import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.List;
import java.util.UUID;

/**
 * This instance as the others see it: its node id (the cluster's, or a random one when it runs alone) and the
 * cluster's current size. Addresses that name one instance ({@link #address}) are how a request reaches the
 * instance holding a stream.
 */
public final class Node {

  /** The Hazelcast member attribute vertx-hazelcast keeps a member's Vert.x node id in. */
  private static final String VERTX_NODE_ID = "__vertx.nodeId";

  private final Vertx vertx;
  private final String id;

  public Node(Vertx vertx) {
    this.vertx = vertx;
    ClusterManager manager = clusterManager(vertx);
    this.id = manager == null ? UUID.randomUUID().toString() : manager.getNodeId();
  }

  public String id() {
    return id;
  }

  public boolean clustered() {
    return vertx.isClustered();
  }

  /**
   * Server instances in the cluster, this one included; 1 when not clustered. Lite members (event-bus clients such
   * as scripts/bus-client.sh) are not counted: they serve nothing.
   */
  public int members() {
    ClusterManager manager = clusterManager(vertx);
    if (manager instanceof HazelcastClusterManager hazelcast && hazelcast.getHazelcastInstance() != null) {
      return (int) hazelcast.getHazelcastInstance().getCluster().getMembers().stream()
          .filter(m -> !m.isLiteMember()).count();
    }
    return manager == null ? 1 : manager.getNodes().size();
  }

  /**
   * The node ids of the other server instances in the cluster (lite members, the event-bus clients, left out); empty
   * when not clustered.
   */
  public List<String> otherServers() {
    ClusterManager manager = clusterManager(vertx);
    if (manager instanceof HazelcastClusterManager hazelcast && hazelcast.getHazelcastInstance() != null) {
      return hazelcast.getHazelcastInstance().getCluster().getMembers().stream()
          .filter(m -> !m.isLiteMember()).map(m -> m.getAttribute(VERTX_NODE_ID))
          .filter(n -> n != null && !n.equals(id)).toList();
    }
    return manager == null ? List.of() : manager.getNodes().stream().filter(n -> !n.equals(id)).toList();
  }

  /**
   * Whether {@code nodeId} is a member of the cluster now (this instance included); false when not clustered. Asked
   * only after a forward failed, to tell a gone instance from a slow one.
   */
  public boolean isMember(String nodeId) {
    ClusterManager manager = clusterManager(vertx);
    return manager != null && manager.getNodes().contains(nodeId);
  }

  /** The event-bus address {@code prefix} of the instance {@code nodeId}: {@code prefix.<nodeId>}. */
  public static String address(String prefix, String nodeId) {
    return prefix + "." + nodeId;
  }

  private static ClusterManager clusterManager(Vertx vertx) {
    return vertx.isClustered() && vertx instanceof VertxInternal internal ? internal.clusterManager() : null;
  }
}
