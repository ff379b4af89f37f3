#!/usr/bin/env bash
# Soak test: many users for a long time against a Redis that is restarted halfway, with fake upstreams that tell
# whose credentials and data went where. Outside the unit suite.
#
#   scripts/soak.sh                                   200 users, 600 s
#   SOAK_SECONDS=30 SOAK_USERS=20 scripts/soak.sh     a quick check
#
# It starts, each on a free loopback port and each stopped on exit:
#   - a redis-server of its own, with persistence (appendonly, and SHUTDOWN SAVE at the restart);
#   - the fakes (src/test/java/dev/mcps/soak/SoakFakes): an Anthropic Messages API that plays the model (a tool_use
#     for the tool the turn's text asks for, then an answer quoting the tool result) and a Jira REST v3 that accepts
#     only the soak users' Basic credentials and counts a leak when a request for one user (the project of its issue
#     key or JQL) carries another user's credentials;
#   - our server, target/mcp-session-server.jar (built with mvn -B -q package -DskipTests when missing or older than
#     the sources), with STORE=redis, pointed at the fakes;
#   - the driver (src/test/java/dev/mcps/soak/SoakDriver): the users' /chat turns and MCP tool calls on Streamable
#     HTTP and legacy SSE, the retries, the heap readings (jcmd GC.run, then GET /health) and the final checks.
# Halfway through the driver asks for the Redis restart; this script does it (SHUTDOWN SAVE, then the same
# redis-server again on the same port and directory) and tells the driver when Redis answers again.
#
# Stdout gets exactly one line:   soak: turns=N mcp_calls=N errors=N leaks=N lost=N heap_growth_pct=N
# Exit status 0 when leaks=0, lost=0, heap_growth_pct<=20 and the run itself worked; 1 otherwise.
#
# Settings: SOAK_USERS (200), SOAK_SECONDS (600), SOAK_THINK_MS (500: a user's pause between two actions, +-50%),
# SOAK_TURNS_PER_SESSION (20: a user starts a new chat session after that many answered turns), SOAK_MAX_ATTEMPTS
# (10: tries of one request, with exponential backoff), SOAK_TIMEOUT_MS (30000: one request's deadline),
# SOAK_WARMUP_PCT (10: the first heap reading is taken then, or once every user has had a turn answered if that is
# later, at the latest 40% into the run), SOAK_SERVER_JAVA_OPTS (-Xms64m -Xmx512m),
# SOAK_CLIENT_JAVA_OPTS (the driver's JVM: -XX:+UseSerialGC -Xms64m -Xmx384m), SOAK_SEED (the users' random choices).
# Our server inherits the caller's environment (LOG_LEVEL, HTTP_INSTANCES… apply); the script sets the listen
# address, the store and Redis, the fakes, JIRA_ALLOWED_HOSTS=127.0.0.1 with JIRA_ALLOW_HTTP=true, and raises
# HISTORY_MAX_MESSAGES, HISTORY_MAX_BYTES and SESSION_MAX so that no cap trims or evicts what the check looks for.
# Logs: .build/soak/run-<time>/ (server.log, redis.log, fakes.log, driver.err).
set -euo pipefail
cd "$(dirname "$0")/.."

SOAK_DIR=.build/soak
JAR=target/mcp-session-server.jar
CLASSPATH_FILE=$SOAK_DIR/classpath.txt
SOAK_CLASSES=(dev/mcps/soak/SoakDriver dev/mcps/soak/SoakFakes)
LOG_TAG=soak
STOP_WAIT_SECONDS=10
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

USERS=${SOAK_USERS:-200}
DURATION=${SOAK_SECONDS:-600}
THINK_MS=${SOAK_THINK_MS:-500}
TURNS_PER_SESSION=${SOAK_TURNS_PER_SESSION:-20}
MAX_ATTEMPTS=${SOAK_MAX_ATTEMPTS:-10}
TIMEOUT_MS=${SOAK_TIMEOUT_MS:-30000}
WARMUP_PCT=${SOAK_WARMUP_PCT:-10}
SERVER_JAVA_OPTS=${SOAK_SERVER_JAVA_OPTS:--Xms64m -Xmx512m}
CLIENT_JAVA_OPTS=${SOAK_CLIENT_JAVA_OPTS:--XX:+UseSerialGC -Xms64m -Xmx384m}
FAKES_JAVA_OPTS="-XX:+UseSerialGC -Xms32m -Xmx128m"
SEED=${SOAK_SEED:-$RANDOM$RANDOM}
API_KEY=soak-key
KEY_PREFIX=${REDIS_KEY_PREFIX:-mcps:}

RUN_DIR=$SOAK_DIR/run-$(date +%Y%m%d-%H%M%S)

for v in USERS DURATION THINK_MS TURNS_PER_SESSION MAX_ATTEMPTS TIMEOUT_MS WARMUP_PCT SEED; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
[ "$USERS" -ge 1 ] && [ "$DURATION" -ge 1 ] || die "SOAK_USERS and SOAK_SECONDS must be at least 1"
[ "$WARMUP_PCT" -ge 1 ] && [ "$WARMUP_PCT" -le 40 ] || die "SOAK_WARMUP_PCT must be within 1..40 (before the restart)"

# --- redis ---

REDIS_ARGS=()

start_redis() {
  start_redis_server "$RUN_DIR/redis.log" "${REDIS_ARGS[@]}"
}

redis_keys() {
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" dbsize 2>/dev/null || echo '?'
}

# Stops Redis with its data saved (SHUTDOWN SAVE: the RDB is written, the AOF fsynced) and starts it again on the
# same port and directory, so it reloads what it had.
restart_redis() {
  local before after pid=$REDIS_PID
  before=$(redis_keys)
  log "restarting Redis on port $REDIS_PORT ($before keys) ..."
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown save >/dev/null 2>&1 || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "Redis did not stop within 30 s of SHUTDOWN SAVE; killing it"
  fi
  stop_pid "$pid"
  start_redis || die "redis-server did not start again on port $REDIS_PORT (see $RUN_DIR/redis.log)"
  after=$(redis_keys)
  log "Redis is back on port $REDIS_PORT with $after keys (it had $before)"
}

# --- main ---

command -v redis-server >/dev/null 2>&1 || die "redis-server is not installed"
command -v redis-cli >/dev/null 2>&1 || die "redis-cli is not installed"
command -v jcmd >/dev/null 2>&1 || die "jcmd (from the JDK) is needed to run a full GC of the server"
build_if_needed "$SOAK_DIR" "the soak driver (mvn -B -q package -DskipTests)" "${SOAK_CLASSES[@]}"
mkdir -p "$RUN_DIR/redis"
log "run directory: $RUN_DIR"

SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
RUN_ID=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')

REDIS_PORT=$(free_port)
REDIS_ARGS=(--port "$REDIS_PORT" --bind 127.0.0.1 --dir "$PWD/$RUN_DIR/redis" --appendonly yes
  --appendfsync everysec --save "" --daemonize no)
start_redis || die "redis-server did not start on port $REDIS_PORT (see $RUN_DIR/redis.log)"
log "redis-server on port $REDIS_PORT (appendonly)"

# shellcheck disable=SC2086 # the JVM options are a list of flags
java $FAKES_JAVA_OPTS -cp "$TEST_CP" dev.mcps.soak.SoakFakes --secret="$SECRET" --api-key="$API_KEY" \
  --ports-file="$RUN_DIR/fakes.ports" >"$RUN_DIR/fakes.log" 2>&1 &
FAKES_PID=$!
STARTED_PIDS+=("$FAKES_PID")
for _ in $(seq 1 300); do
  [ -f "$RUN_DIR/fakes.ports" ] && break
  kill -0 "$FAKES_PID" 2>/dev/null || die "the fakes did not start (see $RUN_DIR/fakes.log)"
  sleep 0.2
done
[ -f "$RUN_DIR/fakes.ports" ] || die "the fakes did not start within 60 s (see $RUN_DIR/fakes.log)"
PROVIDER_PORT=$(sed -n 's/^provider=//p' "$RUN_DIR/fakes.ports")
JIRA_PORT=$(sed -n 's/^jira=//p' "$RUN_DIR/fakes.ports")
log "fake provider on port $PROVIDER_PORT, fake Jira on port $JIRA_PORT"

SERVER_PORT=$(free_port)
start_server "$RUN_DIR/server.log" 120 "$SERVER_JAVA_OPTS" \
  STORE=redis REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" REDIS_KEY_PREFIX="$KEY_PREFIX" \
  SESSION_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)" \
  CHAT_DEFAULT_MODEL=anthropic ANTHROPIC_BASE_URL="http://127.0.0.1:$PROVIDER_PORT" ANTHROPIC_API_KEY="$API_KEY" \
  JIRA_ALLOWED_HOSTS=127.0.0.1 JIRA_ALLOW_HTTP=true \
  HISTORY_MAX_MESSAGES=100000 HISTORY_MAX_BYTES=1073741824 SESSION_MAX=1000000 \
  || die "our server did not become ready on /health (see $RUN_DIR/server.log)"
log "our server (pid $SERVER_PID, $SERVER_JAVA_OPTS) on port $SERVER_PORT"

SIGNAL=$RUN_DIR/restart.request
DONE=$RUN_DIR/restart.done
# shellcheck disable=SC2086 # the JVM options are a list of flags
java $CLIENT_JAVA_OPTS -cp "$TEST_CP" dev.mcps.soak.SoakDriver \
  --url="http://127.0.0.1:$SERVER_PORT" --users="$USERS" --seconds="$DURATION" --think-ms="$THINK_MS" \
  --turns-per-session="$TURNS_PER_SESSION" --max-attempts="$MAX_ATTEMPTS" --timeout-ms="$TIMEOUT_MS" \
  --warmup-pct="$WARMUP_PCT" --secret="$SECRET" --run-id="$RUN_ID" --seed="$SEED" \
  --jira-url="http://127.0.0.1:$JIRA_PORT" --jira-stats="http://127.0.0.1:$JIRA_PORT/_soak/stats" \
  --provider-stats="http://127.0.0.1:$PROVIDER_PORT/_soak/stats" \
  --redis-url="redis://127.0.0.1:$REDIS_PORT/0" --key-prefix="$KEY_PREFIX" --server-pid="$SERVER_PID" \
  --restart-signal="$SIGNAL" --restart-done="$DONE" --dump-dir="$RUN_DIR" \
  >"$RUN_DIR/driver.out" 2> >(tee "$RUN_DIR/driver.err" >&2) &
DRIVER_PID=$!
STARTED_PIDS+=("$DRIVER_PID")

# While the driver runs: restart Redis once when it asks. Bounded by the driver's own deadline and this one.
RESTARTED=no
deadline=$((SECONDS + DURATION + 1200))
while kill -0 "$DRIVER_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
  if [ "$RESTARTED" = no ] && [ -f "$SIGNAL" ]; then
    restart_redis
    : >"$DONE"
    RESTARTED=yes
  fi
  sleep 0.2
done
DRIVER_STATUS=1
if kill -0 "$DRIVER_PID" 2>/dev/null; then
  log "the driver did not finish in time; stopping it"
  stop_pid "$DRIVER_PID"
else
  set +e
  wait "$DRIVER_PID"
  DRIVER_STATUS=$?
  set -e
  forget_pid "$DRIVER_PID"
fi
kill -0 "$SERVER_PID" 2>/dev/null || log "our server is no longer running (see $RUN_DIR/server.log)"
LINE=$(grep '^soak: ' "$RUN_DIR/driver.out" | tail -1 || true)
[ -n "$LINE" ] || die "the driver printed no result line (see $RUN_DIR/driver.err)"
echo "$LINE"
log "logs: $RUN_DIR"
field() { sed -n "s/.* $1=\([-0-9]*\).*/\1/p" <<<" $LINE"; }
# The driver's verdict (leaks=0, lost=0, heap_growth_pct<=20, and a run that worked), checked again from the line.
if [ "$DRIVER_STATUS" -ne 0 ] || [ "$(field leaks)" != 0 ] || [ "$(field lost)" != 0 ] \
  || [ "$(field heap_growth_pct)" -gt 20 ]; then
  exit 1
fi
exit 0
