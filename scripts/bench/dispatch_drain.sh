#!/usr/bin/env bash
# Usage: scripts/bench/dispatch_drain.sh [release shouhou binary] [orders]   (needs wrk, sqlite3)
# End-to-end auto-dispatch drain (issue 5): a release `shouhou serve --demo` on a fresh
# SQLite file; N maintenance orders (a direct dispatch type: queued on
# creation) created over HTTP with auto-dispatch switched off; then switched
# on and the background dispatcher drains the queue. Rate = N / (last - first
# assigned_at) from dispatch_assignments; server CPU from /proc across the drain.
set -euo pipefail
BIN=${1:-build/bench/shouhou}; N=${2:-3000}
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
T=$(mktemp -d /tmp/shouhou-dispatch-drain.XXXXXX)
SHOUHOU_DISPATCH_TICK_MS=${TICK:-200} bench_serve "$BIN" "$T/e.db" "$T"
base=http://127.0.0.1:$BENCH_PORT
bench_login "$base"
j() { curl -s "${BENCH_AUTH[@]}" -H 'content-type: application/json' "$@"; }
# Shanghai outlet: room for every order today.
sh=$(j "$base/api/v1/org-units?limit=500" | python3 -c 'import json,sys; print([u["id"] for u in json.load(sys.stdin)["items"] if u["code"]=="SP-SH-XH"][0])')
cur=$(j "$base/api/v1/outlets/$sh")
patch=$(python3 -c 'import json,sys; o=json.loads(sys.argv[1]); print(json.dumps({"version":o["version"],"capacity":[{"order_type":"maintenance","per_day":10000}]}))' "$cur")
j -X PUT -d "$patch" "$base/api/v1/outlets/$sh" >/dev/null
s=$(j "$base/api/v1/dispatch/settings")
off=$(python3 -c 'import json,sys; o=json.loads(sys.argv[1]); print(json.dumps({"version":o["version"],"auto_dispatch":False}))' "$s")
j -X PUT -d "$off" "$base/api/v1/dispatch/settings" >/dev/null
serial=KFR35-2401-000101
cust=$(sqlite3 -readonly $T/e.db "SELECT owner_customer_id FROM assets WHERE serial = '$serial'")
body="{\"type\":\"maintenance\",\"customer_id\":$cust,\"serial\":\"$serial\",\"contact\":{\"name\":\"李娜\",\"phone\":\"13800138000\"},\"site\":{\"county_code\":\"310104\",\"address\":\"漕溪北路88号\"}}"
echo "$body" > $T/body.json
r=$(j -d @$T/body.json "$base/api/v1/service-orders"); echo "${r:0:200}" | head -c 200; echo
case "$r" in *'"error"'*) kill $BENCH_PID; exit 1;; esac
cat > $T/post.lua <<LUA
wrk.method = "POST"
wrk.body = io.open("$T/body.json"):read("*a")
wrk.headers["content-type"] = "application/json"
LUA
# Create the orders (wrk, until N are queued).
while [ "$(sqlite3 -readonly $T/e.db "SELECT COUNT(*) FROM dispatch_queue WHERE state='pending'")" -lt "$N" ]; do
  wrk -c16 -t2 -d2s -s $T/post.lua "${BENCH_AUTH[@]}" "$base/api/v1/service-orders" >/dev/null
done
pending=$(sqlite3 -readonly $T/e.db "SELECT COUNT(*) FROM dispatch_queue WHERE state='pending'")
sleep 2
load=$(cut -d' ' -f1-3 /proc/loadavg)
c0=$(cpu_s $BENCH_PID); t0=$(date +%s.%N)
s=$(j "$base/api/v1/dispatch/settings")
on=$(python3 -c 'import json,sys; o=json.loads(sys.argv[1]); print(json.dumps({"version":o["version"],"auto_dispatch":True}))' "$s")
j -X PUT -d "$on" "$base/api/v1/dispatch/settings" >/dev/null
while [ "$(sqlite3 -readonly $T/e.db "SELECT COUNT(*) FROM dispatch_queue WHERE state='pending'")" -gt 0 ]; do sleep 0.2; done
t1=$(date +%s.%N); c1=$(cpu_s $BENCH_PID)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
sqlite3 -readonly $T/e.db "SELECT COUNT(*), MIN(assigned_at), MAX(assigned_at) FROM dispatch_assignments WHERE mode='auto'" | \
  awk -F'|' -v p="$pending" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v l0="$load" -v l1="$load1" '{
    span=($3-$2)/1000; printf "queued %d, assigned %d; first..last assignment %.2f s => %.0f dispatches/s wall; drain observed %.2f s; server CPU %.2f s => %.0f dispatches per CPU-s (%.0f us CPU each); load %s -> %s\n",
    p, $1, span, ($1-1)/span, t1-t0, c1-c0, $1/(c1-c0), (c1-c0)*1e6/$1, l0, l1 }'
sqlite3 -readonly $T/e.db "SELECT state, COUNT(*) FROM dispatch_queue GROUP BY state"
kill $BENCH_PID; wait $BENCH_PID 2>/dev/null || true
rm -rf "$T"
