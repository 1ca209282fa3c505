#!/usr/bin/env bash
# Run every check: ruff, then pytest in two groups. The Home Assistant test plugin blocks sockets
# and checks for lingering threads in every test of the process it loads in, so the integration's
# tests run in their own pytest process with it, and everything else (real servers, browsers,
# models) in another without it. Fails when a group collects no test (pytest exit 5).
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
status=0
passed=0
failed=0

.venv/bin/ruff check . || status=1
.venv/bin/ruff format --check . || status=1
.venv/bin/mypy custom_components/peerwatch || status=1

run_group() {
    local name=$1; shift
    local report rc
    report=$(mktemp)
    echo "== pytest: $name"
    "$py" -m pytest "$@" --junitxml="$report"
    rc=$?
    if [ $rc -eq 5 ]; then
        echo "error: no tests collected in group '$name'" >&2
    fi
    [ $rc -eq 0 ] || status=1
    read -r p f < <("$py" - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    suites = ET.parse(sys.argv[1]).getroot().iter("testsuite")
except (ET.ParseError, FileNotFoundError):
    print(0, 1); raise SystemExit
t = e = f = s = 0
for suite in suites:
    t += int(suite.get("tests", 0)); e += int(suite.get("errors", 0))
    f += int(suite.get("failures", 0)); s += int(suite.get("skipped", 0))
print(t - e - f - s, e + f)
PY
)
    passed=$((passed + p)); failed=$((failed + f))
    rm -f "$report"
}

run_group "edge, registrar, pwa, e2e" -p no:homeassistant \
    tests/edge tests/registrar tests/pwa tests/e2e
run_group "integration (Home Assistant)" tests/integration \
    --cov --cov-report=term-missing:skip-covered

echo "total: $passed passed, $failed failed"
exit $status
