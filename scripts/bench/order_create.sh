#!/usr/bin/env bash
# Issue 4's order creation benchmark: POST /api/v1/service-orders (a repair order
# for an owned demo serial: warranty check, claim audit, SLA due times, number,
# timeline, audit log, events) with wrk -c64 -t2 --latency, logged in as admin,
# against a release `shouhou serve` on a fresh copy of the small demo data set.
# Prints req/s, p50, p99, non-2xx and the server's CPU µs per request (from
# /proc/PID/stat: the comparable figure on a shared machine) with the load.
#
# Usage: scripts/bench/order_create.sh [POSTGRES_URL] [seconds]
#   no URL (or "sqlite"): SQLite, a fresh copy of the data set per run
#   POSTGRES_URL: a database the data set is copied into (its tables are
#                 truncated first: scripts/bench/sqlite_to_pg.sh), e.g. from
#                 `scripts/pg.sh start /tmp/pg-bench` (note: fsync=off there)
#   BENCH_BUILD=build/bench      release build dir (built first)
#   BENCH_BIN=path               use this shouhou binary as it is (e.g. a copy of the "before" build)
#   BENCH_SMALL_DB=path          the generated small data set (`demo --scale small --seed 1`),
#                                made when missing (~1 min) and reused
#   BENCH_SERVE_ARGS="--workers 32"  extra `serve` options
#   BENCH_PERF=file              also `perf record -g` the server during the run into file
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
URL=${1:-sqlite}
DUR=${2:-10}
BUILD=${BENCH_BUILD:-build/bench}
SMALL=${BENCH_SMALL_DB:-/tmp/shouhou-bench-small.db}
if [ -z "${BENCH_BIN:-}" ]; then
  cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C $BUILD shouhou >/dev/null
fi
BIN=${BENCH_BIN:-$BUILD/shouhou}
TMP=$(mktemp -d /tmp/shouhou-order-create.XXXXXX)
BENCH_PID=
trap '[ -n "$BENCH_PID" ] && kill $BENCH_PID 2>/dev/null; wait 2>/dev/null; rm -rf $TMP' EXIT

if [ ! -s "$SMALL" ]; then
  echo "generating $SMALL (demo --scale small --seed 1)" >&2
  $BIN --db "$SMALL.tmp" demo --scale small --seed 1 >/dev/null
  mv "$SMALL.tmp" "$SMALL"
fi
if [ "$URL" = sqlite ]; then
  DB=$TMP/o.db
  $BIN --db "$SMALL" backup "$DB" >/dev/null
else
  DB=$URL
  $BIN --db "$DB" migrate >/dev/null
  scripts/bench/sqlite_to_pg.sh "$SMALL" "$DB" >/dev/null
fi
$BIN --db "$DB" bench-sql keys --keys "$TMP/keys" >/dev/null
bench_serve "$BIN" "$DB" "$TMP" ${BENCH_SERVE_ARGS:-}
base=http://127.0.0.1:$BENCH_PORT
bench_login "$base"
load=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -n "${BENCH_PERF:-}" ]; then
  perf record -g -o "$BENCH_PERF" -p "$BENCH_PID" -- sleep "$DUR" >/dev/null 2>&1 &
  PERF_PID=$!
fi
# SQLite group commit: writes per COMMIT across the run (/metrics: write_batches, writes_batched).
stat() { curl -s "$base/metrics" | awk -v k="$1" -F'[{}" ]+' '$1=="shouhou_db_stat" && $3==k {print $4}'; }
b0=$(stat write_batches); w0=$(stat writes_batched)
bench_wrk "$BENCH_PID" "$DUR" "${BENCH_AUTH[@]}" -s scripts/bench/order_create.lua "$base" -- "$TMP/keys/owned_serials.txt"
b1=$(stat write_batches); w1=$(stat writes_batched)
[ -n "${PERF_PID:-}" ] && wait "$PERF_PID"
backend=sqlite
[ "$URL" = sqlite ] || backend=postgres
printf '| %-8s | %9s | %8s | %8s | %6s | %10s | %s | %s |\n' backend "orders/s" p50 p99 non2xx "CPU us/req" \
  "load before" "$(date -u '+%Y-%m-%d %H:%M UTC')"
printf '| %-8s | %9s | %8s | %8s | %6s | %10s | %s |\n' $backend "$W_RPS" "$W_P50" "$W_P99" "$W_BAD" "$W_CPU_US" "$load"
if [ -n "$b1" ] && [ "$b1" != "$b0" ]; then
  echo "group commit: $((w1 - w0)) writes in $((b1 - b0)) commits ($(awk -v w=$((w1 - w0)) -v b=$((b1 - b0)) 'BEGIN {printf "%.1f", w / b}') per COMMIT)"
fi
