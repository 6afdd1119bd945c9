// SQLite backend.
//
// One writer connection behind a mutex (SQLite allows one writer at a time
// anyway; queuing in-process is cheaper and fairer than busy-retrying) and a
// pool of read-only connections. WAL mode lets readers keep their snapshot
// while the writer commits.
//
// Group commit: with synchronous=FULL every COMMIT waits for an fsync, which
// caps single-row write transactions at a few thousand per second. Concurrent
// write() callers therefore queue; the caller at the head leads one
// transaction for everyone queued (up to kMaxBatch), hands the writer
// connection to each member in turn so that its callback runs on its own
// thread (thread-locals such as a test's fixed clock or a handler's error
// details stay where the caller expects them), each inside its own SAVEPOINT,
// then COMMITs once and wakes them all. A callback that fails or throws is
// rolled back to its savepoint alone; every caller learns its outcome only
// after the COMMIT is durable. An uncontended write() is a batch of one and
// runs exactly as before (BEGIN IMMEDIATE, callback, COMMIT, no savepoint).
//
// Same-thread nesting: read() called inside a write() callback runs on the
// writer connection, inside the open write transaction, so a handler sees its
// own uncommitted changes. read() inside read() reuses the outer snapshot.
// write() inside write() returns Error::internal instead of deadlocking. When
// there are no reader connections (Options.readers <= 0, or ":memory:"),
// reads run on the writer connection too, and write() inside such a read is
// also refused.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <filesystem>
#include <exception>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "store/backend.h"

namespace shouhou::store::detail {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Engine error -> Error. For unique violations `field` names the column when
// the constraint covers exactly one ("UNIQUE constraint failed: users.name").
Error sqlite_error(int rc, const char* msg_c) {
  std::string msg = msg_c ? msg_c : sqlite3_errstr(rc);
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: {
      std::string field;
      auto colon = msg.find(": ");
      if (colon != std::string::npos) {
        std::string cols = msg.substr(colon + 2);
        auto dot = cols.find('.');
        if (cols.find(',') == std::string::npos && dot != std::string::npos) field = cols.substr(dot + 1);
      }
      return Error::conflict(msg, field);
    }
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return Error::invalid(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error::unavailable("database is busy: " + msg);
    case SQLITE_FULL:
      return Error::unavailable("disk full: " + msg);
    default:
      return Error::internal("sqlite: " + msg);
  }
}

// Strings that are valid UTF-8 without NUL bind as TEXT, anything else as
// BLOB: Value has no separate blob type, and SQLite functions and collations
// assume TEXT is well-formed.
bool is_text(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c == 0) return false;
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

class SqliteConn final : public ScriptConn {
 public:
  explicit SqliteConn(sqlite3* db) : db_(db) {}
  ~SqliteConn() override {
    for (auto& [sql, e] : cache_) sqlite3_finalize(e.st);
    sqlite3_close_v2(db_);
  }
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  sqlite3* handle() const { return db_; }
  Dialect dialect() const override { return Dialect::sqlite; }

  Result<Rows> query(std::string_view sql, const Params& params) override {
    Rows out;
    TRY_VOID(run(sql, params, [&](sqlite3_stmt* st) {
      int n = sqlite3_column_count(st);
      if (out.columns.empty())
        for (int c = 0; c < n; ++c) out.columns.emplace_back(sqlite3_column_name(st, c));
      Row row;
      row.cols.reserve(n);
      for (int c = 0; c < n; ++c) row.cols.push_back(column(st, c));
      out.rows.push_back(std::move(row));
    }));
    return out;
  }

  Result<int64_t> exec(std::string_view sql, const Params& params) override {
    // Rows from RETURNING are stepped through (the change happens as they
    // are produced) and discarded.
    TRY_VOID(run(sql, params, [](sqlite3_stmt*) {}));
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  Result<void> exec_script(std::string_view sql) override {
    std::string s(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return {};
    Error e = sqlite_error(rc, err ? err : sqlite3_errmsg(db_));
    sqlite3_free(err);
    return e;
  }

  // Transaction control; errors are reported, not thrown.
  Result<void> simple(const char* sql) { return run(sql, {}, [](sqlite3_stmt*) {}); }

  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
  void rollback_quietly() {
    if (in_transaction()) (void)simple("ROLLBACK");
  }

 private:
  static constexpr size_t kMaxCached = 512;

  static Value column(sqlite3_stmt* st, int c) {
    switch (sqlite3_column_type(st, c)) {
      case SQLITE_INTEGER:
        return static_cast<int64_t>(sqlite3_column_int64(st, c));
      case SQLITE_FLOAT:
        return sqlite3_column_double(st, c);
      case SQLITE_TEXT: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        return std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, c)));
      }
      case SQLITE_BLOB: {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(st, c));
        int n = sqlite3_column_bytes(st, c);
        return p ? std::string(p, static_cast<size_t>(n)) : std::string();
      }
      default:
        return std::monostate{};
    }
  }

  Result<sqlite3_stmt*> prepare(std::string_view sql) {
    // Looked up by the caller's view: no key string is built for a hit.
    if (auto it = cache_.find(sql); it != cache_.end()) {
      ++it->second.uses;
      return it->second.st;
    }
    // SQL built with inlined values would grow the cache without bound.
    // Such one-off statements are dropped first, so they do not flush the
    // statements every request reuses (re-preparing those costs more than
    // running them); only if everything is in use is the cache emptied.
    if (cache_.size() >= kMaxCached) {
      std::erase_if(cache_, [](auto& kv) {
        if (kv.second.uses > 1) return false;
        sqlite3_finalize(kv.second.st);
        return true;
      });
      if (cache_.size() >= kMaxCached / 2) {
        for (auto& [s, e] : cache_) sqlite3_finalize(e.st);
        cache_.clear();
      } else {
        for (auto& [s, e] : cache_) e.uses = 1;  // earn their place again
      }
    }
    std::string key(sql);
    sqlite3_stmt* st = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK) return sqlite_error(rc, sqlite3_errmsg(db_));
    if (!st) return Error::internal("sqlite: empty statement");
    // Anything after the statement must be whitespace, ';' or comments;
    // SQLite's own parser decides (it yields no statement for those).
    while (tail && tail < key.data() + key.size()) {
      sqlite3_stmt* extra = nullptr;
      const char* next = nullptr;
      int n = static_cast<int>(key.data() + key.size() - tail);
      int rc2 = sqlite3_prepare_v2(db_, tail, n, &extra, &next);
      if (rc2 != SQLITE_OK || extra) {
        sqlite3_finalize(extra);
        sqlite3_finalize(st);
        return Error::internal("sqlite: one statement per call (use migrations for scripts): " + key);
      }
      if (next == tail) break;
      tail = next;
    }
    cache_.emplace(std::move(key), Cached{st, 1});
    return st;
  }

  template <typename OnRow>
  Result<void> run(std::string_view sql, const Params& params, OnRow&& on_row) {
    sqlite3_stmt* st = TRY(prepare(sql));
    // Leaves the cached statement reusable whatever happens below.
    struct Reset {
      sqlite3_stmt* st;
      ~Reset() {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
      }
    } reset{st};

    const size_t n = params.size();
    int expected = sqlite3_bind_parameter_count(st);
    if (expected != static_cast<int>(n))
      return Error::internal("statement has " + std::to_string(expected) + " placeholder(s) but " +
                             std::to_string(n) + " parameter(s) were given: " + std::string(sql));
    std::vector<bool> as_blob(n, false);
    for (size_t i = 0; i < n; ++i) {
      if (auto p = std::get_if<std::string>(&params[i])) as_blob[i] = !is_text(*p);
      if (int rc = bind(st, i, params[i], as_blob[i]); rc != SQLITE_OK) return sqlite_error(rc, sqlite3_errmsg(db_));
    }

    bool emitted = false;
    auto step_all = [&]() {
      for (;;) {
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) return rc;
        emitted = true;
        on_row(st);
      }
    };
    int rc = step_all();
    if (rc == SQLITE_DONE) return {};
    std::string msg = sqlite3_errmsg(db_);

    // A STRICT table's BLOB column rejects a value that happened to be valid
    // UTF-8 (an empty or ASCII-only blob). Rebind string parameters as BLOB
    // one at a time, keeping a change only when it cures the failing column.
    // Safe to re-run: the failed statement changed nothing and produced no row.
    auto text_in_blob = [](const std::string& m) { return m.find("TEXT value in BLOB column") != std::string::npos; };
    if (rc == SQLITE_CONSTRAINT_DATATYPE && !emitted && text_in_blob(msg)) {
      for (size_t i = 0; i < n; ++i) {
        if (as_blob[i] || !std::holds_alternative<std::string>(params[i])) continue;
        sqlite3_reset(st);
        bind(st, i, params[i], true);
        int64_t before = sqlite3_total_changes64(db_);
        int rc2 = step_all();
        // Success that changed no row means the flip altered a WHERE match
        // (the original attempt did reach a row).
        if (rc2 == SQLITE_DONE && sqlite3_total_changes64(db_) > before) return {};
        if (rc2 != SQLITE_DONE && emitted) return sqlite_error(rc2, sqlite3_errmsg(db_));
        std::string m2 = rc2 == SQLITE_DONE ? std::string() : sqlite3_errmsg(db_);
        if (rc2 == SQLITE_CONSTRAINT_DATATYPE && text_in_blob(m2) && m2 != msg) {
          as_blob[i] = true;  // that column is fixed; another one fails now
          msg = m2;
          continue;
        }
        if (rc2 != SQLITE_DONE && rc2 != SQLITE_CONSTRAINT_DATATYPE) return sqlite_error(rc2, m2.c_str());
        sqlite3_reset(st);
        bind(st, i, params[i], false);
      }
    }
    return sqlite_error(rc, msg.c_str());
  }

  static int bind(sqlite3_stmt* st, size_t i, const Value& v, bool as_blob) {
    int idx = static_cast<int>(i) + 1;
    if (auto p = std::get_if<int64_t>(&v)) return sqlite3_bind_int64(st, idx, *p);
    if (auto p = std::get_if<double>(&v)) return sqlite3_bind_double(st, idx, *p);
    if (auto p = std::get_if<std::string>(&v)) {
      // SQLITE_STATIC: params outlive the statement's use (Reset in run()).
      return as_blob ? sqlite3_bind_blob64(st, idx, p->data(), p->size(), SQLITE_STATIC)
                     : sqlite3_bind_text64(st, idx, p->data(), p->size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    return sqlite3_bind_null(st, idx);
  }

  struct Cached {
    sqlite3_stmt* st;
    int64_t uses;
  };
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  sqlite3* db_;
  std::unordered_map<std::string, Cached, SqlHash, std::equal_to<>> cache_;
};

Result<std::unique_ptr<SqliteConn>> open_conn(const std::string& path, bool readonly, const Options& opts) {
  sqlite3* db = nullptr;
  // NOMUTEX: each connection is used by one thread at a time (the writer
  // mutex or the pool guarantees it), so SQLite's own locking is overhead.
  int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Error::unavailable("cannot open SQLite database " + path + ": " + msg);
  }
  auto conn = std::make_unique<SqliteConn>(db);
  sqlite3_extended_result_codes(db, 1);
  // Plans must not depend on bound values. Without this, every statement
  // with `x LIKE ?` (each scope filter `org_path LIKE ?`) is re-compiled on
  // every run after its parameters are bound again, which cost more than
  // running it (perf: most of the screen pop's time). Nothing is lost: LIKE
  // can only use an index with case_sensitive_like, which we do not set,
  // and this SQLite has no STAT4 histograms for values to steer.
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_QPSG, 1, nullptr);
  sqlite3_busy_timeout(db, opts.busy_timeout_ms);
  // Memory-mapped reads: a lookup in a database much larger than the page
  // cache (1M customers: 1.5 GB) otherwise pays a pread() system call and a
  // copy per B-tree page it touches (perf: a third of the screen pop's CPU).
  // SQLite clamps the value to its compile-time maximum (2 GiB on Debian).
  sqlite3_exec(db, "PRAGMA mmap_size=2147418112", nullptr, nullptr, nullptr);
  return conn;
}

Result<std::string> pragma_text(SqliteConn& c, const char* sql) {
  auto rows = TRY(c.query(sql, {}));
  return rows.empty() ? std::string() : rows[0].s(0);
}

class SqliteDb final : public Database {
 public:
  SqliteDb(std::string path, Options opts) : path_(std::move(path)), opts_(opts) {}

  ~SqliteDb() override {
    // Lets the query planner keep statistics fresh, as SQLite recommends at close.
    if (writer_) (void)writer_->simple("PRAGMA optimize");
  }

  Result<void> init() {
    const bool memory = path_ == ":memory:" || path_.rfind("file::memory:", 0) == 0;
    if (!memory) {
      fs::path parent = fs::path(path_).parent_path();
      std::error_code ec;
      if (!parent.empty() && !fs::exists(parent, ec)) {
        fs::create_directories(parent, ec);
        if (ec) return Error::unavailable("cannot create directory " + parent.string() + ": " + ec.message());
      }
    }
    // The writer opens (and so creates) the file before any reader tries.
    writer_ = TRY(open_conn(path_, false, opts_));
    if (!memory) {
      std::string mode = TRY(pragma_text(*writer_, "PRAGMA journal_mode=WAL"));
      if (mode != "wal") return Error::unavailable("cannot enable WAL on " + path_ + " (journal_mode is " + mode + ")");
    }
    TRY(writer_->query(opts_.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", {}));
    TRY(writer_->query("PRAGMA foreign_keys=ON", {}));
    // Statement journals in memory. Inside a transaction SQLite keeps, for
    // each statement that may fail halfway (a multi-row INSERT, an INSERT
    // checked by a foreign key) and for each SAVEPOINT (group commit runs every
    // caller in one), the pages it changes in a journal that spills to a file
    // in /var/tmp beyond 64 KiB: the demo generator wrote 9 GB there for a
    // 230 MB database (strace, /proc/PID/io). In memory it is a statement's
    // pages, freed when it ends.
    TRY(writer_->query("PRAGMA temp_store=MEMORY", {}));
    // A read-only connection can only open a WAL database whose -shm exists;
    // touching the schema makes the writer create it.
    TRY(writer_->query("SELECT count(*) FROM sqlite_master", {}));

    int n = memory ? 0 : std::max(0, opts_.readers);
    for (int i = 0; i < n; ++i) {
      auto r = TRY(open_conn(path_, true, opts_));
      free_.push_back(r.get());
      readers_.push_back(std::move(r));
    }
    return {};
  }

  Result<void> read(const std::function<Result<void>(Conn&)>& fn) override {
    if (TxFrame* f = find_frame(this)) {
      reads_.fetch_add(1, std::memory_order_relaxed);
      return fn(*f->conn);
    }
    if (readers_.empty()) return on_writer(fn, "BEGIN", true);

    SqliteConn* c = checkout();
    struct Checkin {
      SqliteDb* db;
      SqliteConn* c;
      ~Checkin() { db->checkin(c); }
    } checkin{this, c};
    FrameGuard frame(this, c, false);
    TRY_VOID(c->simple("BEGIN"));
    struct End {
      SqliteConn* c;
      ~End() { c->rollback_quietly(); }  // a read has nothing to commit
    } end{c};
    reads_.fetch_add(1, std::memory_order_relaxed);
    return fn(*c);
  }

  Result<void> write(const std::function<Result<void>(Conn&)>& fn) override {
    if (TxFrame* f = find_frame(this); f && f->writing)
      return Error::internal("nested write: write() called inside a write() callback on the same thread");
    if (!group_commit_) return on_writer(fn, "BEGIN IMMEDIATE", false);
    Waiter me{&fn};
    me.t0 = Clock::now();
    std::unique_lock lk(q_mu_);
    queue_.push_back(&me);
    if (leading_) {
      // Another caller leads: wait to be given the connection (our turn),
      // then for the batch's outcome, or to be made the next leader.
      for (;;) {
        me.cv.wait(lk, [&] { return me.state != Waiter::queued || me.lead; });
        if (me.state == Waiter::turn) {
          lk.unlock();
          run_member(me, true);
          lk.lock();
          me.state = Waiter::ran;
          turn_cv_.notify_one();
          me.cv.wait(lk, [&] { return me.state == Waiter::done; });
        }
        if (me.state == Waiter::done) {
          lk.unlock();
          return finish(me);
        }
        if (me.lead) break;
      }
    }
    leading_ = true;
    lead(me, lk);
    return finish(me);
  }

  Dialect dialect() const override { return Dialect::sqlite; }
  std::string describe() const override { return "sqlite:" + path_; }

  Result<void> ping() override {
    return read([](Conn& c) -> Result<void> {
      TRY(c.query("SELECT 1"));
      return {};
    });
  }

  Result<std::string> integrity_check() override {
    std::string report;
    TRY_VOID(read([&](Conn& c) -> Result<void> {
      report.clear();
      auto rows = TRY(c.query("PRAGMA integrity_check"));
      for (const auto& r : rows) {
        if (r.s(0) == "ok") continue;
        if (!report.empty()) report += "\n";
        report += r.s(0);
      }
      // Not covered by integrity_check, and possible if foreign_keys was ever off.
      auto fk = TRY(c.query("PRAGMA foreign_key_check"));
      for (const auto& r : fk) {
        if (!report.empty()) report += "\n";
        report += "foreign key violation: " + r.s(0) + " rowid " + r.s(1) + " references " + r.s(2);
      }
      return {};
    }));
    return report.empty() ? std::string("ok") : report;
  }

  Result<void> backup(const std::string& dest_path) override {
    std::error_code ec;
    fs::path dest(dest_path);
    if (fs::exists(dest, ec)) return Error::invalid("backup destination already exists: " + dest_path, "dest");
    if (!dest.parent_path().empty()) fs::create_directories(dest.parent_path(), ec);
    // Written beside the destination and renamed, so a crash never leaves a
    // half-written file under the final name.
    std::string tmp = dest_path + ".partial";
    fs::remove(tmp, ec);

    sqlite3* out = nullptr;
    int rc = sqlite3_open_v2(tmp.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    auto fail = [&](Error e) -> Result<void> {
      sqlite3_close_v2(out);
      fs::remove(tmp, ec);
      return e;
    };
    if (rc != SQLITE_OK) return fail(Error::unavailable("cannot create " + tmp + ": " + sqlite3_errmsg(out)));

    auto copy = [&](SqliteConn& src) -> Result<void> {
      sqlite3_backup* b = sqlite3_backup_init(out, "main", src.handle(), "main");
      if (!b) return sqlite_error(sqlite3_extended_errcode(out), sqlite3_errmsg(out));
      // All pages in one step: one consistent snapshot, and a WAL reader
      // never blocks the writer meanwhile.
      int step = sqlite3_backup_step(b, -1);
      int fin = sqlite3_backup_finish(b);
      if (step != SQLITE_DONE) return sqlite_error(step, sqlite3_errstr(step));
      if (fin != SQLITE_OK) return sqlite_error(fin, sqlite3_errmsg(out));
      return {};
    };
    Result<void> r;
    if (readers_.empty()) {
      std::lock_guard lk(write_mu_);
      r = copy(*writer_);
    } else {
      SqliteConn* c = checkout();
      r = copy(*c);
      checkin(c);
    }
    if (!r) return fail(std::move(r).error());
    // The copy carries the WAL flag; make it one self-contained file.
    char* err = nullptr;
    rc = sqlite3_exec(out, "PRAGMA journal_mode=DELETE", nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      Error e = sqlite_error(rc, err);
      sqlite3_free(err);
      return fail(e);
    }
    rc = sqlite3_close(out);
    out = nullptr;
    if (rc != SQLITE_OK) return fail(Error::internal("closing backup failed: " + std::string(sqlite3_errstr(rc))));
    fs::rename(tmp, dest, ec);
    if (ec) return fail(Error::unavailable("cannot rename backup into place: " + ec.message()));
    sync_dir(dest.parent_path().empty() ? fs::path(".") : dest.parent_path());
    return {};
  }

  nlohmann::json stats() const override {
    int busy;
    size_t queued;
    {
      std::lock_guard lk(pool_mu_);
      busy = static_cast<int>(readers_.size() - free_.size());
    }
    {
      std::lock_guard lk(q_mu_);
      queued = queue_.size();
    }
    return {{"backend", "sqlite"},
            {"readers_total", readers_.size()},
            {"readers_busy", busy},
            {"writes", writes_.load()},
            {"write_errors", write_errors_.load()},
            {"write_batches", batches_.load()},
            {"writes_batched", batched_.load()},
            {"write_queue", queued},
            {"reads", reads_.load()},
            {"write_wait_ms_total", write_wait_us_.load() / 1000},
            {"read_wait_ms_total", read_wait_us_.load() / 1000}};
  }

 private:
  static constexpr size_t kMaxBatch = 64;

  // A write() caller in the group-commit queue; lives on its own stack and
  // is touched by the leader only under q_mu_ or while it is our turn.
  struct Waiter {
    const std::function<Result<void>(Conn&)>* fn;
    enum State { queued, turn, ran, done } state = queued;
    bool lead = false;  // made the leader of the next batch
    std::condition_variable cv;
    Result<void> result;
    std::exception_ptr thrown;
    Clock::time_point t0;
  };

  // The caller's outcome, on its own thread: its exception propagates unchanged.
  Result<void> finish(Waiter& me) {
    bool ok = me.result.ok() && !me.thrown;
    (ok ? writes_ : write_errors_).fetch_add(1, std::memory_order_relaxed);
    if (me.thrown) std::rethrow_exception(me.thrown);
    return std::move(me.result);
  }

  // Runs one member's callback on the writer connection (on the member's own
  // thread), inside a savepoint when the batch has several members.
  void run_member(Waiter& w, bool savepoint) {
    write_wait_us_.fetch_add(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - w.t0).count(),
                             std::memory_order_relaxed);
    SqliteConn& c = *writer_;
    FrameGuard frame(this, &c, true);
    if (savepoint) {
      if (auto sp = c.simple("SAVEPOINT shouhou_member"); !sp) {
        w.result = std::move(sp);
        return;
      }
    }
    try {
      w.result = (*w.fn)(c);
    } catch (...) {
      w.thrown = std::current_exception();
    }
    // A failure that ended the whole transaction (disk full, I/O error) is
    // the leader's to handle; it sees in_transaction() false.
    if (!savepoint || !c.in_transaction()) return;
    bool failed = w.thrown || !w.result;
    auto undo = failed ? c.simple("ROLLBACK TO shouhou_member") : Result<void>{};
    auto rel = c.simple("RELEASE shouhou_member");
    if ((!undo || !rel) && !failed) w.result = !undo ? std::move(undo) : std::move(rel);
    if ((!undo || !rel) && c.in_transaction()) c.rollback_quietly();  // state unknown: give up the batch
  }

  // Leads one batch: everyone queued (up to kMaxBatch) in arrival order, one
  // transaction, one COMMIT. Called with q_mu_ held and leading_ set; returns
  // with q_mu_ released, every member woken and leadership passed on.
  void lead(Waiter& me, std::unique_lock<std::mutex>& lk) {
    std::vector<Waiter*> batch;
    size_t n = std::min(queue_.size(), kMaxBatch);
    batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lk.unlock();
    const bool savepoints = batch.size() > 1;
    batches_.fetch_add(1, std::memory_order_relaxed);
    batched_.fetch_add(static_cast<int64_t>(batch.size()), std::memory_order_relaxed);
    {
      std::lock_guard wl(write_mu_);
      SqliteConn& c = *writer_;
      std::optional<Error> batch_error;  // all members fail with it
      if (auto b = c.simple("BEGIN IMMEDIATE"); !b) batch_error = b.error();
      size_t ran = 0;  // batch[0, ran) have had their turn
      while (!batch_error && ran < batch.size()) {
        Waiter* w = batch[ran++];
        if (w == &me) {
          run_member(me, savepoints);
        } else {
          lk.lock();
          w->state = Waiter::turn;
          w->cv.notify_one();
          turn_cv_.wait(lk, [&] { return w->state == Waiter::ran; });
          lk.unlock();
        }
        if (!c.in_transaction()) {
          if (!w->result && !savepoints) break;  // a batch of one: its own error says it
          std::string why = w->result ? "the transaction ended early" : w->result.error().message;
          batch_error = Error::unavailable("write rolled back with its batch: " + why);
        }
      }
      bool ok_any = false;
      for (size_t i = 0; i < batch.size() && !batch_error; ++i) ok_any = ok_any || (batch[i]->result && !batch[i]->thrown);
      if (!batch_error && ok_any) {
        if (auto cm = c.simple("COMMIT"); !cm) batch_error = cm.error();
      }
      c.rollback_quietly();  // after a COMMIT a no-op; otherwise nothing may stay
      if (batch_error)
        for (size_t i = 0; i < batch.size(); ++i) {
          Waiter* w = batch[i];
          if (i >= ran || (w->result && !w->thrown)) w->result = *batch_error;
        }
    }
    lk.lock();
    for (Waiter* w : batch) {
      if (w == &me) continue;
      w->state = Waiter::done;
      w->cv.notify_one();
    }
    if (!queue_.empty()) {
      queue_.front()->lead = true;
      queue_.front()->cv.notify_one();
    } else {
      leading_ = false;
    }
    lk.unlock();
  }

  // Runs fn in a transaction on the writer connection. `read_only` marks
  // reads that had to use the writer because there are no reader connections.
  Result<void> on_writer(const std::function<Result<void>(Conn&)>& fn, const char* begin, bool read_only) {
    auto t0 = Clock::now();
    std::unique_lock lk(write_mu_);
    write_wait_us_.fetch_add(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count(),
                             std::memory_order_relaxed);
    FrameGuard frame(this, writer_.get(), true);
    SqliteConn& c = *writer_;
    auto count = [&](bool ok) {
      if (read_only) reads_.fetch_add(1, std::memory_order_relaxed);
      else (ok ? writes_ : write_errors_).fetch_add(1, std::memory_order_relaxed);
    };
    if (auto b = c.simple(begin); !b) {
      count(false);
      return b;
    }
    // Rolls back when fn throws; the exception then propagates unchanged.
    struct Guard {
      SqliteConn& c;
      bool done = false;
      ~Guard() {
        if (!done) c.rollback_quietly();
      }
    } guard{c};
    Result<void> r = fn(c);
    guard.done = true;
    if (!r || read_only) {
      c.rollback_quietly();
      count(r.ok());
      return r;
    }
    if (auto cm = c.simple("COMMIT"); !cm) {
      c.rollback_quietly();
      count(false);
      return cm;
    }
    count(true);
    return {};
  }

  SqliteConn* checkout() {
    auto t0 = Clock::now();
    std::unique_lock lk(pool_mu_);
    pool_cv_.wait(lk, [&] { return !free_.empty(); });
    SqliteConn* c = free_.back();
    free_.pop_back();
    read_wait_us_.fetch_add(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count(),
                            std::memory_order_relaxed);
    return c;
  }

  void checkin(SqliteConn* c) {
    {
      std::lock_guard lk(pool_mu_);
      free_.push_back(c);
    }
    pool_cv_.notify_one();
  }

  static void sync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      (void)::fsync(fd);
      ::close(fd);
    }
  }

  std::string path_;
  Options opts_;
  std::unique_ptr<SqliteConn> writer_;
  std::mutex write_mu_;  // the writer connection (batches; reads when there are no readers; backup)
  mutable std::mutex q_mu_;  // the group-commit queue
  std::condition_variable turn_cv_;  // a member hands the connection back to the leader
  std::vector<Waiter*> queue_;
  bool leading_ = false;  // a batch is being led (invariant: queue_ non-empty => leading_)
  // SHOUHOU_SQLITE_GROUP_COMMIT=0 at open: one transaction per write() under
  // write_mu_, as before group commit (an operator's switch; benchmarks'
  // before/after).
  const bool group_commit_ = [] {
    const char* e = std::getenv("SHOUHOU_SQLITE_GROUP_COMMIT");
    return !(e && std::string_view(e) == "0");
  }();
  std::vector<std::unique_ptr<SqliteConn>> readers_;
  std::vector<SqliteConn*> free_;
  mutable std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::atomic<int64_t> writes_{0}, write_errors_{0}, reads_{0}, write_wait_us_{0}, read_wait_us_{0};
  std::atomic<int64_t> batches_{0}, batched_{0};  // group commits and the writes they carried
};

}  // namespace

Result<std::unique_ptr<Database>> open_sqlite(const std::string& path, const Options& opts) {
  auto db = std::make_unique<SqliteDb>(path, opts);
  TRY_VOID(db->init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace shouhou::store::detail
