#!/usr/bin/env bash
# Three clustered instances of the server and one Redis on this machine, as README "Running several instances"
# describes: builds target/mcp-session-server.jar if needed, starts a redis-server on a free port (data in the run
# directory; or uses REDIS_URL when it is set), then the three instances (the first, then the two others together) on
# free HTTP ports with CLUSTER=true, STORE=redis, one shared SESSION_ENCRYPTION_KEY (generated unless set) and
# CLUSTER_MEMBERS listing their three Hazelcast member ports on 127.0.0.1; waits until every /health reports 3 members and prints the URLs, the Redis
# URL and example commands on stdout. It stays in the foreground: Ctrl-C or SIGTERM stops the instances (SIGTERM, a
# graceful drain) and then Redis; so does the death of any instance (exit status 1).
#
#   scripts/cluster.sh
#   ANTHROPIC_API_KEY=sk-ant-… ADMIN_TOKEN=secret scripts/cluster.sh
#   REDIS_URL=redis://127.0.0.1:6379/0 SESSION_ENCRYPTION_KEY=… scripts/cluster.sh    (a Redis you run)
#
# The instances inherit the caller's environment (provider keys, limits…); the script sets HTTP_HOST=127.0.0.1,
# HTTP_PORT, STORE, REDIS_URL, SESSION_ENCRYPTION_KEY, ADMIN_TOKEN (generated unless set), CLUSTER, CLUSTER_NAME
# (default mcps), CLUSTER_HOST=127.0.0.1, CLUSTER_MEMBERS and CLUSTER_MEMBER_PORT. JAVA_OPTS go to each JVM
# (default -Xmx256m). Logs: .build/cluster/run-<time>/ (server-1.log … server-3.log, redis.log, redis/ data).
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=target/mcp-session-server.jar
LOG_TAG=cluster
STOP_WAIT_SECONDS=30
INSTANCES=3
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

SERVER_PIDS=()
# The instances drain together, then Redis goes (lib.sh's stop_all stops whatever else was started).
stop_cluster() {
  [ "${#STARTED_PIDS[@]}" = 0 ] || log "stopping the instances${REDIS_PID:+, then Redis}"
  stop_together "${SERVER_PIDS[@]}"
  stop_all
}
trap stop_cluster EXIT

command -v java >/dev/null 2>&1 || die "java is required"
command -v curl >/dev/null 2>&1 || die "curl is required"

RUN_DIR=.build/cluster/run-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$RUN_DIR"
log "run directory: $RUN_DIR"

build_jar_if_needed

if [ -n "${REDIS_URL:-}" ]; then
  log "using the Redis at $REDIS_URL"
else
  command -v redis-server >/dev/null 2>&1 || die "redis-server is not installed (or set REDIS_URL to a Redis you run)"
  command -v redis-cli >/dev/null 2>&1 || die "redis-cli is not installed (or set REDIS_URL to a Redis you run)"
  REDIS_PORT=$(free_port)
  mkdir -p "$RUN_DIR/redis"
  start_redis_server "$RUN_DIR/redis.log" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$PWD/$RUN_DIR/redis" \
    --save '' --appendonly no \
    || die "redis-server did not start on port $REDIS_PORT (see $RUN_DIR/redis.log)"
  REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
  log "redis-server on port $REDIS_PORT (pid $REDIS_PID)"
fi

SESSION_ENCRYPTION_KEY=${SESSION_ENCRYPTION_KEY:-$(head -c 32 /dev/urandom | base64)}
ADMIN_TOKEN=${ADMIN_TOKEN:-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')}
CLUSTER_NAME=${CLUSTER_NAME:-mcps}
# Two ports per instance, all different: HTTP and the Hazelcast member port. The event bus takes a free port itself.
mapfile -t PORTS < <(free_ports $((2 * INSTANCES)))
HTTP_PORTS=("${PORTS[@]:0:INSTANCES}")
MEMBER_PORTS=("${PORTS[@]:INSTANCES}")
CLUSTER_MEMBERS=$(printf '127.0.0.1:%s,' "${MEMBER_PORTS[@]}")
CLUSTER_MEMBERS=${CLUSTER_MEMBERS%,}

# The first forms the cluster; the others join it once it is up (started all at once, each could form a cluster of its
# own, and Hazelcast merges those only minutes later).
start_instance() {
  local i=$1
  SERVER_PORT=${HTTP_PORTS[$((i - 1))]}
  launch_server "$RUN_DIR/server-$i.log" "${JAVA_OPTS:--Xmx256m}" \
    STORE=redis REDIS_URL="$REDIS_URL" SESSION_ENCRYPTION_KEY="$SESSION_ENCRYPTION_KEY" ADMIN_TOKEN="$ADMIN_TOKEN" \
    CLUSTER=true CLUSTER_NAME="$CLUSTER_NAME" CLUSTER_HOST=127.0.0.1 CLUSTER_MEMBERS="$CLUSTER_MEMBERS" \
    CLUSTER_MEMBER_PORT="${MEMBER_PORTS[$((i - 1))]}"
  SERVER_PIDS+=("$SERVER_PID")
}

await_instance() {
  local i=$1 port=${HTTP_PORTS[$(($1 - 1))]} pid=${SERVER_PIDS[$(($1 - 1))]}
  wait_http "http://127.0.0.1:$port/health" 200 "$pid" 120 \
    || die "instance $i did not become ready on port $port (see $RUN_DIR/server-$i.log)"
  log "instance $i on http://127.0.0.1:$port (pid $pid, Hazelcast port ${MEMBER_PORTS[$((i - 1))]})"
}

start_instance 1
await_instance 1
for i in $(seq 2 "$INSTANCES"); do
  start_instance "$i"
done
for i in $(seq 2 "$INSTANCES"); do
  await_instance "$i"
done

for i in $(seq 1 "$INSTANCES"); do
  wait_members "http://127.0.0.1:${HTTP_PORTS[$((i - 1))]}/health" "$INSTANCES" "${SERVER_PIDS[$((i - 1))]}" 60 \
    || die "instance $i does not see $INSTANCES members within 60 s (see $RUN_DIR/server-$i.log)"
done

URL1=http://127.0.0.1:${HTTP_PORTS[0]}
cat <<EOF
cluster ready: $INSTANCES instances, each /health reports members=$INSTANCES
$(for i in $(seq 1 "$INSTANCES"); do echo "instance $i: http://127.0.0.1:${HTTP_PORTS[$((i - 1))]}"; done)
redis: $REDIS_URL
admin token: $ADMIN_TOKEN
logs: $RUN_DIR

Any instance serves any request, e.g. one conversation across two instances:
  curl -s $URL1/health
  curl -s $URL1/chat -H 'Content-Type: application/json' -d '{"userId":"alice","message":"hello"}'
  curl -s http://127.0.0.1:${HTTP_PORTS[1]}/chat -H 'Content-Type: application/json' -d '{"userId":"alice","message":"and again"}'
  curl -s -H 'Authorization: Bearer $ADMIN_TOKEN' http://127.0.0.1:${HTTP_PORTS[2]}/admin/sessions
A service with no HTTP, through the event bus:
  CLUSTER_NAME=$CLUSTER_NAME CLUSTER_HOST=127.0.0.1 CLUSTER_MEMBERS=$CLUSTER_MEMBERS scripts/bus-client.sh --list-sessions
  CLUSTER_NAME=$CLUSTER_NAME CLUSTER_HOST=127.0.0.1 CLUSTER_MEMBERS=$CLUSTER_MEMBERS scripts/bus-client.sh --user alice --message hello
Ctrl-C stops everything.
EOF

# Until a signal, or until an instance dies: then the others go too (a cluster of fewer is not what was asked for).
while :; do
  for i in $(seq 1 "$INSTANCES"); do
    if ! kill -0 "${SERVER_PIDS[$((i - 1))]}" 2>/dev/null; then
      die "instance $i (pid ${SERVER_PIDS[$((i - 1))]}) exited (see $RUN_DIR/server-$i.log); stopping the others"
    fi
  done
  if [ -n "${REDIS_PID:-}" ] && ! kill -0 "$REDIS_PID" 2>/dev/null; then
    die "redis-server (pid $REDIS_PID) exited (see $RUN_DIR/redis.log); stopping the instances"
  fi
  # In the background, so that a signal is handled at once rather than after the sleep.
  sleep 1 &
  wait $! || true
done
