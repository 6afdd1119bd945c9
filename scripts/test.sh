#!/usr/bin/env bash
# Every test: unit (SQLite and PostgreSQL), API integration against real
# `shouhou serve` processes on both backends (incl. the kill -9 test), and
# browser tests in headless Chromium. Builds with ASan+UBSan.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=build/asan
JOBS=${JOBS:-$(nproc)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Server processes started by API/browser tests keep quiet (unit tests check the log itself).
QUIET_ACCESS_LOG=${SHOUHOU_ACCESS_LOG:-0}

declare -a RESULTS=()
failed=0; passed=0
step() {  # step NAME CMD...
  local name=$1; shift
  echo; echo "=== $name"
  local t0=$SECONDS
  if "$@"; then passed=$((passed+1)); RESULTS+=("PASS $name ($((SECONDS-t0))s)")
  else failed=$((failed+1)); RESULTS+=("FAIL $name ($((SECONDS-t0))s)"); fi
}

set -e
cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSHOUHOU_SANITIZE=ON >/dev/null
ninja -C $BUILD -j"$JOBS"
scripts/web.sh
set +e

TMP=$(mktemp -d /tmp/shouhou-test.XXXXXX)
PGDIR=$TMP/pg
cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  scripts/pg.sh stop "$PGDIR" >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

PG_URL=$(scripts/pg.sh start "$PGDIR" | tail -1)
if [ -z "$PG_URL" ]; then echo "could not start PostgreSQL"; exit 1; fi
echo "PostgreSQL for tests: $PG_URL"

step "unit tests (SQLite)" $BUILD/unit_tests --gtest_brief=1
step "unit tests (PostgreSQL)" env SHOUHOU_TEST_PG="$PG_URL" $BUILD/unit_tests --gtest_brief=1
step "API tests (SQLite)" env SHOUHOU_ACCESS_LOG=$QUIET_ACCESS_LOG SHOUHOU_BINARY=$BUILD/shouhou SHOUHOU_TEST_TMP=$TMP $BUILD/api_tests --gtest_brief=1
step "API tests (PostgreSQL)" env SHOUHOU_ACCESS_LOG=$QUIET_ACCESS_LOG SHOUHOU_BINARY=$BUILD/shouhou SHOUHOU_TEST_TMP=$TMP SHOUHOU_TEST_PG="$PG_URL" $BUILD/api_tests --gtest_brief=1

browser_tests() {
  (cd tests/browser && { [ -d node_modules ] && [ ! package-lock.json -nt node_modules/.package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }) || return 1
  rm -f "$TMP/port"
  SHOUHOU_ACCESS_LOG=$QUIET_ACCESS_LOG $BUILD/shouhou --db "$TMP/browser.db" serve --port 0 --port-file "$TMP/port" --web web/dist --demo >"$TMP/browser-server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do [ -s "$TMP/port" ] && break; sleep 0.1; done
  [ -s "$TMP/port" ] || { cat "$TMP/browser-server.log"; return 1; }
  SHOUHOU_URL="http://127.0.0.1:$(cat "$TMP/port")" node --test --test-concurrency=1 tests/browser/
  local rc=$?
  kill "$SERVER_PID"; wait "$SERVER_PID"; local src=$?
  SERVER_PID=
  [ $rc -eq 0 ] || tail -50 "$TMP/browser-server.log"
  [ $src -eq 0 ] || { echo "server exited with $src"; tail -50 "$TMP/browser-server.log"; return 1; }
  return $rc
}
step "browser tests (Chromium)" browser_tests

echo
echo "=== summary"
printf '%s\n' "${RESULTS[@]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
