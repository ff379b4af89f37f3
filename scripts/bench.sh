#!/usr/bin/env bash
# Benchmarks this server: its MCP endpoints against the official MCP reference server (Node,
# @modelcontextprotocol/server-everything) and the Quarkus MCP server (quarkiverse quarkus-mcp-server, JVM mode), and
# its POST /chat against a zero-delay fake LLM.
#
#   scripts/bench.sh          every section
#   scripts/bench.sh mcp      only the MCP section
#   scripts/bench.sh mcp-stateless   ours stateless and Streamable (memory), Quarkus Streamable, the Vert.x floor
#   scripts/bench.sh chat     only the chat section
#   scripts/bench.sh cluster  both cluster sections: two clustered instances on one Redis (also part of "all")
#   scripts/bench.sh sse-hop  legacy SSE, stream on A, POSTs on B (each POST one event-bus hop) vs. all on A
#   scripts/bench.sh streamable-cluster   Streamable MCP: initialize on A, calls on B vs. all on A
#
# MCP section: for each of our server with STORE=memory, our server with STORE=redis (on a redis-server of its own)
# and the Node reference, and for each transport (Streamable HTTP, legacy SSE; ours also "stateless": the MCP
# 2026-07-28 era on POST /mcp, no initialize, no session, each request naming its user in X-User-Id), a fresh server
# on a free loopback port is loaded by src/test/java/dev/mcps/bench/McpLoadClient: BENCH_SESSIONS sessions (32; for
# stateless, virtual users), each with one tools/call outstanding, a warm-up, then BENCH_SECONDS measured (15). Then
# the Quarkus reference (BENCH_QUARKUS_DIR, default shared/peers/quarkus-mcp beside the repository or its main
# checkout), started once through its own run.sh from a copy in .build/bench/quarkus-mcp (Maven builds it there), is
# loaded the same way on Streamable HTTP and legacy SSE (its echo tool), and on stateless when it serves 2026-07-28
# (else its row says NOT_SERVED). A side-by-side table follows: vs_node and vs_quarkus are our calls/s over theirs on
# the same transport (our stateless row over their Streamable one). BENCH_MCP_STORES, BENCH_MCP_TRANSPORTS and
# BENCH_MCP_REFERENCES (default: memory redis / streamable sse stateless / node quarkus) pick a subset.
# BENCH_SERVER_ENV="K=V ..." adds settings to our servers (e.g. AUDIT_LOG=off). A run whose
# server stopped under it (something outside the bench stopped it) is made again. The warm-up lasts at least
# BENCH_WARMUP seconds (10), then goes on until the rate has settled (three 3 s probes within 5% of one another and of
# the best so far), at most BENCH_WARMUP_MAX seconds (120): on a slow machine a JVM server is still compiling a minute after start, and a
# fixed few seconds would measure its JIT rather than the server. The warm-up each run took is in its RESULT line.
#
# Chat section: for each store (memory, then redis on a redis-server of its own) and each of BENCH_CHAT_WORKERS
# ("workers loops": WORKER_VERTICLES=true, then false; side by side in the table; BENCH_CHAT_STORES picks the
# stores), a fresh zero-delay fake of the
# Anthropic Messages API (src/test/java/dev/mcps/bench/ZeroDelayAnthropic: every turn is model -> notes_get -> model)
# and a fresh server pointed at it (ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY, CHAT_DEFAULT_MODEL=anthropic) are loaded by
# src/test/java/dev/mcps/bench/ChatLoadClient: BENCH_CHAT_USERS users (64), each with at most one turn outstanding,
# each starting over under a new user id after BENCH_CHAT_TURNS_PER_USER turns (20; 0 = histories grow all run long).
# First in the closed loop (each user's next turn as soon as the last is answered; same warm-up and window): the most
# turns a second. Then, on the same warm server, in the open loop at BENCH_CHAT_RATE_MEMORY / BENCH_CHAT_RATE_REDIS
# turns a second (2000 / 1000; 0 = no such run): the latency at that load. The table gives turns/s, turn latency, and the latency our server added: turn latency
# minus two provider calls at the fake's measured mean service time (it reports it on GET /stats).
#
# Other settings: BENCH_CLIENT_JAVA_OPTS (JVM of the load client), BENCH_SERVER_JAVA_OPTS (JVM of our server),
# BENCH_EVERYTHING_VERSION and BENCH_NODE_VERSION (the reference and the Node it runs on), BENCH_QUARKUS_JAVA_OPTS
# (JVM of the Quarkus reference; default BENCH_SERVER_JAVA_OPTS), BENCH_EVENT_LOOPS (1),
# BENCH_QUIET_PCT / BENCH_QUIET_WAIT (before each run, wait until other work uses under 25% of a core, up to 120 s),
# BENCH_NOISE_PCT / BENCH_ATTEMPTS (a run during which other work took over 25% of a core is made again, up to 3
# attempts in all, and the quietest one is reported).
# The exit status is 1 when a run failed (its reason is in the table), e.g. /chat answering 503
# Provider_Not_Configured while the server has no Anthropic provider.
# Our server inherits the caller's environment (LOG_LEVEL, HTTP_INSTANCES… apply); the script sets the listen address,
# the store and a short shutdown grace. Logs and raw RESULT lines land in .build/bench/run-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=.build/bench
JAR=target/mcp-session-server.jar
CLASSPATH_FILE=$BENCH_DIR/classpath.txt
# The mains the sections run from the test classes; a build without one of them is stale.
BENCH_CLASSES=(dev/mcps/bench/McpLoadClient dev/mcps/bench/ChatLoadClient dev/mcps/bench/ZeroDelayAnthropic
  dev/mcps/bench/BareVertxFloor)
LOG_TAG=bench
STOP_WAIT_SECONDS=5
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

SESSIONS=${BENCH_SESSIONS:-32}
CHAT_USERS=${BENCH_CHAT_USERS:-64}
CHAT_TURNS_PER_USER=${BENCH_CHAT_TURNS_PER_USER:-20}
# The open-loop chat runs' offered turns a second (0 = no open-loop run): the issue's throughput targets, so that the
# latency is read at the load the server must carry.
CHAT_RATE_MEMORY=${BENCH_CHAT_RATE_MEMORY:-2000}
CHAT_RATE_REDIS=${BENCH_CHAT_RATE_REDIS:-1000}
# What the fake provider demands as x-api-key and our server is given as ANTHROPIC_API_KEY: a mismatch is a 401.
FAKE_API_KEY=bench-key
MEASURE_SECONDS=${BENCH_SECONDS:-15}
WARMUP_SECONDS=${BENCH_WARMUP:-10}
WARMUP_MAX_SECONDS=${BENCH_WARMUP_MAX:-120}
EVENT_LOOPS=${BENCH_EVENT_LOOPS:-1}
NOISE_PCT=${BENCH_NOISE_PCT:-25}
ATTEMPTS=${BENCH_ATTEMPTS:-3}
# The versions measured when this harness was written; pinned so that two runs compare the same reference.
EVERYTHING_VERSION=${BENCH_EVERYTHING_VERSION:-2026.8.31}
NODE_VERSION=${BENCH_NODE_VERSION:-22}
# Serial GC: the client allocates little, and parallel GC threads would take CPU from the server on a small machine.
CLIENT_JAVA_OPTS=${BENCH_CLIENT_JAVA_OPTS:--XX:+UseSerialGC -Xms64m -Xmx256m}
SERVER_JAVA_OPTS=${BENCH_SERVER_JAVA_OPTS:-}
# The same JVM flags as ours unless told otherwise, so that neither server gets a heap or collector the other lacks.
QUARKUS_JAVA_OPTS=${BENCH_QUARKUS_JAVA_OPTS:-$SERVER_JAVA_OPTS}
# How long the Quarkus reference may take to answer after its run.sh starts (a first build fetches from Maven Central).
QUARKUS_START_SECONDS=${BENCH_QUARKUS_START_SECONDS:-600}

RUN_DIR=$BENCH_DIR/run-$(date +%Y%m%d-%H%M%S)
# Each section's raw rows; set by the section.
RESULTS=
FAILED_RUNS=0

# The processes of the current run, stopped by stop_run: SERVER_PID, REDIS_PID (lib.sh) and the fake provider.
PROVIDER_PID=
PROVIDER_PORT=
# The load client's --cpu-pid for the run's redis-server, if any.
STORE_CPU=()
# Why the last start_* failed.
FAILURE=

# Stops what the current run started (the server first, so that it does not outlive its store or provider).
stop_run() {
  local pid
  for pid in "$SERVER_PID" "$REDIS_PID" "$PROVIDER_PID"; do
    if [ -n "$pid" ]; then
      stop_pid "$pid"
    fi
  done
  SERVER_PID=''
  REDIS_PID=''
  PROVIDER_PID=''
  STORE_CPU=()
}

# --- helpers ---

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

# The JVM of the load clients and the fake provider: CLIENT_JAVA_OPTS and the test classpath. An array, so that a
# process started with "${BENCH_JAVA[@]}" ... & is the JVM itself and $! its pid.
BENCH_JAVA=()

build_bench() {
  build_if_needed "$BENCH_DIR" "the load client" "${BENCH_CLASSES[@]}"
  local -a opts
  read -r -a opts <<<"$CLIENT_JAVA_OPTS"
  BENCH_JAVA=(java "${opts[@]}" -cp "$TEST_CP")
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

# Runs load client $2 (McpLoadClient, ChatLoadClient) for run $1 with the common window settings and "${@:3}"; prints
# its RESULT line, or "FAILED <reason>" (the client's own fatal message when it has one).
run_client() {
  local name=$1 class=$2
  shift 2
  local out=$RUN_DIR/$name.client.out err=$RUN_DIR/$name.client.err
  if "${BENCH_JAVA[@]}" "dev.mcps.bench.$class" --warmup="$WARMUP_SECONDS" --warmup-max="$WARMUP_MAX_SECONDS" \
    --duration="$MEASURE_SECONDS" \
    --event-loops="$EVENT_LOOPS" "$@" >"$out" 2>"$err"; then
    sed 's/^/[client] /' "$err" >&2
    grep '^RESULT ' "$out" | tail -1
  else
    sed 's/^/[client] /' "$err" >&2
    local reason
    reason=$(sed -n 's/^[a-z-]*: FATAL: //p' "$err" | head -1)
    echo "FAILED ${reason:-the load client exited with an error (see $err)}"
  fi
}

# A redis-server of its own for run $1, on a free port, saving nothing; sets REDIS_PID and REDIS_PORT, or FAILURE.
start_redis() {
  local name=$1
  command -v redis-server >/dev/null 2>&1 || { FAILURE="redis-server is not installed"; return 1; }
  REDIS_PORT=$(free_port)
  mkdir -p "$RUN_DIR/$name.redis"
  start_redis_server "$RUN_DIR/$name.redis.log" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$RUN_DIR/$name.redis" --daemonize no && return 0
  FAILURE="redis-server on port $REDIS_PORT did not start (see $RUN_DIR/$name.redis.log)"
  return 1
}

# Our server, fresh, for run $1 with store $2 (memory|redis; redis on a redis-server of its own) and the extra
# environment "${@:3}"; sets SERVER_PID, SERVER_PORT and STORE_CPU once it answers /health, or FAILURE.
start_ours() {
  local name=$1 store=$2
  shift 2
  local -a env_vars=("$@")
  [ -f "$JAR" ] || { FAILURE="$JAR is missing"; return 1; }
  if [ "$store" = redis ]; then
    start_redis "$name" || return 1
    STORE_CPU=(--cpu-pid="redis:$REDIS_PID")
    env_vars+=(STORE=redis "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
      "SESSION_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)")
  else
    env_vars+=(STORE=memory)
  fi
  # BENCH_SERVER_ENV: extra settings for our servers, e.g. "AUDIT_LOG=off" to weigh the audit trail's cost.
  local extra
  for extra in ${BENCH_SERVER_ENV:-}; do
    env_vars+=("$extra")
  done
  SERVER_PORT=$(free_port)
  log "our server ($store store) on port $SERVER_PORT for $name ..."
  start_server "$RUN_DIR/$name.server.log" 60 "$SERVER_JAVA_OPTS" "${env_vars[@]}" && return 0
  FAILURE="our server did not become ready on /health (see $RUN_DIR/$name.server.log)"
  return 1
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

# CPU that none of the run's processes (client, server, redis, fake provider) used during the window: other work on
# the machine, and the kernel.
other_pct() {
  awk -v m="$(field cpu_machine_pct "$1")" -v s="$(field cpu_server_pct "$1")" -v r="$(field cpu_redis_pct "$1")" \
    -v c="$(field cpu_client_pct "$1")" -v p="$(field cpu_provider_pct "$1")" \
    'BEGIN { o = m - s - r - c - p; if (o < 0) o = 0; printf "%.0f", o }'
}

# Runs "$@" (which sets ROW) again while other work on the machine took more than BENCH_NOISE_PCT of a core during
# its window, up to BENCH_ATTEMPTS times, and keeps the quietest run: on a shared machine a neighbour's build can
# take half the CPU from a server, and that is not the server's throughput.
measure() {
  local best='' best_other='' other attempt
  for attempt in $(seq 1 "$ATTEMPTS"); do
    ROW=
    "$@"
    if [[ "$ROW" == *" FAILED $SERVER_GONE"* ]] && [ "$attempt" -lt "$ATTEMPTS" ]; then
      log "the server stopped during that run (not by this script); measuring again"
      continue
    fi
    if [[ "$ROW" != *" RESULT "* ]]; then
      # A failure is not noise: report it, unless an earlier attempt measured something. A reference that does not
      # serve a transport (NOT_SERVED) is a fact to show, not a failure.
      if [ -z "$best" ]; then
        best=$ROW
        [[ "$ROW" == *" NOT_SERVED "* ]] || FAILED_RUNS=$((FAILED_RUNS + 1))
      fi
      break
    fi
    # A run may add rows after its first (the chat section's open-loop run); the first one's window decides.
    other=$(other_pct "${ROW%%$'\n'*}")
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

# The stores, transports and references the MCP section runs (BENCH_MCP_STORES, BENCH_MCP_TRANSPORTS,
# BENCH_MCP_REFERENCES): all by default; a subset to measure one row again.
MCP_STORES=${BENCH_MCP_STORES:-memory redis}
MCP_TRANSPORTS=${BENCH_MCP_TRANSPORTS:-streamable sse stateless}
MCP_REFERENCES=${BENCH_MCP_REFERENCES:-node quarkus}

# What a client's RESULT line $2 is worth when the server $1 may have died under it: a server that is gone after the
# run (something outside the bench stopped it: its log says when) measured nothing, whatever the client counted.
# measure() makes such a run again, as it does a noisy one.
SERVER_GONE="the server stopped during the run"
unless_server_gone() {
  if [[ "$2" == RESULT* ]] && ! kill -0 "$1" 2>/dev/null; then
    echo "FAILED $SERVER_GONE (see its log in $RUN_DIR)"
  else
    echo "$2"
  fi
}

# Our server, fresh for each run. $1 = memory|redis, $2 = streamable|sse|stateless (each stateless virtual user sends
# X-User-Id: bench-N on every request, which picks the user session that serves it).
bench_ours() {
  local store=$1 transport=$2 name="ours-$1-$2" path result
  wait_for_quiet
  if start_ours "$name" "$store"; then
    if [ "$transport" = sse ]; then path=/mcp/sse; else path=/mcp; fi
    result=$(run_client "$name" McpLoadClient --sessions="$SESSIONS" --transport="$transport" \
      --url="http://127.0.0.1:$SERVER_PORT" --path="$path" --tool=notes_get --args='{}' --user-header=X-User-Id \
      --cpu-pid="server:$SERVER_PID" "${STORE_CPU[@]}")
    row ours "$store" "$transport" "$(unless_server_gone "$SERVER_PID" "$result")"
  else
    row ours "$store" "$transport" "FAILED $FAILURE"
  fi
  stop_run
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
    result=$(run_client "$name" McpLoadClient --sessions="$SESSIONS" --transport="$transport" \
      --url="http://127.0.0.1:$port" --path="$path" --tool=echo --args='{"message":"hi"}' --cpu-pid="server:$server_pid")
    row node - "$transport" "$(unless_server_gone "$server_pid" "$result")"
  fi
  stop_pid "$server_pid"
  return 0
}

# The floor (BareVertxFloor): a bare Vert.x server that decodes each POST and answers a tools/call result of our
# shape, nothing more; loaded as ours is, stateless. No MCP server on this machine can go faster, so its ratio over
# Quarkus bounds the ratios ours can reach here.
bench_floor() {
  local name=floor-stateless port server_pid result
  wait_for_quiet
  port=$(free_port)
  log "bare Vert.x floor on port $port ..."
  # shellcheck disable=SC2086 # the JVM options are a list of flags; the same as our server's
  java $SERVER_JAVA_OPTS -cp "$TEST_CP" dev.mcps.bench.BareVertxFloor --port="$port" >"$RUN_DIR/$name.server.log" 2>&1 &
  server_pid=$!
  STARTED_PIDS+=("$server_pid")
  if ! wait_http "http://127.0.0.1:$port/" any "$server_pid" 30; then
    row floor - stateless "FAILED the floor server did not start (see $RUN_DIR/$name.server.log)"
  else
    result=$(run_client "$name" McpLoadClient --sessions="$SESSIONS" --transport=stateless \
      --url="http://127.0.0.1:$port" --path=/mcp --tool=notes_get --args='{}' --user-header=X-User-Id \
      --cpu-pid="server:$server_pid")
    row floor - stateless "$(unless_server_gone "$server_pid" "$result")"
  fi
  stop_pid "$server_pid"
  return 0
}

# --- the Quarkus reference: started once per section, loaded on each transport it serves ---

QUARKUS_PID=
QUARKUS_PORT=
# Why the Quarkus reference is not running, for its rows.
QUARKUS_FAILURE=

# The peer's folder (pom.xml, src, run.sh): BENCH_QUARKUS_DIR, or shared/peers/quarkus-mcp beside the repository, or
# beside the main checkout when this is a linked worktree.
quarkus_dir() {
  local common candidate
  if [ -n "${BENCH_QUARKUS_DIR:-}" ]; then
    candidate=$BENCH_QUARKUS_DIR
  else
    candidate=../shared/peers/quarkus-mcp
    if [ ! -d "$candidate" ]; then
      common=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
      [ -n "$common" ] && candidate=$(dirname "$common")/../shared/peers/quarkus-mcp
    fi
  fi
  [ -f "$candidate/run.sh" ] || return 1
  (cd "$candidate" && pwd)
}

# Starts the Quarkus reference through its own run.sh, from a copy in our git-ignored .build/bench/quarkus-mcp: run.sh
# builds in place when its folder is writable (Maven, JVM mode) and its "read-only" test passes for root whatever the
# mode bits say, so it would write target/ into the shared folder; the copy keeps the files' times, so its run.sh
# rebuilds only when the peer's sources change. run.sh ends in exec java, so its pid is the server's. Sets QUARKUS_PID
# and QUARKUS_PORT once GET /mcp answers, or QUARKUS_FAILURE.
start_quarkus() {
  local dir copy=$BENCH_DIR/quarkus-mcp
  if ! dir=$(quarkus_dir); then
    QUARKUS_FAILURE="no Quarkus reference (set BENCH_QUARKUS_DIR to the folder of its run.sh)"
    return 1
  fi
  command -v mvn >/dev/null 2>&1 || { QUARKUS_FAILURE="mvn is needed to build the Quarkus reference"; return 1; }
  mkdir -p "$copy"
  rm -rf "$copy/src" "$copy/pom.xml" "$copy/run.sh"
  cp -Rp "$dir/pom.xml" "$dir/src" "$dir/run.sh" "$copy/"
  chmod -R u+w "$copy"
  QUARKUS_PORT=$(free_port)
  log "Quarkus reference (a copy of $dir) on port $QUARKUS_PORT; its run.sh builds it when needed ..."
  PORT=$QUARKUS_PORT JAVA_OPTS=$QUARKUS_JAVA_OPTS bash "$copy/run.sh" >"$RUN_DIR/quarkus.server.log" 2>&1 &
  QUARKUS_PID=$!
  STARTED_PIDS+=("$QUARKUS_PID")
  # No health route: any HTTP answer on /mcp (a 405 to a GET) means it listens.
  wait_http "http://127.0.0.1:$QUARKUS_PORT/mcp" any "$QUARKUS_PID" "$QUARKUS_START_SECONDS" && return 0
  QUARKUS_FAILURE="the Quarkus reference did not start (see $RUN_DIR/quarkus.server.log)"
  stop_quarkus
  return 1
}

stop_quarkus() {
  [ -n "$QUARKUS_PID" ] && stop_pid "$QUARKUS_PID"
  QUARKUS_PID=''
}

# The running Quarkus reference on transport $1 (streamable|sse|stateless), its echo tool; each run warms up as ours
# do. Stateless: a server that answers the first 2026-07-28 request with an HTTP error does not serve that era, and
# its row says so (NOT_SERVED) rather than failing the bench.
bench_quarkus() {
  local transport=$1 name="quarkus-$1" path result
  if [ -z "$QUARKUS_PID" ]; then
    row quarkus - "$transport" "FAILED $QUARKUS_FAILURE"
    return 0
  fi
  if [ "$transport" = sse ]; then path=/mcp/sse; else path=/mcp; fi
  wait_for_quiet
  result=$(run_client "$name" McpLoadClient --sessions="$SESSIONS" --transport="$transport" \
    --url="http://127.0.0.1:$QUARKUS_PORT" --path="$path" --tool=echo --args='{"message":"hi"}' \
    --cpu-pid="server:$QUARKUS_PID")
  if [ "$transport" = stateless ] && [[ "$result" == "FAILED "*"(stateless tools/call, "*") answered HTTP "* ]]; then
    result="NOT_SERVED ${result#FAILED }"
  fi
  result=$(unless_server_gone "$QUARKUS_PID" "$result")
  if [[ "$result" == "FAILED $SERVER_GONE"* ]]; then
    # Started once for the section: the next runs need it again.
    stop_quarkus
    start_quarkus || true
  fi
  row quarkus - "$transport" "$result"
  return 0
}

# Our calls/s over a reference's: "1.23x", or "-".
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2fx", a / b; else print "-" }'
}

print_mcp_table() {
  local server store transport rest node_tp tp p50 p99 errors cpu_s cpu_r cpu_c other vs_tp vs_q ref
  declare -A node_throughput=() quarkus_throughput=() quarkus_p50s=() quarkus_p99s=() ours_rows=()
  while read -r server store transport rest; do
    [[ "$rest" == RESULT* ]] || continue
    case "$server" in
      node) node_throughput[$transport]=$(field throughput "$rest") ;;
      quarkus)
        quarkus_throughput[$transport]=$(field throughput "$rest")
        quarkus_p50s[$transport]=$(field p50_ms "$rest")
        quarkus_p99s[$transport]=$(field p99_ms "$rest")
        ;;
      ours) ours_rows[$store/$transport]=$rest ;;
    esac
  done <"$RESULTS"

  echo
  echo "MCP tools/call: $SESSIONS sessions (stateless: virtual users), one call outstanding each; ${WARMUP_SECONDS}-${WARMUP_MAX_SECONDS}s warm-up until the rate settles, ${MEASURE_SECONDS}s measured"
  echo "(ours: notes_get {}, Node and Quarkus references: echo {\"message\":\"hi\"}; CPU in % of one core over the measured window)"
  printf '%-8s %-6s %-10s %10s %9s %9s %7s %11s %8s %8s %8s %8s %10s\n' \
    server store transport calls/s p50_ms p99_ms errors "server_cpu%" "client%" "other%" "warmup_s" "vs_node" \
    "vs_quarkus"
  while read -r server store transport rest; do
    if [[ "$rest" != RESULT* ]]; then
      printf '%-8s %-6s %-10s %s\n' "$server" "$store" "$transport" "$rest"
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
    vs_q=-
    if [ "$server" = ours ] || [ "$server" = floor ]; then
      node_tp=${node_throughput[$transport]:-}
      [ -n "$node_tp" ] && vs_tp=$(ratio "$tp" "$node_tp")
      # Stateless is weighed against their Streamable HTTP: the same endpoint, with sessions.
      ref=$transport
      [ "$ref" = stateless ] && ref=streamable
      [ -n "${quarkus_throughput[$ref]:-}" ] && vs_q=$(ratio "$tp" "${quarkus_throughput[$ref]}")
    fi
    printf '%-8s %-6s %-10s %10s %9s %9s %7s %11s %8s %8s %8s %8s %10s\n' \
      "$server" "$store" "$transport" "$tp" "$p50" "$p99" "$errors" "$cpu_s" "$cpu_c" "$other" \
      "$(field warmup_s "$rest")" "$vs_tp" "$vs_q"
  done <"$RESULTS"
  echo
  echo "vs_node, vs_quarkus: our calls/s divided by the reference's on the same transport; our stateless row is divided"
  echo "by the reference's Streamable HTTP. server_cpu% of a Redis run is server+redis. warmup_s: how long that run"
  echo "warmed up before its rate settled. floor: a bare Vert.x JSON-RPC echo (BareVertxFloor), the most any server"
  echo "built on Vert.x can do here. Raw RESULT lines and logs: $RUN_DIR"
  local key
  for key in memory/stateless memory/streamable redis/stateless redis/streamable memory/sse redis/sse; do
    rest=${ours_rows[$key]:-}
    [ -n "$rest" ] || continue
    store=${key%/*}
    transport=${key#*/}
    ref=$transport
    [ "$ref" = stateless ] && ref=streamable
    [ -n "${quarkus_throughput[$ref]:-}" ] || continue
    echo "  ours $transport ($store): $(ratio "$(field throughput "$rest")" "${quarkus_throughput[$ref]}") Quarkus $ref's" \
      "calls/s; p50 $(field p50_ms "$rest") ms vs ${quarkus_p50s[$ref]}, p99 $(field p99_ms "$rest") ms vs ${quarkus_p99s[$ref]}"
  done
  for store in memory redis; do
    [ -n "${ours_rows[$store/stateless]:-}" ] && [ -n "${ours_rows[$store/streamable]:-}" ] || continue
    echo "  ours stateless vs ours Streamable ($store):" \
      "$(ratio "$(field throughput "${ours_rows[$store/stateless]}")" "$(field throughput "${ours_rows[$store/streamable]}")")" \
      "the calls/s; p99 $(field p99_ms "${ours_rows[$store/stateless]}") ms vs $(field p99_ms "${ours_rows[$store/streamable]}")"
  done
}

section_mcp() {
  build_bench
  [[ " $MCP_REFERENCES " == *" node "* ]] && install_node_reference
  mkdir -p "$RUN_DIR"
  RESULTS=$RUN_DIR/mcp-results.txt
  : >"$RESULTS"
  local store transport
  for store in $MCP_STORES; do
    for transport in $MCP_TRANSPORTS; do
      measure bench_ours "$store" "$transport"
    done
  done
  if [[ " $MCP_REFERENCES " == *" node "* ]]; then
    for transport in $MCP_TRANSPORTS; do
      # The Node reference has no stateless era.
      [ "$transport" = stateless ] || measure bench_node "$transport"
    done
  fi
  if [[ " $MCP_REFERENCES " == *" quarkus "* ]]; then
    start_quarkus || true
    for transport in $MCP_TRANSPORTS; do
      measure bench_quarkus "$transport"
    done
    stop_quarkus
  fi
  print_mcp_table | tee "$RUN_DIR/mcp-table.txt"
}

# Section mcp-stateless: the runs that weigh the stateless era, in one run of the script: ours stateless and ours
# Streamable on the memory store, the Quarkus reference on Streamable HTTP (and on stateless if it serves it), and the
# bare Vert.x floor.
section_mcp_stateless() {
  build_bench
  mkdir -p "$RUN_DIR"
  RESULTS=$RUN_DIR/mcp-stateless-results.txt
  : >"$RESULTS"
  measure bench_ours memory stateless
  measure bench_ours memory streamable
  start_quarkus || true
  measure bench_quarkus streamable
  measure bench_quarkus stateless
  stop_quarkus
  measure bench_floor
  print_mcp_table | tee "$RUN_DIR/mcp-stateless-table.txt"
}

# --- chat section ---

# The zero-delay fake Anthropic API for run $1, on a free port; sets PROVIDER_PID and PROVIDER_PORT, or FAILURE.
start_fake_provider() {
  local name=$1
  PROVIDER_PORT=$(free_port)
  "${BENCH_JAVA[@]}" dev.mcps.bench.ZeroDelayAnthropic --port="$PROVIDER_PORT" --api-key="$FAKE_API_KEY" \
    >"$RUN_DIR/$name.provider.log" 2>&1 &
  PROVIDER_PID=$!
  STARTED_PIDS+=("$PROVIDER_PID")
  wait_http "http://127.0.0.1:$PROVIDER_PORT/stats" 200 "$PROVIDER_PID" 30 && return 0
  FAILURE="the fake provider did not start (see $RUN_DIR/$name.provider.log)"
  return 1
}

# A fresh fake provider and a fresh server on store $1 pointed at it, with the provider loops and Jira tools in
# worker verticles or not ($2: workers|loops = WORKER_VERTICLES=true|false), loaded by the chat client: first in the
# closed loop (the most turns a second), then, on the same warmed-up server, in the open loop at the store's offered
# rate (what a turn costs at that load). The open-loop row follows the closed one in ROW.
bench_chat() {
  local store=$1 mode=$2 name="chat-$1-$2" result rate workers=true
  local -a common
  [ "$mode" = loops ] && workers=false
  wait_for_quiet
  if start_fake_provider "$name" && start_ours "$name" "$store" CHAT_DEFAULT_MODEL=anthropic \
    "ANTHROPIC_BASE_URL=http://127.0.0.1:$PROVIDER_PORT" "ANTHROPIC_API_KEY=$FAKE_API_KEY" \
    "WORKER_VERTICLES=$workers"; then
    common=(--users="$CHAT_USERS" --turns-per-user="$CHAT_TURNS_PER_USER" --store="$store"
      --url="http://127.0.0.1:$SERVER_PORT" --provider-stats="http://127.0.0.1:$PROVIDER_PORT/stats"
      --cpu-pid="server:$SERVER_PID" "${STORE_CPU[@]}" --cpu-pid="provider:$PROVIDER_PID")
    result=$(run_client "$name" ChatLoadClient "${common[@]}")
    row "$mode" "$store" closed "$result"
    if [ "$store" = redis ]; then rate=$CHAT_RATE_REDIS; else rate=$CHAT_RATE_MEMORY; fi
    if [[ "$result" == RESULT* ]] && [ "$rate" != 0 ]; then
      # The open-loop client warms up as a closed loop (until its rate settles: the new client JVM compiles too),
      # and its schedule starts with the window. New user ids: no session reuse.
      result=$(run_client "$name-open" ChatLoadClient "${common[@]}" --rate="$rate" --user-prefix=bench-open)
      ROW="$ROW"$'\n'"$mode $store $rate/s $result"
    fi
  else
    row "$mode" "$store" closed "FAILED $FAILURE"
  fi
  stop_run
  return 0
}

print_chat_table() {
  local server store transport rest cpu_s cpu_r
  local per_user="a new user every $CHAT_TURNS_PER_USER turns"
  [ "$CHAT_TURNS_PER_USER" = 0 ] && per_user="histories growing all run long"
  echo
  echo "POST /chat turns: $CHAT_USERS users, at most one turn outstanding each, $per_user; ${MEASURE_SECONDS}s measured."
  echo "Zero-delay fake Anthropic API: every turn is model -> notes_get -> model. load 'closed': each user's next turn"
  echo "as soon as the last is answered (${WARMUP_SECONDS}-${WARMUP_MAX_SECONDS}s warm-up until the rate settles): the most turns a second,"
  echo "with latency that is mostly queueing (users / throughput). load 'N/s': then, on the same warm server, the users"
  echo "offer N turns a second in all on a fixed schedule (open loop; a late turn is timed from when it was due)."
  echo "(srv_*: latency our server added = turn latency - 2 x the fake's mean service time, provider_ms;"
  echo " CPU in % of one core over the measured window)"
  printf '%-7s %-8s %-8s %9s %8s %8s %8s %8s %12s %7s %11s %10s %8s %7s\n' \
    store workers load turns/s p50_ms p99_ms srv_p50 srv_p99 provider_ms errors "server_cpu%" "provider%" "client%" \
    "other%"
  while read -r mode store transport rest; do
    if [[ "$rest" != RESULT* ]]; then
      printf '%-7s %-8s %-8s %s\n' "$store" "$mode" "$transport" "$rest"
      continue
    fi
    cpu_s=$(field cpu_server_pct "$rest")
    cpu_r=$(field cpu_redis_pct "$rest")
    [ -n "$cpu_r" ] && cpu_s="$cpu_s+$cpu_r"
    printf '%-7s %-8s %-8s %9s %8s %8s %8s %8s %12s %7s %11s %10s %8s %7s\n' "$store" "$mode" "$transport" \
      "$(field throughput "$rest")" "$(field p50_ms "$rest")" "$(field p99_ms "$rest")" \
      "$(field server_p50_ms "$rest")" "$(field server_p99_ms "$rest")" "$(field provider_ms "$rest")" \
      "$(field errors "$rest")" "$cpu_s" "$(field cpu_provider_pct "$rest")" "$(field cpu_client_pct "$rest")" \
      "$(other_pct "$rest")"
  done <"$RESULTS"
  echo
  echo "workers: 'workers' = WORKER_VERTICLES=true (provider loops and Jira tools in worker verticles, the default),"
  echo "'loops' = WORKER_VERTICLES=false (all on event loops); the two run one after the other on each store."
  echo "Targets for context (2 cores, load client included): >= 2,000 turns/s memory, >= 1,000 redis, srv_p50 <= 5 ms;"
  echo "with workers, closed-loop turns/s within 10% of loops, and srv_p50 <= 5 ms at 2,000/s on memory."
  echo "server_cpu% of a Redis run is server+redis. Raw RESULT lines and logs: $RUN_DIR"
}

section_chat() {
  build_bench
  mkdir -p "$RUN_DIR"
  RESULTS=$RUN_DIR/chat-results.txt
  : >"$RESULTS"
  local store mode
  for store in ${BENCH_CHAT_STORES:-memory redis}; do
    for mode in ${BENCH_CHAT_WORKERS:-workers loops}; do
      measure bench_chat "$store" "$mode"
    done
  done
  print_chat_table | tee "$RUN_DIR/chat-table.txt"
}

# --- legacy SSE cluster hop section ---

# Two clustered instances (CLUSTER=true, Hazelcast TCP-IP on 127.0.0.1 free ports) on one redis-server of their own.
# Every stream is opened on A; run "local" POSTs to A, run "forwarded" POSTs to B, so each POST takes the event-bus
# hop to A (its 202 waits for A's verdict). Both runs on the same warm pair, each with the client's usual warm-up;
# BENCH_HOP_SESSIONS sessions (4: few, so that latency is service time rather than queueing).
HOP_SESSIONS=${BENCH_HOP_SESSIONS:-4}
HOP_PIDS=()

stop_hop_pair() {
  local pid
  for pid in "${HOP_PIDS[@]}"; do
    stop_pid "$pid"
  done
  HOP_PIDS=()
  SERVER_PID=''
  stop_run
}

# Starts instances A and B; sets HOP_PORT_A, HOP_PORT_B, HOP_PID_A, HOP_PID_B, or FAILURE.
start_hop_pair() {
  local name=$1 member_a member_b key cluster_name
  [ -f "$JAR" ] || { FAILURE="$JAR is missing"; return 1; }
  start_redis "$name" || return 1
  member_a=$(free_port)
  member_b=$(free_port)
  while [ "$member_b" = "$member_a" ]; do member_b=$(free_port); done
  key=$(head -c 32 /dev/urandom | base64)
  cluster_name="bench-$$-$RANDOM"
  local -a common=(STORE=redis "REDIS_URL=redis://127.0.0.1:$REDIS_PORT" "SESSION_ENCRYPTION_KEY=$key" CLUSTER=true
    "CLUSTER_NAME=$cluster_name" CLUSTER_HOST=127.0.0.1 "CLUSTER_MEMBERS=127.0.0.1:$member_a,127.0.0.1:$member_b")
  local which member
  for which in a b; do
    if [ "$which" = a ]; then member=$member_a; else member=$member_b; fi
    SERVER_PORT=$(free_port)
    while [ "$SERVER_PORT" = "$member_a" ] || [ "$SERVER_PORT" = "$member_b" ]; do SERVER_PORT=$(free_port); done
    log "clustered instance $which on port $SERVER_PORT (member port $member) for $name ..."
    if ! start_server "$RUN_DIR/$name.server-$which.log" 90 "$SERVER_JAVA_OPTS" "${common[@]}" \
      "CLUSTER_MEMBER_PORT=$member"; then
      HOP_PIDS+=("$SERVER_PID")
      FAILURE="instance $which did not become ready on /health (see $RUN_DIR/$name.server-$which.log)"
      return 1
    fi
    HOP_PIDS+=("$SERVER_PID")
    if [ "$which" = a ]; then HOP_PORT_A=$SERVER_PORT HOP_PID_A=$SERVER_PID; else HOP_PORT_B=$SERVER_PORT HOP_PID_B=$SERVER_PID; fi
  done
  SERVER_PID=''
}

print_hop_table() {
  local run rest local_p50='' local_p99=''
  echo
  echo "Legacy SSE across two clustered instances (one Redis): every stream on A; 'local' POSTs to A, 'forwarded'"
  echo "POSTs to B (one event-bus hop to A per POST). $HOP_SESSIONS sessions, one notes_get outstanding each;"
  echo "${WARMUP_SECONDS}-${WARMUP_MAX_SECONDS}s warm-up until the rate settles, ${MEASURE_SECONDS}s measured. CPU in % of one core."
  printf '%-10s %10s %9s %9s %7s %8s %8s %8s %10s %10s\n' run calls/s p50_ms p99_ms errors "A_cpu%" "B_cpu%" \
    "redis%" added_p50 added_p99
  while read -r run rest; do
    if [[ "$rest" != RESULT* ]]; then
      printf '%-10s %s\n' "$run" "$rest"
      continue
    fi
    local added_p50=- added_p99=-
    if [ "$run" = local ]; then
      local_p50=$(field p50_ms "$rest")
      local_p99=$(field p99_ms "$rest")
    elif [ -n "$local_p50" ]; then
      added_p50=$(awk -v a="$(field p50_ms "$rest")" -v b="$local_p50" 'BEGIN { printf "%.3f", a - b }')
      added_p99=$(awk -v a="$(field p99_ms "$rest")" -v b="$local_p99" 'BEGIN { printf "%.3f", a - b }')
    fi
    printf '%-10s %10s %9s %9s %7s %8s %8s %8s %10s %10s\n' "$run" "$(field throughput "$rest")" \
      "$(field p50_ms "$rest")" "$(field p99_ms "$rest")" "$(field errors "$rest")" "$(field cpu_server_pct "$rest")" \
      "$(field cpu_peer_pct "$rest")" "$(field cpu_redis_pct "$rest")" "$added_p50" "$added_p99"
  done <"$RESULTS"
  echo
  echo "added_*: forwarded minus local (goal: added_p50 <= 2 ms). Raw RESULT lines and logs: $RUN_DIR"
}

section_sse_hop() {
  build_bench
  mkdir -p "$RUN_DIR"
  RESULTS=$RUN_DIR/sse-hop-results.txt
  : >"$RESULTS"
  local name=sse-hop run result
  wait_for_quiet
  if start_hop_pair "$name"; then
    for run in local forwarded; do
      local -a target=()
      [ "$run" = forwarded ] && target=(--message-url="http://127.0.0.1:$HOP_PORT_B")
      result=$(run_client "$name-$run" McpLoadClient --sessions="$HOP_SESSIONS" --transport=sse \
        --url="http://127.0.0.1:$HOP_PORT_A" --path=/mcp/sse --tool=notes_get --args='{}' --user-header=X-User-Id \
        --user-prefix="bench-$run" "${target[@]}" --cpu-pid="server:$HOP_PID_A" --cpu-pid="peer:$HOP_PID_B" \
        --cpu-pid="redis:$REDIS_PID")
      echo "$run $result" >>"$RESULTS"
      [[ "$result" == RESULT* ]] || FAILED_RUNS=$((FAILED_RUNS + 1))
    done
  else
    echo "local FAILED $FAILURE" >>"$RESULTS"
    FAILED_RUNS=$((FAILED_RUNS + 1))
  fi
  stop_hop_pair
  print_hop_table | tee "$RUN_DIR/sse-hop-table.txt"
}

# --- Streamable MCP served by another instance (section "streamable-cluster") ---
# Two clustered instances (CLUSTER=true, Hazelcast TCP-IP on 127.0.0.1) on one redis-server of their own. The same
# load runs twice on that warm pair: every call on the instance that took initialize, then (new sessions) initialize
# on A and every later POST on B, which rebuilds the session from Redis on its first request and serves it from then
# on. The table gives the latency that costs: "other" minus "same".

bench_streamable_cluster() {
  local name=streamable-cluster result
  local -a common
  wait_for_quiet
  if start_hop_pair "$name"; then
    common=(--sessions="$HOP_SESSIONS" --transport=streamable --url="http://127.0.0.1:$HOP_PORT_A" --path=/mcp
      --tool=notes_get --args='{}' --user-header=X-User-Id --cpu-pid="server:$HOP_PID_A"
      --cpu-pid="serverb:$HOP_PID_B" --cpu-pid="redis:$REDIS_PID")
    result=$(run_client "$name-same" McpLoadClient "${common[@]}" --user-prefix=bench-same)
    ROW="ours redis same $result"
    result=$(run_client "$name-other" McpLoadClient "${common[@]}" --user-prefix=bench-other \
      --call-url="http://127.0.0.1:$HOP_PORT_B")
    ROW="$ROW"$'\n'"ours redis other $result"
  else
    row ours redis same "FAILED $FAILURE"
  fi
  stop_hop_pair
  return 0
}

print_streamable_cluster_table() {
  local server store where rest same_p50='' same_p99=''
  echo
  echo "Streamable MCP tools/call (notes_get) on two clustered instances, STORE=redis: $HOP_SESSIONS sessions, one call"
  echo "outstanding each. same: every call on the instance that took initialize; other: initialize on A, calls on B."
  printf '%-6s %10s %9s %9s %7s %12s %12s\n' where calls/s p50_ms p99_ms errors added_p50 added_p99
  while read -r server store where rest; do
    if [[ "$rest" != RESULT* ]]; then
      printf '%-6s %s\n' "$where" "$rest"
      continue
    fi
    local p50 p99 add50=- add99=-
    p50=$(field p50_ms "$rest")
    p99=$(field p99_ms "$rest")
    if [ "$where" = same ]; then
      same_p50=$p50
      same_p99=$p99
    elif [ -n "$same_p50" ]; then
      add50=$(awk -v a="$p50" -v b="$same_p50" 'BEGIN { printf "%+.3f", a - b }')
      add99=$(awk -v a="$p99" -v b="$same_p99" 'BEGIN { printf "%+.3f", a - b }')
    fi
    printf '%-6s %10s %9s %9s %7s %12s %12s\n' "$where" "$(field throughput "$rest")" "$p50" "$p99" \
      "$(field errors "$rest")" "$add50" "$add99"
  done <"$RESULTS"
  echo
  echo "Goal: added_p50 <= 2 ms. Raw RESULT lines and logs: $RUN_DIR"
}

section_streamable_cluster() {
  build_bench
  mkdir -p "$RUN_DIR"
  RESULTS=$RUN_DIR/streamable-cluster-results.txt
  : >"$RESULTS"
  measure bench_streamable_cluster
  print_streamable_cluster_table | tee "$RUN_DIR/streamable-cluster-table.txt"
}

usage() {
  echo "usage: scripts/bench.sh [all|mcp|mcp-stateless|chat|cluster|sse-hop|streamable-cluster]" >&2
  exit 2
}

case "${1:-all}" in
  all)
    section_mcp
    section_chat
    section_sse_hop
    section_streamable_cluster
    ;;
  cluster)
    section_sse_hop
    section_streamable_cluster
    ;;
  mcp) section_mcp ;;
  mcp-stateless) section_mcp_stateless ;;
  chat) section_chat ;;
  sse-hop) section_sse_hop ;;
  streamable-cluster) section_streamable_cluster ;;
  -h | --help) usage ;;
  *) usage ;;
esac

if [ "$FAILED_RUNS" -gt 0 ]; then
  die "$FAILED_RUNS run(s) failed; the tables above say why"
fi
