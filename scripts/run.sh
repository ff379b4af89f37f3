#!/usr/bin/env bash
# Builds the server if needed and starts it with the defaults of conf/server.json:
# memory store, port 3333, no keys required. Any setting can be overridden by environment
# variable (see README.md), e.g.  HTTP_PORT=8080 STORE=redis REDIS_URL=... scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=target/mcp-session-server.jar
needs_build() {
  [ ! -f "$JAR" ] && return 0
  # Rebuild when any source, resource, config default or the POM is newer than the jar.
  [ -n "$(find pom.xml conf src/main -newer "$JAR" -print -quit 2>/dev/null)" ]
}

if needs_build; then
  echo "Building $JAR ..." >&2
  mvn -B -q package -DskipTests
fi

exec java ${JAVA_OPTS:-} -jar "$JAR" "$@"
