#!/usr/bin/env bash
# make demo: start a Temporal dev server (unless one is running) and a worker,
# run configs/demo.yaml to the end, print the table and the UI link, and stop
# what was started. `make up` keeps server and worker running instead.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-configs/demo.yaml}
STATE=${CLIRFLOW_STATE:-.clirflow}
mkdir -p "$STATE"

started_server=0
if ! bin/temporal operator cluster health --address localhost:7233 >/dev/null 2>&1; then
  scripts/devserver.sh start
  started_server=1
fi
bin/worker >"$STATE/worker.log" 2>&1 &
worker=$!
cleanup() {
  kill "$worker" 2>/dev/null || true
  wait "$worker" 2>/dev/null || true
  if [ "$started_server" = 1 ]; then scripts/devserver.sh stop; fi
}
trap cleanup EXIT
bin/starter run -config "$CONFIG" -wait
