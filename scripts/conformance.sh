#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned) against our server, once per
# spec revision's requirement set: 2026-07-28 (the stateless era: no initialize, per-request _meta and the
# MCP-Protocol-Version / Mcp-Method / Mcp-Name headers) and 2025-11-25 (the session era: initialize and
# Mcp-Session-Id). A requirement set is what conforming to that revision requires, each scenario run at the
# revision's own wire; only its scored scenarios decide the exit status (extensions and scenarios added after the
# release run and are reported, but cannot fail it).
#
#   scripts/conformance.sh
#
# The suite and the Node 22 it runs on are installed into .build/conformance (npm; an earlier install is reused). The
# jar is built when missing or stale; our server is started on a free loopback port with STORE=memory and
# MCP_CONFORMANCE_TOOLS=true (the suite's fixture tools, prompts and resources) and stopped on exit.
#
# Settings: CONFORMANCE_REQUIREMENTS (the revisions, "2026-07-28 2025-11-25"), CONFORMANCE_URL (the /mcp URL of a
# server already running, e.g. http://127.0.0.1:8080/mcp: nothing is built or started), CONFORMANCE_TIMEOUT_MS (per
# scenario, the suite's default 30000).
# Known failures: when conformance-baseline-<revision>.yml or else conformance-baseline.yml exists at the repository's
# root, it is passed as --expected-failures (the suite's format: a "server:" list of scenarios or
# scenario:check-id); a listed scenario that passes is then a failure too (a stale entry). There is none: add one only
# for a scenario we decide cannot pass, per revision when it fails under one revision only.
#
# Prints, per revision, the suite's SUMMARY (each scenario's passed/failed checks, the totals, the scenarios run but
# not scored) and a line "conformance <revision>: PASS|FAIL ...". Exits 0 when every revision passed, 1 when a scored
# scenario failed (or the suite could not run), 2 when the suite cannot be installed because npm or its registry is
# unreachable. Logs, the suite's output and its results (checks.json per scenario) land in
# .build/conformance/run-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."

CONF_DIR=.build/conformance
SUITE_PACKAGE=@modelcontextprotocol/conformance@0.2.0-alpha.12
NODE_MAJOR=22
JAR=target/mcp-session-server.jar
LOG_TAG=conformance
STOP_WAIT_SECONDS=10
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

REQUIREMENTS=${CONFORMANCE_REQUIREMENTS:-2026-07-28 2025-11-25}
TIMEOUT_MS=${CONFORMANCE_TIMEOUT_MS:-30000}
RUN_DIR=$CONF_DIR/run-$(date -u +%Y%m%dT%H%M%SZ)
NODE_DIR=

# The suite's SUMMARY block, from its output file $1.
summary() {
  sed -n '/^=== SUMMARY ===/,$p' "$1"
}

# The server scenarios requirement set $1 scores (conformance list --requirements), one a line.
scored_scenarios() {
  PATH="$NODE_DIR:$PATH" "$CONF_DIR/node_modules/.bin/conformance" list --requirements "$1" \
    | awk '/^Server scenarios/ { on = 1; next } on && /^ *- / { print $2; next } on { exit }'
}

# "N/M scored scenarios passing": of the scenarios listed in file $1, those the SUMMARY in output file $2 shows
# without a failed check.
scored_counts() {
  awk '
    FNR == NR { scored[$1] = 1; next }
    /^=== SUMMARY ===/ { in_summary = 1; next }
    in_summary && ($1 == "\342\234\223" || $1 == "\342\234\227") && $4 == "passed," {
      name = $2; sub(/:$/, "", name)
      if (name in scored && !(name in seen)) { seen[name] = 1; total++; if ($1 == "\342\234\223") passing++ }
    }
    /^Total: / { in_summary = 0 }
    END { printf "%d/%d scored scenarios passing", passing, total }' "$1" "$2"
}

main() {
  local rc=0 status url rev out baseline total
  local -a args
  mkdir -p "$RUN_DIR"
  status=0
  install_node_packages "$CONF_DIR" "$NODE_MAJOR" "$SUITE_PACKAGE" || status=$?
  if [ "$status" = 2 ]; then
    log "SKIPPED: cannot install $SUITE_PACKAGE and Node $NODE_MAJOR: npm or the npm registry is unreachable"
    exit 2
  fi
  [ "$status" = 0 ] || die "installing $SUITE_PACKAGE and Node $NODE_MAJOR into $CONF_DIR failed"
  NODE_DIR=$(cd "$(dirname "$NODE_BIN")" && pwd)

  if [ -n "${CONFORMANCE_URL:-}" ]; then
    url=$CONFORMANCE_URL
    log "testing the server at $url"
  else
    build_jar_if_needed
    SERVER_PORT=$(free_port)
    log "starting our server on 127.0.0.1:$SERVER_PORT (STORE=memory, MCP_CONFORMANCE_TOOLS=true) ..."
    start_server "$RUN_DIR/server.log" 90 "" STORE=memory MCP_CONFORMANCE_TOOLS=true \
      || die "our server did not start (see $RUN_DIR/server.log)"
    url=http://127.0.0.1:$SERVER_PORT/mcp
  fi

  for rev in $REQUIREMENTS; do
    out=$RUN_DIR/$rev.out
    args=(server --url "$url" --requirements "$rev" --timeout "$TIMEOUT_MS" -o "$RUN_DIR/results-$rev")
    baseline=
    if [ -f "conformance-baseline-$rev.yml" ]; then
      baseline=conformance-baseline-$rev.yml
    elif [ -f conformance-baseline.yml ]; then
      baseline=conformance-baseline.yml
    fi
    [ -z "$baseline" ] || args+=(--expected-failures "$baseline")
    log "requirements $rev${baseline:+ (expected failures: $baseline)} -> $out"
    status=0
    PATH="$NODE_DIR:$PATH" "$CONF_DIR/node_modules/.bin/conformance" "${args[@]}" >"$out" 2>&1 || status=$?
    echo "=== conformance: requirements $rev against $url ==="
    if grep -q '^=== SUMMARY ===' "$out"; then
      summary "$out"
      total=$(grep '^Total: ' "$out" | tail -1 || true)
      scored_scenarios "$rev" >"$RUN_DIR/$rev.scored" || true
      echo
      if [ "$status" = 0 ]; then
        echo "conformance $rev: PASS ($(scored_counts "$RUN_DIR/$rev.scored" "$out"); checks ${total#Total: })"
      else
        echo "conformance $rev: FAIL ($(scored_counts "$RUN_DIR/$rev.scored" "$out"); checks ${total#Total: };" \
          "exit $status; see $out)"
        rc=1
      fi
    else
      tail -20 "$out"
      echo "conformance $rev: FAIL (the suite exited $status without a summary; see $out)"
      rc=1
    fi
    echo
  done
  log "logs and results: $RUN_DIR"
  return "$rc"
}

main "$@"
