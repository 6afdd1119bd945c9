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
#   BENCH_BUILD=build/bench          release build dir to use
# See docs/BENCHMARKS.md for the latest figures.
set -euo pipefail
cd "$(dirname "$0")/.."
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
  for _ in $(seq 1 600); do [ -s "$TMP/port" ] && break; sleep 0.1; done
  PORT=$(cat "$TMP/port")
}
stop() { kill "$PID"; wait "$PID" || true; PID=; }

HEALTHZ_RPS=
SQL_OPS=
# scenario NAME URL [wrk args...]: prints a table row; ratios against
# HEALTHZ_RPS and SQL_OPS when set.
scenario() {
  local name=$1 url=$2; shift 2
  local out rps p50 p99 bad ratio_h="" ratio_s=""
  out=$(wrk -c64 -t2 -d"${DUR}s" --latency "$url" "$@")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  [ -n "$HEALTHZ_RPS" ] && ratio_h=$(awk -v a="$rps" -v b="$HEALTHZ_RPS" 'BEGIN {printf "%.0f%%", 100*a/b}')
  [ -n "$SQL_OPS" ] && ratio_s=$(awk -v a="$rps" -v b="$SQL_OPS" 'BEGIN {printf "%.0f%%", 100*a/b}')
  printf '| %-8s | %-34s | %9s | %8s | %8s | %6s | %9s | %7s | %7s |\n' "$BACKEND" "$name" "$rps" "$p50" "$p99" \
    "${bad:-0}" "${SQL_OPS:--}" "${ratio_h:--}" "${ratio_s:--}"
  LAST_RPS=$rps
}

# sql SCENARIO KEYFILE: the storage ceiling of an endpoint (2 threads).
sql() {
  SQL_OPS=$($BUILD/shouhou --db "$DB_URL" bench-sql "$1" --seconds "$DUR" --threads 2 --keys "$2" 2>>"$TMP/sql.log" |
    sed -n 's/.*ops\/s=\([0-9]*\).*/\1/p')
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
  else
    $BUILD/shouhou --db "$DB_URL" demo --scale "$SCALE" --seed "$SEED" >"$TMP/gen.log" 2>&1 ||
      { cat "$TMP/gen.log" >&2; exit 1; }
    t1=$(date +%s)
    echo "| $BACKEND | generate --scale $SCALE: $(grep '^generated' "$TMP/gen.log" | sed 's/^generated //') (wall $((t1 - t0)) s) |" >>"$TMP/gen-summary"
  fi
  $BUILD/shouhou --db "$DB_URL" bench-sql keys --keys "$TMP/keys" >/dev/null
  printf '?state=%s&type=repair&limit=50\n' closed completed dispatched created >"$TMP/keys/list_queries.txt"
  head -1 "$TMP/keys/org_paths.txt" >"$TMP/keys/hq_path.txt"
  serve "$DB_URL"
  local login cookie csrf base="http://127.0.0.1:$PORT"
  login=$(curl -s -i -H 'content-type: application/json' -d '{"username":"admin","password":"shouhou"}' "$base/api/v1/auth/login")
  cookie=$(awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}' <<<"$login" | tr -d '\r')
  csrf=$(sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p' <<<"$login")
  local auth=(-H "Cookie: $cookie" -H "X-CSRF-Token: $csrf")
  local keys=scripts/bench/keys.lua

  HEALTHZ_RPS= SQL_OPS=
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
    sql order-create "$TMP/keys/serials.txt"  # the server is idle meanwhile
    scenario "order create POST /service-orders" "$base" "${auth[@]}" -s scripts/bench/order_create.lua -- "$TMP/keys/serials.txt"
  else
    echo "| $BACKEND | (no service orders in the data set: order scenarios skipped) |"
  fi
  SQL_OPS=
  stop
}

echo
echo "=== HTTP (wrk -c64 -t2 -d${DUR}s), data sets: SQLite --scale $SCALE, PostgreSQL --scale $PG_SCALE (seed $SEED), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "    SQL ops/s: the endpoint's queries run directly (shouhou bench-sql, 2 threads); % columns: req/s as a share of each ceiling"
printf '| %-8s | %-34s | %9s | %8s | %8s | %6s | %9s | %7s | %7s |\n' backend scenario "req/s" p50 p99 non2xx "SQL ops/s" "%healthz" "%SQL"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------- ------------------------------------ ----------- ---------- ---------- -------- ----------- --------- ---------
for b in $BACKENDS; do
  case $b in
    sqlite) run_backend sqlite "$TMP/bench.db" "$SCALE" ;;
    postgres) run_backend postgres "$(scripts/pg.sh start "$TMP/pg" | tail -1)" "$PG_SCALE" ;;
  esac
done
echo
echo "=== data sets"
cat "$TMP/gen-summary"
