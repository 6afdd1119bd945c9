// Bulk import (批量导入) of customers, products (product lines, models,
// components) and install base (sales and installations from the barcode /
// sales system) from CSV and XLSX.
//
// POST /api/v1/imports?kind=customers|products|install_base&filename=x.csv
// with the file as the raw body (or multipart/form-data with a "file" part
// and optional "kind" part) checks the file and its header at once (400
// naming the column / encoding), records the import and answers 202; the
// rows are processed on a background thread (Scheduler::spawn) in batches of
// kBatchRows rows, one write transaction per batch, so other writers
// interleave. Each row is all-or-nothing: good rows commit, bad rows are
// listed (GET /api/v1/imports/{id}/errors: row, column, reason in English,
// its stable code and arguments, and its text in en / zh-CN: reasons.cpp). Install-base
// batches check every row before writing and write the good ones with
// multi-row statements (Kind::apply_batch); other kinds, and any batch whose
// fast path fails, run row by row with a savepoint per row.
// On SQLite the planner statistics are refreshed as the tables grow
// (store::refresh_statistics after the first batch and at x4 the rows).
// Progress: GET /api/v1/imports/{id} (status, rows done/total, counts,
// percent) and WebSocket topic "imports" ({id, status, percent}).
//
// Idempotent: assets by serial, customers by code or normalised phone +
// name, products by code (position within a model): a row that matches what
// is stored counts as "unchanged" and writes nothing.
//
// Scope: records go to the importer's org unit or to the unit named in the
// row's org_unit column when the importer reaches it (else a bad row). The
// import itself belongs to the importer's unit (404 outside the scope).
// Audit: one audit row per import (create) and one per batch listing the ids
// of the records it created or changed.
//
// Tables: imports, import_errors.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "api/api.h"

namespace shouhou::imports {

api::Module module();

constexpr int64_t kBatchRows = 5000;
constexpr size_t kMaxStoredErrors = 10000;  // bad rows beyond are counted, not listed

struct Counts {
  int64_t total = 0, done = 0, created = 0, updated = 0, unchanged = 0, bad = 0, skipped = 0;
};

// Runs an import to completion on the calling thread (the CLI's `shouhou
// import`): records it in `imports` like the API does and processes every
// row. progress is called after each batch.
struct RunOptions {
  std::string kind, filename;
  int64_t batch_rows = kBatchRows;
  std::function<void(const Counts&)> progress;
};
Result<int64_t> run_file(api::Platform& p, const http::Principal& who, const RunOptions& o, const std::string& data,
                         Counts* out = nullptr);

// `shouhou import --kind K FILE`: runs the import as `username` (their scope
// and permissions), printing progress and the figures (rows/s) to stderr /
// stdout. p.bus must be wired.
Result<void> run_cli(api::Platform& p, const std::string& kind, const std::string& path, const std::string& username,
                     int64_t batch_rows);

}  // namespace shouhou::imports
