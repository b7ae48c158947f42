#!/usr/bin/env bash
# Run a command with a local S3-compatible server (versitygw, posix backend in
# a temporary directory, on a free loopback port) and the variables the S3
# tests read (internal/artifact/s3_test.go, internal/platform's multi-worker
# test); the server is stopped afterwards. make test uses it, so CI tests the
# S3 artifact store against a real server.
#   scripts/with-s3.sh go test ./...
set -euo pipefail
cd "$(dirname "$0")/.."
VGW=${VERSITYGW:-bin/versitygw}
if [ ! -x "$VGW" ]; then
  echo "with-s3: $VGW not found (make bin/versitygw); S3 tests will skip" >&2
  exec "$@"
fi
dir=$(mktemp -d)
port=""
for p in $(seq 17070 17170); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "with-s3: no free port" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=clirflow-test AWS_SECRET_ACCESS_KEY=clirflow-test-secret-key
mkdir -p "$dir/data"
"$VGW" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" --port "127.0.0.1:$port" \
  posix "$dir/data" >"$dir/versitygw.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$dir/versitygw.log" >&2; exit 1; fi
  sleep 0.1
done
export CLIRFLOW_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
echo "S3-compatible test server (versitygw) on $CLIRFLOW_TEST_S3_ENDPOINT"
"$@"
