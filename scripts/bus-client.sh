#!/usr/bin/env bash
# A service with no HTTP: joins the cluster of CLUSTER=true servers (same CLUSTER_* settings as they have, e.g.
# CLUSTER_MEMBERS=127.0.0.1:5701,127.0.0.1:5702) as a Hazelcast lite member, sends one event-bus request, prints the
# reply JSON and leaves. Exit 0 = reply on stdout; 1 = error JSON on stderr; 2 = bad arguments.
#   scripts/bus-client.sh --user alice --message "What are my notes?"     one mcps.chat.turn
#   scripts/bus-client.sh --list-sessions                                mcps.sessions.list
#   scripts/bus-client.sh --address mcps.sessions.get --body '{"sessionId":"…"}'
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=target/mcp-session-server.jar
LOG_TAG=bus-client
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
build_jar_if_needed
# Hazelcast's INFO lines go to stderr with the rest of the log, so stdout carries the reply alone.
exec java ${JAVA_OPTS:-} -DLOG_TARGET=System.err -cp "$JAR" dev.mcps.cluster.BusClient "$@"
