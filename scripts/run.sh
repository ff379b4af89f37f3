#!/usr/bin/env bash
# Builds the server if needed and starts it with the defaults of conf/server.json:
# memory store, port 3333, no keys required. Any setting can be overridden by environment
# variable (see README.md), e.g.  HTTP_PORT=8080 STORE=redis REDIS_URL=... scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=target/mcp-session-server.jar
LOG_TAG=run
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
build_jar_if_needed

exec java ${JAVA_OPTS:-} -jar "$JAR" "$@"
