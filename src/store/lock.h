// Row locks for read-then-write sequences, in one place for both backends.
// PostgreSQL runs writers concurrently at READ COMMITTED, so a check followed
// by an update must lock the rows it checked first (FOR UPDATE), and a queue
// taken by several servers skips rows another server holds (SKIP LOCKED).
// SQLite has one writer at a time and no such clauses: there both are no-ops.
#pragma once

#include <string>
#include <string_view>

#include "store/db.h"

namespace shouhou::store {

// Runs `select` with FOR UPDATE on PostgreSQL (locking the rows it matches
// until the transaction ends); does nothing on SQLite.
inline Result<void> lock_rows(Conn& c, std::string_view select, const Params& params = {}) {
  if (c.dialect() != Dialect::postgres) return {};
  TRY(c.query(std::string(select) + " FOR UPDATE", params));
  return {};
}

// The clause that makes a queue read skip rows other transactions hold
// (" FOR UPDATE SKIP LOCKED" on PostgreSQL, "" on SQLite).
inline std::string skip_locked(const Conn& c) {
  return c.dialect() == Dialect::postgres ? " FOR UPDATE SKIP LOCKED" : "";
}

}  // namespace shouhou::store
