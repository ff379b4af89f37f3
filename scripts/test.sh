#!/usr/bin/env bash
# Everything the tests need, then the whole suite (unit + integration): mvn -B verify.
# Tests start their own redis-server processes on free ports; this makes sure the binary exists. The conformance and
# SDK client tests need npm (they install Node 22 themselves) and curl (scripts/lib.sh waits for /health with it).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing redis-server (needed by the Redis store tests) ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is required by the tests: install it (e.g. apt-get install redis-server) and retry." >&2
    exit 1
  fi
fi

# ConformanceIT and SdkClientsIT install Node 22 and their npm packages (the conformance suite, the MCP SDK clients)
# into .build/ with npm (scripts/conformance.sh, scripts/sdk-clients.sh): npm must be there, any Node version.
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing npm (the conformance and SDK client tests install their Node 22 and packages with it) ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  else
    echo "npm is required by the conformance and SDK client tests: install it (e.g. apt-get install npm) and retry." >&2
    exit 1
  fi
fi

# The console's browser tests drive Debian's headless Chromium through its ChromeDriver (dev.mcps.testing.Browser),
# at these fixed paths; without them those tests fail (they never skip).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing chromium and chromium-driver (needed by the console's browser tests) ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "chromium and chromium-driver are required by the console's browser tests: install them" \
      "(e.g. apt-get install chromium chromium-driver) and retry." >&2
    exit 1
  fi
fi

for tool in java mvn npm curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool is required" >&2; exit 1; }
done

exec mvn -B verify "$@"
