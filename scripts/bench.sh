#!/usr/bin/env bash
# Benchmarks (not tests): release build, Google Benchmark micro benchmarks,
# and wrk scenarios against a running server on SQLite and PostgreSQL.
# Usage: scripts/bench.sh [seconds-per-scenario]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
BUILD=build/bench
cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C $BUILD -j"$(nproc)" shouhou $( [ -f $BUILD/build.ninja ] && ninja -C $BUILD -t targets all | grep -q '^micro_bench:' && echo micro_bench )
TMP=$(mktemp -d /tmp/shouhou-bench.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; scripts/pg.sh stop "$TMP/pg" >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT

if [ -x $BUILD/micro_bench ]; then
  echo "=== micro benchmarks"
  $BUILD/micro_bench --benchmark_min_time=0.2
fi

serve() {  # serve DB_URL -> sets PORT, PID
  rm -f "$TMP/port"
  SHOUHOU_ACCESS_LOG=0 $BUILD/shouhou --db "$1" serve --port 0 --address 127.0.0.1 --port-file "$TMP/port" \
    --web web/dist --demo >"$TMP/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 200); do [ -s "$TMP/port" ] && break; sleep 0.1; done
  PORT=$(cat "$TMP/port")
}
stop() { kill "$PID"; wait "$PID" || true; PID=; }

scenario() {  # scenario NAME URL [wrk args...]
  local name=$1 url=$2; shift 2
  local out
  out=$(wrk -c64 -t2 -d"${DUR}s" --latency "$@" "$url")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '| %-10s | %-32s | %10s | %8s | %8s |\n' "$BACKEND" "$name" "$rps" "$p50" "$p99"
}

run_backend() {
  BACKEND=$1
  serve "$2"
  local cookie
  cookie=$(curl -s -i -H 'content-type: application/json' -d '{"username":"admin","password":"shouhou"}' \
    "http://127.0.0.1:$PORT/api/v1/auth/login" | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}')
  scenario "GET /healthz" "http://127.0.0.1:$PORT/healthz"
  scenario "GET /api/v1/me (session)" "http://127.0.0.1:$PORT/api/v1/me" -H "Cookie: $cookie"
  scenario "GET /api/v1/org-units/1" "http://127.0.0.1:$PORT/api/v1/org-units/1" -H "Cookie: $cookie"
  stop
}

echo
echo "=== HTTP (wrk -c64 -t2 -d${DUR}s), $(nproc) cores, $(date -u +%Y-%m-%d)"
printf '| %-10s | %-32s | %10s | %8s | %8s |\n' backend scenario "req/s" p50 p99
printf '|%s|%s|%s|%s|%s|\n' ------------ ---------------------------------- ------------ ---------- ----------
run_backend sqlite "$TMP/bench.db"
PG_URL=$(scripts/pg.sh start "$TMP/pg" | tail -1)
run_backend postgres "$PG_URL"
