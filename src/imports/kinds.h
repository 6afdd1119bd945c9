// The import kinds: which columns each accepts and how one row is validated
// and written through the owning module's functions (internal to imports).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/api.h"
#include "core/reason.h"
#include "imports/tabular.h"

namespace shouhou::imports {

struct Column {
  std::string key;                   // canonical name (English, snake_case)
  std::vector<std::string> aliases;  // Chinese headers accepted too
  bool required = false;             // the header must have it
};

enum class Outcome { created, updated, unchanged, skipped };

// One data row, cells addressed by canonical column key.
class RowView {
 public:
  RowView(const Record& r, const std::map<std::string, int>& idx) : r_(r), idx_(idx) {}
  // The trimmed cell ("" when absent).
  std::string get(const std::string& key) const;
  std::optional<std::string> opt(const std::string& key) const {
    auto v = get(key);
    return v.empty() ? std::nullopt : std::optional<std::string>(v);
  }
  bool blank() const;
  int64_t row() const { return r_.row; }

 private:
  const Record& r_;
  const std::map<std::string, int>& idx_;
};

// One row of a batch written by Kind::apply_batch.
struct RowResult {
  std::optional<Error> error;  // a bad row: nothing of it was written
  Outcome outcome = Outcome::unchanged;
  int64_t id = 0;
  std::vector<int64_t> created_customers;  // created on the side (install base owners)
};

class Kind {
 public:
  virtual ~Kind() = default;
  virtual const std::vector<Column>& columns() const = 0;
  // The permission the kind's records need besides import.run.
  virtual const char* permission() const = 0;
  // Validates and writes one row in tx (inside a savepoint). An error's
  // field is the column at fault.
  virtual Result<std::pair<Outcome, int64_t>> apply(api::WriteTx& tx, const RowView& row) = 0;
  // The fast path for a whole batch (multi-row statements): one result per
  // row (rows are not blank), bad rows with their error and nothing of them
  // written. false: the kind has none (the runner calls apply per row). An
  // error fails the batch: the runner rolls it back and runs it again row by
  // row with apply.
  virtual Result<bool> apply_batch(api::WriteTx&, const std::vector<RowView>&, std::vector<RowResult>&) {
    return false;
  }
  // Per-batch lookup caches (and deferred work) are dropped between batches
  // and when a batch is rolled back.
  virtual void new_batch() = 0;
  // A row was rolled back: drop cached ids it may have created.
  virtual void row_failed() {}
  // Writes what the batch's rows deferred, in the batch's transaction.
  virtual Result<void> finish_batch(api::WriteTx&) { return {}; }
  // The entity name used in the batch audit row.
  virtual const char* entity() const = 0;
  // Customers a row created on the side (install base owners); the runner
  // clears it before each row and audits them with the batch.
  std::vector<int64_t> created_customers;
};

// "customers", "products", "install_base"; nullptr for an unknown kind.
std::unique_ptr<Kind> make_kind(const std::string& kind);
const std::vector<std::string>& kind_names();

// Maps the header row to column keys; errors name the missing column.
Result<std::map<std::string, int>> map_header(const Kind& k, const std::vector<std::string>& header);

// ---- bad-row reasons (reasons.cpp; core/reason.h) ----
// A bad row: the error whose message is the English text of (code, args)
// from the import's catalogue and whose field is the column at fault.
Error bad_row(const std::string& column, const char* code, std::vector<std::pair<std::string, std::string>> args = {},
              Error::Code kind = Error::Code::invalid);
// A bad row's error as a reason: its code and arguments when the message is a
// catalogue text (the import's checks, the install base rules it applies);
// "not_stored" for database errors; else "other" with {message}.
Reason reason_of(const Error& e);
// lang "en" (the API's reason) or "zh-CN"; columns and statuses in Chinese.
std::string reason_text(const Reason& r, std::string_view lang);
bool reason_known(std::string_view code);

// Shared cell parsers (errors name the column).
Result<std::optional<std::string>> date_cell(const RowView& r, const std::string& key);
Result<std::optional<int64_t>> yuan_cell(const RowView& r, const std::string& key);  // "3,999.50" -> 399950 fen

}  // namespace shouhou::imports
