package dev.mcps.bench;

import io.vertx.core.VerticleBase;

/**
 * One event loop's share of a load run. Deployed, it connects its users or sessions and keeps each one's single
 * request going; undeployed, it lets the requests in flight finish and stops. Being a verticle gives it its own
 * event-loop context: every callback of its clients and timers runs on that one thread, so the hot path shares
 * nothing with the other shards.
 */
abstract class Shard extends VerticleBase {

  final LoadClock clock;
  final CallStats stats;

  Shard(LoadClock clock, String tag) {
    this.clock = clock;
    this.stats = new CallStats(tag);
  }
}
