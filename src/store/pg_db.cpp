// PostgreSQL backend (libpq).
//
// A pool of up to Options.readers connections serves both reads and writes;
// connections are opened lazily and checked out with a blocking wait.
//
// Semantics callers must know (they differ from SQLite):
//  * write() runs at READ COMMITTED and concurrent writes are NOT serialised:
//    read-modify-write must be one statement (UPDATE t SET n = n + 1 ...), a
//    conditional UPDATE (... WHERE version = ?), or rely on a unique key.
//  * On serialization failure (40001), deadlock (40P01) or a plan invalidated
//    by another server's schema change, the whole write callback is run
//    again, up to 3 more times. Callbacks must therefore be re-runnable: no
//    side effects outside the database, and results assigned, not appended.
//  * After a failed statement PostgreSQL aborts the transaction: every later
//    statement in the same write() fails and the write is rolled back even if
//    the callback ignores the error and returns success. (SQLite only undoes
//    the failed statement.) Use INSERT ... ON CONFLICT instead of "try insert,
//    catch duplicate" inside one transaction.
//  * Same-thread nesting works as on SQLite: read() inside write() runs on the
//    write transaction's connection; write() inside write() is refused.
//  * `?` placeholders are rewritten to $n, so PostgreSQL's `?`-operators
//    (jsonb ?, ?|, ?&) cannot be used.
#include <libpq-fe.h>

#include <atomic>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <list>
#include <mutex>
#include <random>
#include <thread>
#include <set>
#include <unordered_map>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "store/backend.h"

extern char** environ;

namespace shouhou::store::detail {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700, kFloat8 = 701,
              kNumeric = 1700;
constexpr int kMaxWriteRetries = 3;
constexpr size_t kMaxCached = 512;

struct PGresultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PGresultFree>;

struct ConninfoFree {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using Conninfo = std::unique_ptr<PQconninfoOption, ConninfoFree>;

std::string chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Conninfo parse_conninfo(const std::string& url) {
  char* err = nullptr;
  Conninfo o(PQconninfoParse(url.c_str(), &err));
  if (err) PQfreemem(err);
  return o;
}

// "postgresql://user@host:port/db", never the password.
std::string describe_url(const std::string& url) {
  Conninfo opts = parse_conninfo(url);
  if (!opts) return "postgresql://(unparseable URL)";
  std::string user, host, port, db;
  for (auto* o = opts.get(); o->keyword; ++o) {
    if (!o->val) continue;
    std::string_view k = o->keyword;
    if (k == "user") user = o->val;
    else if (k == "host" && host.empty()) host = o->val;
    else if (k == "hostaddr" && host.empty()) host = o->val;
    else if (k == "port") port = o->val;
    else if (k == "dbname") db = o->val;
  }
  std::string out = "postgresql://";
  if (!user.empty()) out += user + "@";
  out += host.empty() ? "localhost" : host;
  if (!port.empty()) out += ":" + port;
  out += "/" + db;
  return out;
}

class PgConn final : public ScriptConn {
 public:
  explicit PgConn(PGconn* c) : pg_(c) {}
  ~PgConn() override { PQfinish(pg_); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // app: the application_name pg_stat_activity shows (the notifier's own
  // connection is "shouhou-notify", so operators and tests can find it).
  static Result<std::unique_ptr<PgConn>> connect(const std::string& url, const std::string& shown,
                                                 const char* app = "shouhou") {
    // Order matters: the URL may override the first two, never the last.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding", nullptr};
    const char* vals[] = {"10", app, url.c_str(), "UTF8", nullptr};
    PGconn* c = PQconnectdbParams(keys, vals, 1);
    if (!c) return Error::unavailable("cannot connect to " + shown + ": out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
      std::string msg = chomp(PQerrorMessage(c));
      PQfinish(c);
      return Error::unavailable("cannot connect to " + shown + ": " + msg);
    }
    // Notices ("relation already exists, skipping") would go to stderr.
    PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
    return std::make_unique<PgConn>(c);
  }

  Dialect dialect() const override { return Dialect::postgres; }
  PGconn* raw() const { return pg_; }
  bool healthy() const { return PQstatus(pg_) == CONNECTION_OK && PQtransactionStatus(pg_) == PQTRANS_IDLE; }
  bool bad() const { return PQstatus(pg_) == CONNECTION_BAD; }

  // Re-establishes a dropped connection; its prepared statements are gone.
  bool reset() {
    PQreset(pg_);
    cache_.clear();
    lru_.clear();
    deallocate_all_ = false;
    if (PQstatus(pg_) != CONNECTION_OK) return false;
    PQsetNoticeProcessor(pg_, [](void*, const char*) {}, nullptr);
    return true;
  }

  Result<Rows> query(std::string_view sql, const Params& params) override {
    PgResult r = TRY(run(sql, params));
    return to_rows(r.get());
  }

  Result<int64_t> exec(std::string_view sql, const Params& params) override {
    PgResult r = TRY(run(sql, params));
    const char* n = PQcmdTuples(r.get());
    int64_t v = 0;
    if (n && *n) std::from_chars(n, n + std::strlen(n), v);
    return v;
  }

  Result<void> exec_script(std::string_view sql) override {
    std::string s(sql);
    PgResult r(PQexec(pg_, s.c_str()));
    if (!ok(r.get())) return fail(r.get());
    return {};
  }

  // Starts a transaction. A connection that died while idle is only noticed
  // here, and nothing has happened yet, so reconnecting once is safe.
  Result<void> begin(const char* sql) {
    retryable_ = false;
    first_error_.reset();
    if (deallocate_all_) {
      PgResult d(PQexec(pg_, "DEALLOCATE ALL"));
      if (ok(d.get())) {
        cache_.clear();
        lru_.clear();
        deallocate_all_ = false;
      }
    }
    PgResult r(PQexec(pg_, sql));
    if (ok(r.get())) return {};
    if (bad() && reset()) {
      r.reset(PQexec(pg_, sql));
      if (ok(r.get())) return {};
    }
    return fail(r.get());
  }

  // COMMIT of an aborted transaction "succeeds" with status ROLLBACK; report
  // the statement error that caused it instead.
  Result<void> commit() {
    PgResult r(PQexec(pg_, "COMMIT"));
    if (!ok(r.get())) return fail(r.get());
    if (std::strcmp(PQcmdStatus(r.get()), "COMMIT") != 0)
      return first_error_ ? *first_error_ : Error::internal("transaction was rolled back");
    return {};
  }

  void rollback() {
    if (PQtransactionStatus(pg_) != PQTRANS_IDLE && !bad()) PQclear(PQexec(pg_, "ROLLBACK"));
  }

  bool retryable() const { return retryable_; }
  // The transaction is aborted (a statement failed even if the callback
  // swallowed the error).
  const std::optional<Error>& first_error() const { return first_error_; }

 private:
  struct Stmt {
    std::string name;
    std::vector<Oid> param_types;
    std::list<std::string_view>::iterator pos;  // in lru_
  };

  static bool ok(const PGresult* r) {
    auto s = PQresultStatus(r);
    return r && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK);
  }

  Error fail(const PGresult* r) {
    Error e = classify(r);
    if (!first_error_) first_error_ = e;
    return e;
  }

  Error classify(const PGresult* r) {
    const char* st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const char* prim = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string msg = prim ? prim : chomp(r ? PQresultErrorMessage(r) : "");
    if (msg.empty()) msg = chomp(PQerrorMessage(pg_));
    std::string state = st ? st : "";
    if (state.empty() || bad()) {
      if (bad()) return Error::unavailable("database connection lost: " + msg);
      return Error::internal("postgres: " + msg);
    }
    auto cls = state.substr(0, 2);
    if (state == "23505") {
      // "Key (username)=(...) already exists." names the column(s).
      std::string field;
      if (const char* d = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL)) {
        std::string_view det = d;
        if (det.rfind("Key (", 0) == 0) {
          auto end = det.find(")=");
          if (end != std::string_view::npos) {
            auto cols = det.substr(5, end - 5);
            if (cols.find(',') == std::string_view::npos && cols.find('(') == std::string_view::npos)
              field = std::string(cols);
          }
        }
      }
      return Error::conflict(msg, field);
    }
    if (cls == "23") return Error::invalid(msg);
    if (state == "40001" || state == "40P01") {
      retryable_ = true;
      return Error::unavailable("concurrent update, please retry: " + msg);
    }
    if (state == "0A000" && msg.find("cached plan") != std::string::npos) {
      // Another server changed the schema under our prepared statements.
      deallocate_all_ = true;
      retryable_ = true;
      return Error::unavailable("schema changed, please retry: " + msg);
    }
    if (state == "25P02" && first_error_)
      return Error::internal("transaction aborted by an earlier error: " + first_error_->message);
    if (cls == "22") return Error::invalid(msg);
    if (cls == "08" || cls == "53" || cls == "57") return Error::unavailable("database unavailable: " + msg);
    return Error::internal("postgres " + state + ": " + msg);
  }

  // Statements are prepared per SQL text and per parameter kinds: integers
  // and reals are declared int8/float8 (so `? IS NULL` and `SELECT ?` work and
  // come back typed); strings and NULLs are left for the server to infer from
  // context, which is how a bytea target is recognised.
  Result<Stmt*> prepare(std::string_view sql, const Params& params) {
    std::string key(sql);
    key += '\x1f';
    for (const Value& v : params)
      key += std::holds_alternative<int64_t>(v) ? 'i' : std::holds_alternative<double>(v) ? 'd'
             : std::holds_alternative<std::string>(v) ? 's' : 'n';
    if (deallocate_all_) {
      PgResult d(PQexec(pg_, "DEALLOCATE ALL"));
      if (!ok(d.get())) return fail(d.get());
      cache_.clear();
      lru_.clear();
      deallocate_all_ = false;
    }
    if (auto it = cache_.find(key); it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.pos);  // most recently used first
      return &it->second;
    }
    // Full: the least recently used statement goes, not all of them (SQL
    // with inlined values would otherwise flush the statements every
    // request reuses, and re-preparing those costs a round trip each).
    if (cache_.size() >= kMaxCached) {
      auto victim = cache_.find(std::string(lru_.back()));
      std::string sql_dealloc = "DEALLOCATE " + victim->second.name;
      PgResult d(PQexec(pg_, sql_dealloc.c_str()));
      if (!ok(d.get())) return fail(d.get());
      cache_.erase(victim);
      lru_.pop_back();
    }
    int n = 0;
    std::string text = pg_rewrite_placeholders(sql, &n);
    if (static_cast<size_t>(n) != params.size())
      return Error::internal("statement has " + std::to_string(n) + " placeholder(s) but " +
                             std::to_string(params.size()) + " parameter(s) were given: " + std::string(sql));
    std::vector<Oid> declared;
    for (const Value& v : params)
      declared.push_back(std::holds_alternative<int64_t>(v) ? kInt8 : std::holds_alternative<double>(v) ? kFloat8 : 0);
    std::string name = "sh" + std::to_string(++next_id_);
    PgResult p(PQprepare(pg_, name.c_str(), text.c_str(), n, declared.data()));
    if (!ok(p.get())) return fail(p.get());
    PgResult d(PQdescribePrepared(pg_, name.c_str()));
    if (!ok(d.get())) return fail(d.get());
    Stmt s{name, {}, {}};
    for (int i = 0; i < PQnparams(d.get()); ++i) s.param_types.push_back(PQparamtype(d.get(), i));
    auto it = cache_.emplace(std::move(key), std::move(s)).first;
    lru_.push_front(it->first);
    it->second.pos = lru_.begin();
    return &it->second;
  }

  Result<PgResult> run(std::string_view sql, const Params& params) {
    Stmt* st = TRY(prepare(sql, params));
    size_t n = params.size();
    std::vector<std::string> tmp(n);
    std::vector<const char*> values(n, nullptr);
    std::vector<int> lengths(n, 0), formats(n, 0);
    for (size_t i = 0; i < n; ++i) {
      const Value& v = params[i];
      if (auto p = std::get_if<int64_t>(&v)) {
        tmp[i] = std::to_string(*p);
        values[i] = tmp[i].c_str();
      } else if (auto p = std::get_if<double>(&v)) {
        if (std::isnan(*p)) tmp[i] = "NaN";
        else if (std::isinf(*p)) tmp[i] = *p > 0 ? "Infinity" : "-Infinity";
        else tmp[i] = format_double(*p);
        values[i] = tmp[i].c_str();
      } else if (auto p = std::get_if<std::string>(&v)) {
        if (st->param_types[i] == kBytea) {
          values[i] = p->data();
          lengths[i] = static_cast<int>(p->size());
          formats[i] = 1;
        } else {
          // Text parameters are C strings; a NUL would silently cut the value.
          if (p->find('\0') != std::string::npos)
            return Error::invalid("text value contains a NUL byte (parameter " + std::to_string(i + 1) + ")");
          values[i] = p->c_str();
        }
      }
    }
    PgResult r(PQexecPrepared(pg_, st->name.c_str(), static_cast<int>(n), values.data(), lengths.data(),
                              formats.data(), 0));
    if (!ok(r.get())) return fail(r.get());
    return r;
  }

  static Rows to_rows(const PGresult* r) {
    Rows out;
    int nf = PQnfields(r), nt = PQntuples(r);
    std::vector<Oid> types(nf);
    for (int c = 0; c < nf; ++c) {
      out.columns.emplace_back(PQfname(r, c));
      types[c] = PQftype(r, c);
    }
    out.rows.reserve(nt);
    for (int t = 0; t < nt; ++t) {
      Row row;
      row.cols.reserve(nf);
      for (int c = 0; c < nf; ++c) {
        if (PQgetisnull(r, t, c)) {
          row.cols.emplace_back(std::monostate{});
          continue;
        }
        const char* v = PQgetvalue(r, t, c);
        size_t len = static_cast<size_t>(PQgetlength(r, t, c));
        row.cols.push_back(convert(types[c], v, len));
      }
      out.rows.push_back(std::move(row));
    }
    return out;
  }

  static Value convert(Oid type, const char* v, size_t len) {
    switch (type) {
      case kInt2:
      case kInt4:
      case kInt8:
      case kOid: {
        int64_t x = 0;
        std::from_chars(v, v + len, x);
        return x;
      }
      case kNumeric: {
        // SUM() of BIGINT is numeric: keep whole numbers integral, as SQLite does.
        int64_t x = 0;
        auto [end, ec] = std::from_chars(v, v + len, x);
        if (ec == std::errc() && end == v + len) return x;
        return std::strtod(v, nullptr);
      }
      case kFloat4:
      case kFloat8:
        return std::strtod(v, nullptr);
      case kBool:
        return int64_t(v[0] == 't' ? 1 : 0);
      case kBytea: {
        size_t n = 0;
        unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &n);
        if (!raw) return std::string();
        std::string s(reinterpret_cast<const char*>(raw), n);
        PQfreemem(raw);
        return s;
      }
      default:
        return std::string(v, len);
    }
  }

  PGconn* pg_;
  std::unordered_map<std::string, Stmt> cache_;
  std::list<std::string_view> lru_;  // cache_ keys (stable in the node map), most recently used first
  uint64_t next_id_ = 0;
  bool deallocate_all_ = false;
  bool retryable_ = false;
  std::optional<Error> first_error_;
};

// LISTEN/NOTIFY on one dedicated connection with its own thread: it listens
// on the channels someone wants, sends the notifications queued outside a
// transaction, and hands incoming ones to the callbacks. When the connection
// drops it reconnects (with backoff) and listens again.
class PgNotifier {
 public:
  PgNotifier(std::string url, std::string shown) : url_(std::move(url)), shown_(std::move(shown)) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    thread_ = std::thread([this] { run(); });
  }
  ~PgNotifier() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    wake();
    thread_.join();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }
  PgNotifier(const PgNotifier&) = delete;
  PgNotifier& operator=(const PgNotifier&) = delete;

  void send(const std::string& channel, const std::string& payload) {
    {
      std::lock_guard lk(mu_);
      // Bounded: while the database is unreachable the oldest are dropped.
      if (outbox_.size() >= kMaxOutbox) outbox_.erase(outbox_.begin());
      outbox_.emplace_back(channel, payload);
    }
    wake();
  }

  // Registers fn; true once the channel is LISTENed to (waits up to 10 s).
  uint64_t add(const std::string& channel, std::function<void(const std::string&)> fn, std::function<void()> on_gap,
               bool* confirmed) {
    uint64_t id;
    {
      std::lock_guard lk(cb_mu_);
      id = ++next_id_;
      callbacks_.push_back({id, channel, std::move(fn), std::move(on_gap)});
    }
    {
      std::lock_guard lk(mu_);
      wanted_.insert(channel);
    }
    wake();
    std::unique_lock lk(mu_);
    *confirmed = cv_.wait_for(lk, std::chrono::seconds(10), [&] { return listening_.count(channel) > 0; });
    return id;
  }

  // After this returns the callback neither runs nor will run.
  void remove(uint64_t id) {
    std::lock_guard lk(cb_mu_);
    std::erase_if(callbacks_, [&](const Callback& c) { return c.id == id; });
  }

 private:
  static constexpr size_t kMaxOutbox = 10000;
  struct Callback {
    uint64_t id;
    std::string channel;
    std::function<void(const std::string&)> fn;
    std::function<void()> on_gap;
  };

  void wake() {
    uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
  }

  // Runs a statement on the notifier connection; false when it failed.
  static bool exec(PGconn* c, const char* sql, int n = 0, const char* const* values = nullptr) {
    PgResult r(PQexecParams(c, sql, n, nullptr, values, nullptr, nullptr, 0));
    auto st = PQresultStatus(r.get());
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  }

  void deliver(PGconn* c) {
    while (PGnotify* n = PQnotifies(c)) {
      std::string channel = n->relname, payload = n->extra ? n->extra : "";
      PQfreemem(n);
      std::lock_guard lk(cb_mu_);
      for (auto& cb : callbacks_)
        if (cb.channel == channel) cb.fn(payload);
    }
  }

  // The channels are listened to again after a lost connection: whatever
  // was sent on them meanwhile is gone, their listeners make up for it.
  void gap(const std::set<std::string>& channels) {
    std::lock_guard lk(cb_mu_);
    for (auto& cb : callbacks_)
      if (cb.on_gap && channels.count(cb.channel)) cb.on_gap();
  }

  void run() {
    std::unique_ptr<PgConn> conn;
    std::set<std::string> listening;  // on the current connection
    std::set<std::string> lost;       // listened to on a connection that dropped, not yet again
    int backoff_ms = 100;
    for (;;) {
      std::set<std::string> wanted;
      std::vector<std::pair<std::string, std::string>> outbox;
      {
        std::lock_guard lk(mu_);
        if (stop_) break;
        wanted = wanted_;
        if (conn && !conn->bad()) outbox.swap(outbox_);
      }
      if (!conn || conn->bad()) {
        if (conn) {
          conn.reset();
          lost.insert(listening.begin(), listening.end());
          listening.clear();
          std::lock_guard lk(mu_);
          listening_.clear();
        }
        auto c = PgConn::connect(url_, shown_, "shouhou-notify");
        if (!c) {
          spdlog::warn("notifications: {} (retrying)", c.error().message);
          wait(backoff_ms);
          backoff_ms = std::min(backoff_ms * 2, 5000);
          continue;
        }
        conn = std::move(*c);
        backoff_ms = 100;
        continue;  // take the outbox now that there is a connection
      }
      PGconn* c = conn->raw();
      bool changed = false;
      for (const auto& ch : wanted) {
        if (listening.count(ch)) continue;
        // Channel names are checked to be [a-z0-9_]+, so quoting is plain.
        if (!exec(c, ("LISTEN \"" + ch + "\"").c_str())) break;
        listening.insert(ch);
        changed = true;
      }
      if (changed) {
        {
          std::lock_guard lk(mu_);
          listening_ = listening;
        }
        cv_.notify_all();
        std::set<std::string> back;
        for (const auto& ch : listening)
          if (lost.erase(ch)) back.insert(ch);
        if (!back.empty()) gap(back);
      }
      size_t sent = 0;
      for (; sent < outbox.size(); ++sent) {
        const char* v[] = {outbox[sent].first.c_str(), outbox[sent].second.c_str()};
        if (!exec(c, "SELECT pg_notify($1, $2)", 2, v)) {
          if (!conn->bad()) {
            spdlog::warn("notifications: cannot send on {}: {}", outbox[sent].first, chomp(PQerrorMessage(c)));
            continue;  // this one is refused; the others still go
          }
          break;
        }
      }
      if (sent < outbox.size()) {  // connection lost: keep the rest for the next one
        std::lock_guard lk(mu_);
        outbox_.insert(outbox_.begin(), outbox.begin() + static_cast<std::ptrdiff_t>(sent), outbox.end());
      }
      deliver(c);
      if (conn->bad()) continue;
      pollfd fds[2] = {{PQsocket(c), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      int rc = ::poll(fds, 2, 1000);
      if (rc > 0 && (fds[1].revents & POLLIN)) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof v);
      }
      if (rc > 0 && fds[0].revents) {
        if (!PQconsumeInput(c)) continue;  // the connection is bad now: reconnect above
        deliver(c);
      }
    }
  }

  // Sleeps up to ms, or less when woken.
  void wait(int ms) {
    pollfd fd{wake_fd_, POLLIN, 0};
    if (::poll(&fd, 1, ms) > 0) {
      uint64_t v;
      (void)!::read(wake_fd_, &v, sizeof v);
    }
  }

  std::string url_, shown_;
  int wake_fd_ = -1;
  std::mutex mu_;  // stop_, wanted_, listening_, outbox_
  std::condition_variable cv_;
  bool stop_ = false;
  std::set<std::string> wanted_, listening_;
  std::vector<std::pair<std::string, std::string>> outbox_;
  std::mutex cb_mu_;  // callbacks_; held while they run
  std::vector<Callback> callbacks_;
  uint64_t next_id_ = 0;
  std::thread thread_;  // last: starts after everything above exists
};

bool valid_channel(const std::string& ch) {
  if (ch.empty() || ch.size() > 63) return false;
  for (char c : ch)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

constexpr size_t kMaxPayload = 7999;  // PostgreSQL refuses 8000 bytes and more

class PgDb final : public Database {
 public:
  PgDb(std::string url, Options opts)
      : url_(std::move(url)), shown_(describe_url(url_)), opts_(opts), max_(std::max(1, opts.readers)) {}

  Result<void> init() {
    // Fail at startup, not on the first request, when the URL is wrong.
    auto c = TRY(PgConn::connect(url_, shown_));
    std::lock_guard lk(mu_);
    free_.push_back(std::move(c));
    open_ = 1;
    return {};
  }

  Result<void> read(const std::function<Result<void>(Conn&)>& fn) override {
    if (TxFrame* f = find_frame(this)) {
      reads_.fetch_add(1, std::memory_order_relaxed);
      return fn(*f->conn);
    }
    Lease lease{this, TRY(checkout(false, read_wait_us_))};
    FrameGuard frame(this, lease.c.get(), false);
    TRY_VOID(lease.c->begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    struct End {
      PgConn* c;
      ~End() { c->rollback(); }  // nothing to commit
    } end{lease.c.get()};
    reads_.fetch_add(1, std::memory_order_relaxed);
    return fn(*lease.c);
  }

  Result<void> write(const std::function<Result<void>(Conn&)>& fn) override {
    TxFrame* outer = find_frame(this);
    if (outer && outer->writing)
      return Error::internal("nested write: write() called inside a write() callback on the same thread");
    for (int attempt = 0;; ++attempt) {
      // Inside a read() on this thread the pool may be exhausted by us alone;
      // allow one connection beyond the limit rather than wait forever.
      Lease lease{this, TRY(checkout(outer != nullptr, write_wait_us_))};
      PgConn& c = *lease.c;
      FrameGuard frame(this, &c, true);
      if (auto b = c.begin("BEGIN"); !b) {
        write_errors_.fetch_add(1, std::memory_order_relaxed);
        return b;
      }
      struct Guard {
        PgConn& c;
        bool done = false;
        ~Guard() {
          if (!done) c.rollback();  // fn threw; the exception propagates
        }
      } guard{c};
      Result<void> r = fn(c);
      guard.done = true;
      if (r && c.first_error()) r = Error(*c.first_error());
      if (r) {
        r = c.commit();
        if (r) {
          writes_.fetch_add(1, std::memory_order_relaxed);
          return {};
        }
      }
      c.rollback();
      if (c.retryable() && attempt < kMaxWriteRetries) {
        retries_.fetch_add(1, std::memory_order_relaxed);
        thread_local std::minstd_rand rng{std::random_device{}()};
        int ms = (1 << attempt) * static_cast<int>(1 + rng() % 10);
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        continue;
      }
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      return r;
    }
  }

  Dialect dialect() const override { return Dialect::postgres; }
  std::string describe() const override { return shown_; }

  Result<void> ping() override {
    return read([](Conn& c) -> Result<void> {
      TRY(c.query("SELECT 1"));
      return {};
    });
  }

  // PostgreSQL checksums pages itself and has no integrity pragma; the check
  // is that the server answers.
  Result<std::string> integrity_check() override {
    TRY_VOID(ping());
    return std::string("ok");
  }

  Result<void> backup(const std::string& dest_path) override;

  Result<void> notify(const std::string& channel, const std::string& payload) {
    if (!valid_channel(channel)) return Error::invalid("channel must be [a-z0-9_]+: " + channel, "channel");
    if (payload.size() > kMaxPayload)
      return Error::invalid("notification payload exceeds " + std::to_string(kMaxPayload) + " bytes", "payload");
    if (payload.find('\0') != std::string::npos) return Error::invalid("notification payload contains NUL", "payload");
    if (TxFrame* f = find_frame(this); f && f->writing) {
      TRY(f->conn->query("SELECT pg_notify(?, ?)", {channel, payload}));  // delivered on COMMIT
      return {};
    }
    notifier().send(channel, payload);
    return {};
  }

  Result<std::unique_ptr<Listening>> listen(const std::string& channel, std::function<void(const std::string&)> fn,
                                            std::function<void()> on_gap) {
    if (!valid_channel(channel)) return Error::invalid("channel must be [a-z0-9_]+: " + channel, "channel");
    PgNotifier& n = notifier();
    bool confirmed = false;
    uint64_t id = n.add(channel, std::move(fn), std::move(on_gap), &confirmed);
    struct Handle final : Listening {
      PgNotifier& n;
      uint64_t id;
      Handle(PgNotifier& n, uint64_t id) : n(n), id(id) {}
      ~Handle() override { n.remove(id); }
    };
    auto h = std::make_unique<Handle>(n, id);
    if (!confirmed) return Error::unavailable("cannot LISTEN on " + shown_ + " (channel " + channel + ")");
    return std::unique_ptr<Listening>(std::move(h));
  }

  nlohmann::json stats() const override {
    std::lock_guard lk(mu_);
    return {{"backend", "postgres"},
            {"readers_total", max_},
            {"readers_busy", busy_},
            {"connections_open", open_},
            {"writes", writes_.load()},
            {"write_errors", write_errors_.load()},
            {"write_retries", retries_.load()},
            {"reads", reads_.load()},
            {"write_wait_ms_total", write_wait_us_.load() / 1000},
            {"read_wait_ms_total", read_wait_us_.load() / 1000}};
  }

 private:
  struct Lease {
    PgDb* db;
    std::unique_ptr<PgConn> c;
    ~Lease() { db->checkin(std::move(c)); }
  };

  Result<std::unique_ptr<PgConn>> checkout(bool may_exceed, std::atomic<int64_t>& wait_us) {
    auto t0 = Clock::now();
    std::unique_ptr<PgConn> c;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return !free_.empty() || open_ < max_ || may_exceed; });
      ++busy_;
      if (!free_.empty()) {
        c = std::move(free_.back());
        free_.pop_back();
      } else {
        ++open_;
      }
    }
    wait_us.fetch_add(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count(),
                      std::memory_order_relaxed);
    if (!c) {
      auto r = PgConn::connect(url_, shown_);
      if (!r) {
        release_slot();
        return std::move(r).error();
      }
      c = std::move(*r);
    } else if (c->bad() && !c->reset()) {
      c.reset();
      release_slot();
      return Error::unavailable("database connection lost and reconnecting to " + shown_ + " failed");
    }
    return c;
  }

  void release_slot() {
    {
      std::lock_guard lk(mu_);
      --busy_;
      --open_;
    }
    cv_.notify_one();
  }

  void checkin(std::unique_ptr<PgConn> c) {
    std::unique_ptr<PgConn> discard;
    {
      std::lock_guard lk(mu_);
      --busy_;
      if (c && c->healthy() && open_ <= max_) {
        free_.push_back(std::move(c));
      } else {
        --open_;
        discard = std::move(c);
      }
    }
    cv_.notify_one();
  }

  PgNotifier& notifier() {
    std::call_once(notifier_once_, [&] { notifier_ = std::make_unique<PgNotifier>(url_, shown_); });
    return *notifier_;
  }

  std::string url_, shown_;
  Options opts_;
  int max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConn>> free_;
  int open_ = 0, busy_ = 0;
  std::atomic<int64_t> writes_{0}, write_errors_{0}, retries_{0}, reads_{0}, write_wait_us_{0}, read_wait_us_{0};
  std::once_flag notifier_once_;
  std::unique_ptr<PgNotifier> notifier_;  // last: its thread stops before the pool goes
};

// pg_dump in custom format (restore with pg_restore). The password goes
// through the child's environment, never its command line.
Result<void> PgDb::backup(const std::string& dest_path) {
  std::error_code ec;
  fs::path dest(dest_path);
  if (fs::exists(dest, ec)) return Error::invalid("backup destination already exists: " + dest_path, "dest");
  if (!dest.parent_path().empty()) fs::create_directories(dest.parent_path(), ec);
  std::string tmp = dest_path + ".partial";
  fs::remove(tmp, ec);

  Conninfo opts = parse_conninfo(url_);
  if (!opts) return Error::internal("cannot parse the database URL");
  std::string conninfo, password;
  for (auto* o = opts.get(); o->keyword; ++o) {
    if (!o->val) continue;
    if (std::strcmp(o->keyword, "password") == 0) {
      password = o->val;
      continue;
    }
    std::string v;
    for (const char* p = o->val; *p; ++p) {
      if (*p == '\\' || *p == '\'') v += '\\';
      v += *p;
    }
    if (!conninfo.empty()) conninfo += ' ';
    conninfo += std::string(o->keyword) + "='" + v + "'";
  }

  std::vector<std::string> args = {"pg_dump", "--format=custom", "--no-password", "--file=" + tmp,
                                   "--dbname=" + conninfo};
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, "PGPASSWORD=", 11) != 0 || password.empty()) env.emplace_back(*e);
  if (!password.empty()) env.push_back("PGPASSWORD=" + password);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return Error::internal(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "pg_dump", &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    return Error::unavailable(std::string("cannot run pg_dump: ") + std::strerror(rc));
  }
  std::string err;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n > 0) {
      if (err.size() < 65536) err.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fs::remove(tmp, ec);
    return Error::unavailable("pg_dump failed (status " + std::to_string(status) + "): " + chomp(err));
  }
  fs::rename(tmp, dest, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Error::unavailable("cannot rename backup into place: " + ec.message());
  }
  return {};
}

}  // namespace

// Rewrites `?` to $1..$n outside string literals, quoted identifiers,
// dollar-quoted bodies and comments.
std::string pg_rewrite_placeholders(std::string_view s, int* count) {
  std::string out;
  out.reserve(s.size() + 16);
  int n = 0;
  size_t i = 0, len = s.size();
  auto ident_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80); };
  while (i < len) {
    char c = s[i];
    if (c == '\'') {
      // E'...' strings treat backslash as an escape.
      bool escapes = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') && (i < 2 || !ident_char(s[i - 2]));
      size_t j = i + 1;
      while (j < len) {
        if (escapes && s[j] == '\\') { j += 2; continue; }
        if (s[j] == '\'') {
          if (j + 1 < len && s[j + 1] == '\'') { j += 2; continue; }
          ++j;
          break;
        }
        ++j;
      }
      j = std::min(j, len);
      out.append(s.substr(i, j - i));
      i = j;
    } else if (c == '"') {
      size_t j = i + 1;
      while (j < len) {
        if (s[j] == '"') {
          if (j + 1 < len && s[j + 1] == '"') { j += 2; continue; }
          ++j;
          break;
        }
        ++j;
      }
      out.append(s.substr(i, j - i));
      i = j;
    } else if (c == '-' && i + 1 < len && s[i + 1] == '-') {
      size_t j = s.find('\n', i);
      j = j == std::string_view::npos ? len : j;
      out.append(s.substr(i, j - i));
      i = j;
    } else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
      // PostgreSQL block comments nest.
      size_t j = i + 2;
      int depth = 1;
      while (j < len && depth > 0) {
        if (s[j] == '/' && j + 1 < len && s[j + 1] == '*') { ++depth; j += 2; }
        else if (s[j] == '*' && j + 1 < len && s[j + 1] == '/') { --depth; j += 2; }
        else ++j;
      }
      out.append(s.substr(i, j - i));
      i = j;
    } else if (c == '$' && (i == 0 || !ident_char(s[i - 1]))) {
      // $tag$ ... $tag$ (tag may be empty); "$1" is a positional parameter.
      size_t j = i + 1;
      while (j < len && (std::isalpha(static_cast<unsigned char>(s[j])) || s[j] == '_' || (s[j] & 0x80) ||
                         (j > i + 1 && std::isdigit(static_cast<unsigned char>(s[j])))))
        ++j;
      if (j < len && s[j] == '$') {
        std::string_view tag = s.substr(i, j - i + 1);
        size_t end = s.find(tag, j + 1);
        end = end == std::string_view::npos ? len : end + tag.size();
        out.append(s.substr(i, end - i));
        i = end;
      } else {
        out += c;
        ++i;
      }
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
      ++i;
    } else {
      out += c;
      ++i;
    }
  }
  if (count) *count = n;
  return out;
}

Result<void> pg_notify(Database& db, const std::string& channel, const std::string& payload) {
  auto* pg = dynamic_cast<PgDb*>(&db);
  if (!pg) return Error::internal("not a PostgreSQL database: " + db.describe());
  return pg->notify(channel, payload);
}

Result<std::unique_ptr<Listening>> pg_listen(Database& db, const std::string& channel,
                                             std::function<void(const std::string&)> fn, std::function<void()> on_gap) {
  auto* pg = dynamic_cast<PgDb*>(&db);
  if (!pg) return Error::internal("not a PostgreSQL database: " + db.describe());
  return pg->listen(channel, std::move(fn), std::move(on_gap));
}

Result<std::unique_ptr<Database>> open_postgres(const std::string& url, const Options& opts) {
  auto db = std::make_unique<PgDb>(url, opts);
  TRY_VOID(db->init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace shouhou::store::detail
