# Shared pieces of the HTTP benchmarks (sourced by scripts/bench.sh and
# scripts/bench/order_create.sh): start a release server, log in, run wrk
# and read its figures together with the server's own CPU time per request.

# bench_serve BINARY DB_URL DIR [serve options...]: `shouhou serve --demo` on
# DB_URL (access log off), port file and log in DIR; sets BENCH_PID and BENCH_PORT.
bench_serve() {
  local bin=$1 db=$2 dir=$3
  shift 3
  rm -f "$dir/port"
  SHOUHOU_ACCESS_LOG=0 "$bin" --db "$db" serve --port 0 --address 127.0.0.1 --port-file "$dir/port" \
    --web web/dist --demo "$@" >"$dir/server.log" 2>&1 &
  BENCH_PID=$!
  for _ in $(seq 1 600); do [ -s "$dir/port" ] && break; sleep 0.1; done
  [ -s "$dir/port" ] || { echo "server did not start:" >&2; cat "$dir/server.log" >&2; return 1; }
  BENCH_PORT=$(cat "$dir/port")
}

# bench_login BASE_URL [user] [password]: sets BENCH_AUTH=(-H Cookie -H X-CSRF-Token) for wrk/curl.
bench_login() {
  local login cookie csrf
  login=$(curl -s -i -H 'content-type: application/json' \
    -d "{\"username\":\"${2:-admin}\",\"password\":\"${3:-shouhou}\"}" "$1/api/v1/auth/login")
  cookie=$(awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}' <<<"$login" | tr -d '\r')
  csrf=$(sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p' <<<"$login")
  [ -n "$cookie" ] || { echo "login as ${2:-admin} failed: $login" >&2; return 1; }
  BENCH_AUTH=(-H "Cookie: $cookie" -H "X-CSRF-Token: $csrf")
}

# CPU seconds (user + system) a process has used so far, from /proc.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# bench_wrk PID SECONDS URL [wrk args...]: wrk -c64 -t2 --latency against the
# server PID; sets W_RPS, W_P50, W_P99, W_BAD (non-2xx), W_REQS and W_CPU_US
# (the server's user+system CPU per request across the run: on a shared
# machine it does not depend on what else runs, unlike req/s); W_OUT: wrk's output.
bench_wrk() {
  local pid=$1 dur=$2 c0 c1
  shift 2
  c0=$(cpu_s "$pid")
  W_OUT=$(wrk -c64 -t2 -d"${dur}s" --latency "$@")
  c1=$(cpu_s "$pid")
  W_RPS=$(awk '/Requests\/sec/ {print $2}' <<<"$W_OUT")
  W_REQS=$(awk '/requests in/ {print $1}' <<<"$W_OUT")
  W_P50=$(awk '$1=="50%" {print $2}' <<<"$W_OUT")
  W_P99=$(awk '$1=="99%" {print $2}' <<<"$W_OUT")
  W_BAD=$(awk '/Non-2xx/ {print $NF}' <<<"$W_OUT")
  W_BAD=${W_BAD:-0}
  W_CPU_US=$(awk -v a="$c0" -v b="$c1" -v n="$W_REQS" 'BEGIN {if (n > 0) printf "%.0f", 1e6 * (b - a) / n}')
}
