#!/usr/bin/env bash
# Benchmarks this server against the official MCP reference server (Node, @modelcontextprotocol/server-everything).
#
#   scripts/bench.sh          every section
#   scripts/bench.sh mcp      only the MCP section
#
# MCP section: for each of our server with STORE=memory, our server with STORE=redis (on a redis-server of its own)
# and the Node reference, and for each transport (Streamable HTTP, legacy SSE), a fresh server on a free loopback port
# is loaded by src/test/java/dev/mcps/bench/McpLoadClient: BENCH_SESSIONS sessions (32), each with one tools/call
# outstanding, BENCH_WARMUP seconds of warm-up (5), then BENCH_SECONDS measured (15). A side-by-side table follows.
#
# Other settings: BENCH_CLIENT_JAVA_OPTS (JVM of the load client), BENCH_SERVER_JAVA_OPTS (JVM of our server),
# BENCH_EVERYTHING_VERSION and BENCH_NODE_VERSION (the reference and the Node it runs on), BENCH_EVENT_LOOPS (1),
# BENCH_QUIET_PCT / BENCH_QUIET_WAIT (before each run, wait until other work uses under 25% of a core, up to 120 s),
# BENCH_NOISE_PCT / BENCH_ATTEMPTS (a run during which other work took over 25% of a core is made again, up to 3
# attempts in all, and the quietest one is reported).
# Our server inherits the caller's environment (LOG_LEVEL, HTTP_INSTANCES… apply); the script sets the listen address,
# the store and a short shutdown grace. Logs and raw RESULT lines land in .build/bench/run-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=.build/bench
JAR=target/mcp-session-server.jar
CLASSPATH_FILE=$BENCH_DIR/classpath.txt
CLIENT_CLASS=target/test-classes/dev/mcps/bench/McpLoadClient.class

SESSIONS=${BENCH_SESSIONS:-32}
MEASURE_SECONDS=${BENCH_SECONDS:-15}
WARMUP_SECONDS=${BENCH_WARMUP:-5}
EVENT_LOOPS=${BENCH_EVENT_LOOPS:-1}
NOISE_PCT=${BENCH_NOISE_PCT:-25}
ATTEMPTS=${BENCH_ATTEMPTS:-3}
# The versions measured when this harness was written; pinned so that two runs compare the same reference.
EVERYTHING_VERSION=${BENCH_EVERYTHING_VERSION:-2026.8.31}
NODE_VERSION=${BENCH_NODE_VERSION:-22}
# Serial GC: the client allocates little, and parallel GC threads would take CPU from the server on a small machine.
CLIENT_JAVA_OPTS=${BENCH_CLIENT_JAVA_OPTS:--XX:+UseSerialGC -Xms64m -Xmx256m}
SERVER_JAVA_OPTS=${BENCH_SERVER_JAVA_OPTS:-}

RUN_DIR=$BENCH_DIR/run-$(date +%Y%m%d-%H%M%S)
RESULTS=$RUN_DIR/results.txt

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

# --- processes: every one this script starts is tracked by pid and stopped on exit ---

STARTED_PIDS=()

stop_pid() {
  local pid=$1 p
  local -a keep=()
  # Forget it first: a pid stopped here must not be signalled again at exit, when it may belong to someone else.
  for p in "${STARTED_PIDS[@]}"; do
    [ "$p" = "$pid" ] || keep+=("$p")
  done
  STARTED_PIDS=("${keep[@]}")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    stop_pid "$pid"
  done
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers ---

# A port nothing listens on. The range starts well above 6379, so a Redis someone runs there is never touched; a
# Redis this script started is already listening when the server's port is chosen, so the two never collide.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}

# Polls until the URL answers with HTTP status $2 ("any" = any HTTP answer), or the process $3 dies, or $4 seconds pass.
wait_http() {
  local url=$1 want=$2 pid=$3 code deadline=$((SECONDS + $4))
  while [ "$SECONDS" -lt "$deadline" ]; do
    kill -0 "$pid" 2>/dev/null || return 1
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null || true)
    if [ -n "$code" ] && [ "$code" != 000 ] && { [ "$want" = any ] || [ "$code" = "$want" ]; }; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# Busy CPU of the whole machine over one second, in % of one core (USER_HZ is 100 ticks a second on Linux).
machine_busy_pct() {
  local before after
  # user nice system irq softirq steal; idle and iowait are not work.
  before=$(awk '/^cpu /{ print $2+$3+$4+$7+$8+$9; exit }' /proc/stat)
  sleep 1
  after=$(awk '/^cpu /{ print $2+$3+$4+$7+$8+$9; exit }' /proc/stat)
  echo $((after - before))
}

# On a shared machine a build or test run next door halves what a server gets; wait for a quiet moment (up to
# BENCH_QUIET_WAIT seconds, 120) before each run. The other% column shows what ran meanwhile anyway.
wait_for_quiet() {
  local limit=${BENCH_QUIET_PCT:-25} max_wait=${BENCH_QUIET_WAIT:-120} waited=0 busy
  [ -r /proc/stat ] || return 0
  while busy=$(machine_busy_pct) && [ "$busy" -gt "$limit" ]; do
    [ "$waited" -eq 0 ] && log "the machine is busy (${busy}% of a core); waiting up to ${max_wait}s for it to settle ..."
    waited=$((waited + 1))
    if [ "$waited" -ge "$max_wait" ]; then
      log "still busy (${busy}% of a core): measuring anyway"
      return 0
    fi
  done
}

needs_build() {
  [ -f "$JAR" ] && [ -f "$CLASSPATH_FILE" ] && [ -f "$CLIENT_CLASS" ] && [ -f "$BENCH_DIR/build.stamp" ] || return 0
  [ -n "$(find pom.xml conf src -newer "$BENCH_DIR/build.stamp" -print -quit 2>/dev/null)" ]
}

build_if_needed() {
  mkdir -p "$BENCH_DIR"
  if needs_build; then
    log "building $JAR and the load client ..."
    mvn -B -q package -DskipTests
    mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile="$CLASSPATH_FILE"
    touch "$BENCH_DIR/build.stamp"
  fi
}

NODE_BIN=
EVERYTHING_JS=

# The reference and a Node 22 binary (it needs 22; the system one may be older) go into the git-ignored .build/bench.
install_node_reference() {
  local arch installed_node installed_ref
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no node-linux-* package for $(uname -m)" ;;
  esac
  NODE_BIN=$BENCH_DIR/node_modules/node-linux-$arch/bin/node
  EVERYTHING_JS=$BENCH_DIR/node_modules/@modelcontextprotocol/server-everything/dist/index.js
  installed_node=$("$NODE_BIN" --version 2>/dev/null || true)
  installed_ref=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
    "$BENCH_DIR/node_modules/@modelcontextprotocol/server-everything/package.json" 2>/dev/null | head -1 || true)
  if [[ "$installed_node" == "v$NODE_VERSION".* || "$installed_node" == "v$NODE_VERSION" ]] \
    && [ "$installed_ref" = "$EVERYTHING_VERSION" ] && [ -f "$EVERYTHING_JS" ]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || die "npm is needed to install the Node reference server"
  log "installing @modelcontextprotocol/server-everything@$EVERYTHING_VERSION and node-linux-$arch@$NODE_VERSION into $BENCH_DIR ..."
  [ -f "$BENCH_DIR/package.json" ] || echo '{"name":"mcps-bench-reference","private":true}' > "$BENCH_DIR/package.json"
  npm install --prefix "$BENCH_DIR" --no-audit --no-fund --loglevel=error \
    "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" "node-linux-$arch@$NODE_VERSION" >&2
  installed_node=$("$NODE_BIN" --version 2>/dev/null || true)
  [[ "$installed_node" == "v$NODE_VERSION".* || "$installed_node" == "v$NODE_VERSION" ]] \
    || die "$NODE_BIN is '$installed_node', expected Node $NODE_VERSION"
  [ -f "$EVERYTHING_JS" ] || die "$EVERYTHING_JS is missing after npm install"
}

# Runs the load client; prints its RESULT line, or "FAILED <reason>" (the client's own fatal message when it has one).
run_client() {
  local name=$1
  shift
  local out=$RUN_DIR/$name.client.out err=$RUN_DIR/$name.client.err
  # shellcheck disable=SC2086 # CLIENT_JAVA_OPTS is a list of JVM flags
  if java $CLIENT_JAVA_OPTS -cp "target/test-classes:target/classes:$(cat "$CLASSPATH_FILE")" \
    dev.mcps.bench.McpLoadClient --sessions="$SESSIONS" --warmup="$WARMUP_SECONDS" --duration="$MEASURE_SECONDS" \
    --event-loops="$EVENT_LOOPS" "$@" >"$out" 2>"$err"; then
    sed 's/^/[client] /' "$err" >&2
    grep '^RESULT ' "$out" | tail -1
  else
    sed 's/^/[client] /' "$err" >&2
    local reason
    reason=$(sed -n 's/^mcp-load: FATAL: //p' "$err" | head -1)
    echo "FAILED ${reason:-the load client exited with an error (see $err)}"
  fi
}

# A run's outcome, in ROW: "server store transport" then the RESULT line or "FAILED <reason>". A global rather than
# output, because a run in $(...) would start its servers in a subshell, out of reach of the EXIT trap.
ROW=
row() {
  ROW="$1 $2 $3 $4"
}

field() { # field KEY LINE
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"
}

# CPU that neither the client nor the servers used during the window: other work on the machine, and the kernel.
other_pct() {
  awk -v m="$(field cpu_machine_pct "$1")" -v s="$(field cpu_server_pct "$1")" -v r="$(field cpu_redis_pct "$1")" \
    -v c="$(field cpu_client_pct "$1")" 'BEGIN { o = m - s - r - c; if (o < 0) o = 0; printf "%.0f", o }'
}

# Runs "$@" (which sets ROW) again while other work on the machine took more than BENCH_NOISE_PCT of a core during
# its window, up to BENCH_ATTEMPTS times, and keeps the quietest run: on a shared machine a neighbour's build can
# take half the CPU from a server, and that is not the server's throughput.
measure() {
  local best='' best_other='' other attempt
  for attempt in $(seq 1 "$ATTEMPTS"); do
    ROW=
    "$@"
    if [[ "$ROW" != *" RESULT "* ]]; then
      # A failure is not noise: report it, unless an earlier attempt measured something.
      [ -z "$best" ] && best=$ROW
      break
    fi
    other=$(other_pct "$ROW")
    if [ -z "$best" ] || [ "$other" -lt "$best_other" ]; then
      best=$ROW
      best_other=$other
    fi
    [ "$other" -le "$NOISE_PCT" ] && break
    [ "$attempt" -lt "$ATTEMPTS" ] && log "other work took ${other}% of a core during that run; measuring again"
  done
  echo "$best" >>"$RESULTS"
}

# --- MCP section ---

# Our server, fresh for each run. $1 = memory|redis, $2 = streamable|sse.
bench_ours() {
  local store=$1 transport=$2 name="ours-$1-$2" port redis_port redis_pid server_pid path result
  local -a env_vars=(HTTP_HOST=127.0.0.1 SHUTDOWN_GRACE_SECONDS=1)
  local -a cpu=()
  if [ ! -f "$JAR" ]; then
    row ours "$store" "$transport" "FAILED $JAR is missing"
    return 0
  fi
  wait_for_quiet
  if [ "$store" = redis ]; then
    command -v redis-server >/dev/null 2>&1 || { row ours redis "$transport" "FAILED redis-server is not installed"; return 0; }
    redis_port=$(free_port)
    mkdir -p "$RUN_DIR/$name.redis"
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$RUN_DIR/$name.redis" \
      --daemonize no >"$RUN_DIR/$name.redis.log" 2>&1 &
    redis_pid=$!
    STARTED_PIDS+=("$redis_pid")
    local ready=
    for _ in $(seq 1 50); do
      if [ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null || true)" = PONG ]; then ready=1; break; fi
      sleep 0.1
    done
    if [ -z "$ready" ]; then
      row ours redis "$transport" "FAILED redis-server on port $redis_port did not start (see $RUN_DIR/$name.redis.log)"
      stop_pid "$redis_pid"
      return 0
    fi
    cpu+=(--cpu-pid="redis:$redis_pid")
    env_vars+=(STORE=redis "REDIS_URL=redis://127.0.0.1:$redis_port"
      "SESSION_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)")
  else
    env_vars+=(STORE=memory)
  fi
  port=$(free_port)
  log "our server ($store store) on port $port, $transport ..."
  # shellcheck disable=SC2086 # SERVER_JAVA_OPTS is a list of JVM flags
  env "${env_vars[@]}" HTTP_PORT="$port" java $SERVER_JAVA_OPTS -jar "$JAR" >"$RUN_DIR/$name.server.log" 2>&1 &
  server_pid=$!
  STARTED_PIDS+=("$server_pid")
  if ! wait_http "http://127.0.0.1:$port/health" 200 "$server_pid" 60; then
    row ours "$store" "$transport" "FAILED our server did not become ready on /health (see $RUN_DIR/$name.server.log)"
  else
    if [ "$transport" = streamable ]; then path=/mcp; else path=/mcp/sse; fi
    result=$(run_client "$name" --transport="$transport" --url="http://127.0.0.1:$port" --path="$path" \
      --tool=notes_get --args='{}' --user-header=X-User-Id --cpu-pid="server:$server_pid" "${cpu[@]}")
    row ours "$store" "$transport" "$result"
  fi
  stop_pid "$server_pid"
  [ -n "${redis_pid:-}" ] && stop_pid "$redis_pid"
  return 0
}

# The Node reference, fresh for each run. $1 = streamable|sse.
bench_node() {
  local transport=$1 name="node-$1" port server_pid mode path result
  if [ "$transport" = streamable ]; then mode=streamableHttp path=/mcp; else mode=sse path=/sse; fi
  wait_for_quiet
  port=$(free_port)
  log "Node reference on port $port, $transport ..."
  PORT=$port "$NODE_BIN" "$EVERYTHING_JS" "$mode" >"$RUN_DIR/$name.server.log" 2>&1 &
  server_pid=$!
  STARTED_PIDS+=("$server_pid")
  # It has no health route: any HTTP answer (a 400 or 404 to a bare GET) means it listens.
  if ! wait_http "http://127.0.0.1:$port/" any "$server_pid" 30; then
    row node - "$transport" "FAILED the Node reference did not start (see $RUN_DIR/$name.server.log)"
  else
    result=$(run_client "$name" --transport="$transport" --url="http://127.0.0.1:$port" --path="$path" \
      --tool=echo --args='{"message":"hi"}' --cpu-pid="server:$server_pid")
    row node - "$transport" "$result"
  fi
  stop_pid "$server_pid"
  return 0
}

print_mcp_table() {
  local server store transport rest node_tp node_p50 tp p50 p99 errors cpu_s cpu_r cpu_c other vs_tp vs_p50
  declare -A node_throughput=() node_p50s=()
  while read -r server store transport rest; do
    if [ "$server" = node ] && [[ "$rest" == RESULT* ]]; then
      node_throughput[$transport]=$(field throughput "$rest")
      node_p50s[$transport]=$(field p50_ms "$rest")
    fi
  done <"$RESULTS"

  echo
  echo "MCP tools/call: $SESSIONS sessions, one call outstanding each; ${WARMUP_SECONDS}s warm-up, ${MEASURE_SECONDS}s measured"
  echo "(ours: notes_get {}, Node reference: echo {\"message\":\"hi\"}; CPU in % of one core over the measured window)"
  printf '%-6s %-6s %-10s %10s %9s %9s %7s %11s %8s %8s %8s\n' \
    server store transport calls/s p50_ms p99_ms errors "server_cpu%" "client%" "other%" "vs_node"
  while read -r server store transport rest; do
    if [[ "$rest" != RESULT* ]]; then
      printf '%-6s %-6s %-10s %s\n' "$server" "$store" "$transport" "$rest"
      continue
    fi
    tp=$(field throughput "$rest")
    p50=$(field p50_ms "$rest")
    p99=$(field p99_ms "$rest")
    errors=$(field errors "$rest")
    cpu_s=$(field cpu_server_pct "$rest")
    cpu_r=$(field cpu_redis_pct "$rest")
    cpu_c=$(field cpu_client_pct "$rest")
    other=$(other_pct "$rest")
    [ -n "$cpu_r" ] && cpu_s="$cpu_s+$cpu_r"
    vs_tp=-
    node_tp=${node_throughput[$transport]:-}
    if [ "$server" != node ] && [ -n "$node_tp" ]; then
      vs_tp=$(awk -v a="$tp" -v b="$node_tp" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
    fi
    printf '%-6s %-6s %-10s %10s %9s %9s %7s %11s %8s %8s %8s\n' \
      "$server" "$store" "$transport" "$tp" "$p50" "$p99" "$errors" "$cpu_s" "$cpu_c" "$other" "$vs_tp"
  done <"$RESULTS"
  echo
  echo "vs_node: our calls/s divided by the Node reference's on the same transport. server_cpu% of a Redis run is"
  echo "server+redis. Raw RESULT lines and logs: $RUN_DIR"
  for transport in streamable sse; do
    node_p50=${node_p50s[$transport]:-}
    [ -n "$node_p50" ] || continue
    while read -r server store t rest; do
      if [ "$server" != ours ] || [ "$t" != "$transport" ] || [[ "$rest" != RESULT* ]]; then
        continue
      fi
      vs_p50=$(awk -v a="$(field p50_ms "$rest")" -v b="$node_p50" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
      echo "  $transport, ours ($store): p50 latency is ${vs_p50}x the Node reference's"
    done <"$RESULTS"
  done
}

section_mcp() {
  build_if_needed
  install_node_reference
  mkdir -p "$RUN_DIR"
  : >"$RESULTS"
  local store transport
  for store in memory redis; do
    for transport in streamable sse; do
      measure bench_ours "$store" "$transport"
    done
  done
  for transport in streamable sse; do
    measure bench_node "$transport"
  done
  print_mcp_table | tee "$RUN_DIR/mcp-table.txt"
}

usage() {
  echo "usage: scripts/bench.sh [all|mcp]" >&2
  exit 2
}

case "${1:-all}" in
  all) section_mcp ;;
  mcp) section_mcp ;;
  -h | --help) usage ;;
  *) usage ;;
esac
