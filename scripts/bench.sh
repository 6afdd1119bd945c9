#!/usr/bin/env bash
# Benchmarks (not tests): release build, Google Benchmark micro benchmarks,
# and wrk scenarios against a running server on a generated data set, on
# SQLite and PostgreSQL. Every HTTP scenario is printed with its ceilings,
# measured in the same run on the same machine: the server's own
# GET /healthz (the HTTP stack's limit) and the endpoint's SQL run directly
# against the database on 2 threads (`shouhou bench-sql`, the storage limit).
#
# Usage: scripts/bench.sh [seconds-per-scenario]
#   BENCH_SCALE=medium|small|large   data set (`shouhou demo --scale`) on SQLite; default medium
#   BENCH_PG_SCALE=small             data set on PostgreSQL; default small, because generating through
#                                    the repositories is ~7x slower there (one round trip per statement)
#   BENCH_BACKENDS="sqlite postgres" which backends
#   BENCH_SEED=1                     generator seed
#   BENCH_SQLITE_DB=path             use this generated SQLite file (copied) instead of generating
#   BENCH_PG_COPY=1                  PostgreSQL gets the SQLite run's data set copied instead of its own
#   BENCH_BUILD=build/bench          release build dir to use
# See docs/BENCHMARKS.md for the latest figures.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench/lib.sh  # bench_serve, bench_login, bench_wrk, cpu_s
DUR=${1:-10}
SCALE=${BENCH_SCALE:-medium}
PG_SCALE=${BENCH_PG_SCALE:-small}
SEED=${BENCH_SEED:-1}
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}
BUILD=${BENCH_BUILD:-build/bench}  # BENCH_BUILD: reuse another release build dir
cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C $BUILD -j"$(nproc)" shouhou $( [ -f $BUILD/build.ninja ] && ninja -C $BUILD -t targets all | grep -q '^micro_bench:' && echo micro_bench )
TMP=$(mktemp -d /tmp/shouhou-bench.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; scripts/pg.sh stop "$TMP/pg" >/dev/null 2>&1; scripts/pg.sh stop "$TMP/pg-import" >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT

echo "=== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -x $BUILD/micro_bench ]; then
  echo "=== micro benchmarks (BM_CtiLookup runs later, on the generated SQLite data set)"
  $BUILD/micro_bench --benchmark_min_time=0.2 --benchmark_filter=-BM_CtiLookup
fi

serve() {  # serve DB_URL -> sets PORT, PID
  bench_serve $BUILD/shouhou "$1" "$TMP"
  PID=$BENCH_PID PORT=$BENCH_PORT
}
stop() { kill "$PID"; wait "$PID" || true; PID=; }

HEALTHZ_RPS=
SQL_OPS=
SQL_CPU_US=
# scenario NAME URL [wrk args...]: prints a table row; ratios against
# HEALTHZ_RPS and SQL_OPS when set. The machine is shared, so the row also
# gives the server's own CPU time per request (user + system, from /proc):
# unlike req/s it does not depend on what else was running.
scenario() {
  local name=$1 url=$2; shift 2
  local rps p50 p99 bad cpu ratio_h="" ratio_s="" ratio_l=""
  bench_wrk "$PID" "$DUR" "$url" "$@"
  rps=$W_RPS p50=$W_P50 p99=$W_P99 bad=$W_BAD cpu=$W_CPU_US
  [ -n "$HEALTHZ_RPS" ] && ratio_h=$(awk -v a="$rps" -v b="$HEALTHZ_RPS" 'BEGIN {printf "%.0f%%", 100*a/b}')
  [ -n "$SQL_OPS" ] && ratio_s=$(awk -v a="$rps" -v b="$SQL_OPS" 'BEGIN {printf "%.0f%%", 100*a/b}')
  # Against the lower of the two ceilings (target: >= 50 %).
  [ -n "$HEALTHZ_RPS" ] && ratio_l=$(awk -v a="$rps" -v h="$HEALTHZ_RPS" -v s="${SQL_OPS:-0}" \
    'BEGIN {m = (s > 0 && s < h) ? s : h; r = 100*a/m; printf "%.0f%% %s", r, (r >= 50 ? "ok" : "LOW")}')
  printf '| %-8s | %-34s | %9s | %8s | %8s | %6s | %7s | %9s | %7s | %7s | %7s | %9s |\n' "$BACKEND" "$name" "$rps" "$p50" \
    "$p99" "${bad:-0}" "${cpu:--}" "${SQL_OPS:--}" "${SQL_CPU_US:--}" "${ratio_h:--}" "${ratio_s:--}" "${ratio_l:--}"
  LAST_RPS=$rps
}

# sql SCENARIO KEYFILE: the storage ceiling of an endpoint (2 threads);
# SQL_CPU_US: the process's CPU time per operation.
sql() {
  local out
  out=$( { /usr/bin/time -f 'cpu_s=%U %S' $BUILD/shouhou --db "$DB_URL" bench-sql "$1" --seconds "$DUR" --threads 2 \
             --keys "$2"; } 2>&1 ) || echo "bench-sql $1 failed: $out" >>"$TMP/sql.log"
  SQL_OPS=$(sed -n 's/.*ops\/s=\([0-9]*\).*/\1/p' <<<"$out")
  SQL_CPU_US=$(awk '/ops=/ {for (i = 1; i <= NF; i++) if ($i ~ /^ops=/) n = substr($i, 5)}
                    /^cpu_s=/ {u = substr($1, 7); s = $2}
                    END {if (n > 0) printf "%.0f", 1e6 * (u + s) / n}' <<<"$out")
}

run_backend() {  # run_backend NAME DB_URL SCALE
  BACKEND=$1
  DB_URL=$2
  local SCALE=$3
  local t0 t1
  t0=$(date +%s)
  if [ "$BACKEND" = sqlite ] && [ -n "${BENCH_SQLITE_DB:-}" ]; then
    # A data set generated before (shouhou demo --scale ...): copied, not regenerated.
    $BUILD/shouhou --db "$BENCH_SQLITE_DB" backup "$DB_URL" >/dev/null
    echo "| $BACKEND | data set copied from $BENCH_SQLITE_DB |" >>"$TMP/gen-summary"
  elif [ "$BACKEND" = postgres ] && [ "${BENCH_PG_COPY:-0}" = 1 ] && [ -f "$TMP/bench.db" ]; then
    # The SQLite run's rows, table by table (the same data on both backends).
    $BUILD/shouhou --db "$DB_URL" migrate >/dev/null
    scripts/bench/sqlite_to_pg.sh "$TMP/bench.db" "$DB_URL" >/dev/null
    echo "| $BACKEND | the SQLite data set copied (scripts/bench/sqlite_to_pg.sh, wall $(($(date +%s) - t0)) s) |" >>"$TMP/gen-summary"
  else
    /usr/bin/time -f 'gen_cpu=%U %S' $BUILD/shouhou --db "$DB_URL" demo --scale "$SCALE" --seed "$SEED" >"$TMP/gen.log" 2>&1 ||
      { cat "$TMP/gen.log" >&2; exit 1; }
    t1=$(date +%s)
    echo "| $BACKEND | generate --scale $SCALE: $(grep '^generated' "$TMP/gen.log" | sed 's/^generated //') (wall $((t1 - t0)) s," \
      "CPU $(awk '/^gen_cpu=/ {printf "%.0f", substr($1, 9) + $2}' "$TMP/gen.log") s, load $(cut -d' ' -f1 /proc/loadavg)) |" >>"$TMP/gen-summary"
  fi
  $BUILD/shouhou --db "$DB_URL" bench-sql keys --keys "$TMP/keys" >/dev/null
  if [ "$BACKEND" = sqlite ] && [ -x $BUILD/micro_bench ]; then
    # The screen pop's handler in-process on this data set (src/customers/cti_bench.cpp).
    SHOUHOU_BENCH_DB="$DB_URL" $BUILD/micro_bench --benchmark_filter=BM_CtiLookup 2>&1 | grep -E '^BM_' >>"$TMP/cti-inproc" || true
  fi
  printf '?state=%s&type=repair&limit=50\n' closed completed dispatched created >"$TMP/keys/list_queries.txt"
  head -1 "$TMP/keys/org_paths.txt" >"$TMP/keys/hq_path.txt"
  serve "$DB_URL"
  local base="http://127.0.0.1:$PORT"
  bench_login "$base"
  local auth=("${BENCH_AUTH[@]}")
  local keys=scripts/bench/keys.lua

  HEALTHZ_RPS= SQL_OPS= SQL_CPU_US=
  scenario "GET /healthz (HTTP ceiling)" "$base/healthz"
  HEALTHZ_RPS=$LAST_RPS
  scenario "GET /api/v1/me (session)" "$base/api/v1/me" "${auth[@]}"
  scenario "GET /api/v1/org-units/1" "$base/api/v1/org-units/1" "${auth[@]}"

  sql lookup "$TMP/keys/phones.txt"
  scenario "screen pop /cti/lookup" "$base" "${auth[@]}" -s $keys -- "$TMP/keys/phones.txt" "/api/v1/cti/lookup?phone="
  sql warranty "$TMP/keys/serials.txt"
  scenario "warranty /warranty/{serial}" "$base" "${auth[@]}" -s $keys -- "$TMP/keys/serials.txt" "/api/v1/warranty/"
  if [ -s "$TMP/keys/orders.txt" ]; then
    sql order-list "$TMP/keys/hq_path.txt"
    scenario "order list ?state=&type=" "$base" "${auth[@]}" -s $keys -- "$TMP/keys/list_queries.txt" "/api/v1/service-orders"
    sql order-page "$TMP/keys/orders.txt"
    scenario "order page /service-orders/{id}" "$base" "${auth[@]}" -s $keys -- "$TMP/keys/orders.txt" "/api/v1/service-orders/"
    sql order-create "$TMP/keys/owned_serials.txt"  # the server is idle meanwhile
    scenario "order create POST /service-orders" "$base" "${auth[@]}" -s scripts/bench/order_create.lua -- "$TMP/keys/owned_serials.txt"
  else
    echo "| $BACKEND | (no service orders in the data set: order scenarios skipped) |"
  fi
  SQL_OPS= SQL_CPU_US=
  stop
}

echo
PG_SET="--scale $PG_SCALE"
[ "${BENCH_PG_COPY:-0}" = 1 ] && PG_SET="the SQLite data set"
echo "=== HTTP (wrk -c64 -t2 -d${DUR}s), data sets: SQLite ${BENCH_SQLITE_DB:---scale $SCALE}, PostgreSQL $PG_SET (seed $SEED), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "    SQL ops/s: the endpoint's queries run directly (shouhou bench-sql, 2 threads); % columns: req/s as a share of each ceiling"
echo "    and of the lower one (target >= 50 %); CPU us: the server's (or bench-sql's) user+system CPU time per request (or op)"
printf '| %-8s | %-34s | %9s | %8s | %8s | %6s | %7s | %9s | %7s | %7s | %7s | %9s |\n' backend scenario "req/s" p50 p99 non2xx \
  "CPU us" "SQL ops/s" "SQL us" "%healthz" "%SQL" "%lower"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------- ------------------------------------ ----------- ---------- \
  ---------- -------- --------- ----------- --------- --------- --------- -----------
for b in $BACKENDS; do
  case $b in
    sqlite) run_backend sqlite "$TMP/bench.db" "$SCALE" ;;
    postgres) run_backend postgres "$(scripts/pg.sh start "$TMP/pg" | tail -1)" "$PG_SCALE" ;;
  esac
done
# Bulk import (issue 3): BENCH_IMPORT_ROWS install-base rows (scripts/gen_import_csv.py) through
# `shouhou import` (the API job's code on the calling thread) into the fixed demo data; rows/s wall and
# CPU us per row. 0 skips it.
IMPORT_ROWS=${BENCH_IMPORT_ROWS:-200000}
if [ "$IMPORT_ROWS" -gt 0 ]; then
  echo
  echo "=== bulk import: $IMPORT_ROWS install-base rows (owner found or created, asset, 3 timeline events, purchase)"
  python3 scripts/gen_import_csv.py "$IMPORT_ROWS" "$TMP/import.csv"
  for b in $BACKENDS; do
    case $b in
      sqlite) IDB="$TMP/import.db" ;;
      postgres) IDB="$(scripts/pg.sh start "$TMP/pg-import" | tail -1)" ;;  # a fresh server
    esac
    $BUILD/shouhou --db "$IDB" demo >/dev/null
    out=$( { /usr/bin/time -f 'cpu_s=%U %S' $BUILD/shouhou --db "$IDB" import --kind install_base "$TMP/import.csv"; } 2>&1 )
    awk -v b="$b" -v load="$(cut -d' ' -f1 /proc/loadavg)" '/^import [0-9]+ / {line = $0} /^cpu_s=/ {cpu = substr($1, 7) + $2}
      END {n = 0; if (match(line, /: [0-9]+ rows/)) n = substr(line, RSTART + 2, RLENGTH - 7);
           printf "| %-8s | %s | CPU %.1f s = %.0f us/row | load %s |\n", b, line, cpu, (n > 0 ? 1e6 * cpu / n : 0), load}' <<<"$out"
    if [ "$b" = postgres ]; then scripts/pg.sh stop "$TMP/pg-import" >/dev/null 2>&1 || true; fi
  done
fi

echo
echo "=== data sets"
cat "$TMP/gen-summary"
if [ -s "$TMP/cti-inproc" ]; then
  echo
  echo "=== screen pop in-process on the SQLite data set"
  cat "$TMP/cti-inproc"
fi
echo
echo "=== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
