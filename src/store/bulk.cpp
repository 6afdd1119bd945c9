#include "store/bulk.h"

#include <algorithm>
#include <iterator>

namespace shouhou::store {

namespace {
std::string row_marks(size_t cols) {
  std::string s = "(";
  for (size_t i = 0; i < cols; ++i) s += i ? ",?" : "?";
  return s + ")";
}

// A PostgreSQL array literal of one column's values: {"a","b\"c",NULL,12}.
std::string pg_array(const Params& values, size_t cols, size_t col) {
  std::string out = "{";
  for (size_t i = col; i < values.size(); i += cols) {
    if (i != col) out += ',';
    const Value& v = values[i];
    if (std::holds_alternative<std::monostate>(v)) {
      out += "NULL";
    } else if (const auto* n = std::get_if<int64_t>(&v)) {
      out += std::to_string(*n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      out += std::to_string(*d);
    } else {
      out += '"';
      for (char ch : std::get<std::string>(v)) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
      }
      out += '"';
    }
  }
  return out + "}";
}
}  // namespace

Result<std::vector<int64_t>> insert_rows(Conn& c, std::string_view head, size_t cols, Params&& values,
                                         bool returning_id, std::string_view pg_types) {
  std::vector<int64_t> ids;
  if (cols == 0 || values.size() % cols != 0) return Error::internal("insert_rows: values do not fill whole rows");
  if (values.empty()) return ids;
  if (c.dialect() == Dialect::postgres && !pg_types.empty()) {
    // One statement whatever the rows: each column one array parameter. (A
    // VALUES list's NULLs are untyped parameters, and each pattern of them
    // is another prepared statement on PostgreSQL.)
    std::string sql(head);
    sql += " SELECT * FROM unnest(";
    Params arrays;
    size_t col = 0, at = 0;
    while (at <= pg_types.size()) {
      size_t comma = pg_types.find(',', at);
      std::string_view type = pg_types.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
      sql += col ? ", ?::" : "?::";
      sql += type;
      sql += "[]";
      arrays.emplace_back(pg_array(values, cols, col));
      ++col;
      if (comma == std::string_view::npos) break;
      at = comma + 1;
    }
    if (col != cols) return Error::internal("insert_rows: pg_types does not name every column");
    sql += ")";
    if (!returning_id) {
      TRY(c.exec(sql, arrays));
      return ids;
    }
    sql += " RETURNING id";
    auto out = TRY(c.query(sql, arrays));
    for (const auto& r : out) ids.push_back(r.i(0));
    std::sort(ids.begin(), ids.end());
    if (ids.size() != values.size() / cols) return Error::internal("insert_rows: RETURNING gave another number of rows");
    return ids;
  }
  size_t rows = values.size() / cols, done = 0;
  ids.reserve(returning_id ? rows : 0);
  const std::string marks = row_marks(cols);
  Params chunk;
  for (size_t n = kBulkRows; n >= 1 && done < rows; n /= 2) {
    while (rows - done >= n) {
      std::string sql(head);
      sql += " VALUES ";
      for (size_t i = 0; i < n; ++i) {
        if (i) sql += ',';
        sql += marks;
      }
      chunk.assign(std::make_move_iterator(values.begin() + static_cast<std::ptrdiff_t>(done * cols)),
                   std::make_move_iterator(values.begin() + static_cast<std::ptrdiff_t>((done + n) * cols)));
      if (returning_id) {
        sql += " RETURNING id";
        auto out = TRY(c.query(sql, chunk));
        if (out.size() != n) return Error::internal("insert_rows: RETURNING gave another number of rows");
        size_t first = ids.size();
        for (const auto& r : out) ids.push_back(r.i(0));
        std::sort(ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end());
      } else {
        TRY(c.exec(sql, chunk));
      }
      done += n;
    }
  }
  return ids;
}

Result<Rows> select_in(Conn& c, std::string_view before, const std::vector<Value>& keys, std::string_view after) {
  constexpr size_t kWidth = 128;
  Rows all;
  if (keys.empty()) return all;
  std::string sql(before);
  sql += " IN (";
  for (size_t i = 0; i < kWidth; ++i) sql += i ? ",?" : "?";
  sql += ")";
  sql += after;
  Params chunk;
  for (size_t at = 0; at < keys.size(); at += kWidth) {
    size_t end = std::min(keys.size(), at + kWidth);
    chunk.assign(keys.begin() + static_cast<std::ptrdiff_t>(at), keys.begin() + static_cast<std::ptrdiff_t>(end));
    while (chunk.size() < kWidth) chunk.push_back(chunk.back());
    auto rows = TRY(c.query(sql, chunk));
    if (all.columns.empty()) all.columns = std::move(rows.columns);
    for (auto& r : rows.rows) all.rows.push_back(std::move(r));
  }
  return all;
}

Result<void> refresh_statistics(Conn& c) {
  if (c.dialect() != Dialect::sqlite) return {};
  TRY(c.query("PRAGMA analysis_limit = 1000"));
  TRY(c.exec("ANALYZE"));
  return {};
}

}  // namespace shouhou::store
