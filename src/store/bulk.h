// Multi-row statements for bulk writers (imports, generated data): one
// statement per up to 64 rows instead of one per row, which is a round trip
// each on PostgreSQL and a statement run (bind, step, reset) each on SQLite.
// Chunks are powers of two (64, 32, ... 1 rows; IN lists are padded to a
// fixed width) so that only a few SQL texts per table reach the prepared-
// statement caches of both backends.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "store/db.h"

namespace shouhou::store {

constexpr size_t kBulkRows = 64;

// `head` VALUES (?,..),(?,..)...: head is "INSERT INTO t (a, b, c)", values
// holds rows * cols parameters, row after row. With returning_id the new ids
// come back in row order: both backends allocate ids in VALUES order (SQLite
// rowids, PostgreSQL identity sequences), so a chunk's RETURNING ids sorted
// ascending are its rows' ids whatever order the server returns them in.
// pg_types ("text,int8,...", one per column): on PostgreSQL the rows go in
// one INSERT ... SELECT FROM unnest() of one array parameter per column.
// values are moved from.
Result<std::vector<int64_t>> insert_rows(Conn& c, std::string_view head, size_t cols, Params&& values,
                                         bool returning_id, std::string_view pg_types = {});

// `before` IN (?, ...) `after` for every key, in chunks of 128 keys (a
// short last chunk is padded with its last key, which IN ignores). The rows
// of all chunks, concatenated; a key matching several rows gives them all.
Result<Rows> select_in(Conn& c, std::string_view before, const std::vector<Value>& keys, std::string_view after = {});

// Fresh planner statistics for a bulk writer whose tables grew (call after a
// batch when the rows written have grown by a factor, e.g. x4). SQLite plans
// with the row counts of the last ANALYZE (PRAGMA optimize when a process
// closes): tables analysed when they held 16 rows (fresh demo data) keep
// being scanned for `IN (...)` lookups once they hold 300,000, which made a
// 1,000,000-row import quadratic. A sampled ANALYZE (analysis_limit) costs
// tens of milliseconds whatever the size. PostgreSQL: nothing (autovacuum
// analyses growing tables).
Result<void> refresh_statistics(Conn& c);

}  // namespace shouhou::store
