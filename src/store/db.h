// The repository layer's one storage interface, with two backends:
// SQLite (embedded default; WAL, one writer connection, pooled readers) and
// PostgreSQL (libpq, pooled connections).
//
// SQL is written once, in the portable subset both engines accept, with `?`
// placeholders (the PostgreSQL backend rewrites them to $n). Integers are
// int64, money is integer fen, times are int64 milliseconds since the Unix
// epoch, UTC. Booleans are 0/1 integers. instr(haystack, needle) exists on both (migrate()
// defines it on PostgreSQL) and is the substring test for user text.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/result.h"

namespace shouhou::store {

enum class Dialect { sqlite, postgres };

// NULL, integer, real, text (blobs travel as text holding raw bytes).
using Value = std::variant<std::monostate, int64_t, double, std::string>;

struct Row {
  std::vector<Value> cols;
  bool null(size_t i) const { return std::holds_alternative<std::monostate>(cols.at(i)); }
  int64_t i(size_t i) const;              // NULL -> 0; text parsed
  double d(size_t i) const;
  std::string s(size_t i) const;          // NULL -> ""; numbers formatted
  std::optional<int64_t> oi(size_t i) const { return null(i) ? std::nullopt : std::optional<int64_t>(this->i(i)); }
  std::optional<std::string> os(size_t i) const { return null(i) ? std::nullopt : std::optional<std::string>(s(i)); }
};

struct Rows {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
  const Row& operator[](size_t i) const { return rows[i]; }
  auto begin() const { return rows.begin(); }
  auto end() const { return rows.end(); }
  // Each row as a JSON object keyed by column name (values typed as stored).
  nlohmann::json to_json() const;
};

using Params = std::vector<Value>;

// A connection inside a read snapshot or a write transaction. Not thread-safe;
// only valid during the callback that received it.
class Conn {
 public:
  virtual ~Conn() = default;
  virtual Result<Rows> query(std::string_view sql, const Params& params = {}) = 0;
  // Returns the number of rows changed.
  virtual Result<int64_t> exec(std::string_view sql, const Params& params = {}) = 0;
  virtual Dialect dialect() const = 0;

  // Convenience: first row of a query, or std::nullopt when there is none.
  Result<std::optional<Row>> one(std::string_view sql, const Params& params = {});
};

struct Options {
  int readers = 8;              // SQLite reader connections / PostgreSQL pool size
  bool synchronous_full = true; // SQLite: fsync each commit (power-loss safe)
  int busy_timeout_ms = 5000;
};

class Database {
 public:
  virtual ~Database() = default;

  // "postgresql://..." or "postgres://..." opens PostgreSQL; anything else is
  // an SQLite file path (an optional "sqlite:" prefix is stripped).
  static Result<std::unique_ptr<Database>> open(const std::string& url, const Options& opts = {});

  // Runs fn on a read-only connection (a consistent snapshot).
  virtual Result<void> read(const std::function<Result<void>(Conn&)>& fn) = 0;
  // Runs fn inside one write transaction; commits if fn succeeds, rolls back
  // if it returns an error or throws. Writers are serialised on SQLite.
  virtual Result<void> write(const std::function<Result<void>(Conn&)>& fn) = 0;

  virtual Dialect dialect() const = 0;
  virtual std::string describe() const = 0;      // "sqlite:/path" or "postgresql://host:port/db" (no password)
  virtual Result<void> ping() = 0;
  virtual Result<std::string> integrity_check() = 0;  // "ok" or the problems found
  virtual Result<void> backup(const std::string& dest_path) = 0;
  virtual nlohmann::json stats() const = 0;      // pool figures for /metrics

  // Typed wrappers: the callback returns Result<T>.
  template <typename F>
  auto read_as(F&& f) -> decltype(f(std::declval<Conn&>())) {
    return run_as(true, std::forward<F>(f));
  }
  template <typename F>
  auto write_as(F&& f) -> decltype(f(std::declval<Conn&>())) {
    return run_as(false, std::forward<F>(f));
  }

 private:
  template <typename F>
  auto run_as(bool ro, F&& f) -> decltype(f(std::declval<Conn&>())) {
    using R = decltype(f(std::declval<Conn&>()));
    std::optional<R> out;
    auto body = [&](Conn& c) -> Result<void> {
      out.emplace(f(c));
      if (!*out) return out->error();
      return {};
    };
    Result<void> r = ro ? read(body) : write(body);
    if (!r) return std::move(r).error();
    return std::move(*out);
  }
};

// A versioned schema change owned by one module. Migrations are written in
// SQLite syntax restricted to what PostgreSQL also accepts; the PostgreSQL
// backend maps INTEGER -> BIGINT, INTEGER PRIMARY KEY -> identity, BLOB ->
// BYTEA, REAL -> DOUBLE PRECISION and drops STRICT.
struct Migration {
  std::string module;
  int version;
  std::string name;
  std::string sql;  // may hold several statements separated by ';'
};

// Applies, in order, each migration not yet recorded in schema_migrations.
// Returns the number applied. Fails if a recorded migration's checksum differs.
Result<int> migrate(Database& db, const std::vector<Migration>& migrations);

// Translates migration DDL for the dialect (exposed for tests).
std::string translate_ddl(std::string_view sql, Dialect d);

// Milliseconds since the Unix epoch, UTC.
int64_t now_ms();

}  // namespace shouhou::store
