#!/usr/bin/env bash
# Start or stop a local Temporal dev server with the UI, clirflow's search
# attributes and one task-queue partition (on 2 cores that is ~10x the activity
# throughput of the default 4 partitions). State lives in .clirflow/ so the
# history of past experiments stays visible in the UI across restarts.
#   scripts/devserver.sh start   # no-op if a server already answers on the port
#   scripts/devserver.sh stop    # stops only a server this script started
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL=${TEMPORAL:-bin/temporal}
PORT=${TEMPORAL_PORT:-7233}
UI_PORT=${TEMPORAL_UI_PORT:-8233}
STATE=${CLIRFLOW_STATE:-.clirflow}
mkdir -p "$STATE"
PIDFILE="$STATE/temporal.pid"

healthy() { "$TEMPORAL" operator cluster health --address "localhost:$PORT" >/dev/null 2>&1; }

case "${1:-}" in
start)
  if healthy; then echo "Temporal already running on localhost:$PORT"; exit 0; fi
  "$TEMPORAL" server start-dev --port "$PORT" --ui-port "$UI_PORT" \
    --db-filename "$STATE/temporal.db" \
    --search-attribute ClirflowExperiment=Keyword --search-attribute ClirflowDatasets=KeywordList \
    --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
    --dynamic-config-value matching.numTaskqueueWritePartitions=1 \
    --log-level warn >"$STATE/temporal.log" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    if healthy; then echo "Temporal dev server on localhost:$PORT, UI http://localhost:$UI_PORT"; exit 0; fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "Temporal dev server did not start; see $STATE/temporal.log" >&2
  tail -20 "$STATE/temporal.log" >&2 || true
  exit 1
  ;;
stop)
  if [ -f "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
  fi
  ;;
*)
  echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
