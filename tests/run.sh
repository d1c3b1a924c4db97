#!/bin/sh
# Run every test: the cmocka unit binaries, then the pytest end-to-end suite
# against the real binary. Ends with one line "N passed, N failed".
#
#   tests/run.sh ./pincer build/tests
set -u

BIN=${1:-./pincer}
UNITDIR=${2:-build/tests}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
passed=0
failed=0

echo "== unit tests"
for t in "$UNITDIR"/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	# TAP output: one "ok"/"not ok" line per test case.
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$t" >"$OUT/$name.tap" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$OUT/$name.tap")
	f=$(grep -c '^not ok ' "$OUT/$name.tap")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed or timed out before reporting
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name ($p passed, $f failed, exit $rc)"
		sed 's/^/    /' "$OUT/$name.tap"
	else
		echo "ok   $name ($p)"
	fi
done

echo "== end-to-end tests"
PINCER_BIN=$BIN /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider --timeout=120 \
	--junitxml="$OUT/e2e.xml" "$ROOT/tests/e2e" 2>&1 | tail -n 40
counts=$(/usr/bin/python3 - "$OUT/e2e.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1)
    sys.exit()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
s = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - s, f, s)
PY
)
set -- $counts
passed=$((passed + $1))
failed=$((failed + $2))
skipped=${3:-0}

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
