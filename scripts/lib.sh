# Shell functions shared by the scripts (run.sh, bus-client.sh, cluster.sh, soak.sh, bench.sh); sourced, not run.
#
# The sourcing script sets, before it calls them: LOG_TAG (the prefix of log lines: soak, bench, cluster), JAR (our
# server's jar), CLASSPATH_FILE (where the test classpath is written; only for build_if_needed), STOP_WAIT_SECONDS (how
# long stop_pid waits after TERM before KILL). It runs from the repository's root.

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }

# --- processes: every one the script starts is tracked by pid and stopped on exit ---

STARTED_PIDS=()

forget_pid() {
  local pid=$1 p
  local -a keep=()
  for p in "${STARTED_PIDS[@]}"; do
    [ "$p" = "$pid" ] || keep+=("$p")
  done
  STARTED_PIDS=("${keep[@]}")
}

stop_pid() {
  local pid=$1
  # Forget it first: a pid stopped here must not be signalled again at exit, when it may belong to someone else.
  forget_pid "$pid"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((STOP_WAIT_SECONDS * 10))); do
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
  local i
  # The newest first: a server before the store and the fakes it uses.
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${STARTED_PIDS[$i]}"
  done
}

# stop_together PID...: TERM to all of them at once, then up to STOP_WAIT_SECONDS for them all to exit, then KILL to
# what is left: several servers drain in parallel instead of one after the other.
stop_together() {
  local pid alive
  local -a running=()
  for pid in "$@"; do
    forget_pid "$pid"
    if kill -0 "$pid" 2>/dev/null; then
      running+=("$pid")
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for _ in $(seq 1 $((STOP_WAIT_SECONDS * 10))); do
    alive=0
    for pid in "${running[@]}"; do
      kill -0 "$pid" 2>/dev/null && alive=1
    done
    [ "$alive" = 1 ] || break
    sleep 0.1
  done
  for pid in "${running[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers ---

# build_jar_if_needed: builds $JAR (mvn -B -q package -DskipTests, Maven's output on stderr) when it is missing or
# older than a source, a resource, a config default or the POM.
build_jar_if_needed() {
  if [ ! -f "$JAR" ] || [ -n "$(find pom.xml conf src/main -newer "$JAR" -print -quit 2>/dev/null)" ]; then
    echo "Building $JAR ..." >&2
    mvn -B -q package -DskipTests >&2
  fi
}

# A port nothing listens on. The range starts well above 6379, so a Redis someone runs there is never touched; a
# Redis the script started is already listening when the server's port is chosen, so the two never collide.
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

# free_ports N: N different free ports, one a line.
free_ports() {
  local -a ports=()
  local port
  while [ "${#ports[@]}" -lt "$1" ]; do
    port=$(free_port)
    [[ " ${ports[*]} " == *" $port "* ]] || ports+=("$port")
  done
  printf '%s\n' "${ports[@]}"
}

# poll_until PID TIMEOUT CMD...: runs CMD every 0.2 s until it succeeds (0), or the process PID dies, or TIMEOUT
# seconds pass (1).
poll_until() {
  local pid=$1 deadline=$((SECONDS + $2))
  shift 2
  while [ "$SECONDS" -lt "$deadline" ]; do
    kill -0 "$pid" 2>/dev/null || return 1
    "$@" && return 0
    sleep 0.2
  done
  return 1
}

# Polls until the URL answers with HTTP status $2 ("any" = any HTTP answer), or the process $3 dies, or $4 seconds pass.
wait_http() {
  poll_until "$3" "$4" http_status_is "$1" "$2"
}

http_status_is() {
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true)
  [ -n "$code" ] && [ "$code" != 000 ] && { [ "$2" = any ] || [ "$code" = "$2" ]; }
}

# Polls until the /health URL $1 reports $2 cluster members, or the process $3 dies, or $4 seconds pass.
wait_members() {
  poll_until "$3" "$4" health_members_are "$1" "$2"
}

health_members_are() {
  local members
  members=$(curl -s -m 2 "$1" 2>/dev/null | grep -o '"members":[0-9]*' | cut -d: -f2 || true)
  [ "$members" = "$2" ]
}

# build_if_needed DIR WHAT CLASS...: builds $JAR and the test classes (mvn -B -q package -DskipTests; package
# compiles the test sources too) and writes the test classpath to $CLASSPATH_FILE, when one of them or one of the
# test classes CLASS (paths below target/test-classes, without .class) is missing or a source is newer than the last
# build (DIR/build.stamp). Logs "building $JAR and WHAT ...". Sets TEST_CP: the test classes, the classes and the
# dependencies. Maven's output goes to stderr.
TEST_CP=
build_if_needed() {
  local dir=$1 what=$2
  shift 2
  mkdir -p "$dir"
  if needs_build "$dir/build.stamp" "$@"; then
    log "building $JAR and $what ..."
    mvn -B -q package -DskipTests >&2
    if [ ! -f "$CLASSPATH_FILE" ] || [ pom.xml -nt "$CLASSPATH_FILE" ]; then
      mvn -B -q dependency:build-classpath -Dmdep.outputFile="$CLASSPATH_FILE" >&2
    fi
    touch "$dir/build.stamp"
  fi
  TEST_CP="target/test-classes:target/classes:$(cat "$CLASSPATH_FILE")"
}

needs_build() {
  local stamp=$1 class
  shift
  [ -f "$JAR" ] && [ -f "$CLASSPATH_FILE" ] && [ -f "$stamp" ] || return 0
  for class in "$@"; do
    [ -f "target/test-classes/$class.class" ] || return 0
  done
  [ -n "$(find pom.xml conf src -newer "$stamp" -print -quit 2>/dev/null)" ]
}

# --- redis ---

REDIS_PID=
REDIS_PORT=

# start_redis_server LOG ARG...: redis-server ARG... (which listen on 127.0.0.1:$REDIS_PORT), its output appended to
# LOG; sets REDIS_PID and waits up to 30 s for a PONG. Fails when it exits or does not answer in time.
start_redis_server() {
  local log_file=$1
  shift
  # In a session of its own, so that the Ctrl-C of a terminal reaches only the script, which stops Redis last, after
  # the servers that use it (background java ignores SIGINT anyway; redis-server would not).
  setsid redis-server "$@" >>"$log_file" 2>&1 &
  REDIS_PID=$!
  STARTED_PIDS+=("$REDIS_PID")
  for _ in $(seq 1 150); do
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null || true)" = PONG ] && return 0
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.2
  done
  return 1
}

# --- our server ---

SERVER_PID=
SERVER_PORT=

# start_server LOG TIMEOUT JAVA_OPTS ENV...: our server from $JAR on 127.0.0.1:$SERVER_PORT, with the caller's
# environment plus ENV... and the JVM flags JAVA_OPTS (one string), its output in LOG; sets SERVER_PID and waits up to
# TIMEOUT seconds for GET /health to answer 200. Fails when it exits or does not get ready in time.
start_server() {
  local log_file=$1 timeout=$2 java_opts=$3
  shift 3
  launch_server "$log_file" "$java_opts" SHUTDOWN_GRACE_SECONDS=1 "$@"
  wait_http "http://127.0.0.1:$SERVER_PORT/health" 200 "$SERVER_PID" "$timeout"
}

# launch_server LOG JAVA_OPTS ENV...: as start_server, without waiting: sets SERVER_PID and returns.
launch_server() {
  local log_file=$1 java_opts=$2
  shift 2
  # shellcheck disable=SC2086 # the JVM options are a list of flags
  env HTTP_HOST=127.0.0.1 HTTP_PORT="$SERVER_PORT" "$@" java $java_opts -jar "$JAR" >"$log_file" 2>&1 &
  SERVER_PID=$!
  STARTED_PIDS+=("$SERVER_PID")
}

# --- Node and npm packages, installed into a directory of the build (.build/...) rather than the machine ---

NODE_BIN=

# install_node_packages DIR MAJOR NAME@VERSION...: Node MAJOR (the npm package node-linux-<arch>@MAJOR) and each
# package at exactly VERSION into DIR/node_modules with npm, unless an earlier install there already has them; sets
# NODE_BIN (DIR/node_modules/node-linux-<arch>/bin/node; put its directory first on PATH for the packages' bin
# scripts, which run "#!/usr/bin/env node"). Returns 2 when npm is missing or the install fails and the npm registry
# does not answer (npm ping), 1 when the install fails otherwise.
install_node_packages() {
  local dir=$1 major=$2 arch spec
  shift 2
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) log "no node-linux-* package for $(uname -m)"; return 1 ;;
  esac
  NODE_BIN=$dir/node_modules/node-linux-$arch/bin/node
  node_packages_present "$dir" "$major" "$@" && return 0
  if ! command -v npm >/dev/null 2>&1; then
    log "npm is needed to install Node $major and $* into $dir"
    return 2
  fi
  log "installing node-linux-$arch@$major $* into $dir ..."
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"name":"mcps-node-tools","private":true}' >"$dir/package.json"
  if ! npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --save-exact \
    "node-linux-$arch@$major" "$@" >&2; then
    if ! npm ping >/dev/null 2>&1; then
      log "npm install failed and the npm registry does not answer (npm ping)"
      return 2
    fi
    return 1
  fi
  node_packages_present "$dir" "$major" "$@" && return 0
  log "after npm install, $dir still lacks Node $major ($("$NODE_BIN" --version 2>/dev/null || echo none)) or one of $*"
  return 1
}

node_packages_present() {
  local dir=$1 major=$2 spec installed
  shift 2
  installed=$("$NODE_BIN" --version 2>/dev/null || true)
  [[ "$installed" == "v$major".* ]] || return 1
  for spec in "$@"; do
    installed=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$dir/node_modules/${spec%@*}/package.json" 2>/dev/null \
      | head -1 || true)
    [ "$installed" = "${spec##*@}" ] || return 1
  done
}
