#include "imports/imports.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>

#include <spdlog/spdlog.h>

#include "core/input.h"
#include "core/util.h"
#include "imports/kinds.h"
#include "imports/tabular.h"
#include "store/bulk.h"

namespace shouhou::imports {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

namespace {

constexpr size_t kMaxUpload = 64u << 20;  // also the route's body limit (http::Route::max_body_bytes)

struct Upload {
  std::string kind, filename;
  std::shared_ptr<std::string> data;
};

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// A parameter of a header value: boundary=..., name="...", filename="...".
std::string header_param(std::string_view h, std::string_view name) {
  size_t at = 0;
  while ((at = h.find(name, at)) != std::string_view::npos) {
    bool starts = at == 0 || h[at - 1] == ' ' || h[at - 1] == ';' || h[at - 1] == '\t';
    size_t eq = at + name.size();
    if (starts && eq < h.size() && h[eq] == '=') {
      ++eq;
      if (eq < h.size() && h[eq] == '"') {
        size_t end = h.find('"', eq + 1);
        return std::string(h.substr(eq + 1, end == std::string_view::npos ? std::string_view::npos : end - eq - 1));
      }
      size_t end = h.find(';', eq);
      std::string v(h.substr(eq, end == std::string_view::npos ? std::string_view::npos : end - eq));
      while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.pop_back();
      return v;
    }
    at = eq;
  }
  return {};
}

// multipart/form-data: the "file" part (with its filename) and an optional "kind" part.
Result<void> parse_multipart(const Request& req, const std::string& content_type, Upload& up) {
  std::string boundary = header_param(content_type, "boundary");
  if (boundary.empty()) return Error::invalid("multipart body without a boundary", "file");
  std::string delim = "--" + boundary;
  std::string_view b = req.body;
  size_t pos = b.find(delim);
  bool have_file = false;
  while (pos != std::string_view::npos) {
    pos += delim.size();
    if (b.compare(pos, 2, "--") == 0) break;
    if (b.compare(pos, 2, "\r\n") == 0) pos += 2;
    size_t head_end = b.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) return Error::invalid("malformed multipart body", "file");
    std::string_view head = b.substr(pos, head_end - pos);
    size_t next = b.find("\r\n" + delim, head_end + 4);
    if (next == std::string_view::npos) return Error::invalid("malformed multipart body (part not closed)", "file");
    std::string_view content = b.substr(head_end + 4, next - head_end - 4);
    std::string disp;
    size_t ls = 0;
    while (ls < head.size()) {
      size_t le = head.find("\r\n", ls);
      std::string_view line = head.substr(ls, le == std::string_view::npos ? std::string_view::npos : le - ls);
      if (lower(std::string(line.substr(0, 20))).rfind("content-disposition:", 0) == 0) disp = std::string(line);
      if (le == std::string_view::npos) break;
      ls = le + 2;
    }
    std::string name = header_param(disp, "name");
    if (name == "file") {
      up.data = std::make_shared<std::string>(content);
      std::string fn = header_param(disp, "filename");
      if (!fn.empty() && up.filename.empty()) up.filename = fn;
      have_file = true;
    } else if (name == "kind" && up.kind.empty()) {
      up.kind = std::string(content);
    } else if (name == "filename" && up.filename.empty()) {
      up.filename = std::string(content);
    }
    pos = next + 2;
  }
  if (!have_file) return Error::invalid("the multipart body has no \"file\" part", "file");
  return {};
}

json import_json(const store::Row& r) {
  // id, org_path, org_unit_id, username, kind, filename, format, size_bytes, status, total_rows, done_rows,
  // created_count, updated_count, unchanged_count, bad_count, skipped_count, message, version, created_at,
  // started_at, finished_at, errors_stored
  int64_t total = r.i(9), done = r.i(10);
  auto iso_or_null = [&](size_t i) { return r.null(i) ? json(nullptr) : json(iso_utc(r.i(i))); };
  return json{{"id", r.i(0)},
              {"org_path", r.s(1)},
              {"org_unit_id", r.i(2)},
              {"username", r.s(3)},
              {"kind", r.s(4)},
              {"filename", r.s(5)},
              {"format", r.s(6)},
              {"size_bytes", r.i(7)},
              {"status", r.s(8)},
              {"total_rows", total},
              {"done_rows", done},
              {"percent", total > 0 ? done * 100 / total : (r.s(8) == "done" ? 100 : 0)},
              {"created", r.i(11)},
              {"updated", r.i(12)},
              {"unchanged", r.i(13)},
              {"bad", r.i(14)},
              {"skipped", r.i(15)},
              {"message", r.null(16) ? json(nullptr) : json(r.s(16))},
              {"version", r.i(17)},
              {"created_at", iso_utc(r.i(18))},
              {"started_at", iso_or_null(19)},
              {"finished_at", iso_or_null(20)},
              {"errors_listed", r.i(21)}};
}

constexpr const char* kSelect =
    "SELECT id, org_path, org_unit_id, username, kind, filename, format, size_bytes, status, total_rows, done_rows, "
    "created_count, updated_count, unchanged_count, bad_count, skipped_count, message, version, created_at, "
    "started_at, finished_at, errors_stored FROM imports";

Result<json> load(Conn& c, const http::Principal& who, int64_t id) {
  auto row = TRY(c.one(std::string(kSelect) + " WHERE id = ?", {id}));
  if (!row || !who.reaches(row->s(1))) return api::not_found("import", id);
  return import_json(*row);
}

// Progress reaches the clients whose data scope holds the import (EventHub).
void publish(api::Platform& p, int64_t id, const std::string& org_path, const std::string& status, const Counts& c) {
  if (!p.events) return;
  p.events->publish("imports", json{{"kind", "import.progress"}, {"id", id}, {"status", status},
                                    {"percent", c.total > 0 ? c.done * 100 / c.total : 100}}, {org_path});
}

Result<void> set_status(api::Platform& p, const http::Principal& who, int64_t id, const std::string& status,
                        const std::optional<std::string>& message) {
  auto r = api::write_as(p, &who, [&](api::WriteTx& tx) -> Result<json> {
    int64_t now = now_ms();
    TRY(tx.db.exec("UPDATE imports SET status = ?, message = ?, finished_at = ?, version = version + 1, updated_at = ? "
                   "WHERE id = ?",
                   {status, message ? store::Value(*message) : store::Value(), now, now, id}));
    return json();
  });
  if (!r) return std::move(r).error();
  return {};
}

struct Job {
  api::Platform* p = nullptr;
  std::shared_ptr<const http::Principal> who;
  int64_t id = 0;
  std::string kind, format, org_path;
  std::shared_ptr<std::string> data;
  int64_t batch_rows = kBatchRows;
  std::function<void(const Counts&)> progress;
  std::function<bool()> stopping = [] { return false; };
};

// Processes every row; the import's row in `imports` follows along.
Result<Counts> process(Job& job) {
  auto& p = *job.p;
  const auto& who = *job.who;
  auto kind = make_kind(job.kind);
  auto sheet = TRY(open_sheet(job.format, *job.data));
  Record header;
  if (!TRY(sheet->next(header))) return Error::invalid("the file is empty", "file");
  auto idx = TRY(map_header(*kind, header.cells));
  Counts total;
  total.total = sheet->data_rows();
  int64_t errors_stored = 0;
  {
    auto r = api::write_as(p, &who, [&](api::WriteTx& tx) -> Result<json> {
      int64_t now = now_ms();
      TRY(tx.db.exec("UPDATE imports SET status = 'running', total_rows = ?, started_at = ?, version = version + 1, "
                     "updated_at = ? WHERE id = ?",
                     {total.total, now, now, job.id}));
      return json();
    });
    if (!r) return std::move(r).error();
  }
  publish(p, job.id, job.org_path, "running", total);

  std::vector<Record> batch;
  batch.reserve(job.batch_rows);
  int64_t analyze_at = 1;  // after the first batch, then at x4 the rows done
  bool more = true;
  while (more) {
    batch.clear();
    while (static_cast<int64_t>(batch.size()) < job.batch_rows) {
      Record rec;
      if (!TRY(sheet->next(rec))) {
        more = false;
        break;
      }
      batch.push_back(std::move(rec));
    }
    if (batch.empty()) break;
    if (job.stopping()) return Error::unavailable("interrupted: the server is stopping");
    Counts c;  // this batch, applied to `total` once committed
    int64_t stored = 0;
    // A batch first runs without per-row savepoints (they cost a copy of
    // every page a row touches); at its first bad row it is rolled back
    // and run again with a savepoint around each row, so a bad row never
    // leaves half of itself behind.
    bool safe = false, redo = false, analyzed = false;
    auto run = [&](api::WriteTx& tx) -> Result<json> {
      // Keep a batch's dirty pages in memory until the commit: with SQLite's
      // default 2 MB cache they spill to the WAL mid-transaction (as demogen).
      // The per-row savepoints' sub-journal goes to a temp file unless
      // temp_store is memory: a pwrite per touched page per row.
      if (tx.db.dialect() == store::Dialect::sqlite && total.done == 0) {
        TRY(tx.db.query("PRAGMA cache_size = -262144"));
        TRY(tx.db.query("PRAGMA temp_store = MEMORY"));
      }
      c = Counts{};
      stored = 0;
      kind->new_batch();
      json created = json::array(), updated = json::array(), side = json::array();
      // A bad row: listed (up to kMaxStoredErrors per import), counted.
      auto record_bad = [&](const Record& rec, const Error& e) -> Result<void> {
        ++c.bad;
        if (errors_stored + stored >= static_cast<int64_t>(kMaxStoredErrors)) return {};
        if (e.code == Error::Code::internal || e.code == Error::Code::unavailable)
          spdlog::warn("import {} row {}: {}", job.id, rec.row, e.message);
        Reason why = reason_of(e);
        json args = json::object();
        for (auto& [k, v] : why.args) args[k] = v.substr(0, 200);
        int64_t now = now_ms();
        TRY(tx.db.exec("INSERT INTO import_errors (import_id, org_path, row_no, column_name, reason, code, args_json, "
                       "version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,1,?,?)",
                       {job.id, job.org_path, rec.row, e.field.empty() ? store::Value() : store::Value(e.field),
                        reason_text(why, "en").substr(0, 500), why.code, args.dump(), now, now}));
        ++stored;
        return {};
      };
      bool batched = false;
      if (!safe) {
        std::vector<RowView> views;
        std::vector<const Record*> recs;
        for (const auto& rec : batch) {
          RowView row(rec, idx);
          if (row.blank()) continue;
          views.push_back(row);
          recs.push_back(&rec);
        }
        std::vector<RowResult> results;
        auto fast = kind->apply_batch(tx, views, results);
        if (!fast) {
          spdlog::warn("import {}: batch fast path failed ({}), running it row by row", job.id, fast.error().message);
          redo = true;
          return std::move(fast).error();
        }
        if (*fast) {
          batched = true;
          c.done = static_cast<int64_t>(batch.size());
          c.skipped = static_cast<int64_t>(batch.size() - views.size());
          for (size_t i = 0; i < results.size(); ++i) {
            const auto& res = results[i];
            if (res.error) {
              TRY_VOID(record_bad(*recs[i], *res.error));
              continue;
            }
            if (res.outcome == Outcome::created) ++c.created, created.push_back(res.id);
            else if (res.outcome == Outcome::updated) ++c.updated, updated.push_back(res.id);
            else ++c.unchanged;
            for (int64_t cid : res.created_customers) side.push_back(cid);
          }
        }
      }
      for (const auto& rec : batch) {
        if (batched) break;
        RowView row(rec, idx);
        ++c.done;
        if (row.blank()) {
          ++c.skipped;
          continue;
        }
        kind->created_customers.clear();
        if (safe) TRY(tx.db.exec("SAVEPOINT import_row"));
        auto res = kind->apply(tx, row);
        if (!res && !safe) {
          redo = true;
          return Error::conflict("a bad row: running the batch again row by row");
        }
        if (res) {
          if (safe) TRY(tx.db.exec("RELEASE SAVEPOINT import_row"));
          auto [outcome, rid] = *res;
          if (outcome == Outcome::created) ++c.created, created.push_back(rid);
          else if (outcome == Outcome::updated) ++c.updated, updated.push_back(rid);
          else ++c.unchanged;
          for (int64_t cid : kind->created_customers) side.push_back(cid);
          continue;
        }
        TRY(tx.db.exec("ROLLBACK TO SAVEPOINT import_row"));
        TRY(tx.db.exec("RELEASE SAVEPOINT import_row"));
        kind->row_failed();  // the rolled-back row may have filled the caches
        TRY_VOID(record_bad(rec, res.error()));
      }
      TRY_VOID(kind->finish_batch(tx));
      // The planner's row counts follow the tables as they grow (x4 steps).
      analyzed = total.done + c.done >= analyze_at;
      if (analyzed) TRY_VOID(store::refresh_statistics(tx.db));
      int64_t now = now_ms();
      TRY(tx.db.exec("UPDATE imports SET done_rows = done_rows + ?, created_count = created_count + ?, "
                     "updated_count = updated_count + ?, unchanged_count = unchanged_count + ?, "
                     "bad_count = bad_count + ?, skipped_count = skipped_count + ?, errors_stored = errors_stored + ?, "
                     "version = version + 1, updated_at = ? WHERE id = ?",
                     {c.done, c.created, c.updated, c.unchanged, c.bad, c.skipped, stored, now, job.id}));
      if (!created.empty() || !updated.empty() || !side.empty()) {
        json after{{"kind", job.kind},       {"rows", {batch.front().row, batch.back().row}},
                   {"entity", kind->entity()}, {"created_ids", std::move(created)},
                   {"updated_ids", std::move(updated)}};
        if (!side.empty()) after["customers_created_ids"] = std::move(side);
        TRY_VOID(tx.audit("import", job.id, "batch", nullptr, after, job.org_path));
      }
      return json();
    };
    auto r = api::write_as(p, &who, run);
    if (!r && redo) {
      safe = true;
      r = api::write_as(p, &who, run);
    }
    if (!r && (r.error().code == Error::Code::unavailable || r.error().code == Error::Code::conflict)) {
      spdlog::warn("import {}: batch failed ({}), retrying once", job.id, r.error().message);
      r = api::write_as(p, &who, run);
    }
    if (!r) return std::move(r).error();
    if (analyzed) analyze_at = (total.done + c.done) * 4;
    total.done += c.done;
    total.created += c.created;
    total.updated += c.updated;
    total.unchanged += c.unchanged;
    total.bad += c.bad;
    total.skipped += c.skipped;
    errors_stored += stored;
    publish(p, job.id, job.org_path, "running", total);
    if (job.progress) job.progress(total);
  }
  if (total.done > total.total) total.total = total.done;
  TRY_VOID(set_status(p, who, job.id, "done", std::nullopt));
  {
    // The XLSX row count is known exactly only at the end (blank rows).
    auto r = api::write_as(p, &who, [&](api::WriteTx& tx) -> Result<json> {
      TRY(tx.db.exec("UPDATE imports SET total_rows = ? WHERE id = ?", {total.total, job.id}));
      return json();
    });
    (void)r;
  }
  publish(p, job.id, job.org_path, "done", total);
  return total;
}

void run_job(Job job) {
  auto r = process(job);
  if (!r) {
    spdlog::warn("import {} failed: {}", job.id, r.error().message);
    auto s = set_status(*job.p, *job.who, job.id, "failed", r.error().message);
    if (!s) spdlog::error("import {}: could not record the failure: {}", job.id, s.error().message);
    Counts c;
    publish(*job.p, job.id, job.org_path, "failed", c);
  }
}

// Checks the upload at once (kind, permission, encoding, header) so the
// client learns of a wrong file before anything is queued. max_bytes caps
// what the server holds in memory per upload; the CLI reads local files.
Result<std::string> check_upload(const http::Principal& who, const Upload& up, size_t max_bytes) {
  if (up.kind.empty()) return Error::invalid("kind is required: customers, products or install_base", "kind");
  auto kind = make_kind(up.kind);
  if (!kind) return Error::invalid("kind must be one of customers, products, install_base", "kind");
  if (!who.can(kind->permission()))
    return Error::forbidden(std::string("permission ") + kind->permission() + " required to import " + up.kind);
  if (up.filename.size() > 200) return Error::invalid("filename is longer than 200 characters", "filename");
  if (!up.data || up.data->empty()) return Error::invalid("the file is empty", "file");
  if (up.data->size() > max_bytes)
    return Error{Error::Code::too_large, "the file is larger than " + std::to_string(max_bytes >> 20) + " MiB", "file"};
  std::string format = TRY(detect_format(up.filename, *up.data));
  auto sheet = TRY(open_sheet(format, *up.data));
  Record header;
  if (!TRY(sheet->next(header))) return Error::invalid("the file is empty", "file");
  TRY(map_header(*kind, header.cells));
  if (sheet->data_rows() == 0) return Error::invalid("the file has a header but no data rows", "file");
  return format;
}

Result<int64_t> create_import(api::WriteTx& tx, const http::Principal& who, const Upload& up, const std::string& format) {
  int64_t now = now_ms();
  auto row = TRY(tx.db.one(
      "INSERT INTO imports (org_path, org_unit_id, user_id, username, kind, filename, format, size_bytes, status, "
      "version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,'queued',1,?,?) RETURNING id",
      {who.org_path, who.org_unit_id, who.user_id ? store::Value(who.user_id) : store::Value(), who.username, up.kind,
       up.filename.empty() ? std::string("upload." + format) : up.filename, format,
       static_cast<int64_t>(up.data->size()), now, now}));
  int64_t id = row->i(0);
  TRY_VOID(tx.audit("import", id, "create", nullptr,
                    json{{"kind", up.kind}, {"filename", up.filename}, {"format", format},
                         {"size_bytes", up.data->size()}},
                    who.org_path));
  return id;
}

void routes(http::Router& r, api::Platform& p) {
  r.post("/api/v1/imports", [&p](Request& req) {
    Upload up;
    std::string ct = req.header("content-type").value_or("");
    if (lower(ct).rfind("multipart/form-data", 0) == 0) {
      if (auto m = parse_multipart(req, ct, up); !m) return Response::error(m.error());
    } else {
      up.data = std::make_shared<std::string>(std::move(req.body));
    }
    if (auto k = req.q("kind"); k && !k->empty()) up.kind = *k;
    if (auto f = req.q("filename"); f && !f->empty()) up.filename = *f;
    auto format = check_upload(*req.principal, up, kMaxUpload);
    if (!format) return Response::error(format.error());
    int64_t id = 0;
    Response resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      id = TRY(create_import(tx, *tx.who(), up, *format));
      return Response::make_json(TRY(load(tx.db, *tx.who(), id)), 202);
    });
    if (resp.status != 202 || resp.headers.get("idempotent-replayed")) return resp;
    Job job;
    job.p = &p;
    job.who = req.principal;
    job.id = id;
    job.kind = up.kind;
    job.format = *format;
    job.org_path = req.principal->org_path;
    job.data = up.data;
    if (p.scheduler) {
      auto* sched = p.scheduler;
      job.stopping = [sched] { return sched->stopping(); };
      p.scheduler->spawn("import-" + std::to_string(id), [job]() mutable { run_job(std::move(job)); });
    } else {
      run_job(std::move(job));
    }
    return resp;
  }, {.summary = "Start a bulk import: ?kind=customers|products|install_base&filename=x.csv with the CSV / XLSX file "
                 "as the body (or multipart/form-data with a file part). 202 with the import to poll.",
      .tag = "imports", .permission = "import.run", .query_params = {"kind", "filename"}})
      .max_body_bytes = kMaxUpload;  // files beyond the server's 8 MiB default (~350k install-base rows)

  r.get("/api/v1/imports", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req));
      // Newest first: the cursor is the last id seen.
      std::string sql = std::string(kSelect) + " WHERE org_path LIKE ?";
      store::Params params{req.principal->org_path + "%"};
      if (pg.after_id > 0) {
        sql += " AND id < ?";
        params.push_back(pg.after_id);
      }
      sql += " ORDER BY id DESC LIMIT ?";
      params.push_back(pg.limit + 1);
      json items = json::array();
      for (const auto& row : TRY(c.query(sql, params))) items.push_back(import_json(row));
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "Imports in your scope, newest first", .tag = "imports", .permission = "import.run",
      .query_params = {"limit", "cursor"}});

  r.get("/api/v1/imports/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      return Response::make_json(TRY(load(c, *req.principal, id)));
    });
  }, {.summary = "An import's status, rows done / total, percent and counts (created, updated, unchanged, bad)",
      .tag = "imports", .permission = "import.run"});

  r.get("/api/v1/imports/{id}/errors", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      TRY(load(c, *req.principal, id));
      auto pg = TRY(api::page(req, 100, 1000));
      auto rows = TRY(c.query("SELECT id, row_no, column_name, reason, code, args_json FROM import_errors "
                              "WHERE import_id = ? AND id > ? ORDER BY id LIMIT ?",
                              {id, pg.after_id, pg.limit + 1}));
      json items = json::array();
      for (const auto& row : rows) {
        // Rows stored before codes existed: recognised from their English text.
        Reason why = row.null(4) ? reason_of(Error::invalid(row.s(3))) : Reason{row.s(4), {}};
        if (!row.null(5)) {
          json stored = json::parse(row.s(5), nullptr, false);
          if (stored.is_object())
            for (const auto& [k, v] : stored.items())
              if (v.is_string()) why.args.emplace_back(k, v.get<std::string>());
        }
        json args = json::object();
        for (const auto& [k, v] : why.args) args[k] = v;
        items.push_back(json{{"id", row.i(0)},
                             {"row", row.i(1)},
                             {"column", row.null(2) ? json(nullptr) : json(row.s(2))},
                             {"reason", row.s(3)},
                             {"code", why.code},
                             {"args", std::move(args)},
                             {"text", {{"en", row.s(3)}, {"zh-CN", reason_text(why, "zh-CN")}}}});
      }
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "The bad rows of an import: row number (header = row 1), column, reason (English), its code and "
                 "arguments, and its text in en / zh-CN",
      .tag = "imports",
      .permission = "import.run", .query_params = {"limit", "cursor"}});

  r.get("/api/v1/imports/template", [&p](Request& req) {
    (void)p;
    auto k = req.q("kind").value_or("");
    auto kind = make_kind(k);
    if (!kind) return Response::error(Error::invalid("kind must be one of customers, products, install_base", "kind"));
    Response resp;
    resp.content_type = "text/csv; charset=utf-8";
    resp.headers.set("content-disposition", "attachment; filename=\"" + k + "-template.csv\"");
    resp.body = "\xEF\xBB\xBF";
    bool first = true;
    for (const auto& col : kind->columns()) {
      resp.body += (first ? "" : ",") + col.key;
      first = false;
    }
    resp.body += "\r\n";
    return resp;
  }, {.summary = "A CSV header template for a kind (?kind=)", .tag = "imports", .permission = "import.run",
      .query_params = {"kind"}});
}

}  // namespace

Result<int64_t> run_file(api::Platform& p, const http::Principal& who, const RunOptions& o, const std::string& data,
                         Counts* out) {
  Upload up;
  up.kind = o.kind;
  up.filename = o.filename;
  up.data = std::make_shared<std::string>(data);
  std::string format = TRY(check_upload(who, up, std::numeric_limits<size_t>::max()));
  int64_t id = 0;
  TRY(api::write_as(p, &who, [&](api::WriteTx& tx) -> Result<json> {
    id = TRY(create_import(tx, who, up, format));
    return json();
  }));
  Job job;
  job.p = &p;
  job.who = std::make_shared<http::Principal>(who);
  job.id = id;
  job.kind = o.kind;
  job.format = format;
  job.org_path = who.org_path;
  job.data = up.data;
  job.batch_rows = o.batch_rows;
  job.progress = o.progress;
  auto r = process(job);
  if (!r) {
    (void)set_status(p, who, id, "failed", r.error().message);
    return std::move(r).error();
  }
  if (out) *out = *r;
  return id;
}

Result<void> run_cli(api::Platform& p, const std::string& kind, const std::string& path, const std::string& username,
                     int64_t batch_rows) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error::invalid("cannot read " + path, "file");
  std::string data((std::istreambuf_iterator<char>(f)), {});
  http::Principal who;
  TRY_VOID(p.db.read([&](Conn& c) -> Result<void> {
    auto u = TRY(c.one("SELECT u.id, u.username, u.display_name, u.org_unit_id, o.path, o.name, o.type FROM users u "
                       "JOIN org_units o ON o.id = u.org_unit_id WHERE u.username = ?",
                       {username}));
    if (!u) return Error::invalid("no user " + username, "--user");
    who.user_id = u->i(0);
    who.username = u->s(1);
    who.display_name = u->s(2);
    who.org_unit_id = u->i(3);
    who.org_path = u->s(4);
    who.org_name = u->s(5);
    who.org_type = u->s(6);
    auto perms = TRY(c.query("SELECT DISTINCT rp.permission FROM user_roles ur JOIN role_permissions rp "
                             "ON rp.role_code = ur.role_code WHERE ur.user_id = ? ORDER BY rp.permission",
                             {who.user_id}));
    for (const auto& r : perms) who.permissions.push_back(r.s(0));
    std::sort(who.permissions.begin(), who.permissions.end());
    return {};
  }));
  RunOptions o;
  o.kind = kind;
  o.filename = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  o.batch_rows = batch_rows < 1 ? kBatchRows : batch_rows;
  auto t0 = std::chrono::steady_clock::now();
  auto secs = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  o.progress = [&](const Counts& c) {
    std::fprintf(stderr, "\rimport %lld/%lld rows (%.1f s)   ", static_cast<long long>(c.done),
                 static_cast<long long>(c.total), secs());
  };
  Counts c;
  int64_t id = TRY(run_file(p, who, o, data, &c));
  double s = secs();
  std::fprintf(stderr, "\n");
  std::printf("import %lld (%s, %s): %lld rows in %.2f s (%.0f rows/s): %lld created, %lld updated, %lld unchanged, "
              "%lld bad, %lld blank\n",
              static_cast<long long>(id), kind.c_str(), p.db.describe().c_str(), static_cast<long long>(c.done), s,
              s > 0 ? c.done / s : 0.0, static_cast<long long>(c.created), static_cast<long long>(c.updated),
              static_cast<long long>(c.unchanged), static_cast<long long>(c.bad), static_cast<long long>(c.skipped));
  return {};
}

api::Module module() {
  api::Module m;
  m.name = "imports";
  m.migrations = {{"imports", 1, "bulk imports and their bad rows", R"sql(
CREATE TABLE imports (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  user_id INTEGER REFERENCES users(id),
  username TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('customers','products','install_base')),
  filename TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('csv','xlsx')),
  size_bytes INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','running','done','failed')),
  total_rows INTEGER NOT NULL DEFAULT 0,
  done_rows INTEGER NOT NULL DEFAULT 0,
  created_count INTEGER NOT NULL DEFAULT 0,
  updated_count INTEGER NOT NULL DEFAULT 0,
  unchanged_count INTEGER NOT NULL DEFAULT 0,
  bad_count INTEGER NOT NULL DEFAULT 0,
  skipped_count INTEGER NOT NULL DEFAULT 0,
  errors_stored INTEGER NOT NULL DEFAULT 0,
  message TEXT,
  started_at INTEGER,
  finished_at INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX imports_org_path ON imports(org_path);
CREATE TABLE import_errors (
  id INTEGER PRIMARY KEY,
  import_id INTEGER NOT NULL REFERENCES imports(id),
  org_path TEXT NOT NULL,
  row_no INTEGER NOT NULL,
  column_name TEXT,
  reason TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX import_errors_import ON import_errors(import_id, id);
)sql"},
                  {"imports", 2, "bad-row reasons as code + arguments (English and Chinese texts)", R"sql(
ALTER TABLE import_errors ADD COLUMN code TEXT;
ALTER TABLE import_errors ADD COLUMN args_json TEXT;
)sql"}};
  m.routes = routes;
  m.start = [](api::Platform& p) {
    // Imports whose process died (crash, restart) will not finish: say so.
    // Live ones touch updated_at every batch, so only stale rows are closed.
    auto cutoff = now_ms() - 10 * 60 * 1000;
    auto r = p.db.write([&](Conn& c) -> Result<void> {
      TRY(c.exec("UPDATE imports SET status = 'failed', message = 'interrupted (the server stopped); import the file "
                 "again: rows already committed are counted as unchanged', version = version + 1, updated_at = ? "
                 "WHERE status IN ('queued','running') AND updated_at < ?",
                 {now_ms(), cutoff}));
      return {};
    });
    if (!r) spdlog::warn("imports: could not close interrupted imports: {}", r.error().message);
  };
  return m;
}

}  // namespace shouhou::imports
