#!/usr/bin/env bash
# Issue 2's platform benchmark: GET /healthz, GET /api/v1/me (session, no SQL) and
# GET /api/v1/org-units/1 (session + one indexed read) with wrk -c64 -t2 for DUR seconds,
# against a release `shouhou serve` on the fixed demo data.
# Usage: scripts/bench/platform.sh DB_URL [seconds]   (DB_URL: a new SQLite path or an empty PostgreSQL db)
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=$1; DUR=${2:-10}
BUILD=${BENCH_BUILD:-build/bench}
cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C $BUILD shouhou >/dev/null
TMP=$(mktemp -d)
SHOUHOU_ACCESS_LOG=0 $BUILD/shouhou --db "$DB" serve --port 0 --address 127.0.0.1 --port-file $TMP/port \
  --web /nonexistent --demo >$TMP/server.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf $TMP' EXIT
for _ in $(seq 1 600); do [ -s $TMP/port ] && break; sleep 0.1; done
base=http://127.0.0.1:$(cat $TMP/port)
login=$(curl -s -i -H 'content-type: application/json' -d '{"username":"admin","password":"shouhou"}' $base/api/v1/auth/login)
cookie=$(awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}' <<<"$login" | tr -d '\r')
printf '| %-22s | %9s | %8s | %8s | %6s | %s |\n' endpoint "req/s" p50 p99 non2xx "load before"
for u in /healthz /api/v1/me /api/v1/org-units/1; do
  load=$(cut -d' ' -f1 /proc/loadavg)
  out=$(wrk -c64 -t2 -d${DUR}s --latency -H "Cookie: $cookie" $base$u)
  printf '| %-22s | %9s | %8s | %8s | %6s | %s |\n' "$u" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/ {print $NF}' <<<"$out")" "$load"
done
