#!/bin/sh
# Render a report.html in headless Chromium and save a screenshot, to look at
# the page as a reader would (plots load from the report's directory).
#
#   scripts/screenshot-report.sh results/demo/report.html /tmp/report.png [WIDTH,HEIGHT]
#
# A report of a small synthetic study (two datasets with different metrics, a
# baseline, Holm's correction, a reranker at 64/128/256 tokens) for the check:
#   CLIRFLOW_KEEP_REPORT=/tmp/synth go test ./internal/experiment -run TestHTMLReport -count=1
#   scripts/screenshot-report.sh /tmp/synth/report.html /tmp/synth.png
# Needs chromium (Debian: apt-get install -y chromium); not part of CI.
set -eu
if [ $# -lt 2 ]; then
	echo "usage: $0 REPORT.html OUT.png [WIDTH,HEIGHT]" >&2
	exit 2
fi
report=$1 out=$2 size=${3:-1200,2000}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
	echo "$0: chromium not found (apt-get install -y chromium)" >&2
	exit 1
fi
[ -f "$report" ] || { echo "$0: $report: no such file" >&2; exit 1; }
abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
# --no-sandbox: root in containers; a throwaway profile keeps the user's alone.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
	--window-size="$size" --screenshot="$out" "file://$abs" >/dev/null 2>&1
[ -s "$out" ] || { echo "$0: no screenshot written" >&2; exit 1; }
echo "$out"
