#!/usr/bin/env bash
# What the first start of an existing helpdesk costs after an upgrade, on a
# copy of its database: the migrations until the server listens, then the
# SLA timer's one pass over every ticket whose state was never computed,
# with the list's latency meanwhile, the server's CPU and memory, and its
# CPU while nothing happens afterwards.
#
#   scripts/first-start.sh DB TOKEN_FILE [path/to/deskterm]   (release build by default)
#
# The database is copied (with its -wal and -shm) into a temporary
# directory; the original is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."

DB=${1:?the database to copy}
TOKEN=$(cat "${2:?a file holding an operator token of that database}")
BIN=${3:-target/release/deskterm}
W=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
    rm -rf "$W"
}
trap cleanup EXIT
for suffix in "" -wal -shm; do
    if [ -f "$DB$suffix" ]; then cp "$DB$suffix" "$W/helpdesk.db$suffix"; fi
done
ro="file:$W/helpdesk.db?mode=ro"
echo "migrations applied before: $(sqlite3 "$ro" 'SELECT max(version) FROM _sqlx_migrations')"
start=$(date +%s.%N)
"$BIN" serve --db "$W/helpdesk.db" --config assets/demo-server.toml --listen 127.0.0.1:0 \
    --log warn > "$W/out" 2> "$W/err" &
PID=$!
until grep -q "listening on" "$W/out" 2>/dev/null; do
    kill -0 "$PID" || { cat "$W/err" >&2; exit 1; }
    sleep 0.05
done
up=$(date +%s.%N)
URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$W/out")
echo "listening after $(echo "$up - $start" | bc) s"
never() {
    sqlite3 "$ro" "SELECT count(*) FROM tickets WHERE sla_next_at = '0000-01-01T00:00:00.000Z'" \
        2>/dev/null || echo '?'
}
echo "tickets waiting for their first SLA state: $(never)"
latencies=()
while true; do
    n=$(never)
    latencies+=("$(curl -s -o /dev/null -w '%{time_total}' \
        -H "Authorization: Bearer $TOKEN" "$URL/api/v1/tickets?limit=50")")
    if [ "$n" = "0" ]; then break; fi
    sleep 0.5
done
done_at=$(date +%s.%N)
echo "SLA states computed $(echo "$done_at - $up" | bc) s after listening"
printf '%s\n' "${latencies[@]}" | sort -n |
    awk '{a[NR]=$1} END {print "GET /tickets?limit=50 meanwhile: n=" NR " p50=" a[int(NR/2)+1] " s, max=" a[NR] " s"}'
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
echo "server CPU so far: $(echo "scale=1; $(cpu) / $hz" | bc) s; RSS: $(awk '/VmRSS/ {print int($2 / 1024) " MB"}' "/proc/$PID/status")"
echo "states: $(sqlite3 -separator ' ' "$ro" "SELECT coalesce(sla_state, 'none') AS s, count(*) FROM tickets GROUP BY s" | paste -sd, -)"
t0=$(cpu); sleep 30; t1=$(cpu)
echo "CPU over the next 30 s with nothing happening: $(echo "scale=2; ($t1 - $t0) / $hz" | bc) s"
