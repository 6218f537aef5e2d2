#!/usr/bin/env bash
# Fuzzes the reference server's API from its own OpenAPI document: every
# operation, with generated valid and invalid inputs, for a fixed time.
# Fails on any 5xx answer and on any answer that does not match the document.
#
#   scripts/schemathesis.sh [path/to/deskterm]     (default: target/debug/deskterm)
#
# Installs schemathesis (PyPI) into target/ci-venv the first time
# (scripts/test-venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/debug/deskterm}
SECONDS_BUDGET=${SCHEMATHESIS_SECONDS:-120}
VENV=$(dirname "$(bash scripts/test-venv.sh)")/..

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# A server on a free port with the demo data, and an administrator to sign in as.
"$BIN" serve --demo --db "$WORK/helpdesk.db" --listen 127.0.0.1:0 --log warn \
    > "$WORK/stdout" 2> "$WORK/stderr" &
SERVER_PID=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$WORK/stdout" 2>/dev/null && break
    sleep 0.1
done
URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$WORK/stdout" | head -1)
if [ -z "$URL" ]; then
    echo "the server did not start:" >&2
    cat "$WORK/stderr" >&2
    exit 1
fi
TOKEN=$("$BIN" operator add --db "$WORK/helpdesk.db" --name "Schema Fuzzer" \
    --email fuzzer@example.com --role admin)

# The live stream never ends: it is left out (tests/live.rs covers it).
"$VENV/bin/schemathesis" run "$URL/api/v1/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,response_schema_conformance \
    --exclude-path /api/v1/events \
    --phases examples,coverage,fuzzing \
    --max-time "$SECONDS_BUDGET" \
    --workers 1 \
    --seed 1 \
    --no-color
