#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server for tests.
#
#   scripts/pg.sh start DIR   initdb into DIR/data, listen on a free port on
#                             127.0.0.1 (socket in DIR), create database
#                             "shouhou"; prints its URL as the last line and
#                             writes it to DIR/url
#   scripts/pg.sh stop DIR    stop the server and remove DIR
#
# Trust authentication and fsync=off: never for real data. As root the server
# runs as the `postgres` OS user (initdb refuses root).
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
DIR=$2

if [ "$(id -u)" -eq 0 ]; then
  OSUSER=postgres
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  OSUSER=$(id -un)
  as_pg() { "$@"; }
fi

port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    ss -Htln "sport = :$1" 2>/dev/null | grep -q .
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

start() {
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  if [ -e "$DIR/data/PG_VERSION" ]; then
    echo "pg.sh: $DIR/data already exists; stop it first" >&2
    exit 1
  fi
  if [ "$OSUSER" = postgres ] && [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$DIR"
    # The server user must be able to reach DIR: grant search (x, not read)
    # on ancestors that deny it, e.g. a 0700 mktemp directory.
    local d=$DIR
    while [ "$d" != / ]; do
      d=$(dirname "$d")
      if ! runuser -u postgres -- test -x "$d"; then
        echo "pg.sh: granting o+x on $d so the postgres user can reach $DIR" >&2
        chmod o+x "$d"
      fi
    done
  fi

  as_pg "$PGBIN/initdb" -D "$DIR/data" -U "$OSUSER" -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || {
    cat "$DIR/initdb.log" >&2
    exit 1
  }

  # Another process may take the port between the check and the bind, so a
  # failed start moves on to the next candidate.
  local port started=0 tries
  port=$((20000 + (RANDOM * 32768 + RANDOM) % 30000))
  for tries in $(seq 1 30); do
    port=$((port + 1))
    if port_in_use "$port"; then continue; fi
    if as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
      -o "-p $port -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      started=1
      break
    fi
  done
  if [ $started -ne 1 ]; then
    echo "pg.sh: could not start PostgreSQL; log:" >&2
    tail -30 "$DIR/server.log" >&2 || true
    exit 1
  fi

  as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U "$OSUSER" shouhou
  local url="postgresql://$OSUSER@127.0.0.1:$port/shouhou"
  echo "$url" >"$DIR/url"
  echo "$url"
}

stop() {
  [ -d "$DIR" ] || exit 0
  if [ -f "$DIR/data/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
