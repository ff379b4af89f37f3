#!/usr/bin/env bash
# Runs src/test/node/sdk-clients.mjs: the official MCP TypeScript SDK clients (2.x stateless at 2026-07-28, 1.x
# Streamable HTTP, 1.x legacy SSE), each as a user of its own, against a server that is already running.
#
#   SDK_URL=http://127.0.0.1:8080 scripts/sdk-clients.sh
#
# The SDK versions pinned in src/test/node/package.json and Node 22 are installed into .build/sdk-clients (npm; an
# earlier install is reused), where the script is copied and run. The environment reaches the script: SDK_URL (the
# server), SDK_PARTS ("stateless,streamable,sse"; "shared" too with SDK_SHARED_URL, a second instance on the same
# store), SDK_TRACE=1 (each HTTP request the clients send, on stderr). Prints a PASS or FAIL line per part; exits 0
# when all passed, 1 when one failed, 2 when the packages cannot be installed because npm or its registry is
# unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=.build/sdk-clients
SRC=src/test/node
LOG_TAG=sdk-clients
STOP_WAIT_SECONDS=5
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

[ -n "${SDK_URL:-}" ] || die "SDK_URL is required (the server, e.g. http://127.0.0.1:8080)"
# "name": "version" of each dependency in the package.json, as name@version.
mapfile -t PACKAGES < <(sed -n '/"dependencies"/,/}/s/^ *"\([^"]*\)": *"\([^"]*\)".*/\1@\2/p' "$SRC/package.json")
[ "${#PACKAGES[@]}" -gt 0 ] || die "no dependencies found in $SRC/package.json"
status=0
install_node_packages "$DIR" 22 "${PACKAGES[@]}" || status=$?
if [ "$status" = 2 ]; then
  log "SKIPPED: cannot install Node 22 and ${PACKAGES[*]}: npm or the npm registry is unreachable"
  exit 2
fi
[ "$status" = 0 ] || die "installing Node 22 and ${PACKAGES[*]} into $DIR failed"
cp "$SRC/sdk-clients.mjs" "$DIR/sdk-clients.mjs"
# The package.json npm wrote there is not ours, and not of type module: the .mjs is ESM by its name.
exec "$NODE_BIN" "$DIR/sdk-clients.mjs"
