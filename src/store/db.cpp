// Backend-independent parts of the storage layer: value conversions, opening
// by URL, DDL translation and schema migrations.
#include "store/db.h"

#include "core/util.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "store/backend.h"

namespace shouhou::store {

namespace detail {

std::string format_double(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return std::to_string(v);
  return std::string(buf, end);
}

}  // namespace detail

namespace {

int64_t clamp_to_int64(double v) {
  if (std::isnan(v)) return 0;
  // 2^63 is exactly representable; anything at or past it would overflow.
  if (v >= 9223372036854775808.0) return std::numeric_limits<int64_t>::max();
  if (v < -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

int64_t Row::i(size_t idx) const {
  const Value& v = cols.at(idx);
  if (auto p = std::get_if<int64_t>(&v)) return *p;
  if (auto p = std::get_if<double>(&v)) return clamp_to_int64(*p);
  if (auto p = std::get_if<std::string>(&v)) {
    std::string_view t = trim(*p);
    int64_t out = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    if (ec == std::errc() && end == t.data() + t.size()) return out;
    // "12.0" or "1e3": go through double rather than reading a prefix.
    std::string copy(t);
    char* e = nullptr;
    double d = std::strtod(copy.c_str(), &e);
    if (e && e != copy.c_str() && *e == '\0') return clamp_to_int64(d);
    return 0;
  }
  return 0;
}

double Row::d(size_t idx) const {
  const Value& v = cols.at(idx);
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  if (auto p = std::get_if<std::string>(&v)) {
    std::string copy(trim(*p));
    char* e = nullptr;
    double d = std::strtod(copy.c_str(), &e);
    if (e && e != copy.c_str() && *e == '\0') return d;
    return 0;
  }
  return 0;
}

std::string Row::s(size_t idx) const {
  const Value& v = cols.at(idx);
  if (auto p = std::get_if<std::string>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (auto p = std::get_if<double>(&v)) return detail::format_double(*p);
  return {};
}

nlohmann::json Rows::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const Row& r : rows) {
    nlohmann::json o = nlohmann::json::object();
    for (size_t c = 0; c < columns.size() && c < r.cols.size(); ++c) {
      const Value& v = r.cols[c];
      if (auto p = std::get_if<int64_t>(&v)) o[columns[c]] = *p;
      else if (auto p = std::get_if<double>(&v)) o[columns[c]] = *p;
      else if (auto p = std::get_if<std::string>(&v)) o[columns[c]] = *p;
      else o[columns[c]] = nullptr;
    }
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::optional<Row>> Conn::one(std::string_view sql, const Params& params) {
  auto rows = TRY(query(sql, params));
  if (rows.rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows.rows.front()));
}

Result<std::unique_ptr<Database>> Database::open(const std::string& url, const Options& opts) {
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return detail::open_postgres(url, opts);
  std::string path = url;
  if (path.rfind("sqlite://", 0) == 0) path.erase(0, 9);
  else if (path.rfind("sqlite:", 0) == 0) path.erase(0, 7);
  if (path.empty()) return Error::invalid("database path is empty", "db");
  return detail::open_sqlite(path, opts);
}

// One process (SQLite): nobody else to tell.
Result<void> notify(Database& db, const std::string& channel, const std::string& payload) {
  if (db.dialect() == Dialect::sqlite) return {};
  return detail::pg_notify(db, channel, payload);
}

Result<std::unique_ptr<Listening>> listen(Database& db, const std::string& channel,
                                          std::function<void(const std::string&)> fn, std::function<void()> on_gap) {
  if (db.dialect() == Dialect::sqlite)
    return Error::unavailable("notifications between processes need PostgreSQL; " + db.describe() + " serves one process");
  return detail::pg_listen(db, channel, std::move(fn), std::move(on_gap));
}

int64_t now_ms() { return shouhou::now_ms(); }  // honours ScopedClock (core/util.h)

// ---------------------------------------------------------------------------
// DDL translation

namespace {

enum class Tok { word, space, comment, string, ident, punct };

struct Token {
  Tok kind;
  std::string text;
  int depth = 0;       // parenthesis depth at the token
  bool drop = false;
};

// Splits SQL into tokens so keywords inside strings, quoted identifiers and
// comments are never rewritten.
std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0, n = s.size();
  int depth = 0;
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80); };
  while (i < n) {
    char c = s[i];
    size_t start = i;
    Tok kind;
    if (std::isspace(static_cast<unsigned char>(c))) {
      while (i < n && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      kind = Tok::space;
    } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      while (i < n && s[i] != '\n') ++i;
      kind = Tok::comment;
    } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      size_t e = s.find("*/", i + 2);
      i = e == std::string_view::npos ? n : e + 2;
      kind = Tok::comment;
    } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
      char close = c == '[' ? ']' : c;
      ++i;
      while (i < n) {
        if (s[i] == close) {
          // A doubled quote is an escaped quote, not the end.
          if (close != ']' && i + 1 < n && s[i + 1] == close) { i += 2; continue; }
          ++i;
          break;
        }
        ++i;
      }
      kind = c == '\'' ? Tok::string : Tok::ident;
    } else if (is_word(c)) {
      while (i < n && is_word(s[i])) ++i;
      kind = Tok::word;
    } else {
      ++i;
      kind = Tok::punct;
      if (c == ')') --depth;
    }
    out.push_back({kind, std::string(s.substr(start, i - start)), depth});
    if (kind == Tok::punct && c == '(') ++depth;
  }
  return out;
}

bool word_is(const Token& t, std::string_view upper) {
  if (t.kind != Tok::word || t.text.size() != upper.size()) return false;
  for (size_t i = 0; i < upper.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(t.text[i])) != upper[i]) return false;
  return true;
}

bool trivia(const Token& t) { return t.kind == Tok::space || t.kind == Tok::comment; }

// Index of the next token that is not whitespace/comment/dropped, or npos.
size_t next_sig(const std::vector<Token>& t, size_t i) {
  for (++i; i < t.size(); ++i)
    if (!trivia(t[i]) && !t[i].drop) return i;
  return std::string::npos;
}
size_t prev_sig(const std::vector<Token>& t, size_t i) {
  while (i-- > 0)
    if (!trivia(t[i]) && !t[i].drop) return i;
  return std::string::npos;
}

void drop_with_leading_space(std::vector<Token>& t, size_t i) {
  t[i].drop = true;
  if (i > 0 && t[i - 1].kind == Tok::space) t[i - 1].drop = true;
}

}  // namespace

std::string translate_ddl(std::string_view sql, Dialect d) {
  if (d == Dialect::sqlite) return std::string(sql);
  std::vector<Token> t = tokenize(sql);
  constexpr size_t npos = std::string::npos;

  // Table options after the closing parenthesis: STRICT, WITHOUT ROWID.
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].depth != 0 || t[i].kind != Tok::word) continue;
    if (word_is(t[i], "STRICT")) {
      drop_with_leading_space(t, i);
    } else if (word_is(t[i], "WITHOUT")) {
      size_t j = next_sig(t, i);
      if (j != npos && word_is(t[j], "ROWID")) {
        drop_with_leading_space(t, i);
        for (size_t k = i + 1; k <= j; ++k) t[k].drop = true;
      }
    }
  }
  // Commas that separated the dropped options: ") STRICT, WITHOUT ROWID".
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].drop || t[i].depth != 0 || t[i].kind != Tok::punct || t[i].text != ",") continue;
    size_t p = prev_sig(t, i), n = next_sig(t, i);
    bool after_paren = p != npos && t[p].kind == Tok::punct && t[p].text == ")";
    bool at_end = n == npos || (t[n].kind == Tok::punct && (t[n].text == ";" || t[n].text == ","));
    if (after_paren && at_end) drop_with_leading_space(t, i);
  }

  std::string out;
  out.reserve(sql.size() + 64);
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].drop) continue;
    if (t[i].kind != Tok::word) { out += t[i].text; continue; }
    if (word_is(t[i], "INTEGER")) {
      size_t a = next_sig(t, i);
      size_t b = a == npos ? npos : next_sig(t, a);
      if (b != npos && word_is(t[a], "PRIMARY") && word_is(t[b], "KEY")) {
        out += "BIGINT GENERATED BY DEFAULT AS IDENTITY";
        // AUTOINCREMENT is SQLite's "never reuse ids", which identity already is.
        size_t c = next_sig(t, b);
        if (c != npos && word_is(t[c], "AUTOINCREMENT")) drop_with_leading_space(t, c);
      } else {
        out += "BIGINT";
      }
    } else if (word_is(t[i], "BLOB")) {
      out += "BYTEA";
    } else if (word_is(t[i], "REAL")) {
      out += "DOUBLE PRECISION";
    } else {
      out += t[i].text;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Migrations

namespace {

std::string fnv1a_hex(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Serialises migrators across processes sharing one PostgreSQL database; the
// lock is released with the transaction. (SQLite's BEGIN IMMEDIATE already is
// such a lock.) The value is arbitrary but fixed: "shouhou" in ASCII.
constexpr const char* kPgMigrateLock = "SELECT pg_advisory_xact_lock(32484450242162549)";

constexpr const char* kMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
    "  module TEXT NOT NULL,\n"
    "  version INTEGER NOT NULL,\n"
    "  name TEXT NOT NULL,\n"
    "  checksum TEXT NOT NULL,\n"
    "  applied_at INTEGER NOT NULL,\n"
    "  PRIMARY KEY (module, version)\n"
    ")";

Result<void> run_script(Conn& c, const std::string& sql) {
  if (auto* sc = dynamic_cast<detail::ScriptConn*>(&c)) return sc->exec_script(sql);
  return Error::internal("connection cannot run migration scripts");
}

Error checksum_mismatch(const Migration& m, const std::string& recorded, const std::string& now) {
  return Error::internal("migration " + m.module + "/" + std::to_string(m.version) + " (" + m.name +
                         ") was changed after it was applied: recorded checksum " + recorded + ", now " + now +
                         "; add a new migration instead of editing an applied one");
}

}  // namespace

Result<int> migrate(Database& db, const std::vector<Migration>& migrations) {
  const Dialect dialect = db.dialect();
  std::set<std::pair<std::string, int>> seen;
  for (const auto& m : migrations) {
    if (m.module.empty()) return Error::internal("migration without a module name");
    if (!seen.insert({m.module, m.version}).second)
      return Error::internal("duplicate migration " + m.module + "/" + std::to_string(m.version));
  }

  TRY_VOID(db.write([&](Conn& c) -> Result<void> {
    if (dialect == Dialect::postgres) TRY(c.query(kPgMigrateLock));
    TRY_VOID(run_script(c, translate_ddl(kMigrationsTable, dialect)));
    // SQLite's instr() is the portable substring test modules use (no LIKE
    // escaping of user text); PostgreSQL gets the same function.
    if (dialect == Dialect::postgres)
      TRY_VOID(run_script(c, "CREATE OR REPLACE FUNCTION instr(text, text) RETURNS integer "
                             "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT strpos($1, $2)'"));
    return {};
  }));

  std::map<std::pair<std::string, int>, std::string> applied;
  TRY_VOID(db.read([&](Conn& c) -> Result<void> {
    applied.clear();
    auto rows = TRY(c.query("SELECT module, version, checksum FROM schema_migrations"));
    for (const auto& r : rows) applied[{r.s(0), static_cast<int>(r.i(1))}] = r.s(2);
    return {};
  }));

  // Refuse before changing anything if history was rewritten.
  for (const auto& m : migrations) {
    auto it = applied.find({m.module, m.version});
    if (it != applied.end() && it->second != fnv1a_hex(m.sql)) return checksum_mismatch(m, it->second, fnv1a_hex(m.sql));
  }

  int count = 0;
  for (const auto& m : migrations) {
    if (applied.count({m.module, m.version})) continue;
    const std::string sum = fnv1a_hex(m.sql);
    bool did = false;
    auto r = db.write([&](Conn& c) -> Result<void> {
      did = false;
      if (dialect == Dialect::postgres) TRY(c.query(kPgMigrateLock));
      // Another process may have applied it since we looked.
      auto row = TRY(c.one("SELECT checksum FROM schema_migrations WHERE module = ? AND version = ?",
                           {m.module, int64_t(m.version)}));
      if (row) {
        if (row->s(0) != sum) return checksum_mismatch(m, row->s(0), sum);
        return {};
      }
      TRY_VOID(run_script(c, translate_ddl(m.sql, dialect)));
      TRY(c.exec("INSERT INTO schema_migrations (module, version, name, checksum, applied_at) VALUES (?, ?, ?, ?, ?)",
                 {m.module, int64_t(m.version), m.name, sum, now_ms()}));
      did = true;
      return {};
    });
    if (!r) {
      Error e = std::move(r).error();
      e.message = "migration " + m.module + "/" + std::to_string(m.version) + " (" + m.name + "): " + e.message;
      return e;
    }
    if (did) ++count;
  }
  return count;
}

}  // namespace shouhou::store
