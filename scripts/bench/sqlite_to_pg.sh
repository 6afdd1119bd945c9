#!/usr/bin/env bash
# Copies every table of a SQLite database into a PostgreSQL database migrated
# to the same schema version (e.g. by running the same binary's `migrate` or
# `demo` on it first), for benchmarking PostgreSQL on a data set generated on
# SQLite: `shouhou demo` writes row by row through the modules' functions,
# which on PostgreSQL costs a network round trip per statement (hours for
# 1,000,000 customers on a loaded 2-core machine) while SQLite does it in
# ~30 min. Foreign keys are not checked during the copy
# (session_replication_role=replica); identity sequences are moved past the
# copied ids, and the tables are ANALYZEd.
# Usage: scripts/bench/sqlite_to_pg.sh SQLITE_FILE POSTGRES_URL
set -euo pipefail
S=$1 PG=$2
tables=$(psql "$PG" -Atc "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'
                            AND table_type = 'BASE TABLE' AND table_name NOT LIKE '%migration%'")
psql "$PG" -qc "TRUNCATE $(echo $tables | tr ' ' ',') CASCADE"
for t in $tables; do
  if ! sqlite3 "$S" "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '$t'" | grep -q 1; then
    echo "skip $t (not in $S)"
    continue
  fi
  cols=$(psql "$PG" -Atc "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns
                           WHERE table_schema = 'public' AND table_name = '$t'")
  sqlite3 -csv "$S" "SELECT $cols FROM $t" |
    PGOPTIONS='-c session_replication_role=replica' psql "$PG" -qc "\copy $t($cols) FROM STDIN WITH (FORMAT csv)"
  if [ "$(psql "$PG" -Atc "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public'
                           AND table_name = '$t' AND column_name = 'id' AND is_identity = 'YES'")" = 1 ]; then
    psql "$PG" -qAtc "SELECT setval(pg_get_serial_sequence('$t', 'id'), greatest(1, (SELECT coalesce(max(id), 0) FROM $t)))" >/dev/null
  fi
done
psql "$PG" -qc "ANALYZE"
echo "copied $(echo $tables | wc -w) tables"
