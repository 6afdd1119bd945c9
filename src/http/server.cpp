// The HTTP/WebSocket server: Boost.Beast over Asio.
//
// Threading model: one io_context per I/O thread. The acceptor hands each new
// connection to the next context round-robin, and a connection lives on that
// one thread for its whole life, so its executor is an implicit strand and the
// per-request path takes no locks. Handlers that may block (database) run on
// a separate worker pool; their response is posted back to the connection's
// executor. Metrics are sharded per I/O thread for the same reason.
#include "http/http.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

namespace shouhou::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kWsPath = "/api/v1/ws";
constexpr uint32_t kHeaderLimit = 16 * 1024;      // cookies + tokens fit comfortably
constexpr size_t kWsQueueLimit = 256;             // a client further behind than this is dropped
constexpr size_t kWsMessageMax = 64 * 1024;       // client->server frames are tiny commands
constexpr size_t kWsMaxTopics = 64;
constexpr size_t kLingerMaxBytes = 16 << 20;      // drained after an error response before closing
constexpr auto kLingerTime = std::chrono::seconds(2);

// ---- small helpers ---------------------------------------------------------

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  return false;
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
}

// splitmix64 per thread: request ids need to be unique-ish, not secret, and
// a CSPRNG call per request would show up in the profile.
uint64_t fast_random() {
  thread_local uint64_t state = [] {
    std::random_device rd;
    uint64_t s = (uint64_t(rd()) << 32) ^ rd();
    s ^= std::hash<std::thread::id>{}(std::this_thread::get_id());
    s ^= static_cast<uint64_t>(Clock::now().time_since_epoch().count());
    return s;
  }();
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string new_request_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = fast_random();
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = kHex[v & 15];
  return s;
}

// A caller-supplied X-Request-Id is echoed and logged, so it must not carry
// anything that could forge log lines or headers.
bool sane_request_id(std::string_view v) {
  if (v.empty() || v.size() > 128) return false;
  for (char c : v) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

bool header_name_ok(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool header_value_ok(std::string_view v) { return v.find_first_of("\r\n") == std::string_view::npos; }

// The Date header, formatted once per second per thread.
std::string_view http_date() {
  thread_local std::time_t last = 0;
  thread_local char buf[40];
  thread_local size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != last || len == 0) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    last = now;
  }
  return {buf, len};
}

// "2026-11-22T10:00:00.123Z" for the access log; the seconds part is cached.
void append_log_ts(std::string& out) {
  thread_local std::time_t last = -1;
  thread_local char buf[24];
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  if (secs != last) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    last = secs;
  }
  out.append(buf);
  int milli = static_cast<int>(ms % 1000);
  char frac[6] = {'.', char('0' + milli / 100), char('0' + milli / 10 % 10), char('0' + milli % 10), 'Z', 0};
  out.append(frac, 5);
}

std::string_view reason_phrase(int status) {
  auto r = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
  if (r.empty() || r.front() == '<') return "Unknown";
  return r;
}

std::string_view content_type_for(const std::string& path) {
  auto dot = path.rfind('.');
  if (dot == std::string::npos) return "application/octet-stream";
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = lower_ascii(c);
  static const std::pair<const char*, const char*> kTypes[] = {
      {"html", "text/html; charset=utf-8"},  {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"}, {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},     {"svg", "image/svg+xml"},
      {"png", "image/png"},                   {"ico", "image/x-icon"},
      {"json", "application/json"},           {"woff2", "font/woff2"},
      {"woff", "font/woff"},                  {"map", "application/json"},
      {"txt", "text/plain; charset=utf-8"},   {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},                 {"webp", "image/webp"},
      {"gif", "image/gif"},                   {"webmanifest", "application/manifest+json"},
      {"wasm", "application/wasm"},           {"pdf", "application/pdf"},
  };
  for (const auto& [e, t] : kTypes)
    if (ext == e) return t;
  return "application/octet-stream";
}

// ---- metrics ---------------------------------------------------------------

constexpr std::array<uint64_t, 14> kBucketUs = {500,    1000,   2500,    5000,    10000,   25000,   50000,
                                                100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
constexpr std::array<const char*, 14> kBucketLabel = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                                                      "0.1",    "0.25",  "0.5",    "1",     "2.5",  "5",    "10"};
constexpr std::array<std::string_view, 8> kMethods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"};
constexpr size_t kClasses = 5;  // 1xx..5xx

size_t method_index(std::string_view m) {
  for (size_t i = 0; i + 1 < kMethods.size(); ++i)
    if (m == kMethods[i]) return i;
  return kMethods.size() - 1;
}

class Metrics {
 public:
  // Called once in start(), before any thread records.
  void init(std::vector<std::string> slot_names, size_t shards) {
    names_ = std::move(slot_names);
    shards_.clear();
    for (size_t i = 0; i < shards; ++i) {
      auto s = std::make_unique<Shard>();
      s->counts = std::make_unique<std::atomic<uint64_t>[]>(names_.size() * kMethods.size() * kClasses);
      shards_.push_back(std::move(s));
    }
  }

  // Each shard belongs to one I/O thread, so these atomics are uncontended;
  // they are atomics only so a scrape on another thread reads them safely.
  void record(size_t shard, size_t slot, size_t method, int status, uint64_t us) {
    if (shard >= shards_.size() || slot >= names_.size()) return;
    Shard& s = *shards_[shard];
    size_t cls = static_cast<size_t>(std::clamp(status / 100, 1, 5) - 1);
    s.counts[(slot * kMethods.size() + method) * kClasses + cls].fetch_add(1, std::memory_order_relaxed);
    size_t b = 0;
    while (b < kBucketUs.size() && us > kBucketUs[b]) ++b;
    s.buckets[b].fetch_add(1, std::memory_order_relaxed);
    s.sum_us.fetch_add(us, std::memory_order_relaxed);
    if (status >= 500) s.errors.fetch_add(1, std::memory_order_relaxed);
  }

  struct Totals {
    std::vector<uint64_t> counts;
    std::array<uint64_t, kBucketUs.size() + 1> buckets{};
    uint64_t sum_us = 0, errors = 0, count = 0;
  };

  Totals totals() const {
    Totals t;
    t.counts.assign(names_.size() * kMethods.size() * kClasses, 0);
    for (const auto& s : shards_) {
      for (size_t i = 0; i < t.counts.size(); ++i) t.counts[i] += s->counts[i].load(std::memory_order_relaxed);
      for (size_t b = 0; b < t.buckets.size(); ++b) t.buckets[b] += s->buckets[b].load(std::memory_order_relaxed);
      t.sum_us += s->sum_us.load(std::memory_order_relaxed);
      t.errors += s->errors.load(std::memory_order_relaxed);
    }
    for (auto b : t.buckets) t.count += b;
    return t;
  }

  template <class F>  // f(method, route, status_class, count) for each non-zero counter
  void each_count(const Totals& t, F&& f) const {
    static constexpr const char* kCls[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (size_t slot = 0; slot < names_.size(); ++slot)
      for (size_t m = 0; m < kMethods.size(); ++m)
        for (size_t c = 0; c < kClasses; ++c) {
          uint64_t n = t.counts[(slot * kMethods.size() + m) * kClasses + c];
          if (n) f(kMethods[m], names_[slot], kCls[c], n);
        }
  }

 private:
  struct alignas(64) Shard {
    std::unique_ptr<std::atomic<uint64_t>[]> counts;
    std::array<std::atomic<uint64_t>, kBucketUs.size() + 1> buckets{};  // last = +Inf; not cumulative
    std::atomic<uint64_t> sum_us{0};
    std::atomic<uint64_t> errors{0};
  };
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

// ---- parser ----------------------------------------------------------------

// Parses straight into our Request, skipping Beast's own field container: one
// copy of each header instead of two, and no per-field node allocations.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit RequestParser(Request& r) : r_(r) {}
  int version() const { return version_; }

 private:
  void on_request_impl(bhttp::verb, std::string_view method, std::string_view target, int version,
                       beast::error_code&) override {
    r_.method.assign(method);
    r_.target.assign(target);
    version_ = version;
    r_.headers.items.reserve(12);
  }
  void on_response_impl(int, std::string_view, int, beast::error_code&) override {}
  void on_field_impl(bhttp::field, std::string_view name, std::string_view value, beast::error_code&) override {
    std::string k(name);
    for (char& c : k) c = lower_ascii(c);
    r_.headers.items.emplace_back(std::move(k), std::string(value));
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<uint64_t>& len, beast::error_code&) override {
    if (len) r_.body.reserve(static_cast<size_t>(*len));  // already checked against body_limit
  }
  size_t on_body_impl(std::string_view s, beast::error_code&) override {
    r_.body.append(s);
    return s.size();
  }
  void on_chunk_header_impl(uint64_t, std::string_view, beast::error_code&) override {}
  size_t on_chunk_body_impl(uint64_t, std::string_view s, beast::error_code&) override {
    r_.body.append(s);
    return s.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  Request& r_;
  int version_ = 11;
};

// ---- worker pool -------------------------------------------------------------

// Runs blocking handlers. asio::thread_pool wakes a sleeping thread (futex
// wait + wake, two context switches) for every task; with handlers that take
// microseconds that handoff costs more than the handler. Here a worker that
// runs out of work first polls briefly (yielding the CPU), so under load the
// next task is picked up without sleeping, and the I/O thread only signals
// when nobody is polling. A worker that takes a task while more are queued
// wakes a colleague, so a handler blocked on the database never holds up the
// queue behind it.
class WorkerPool {
 public:
  using Task = std::function<void()>;

  explicit WorkerPool(size_t n) {
    for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { run(); });
  }
  ~WorkerPool() { stop(); }

  void post(Task t) {
    {
      std::lock_guard lk(mu_);
      q_.push_back(std::move(t));
      pending_.fetch_add(1);
    }
    if (spinning_.load() == 0) cv_.notify_one();
  }

  // Abandons queued tasks, lets running ones finish, joins.
  void stop() {
    std::deque<Task> dropped;
    {
      std::lock_guard lk(mu_);
      if (stop_ && threads_.empty()) return;
      stop_ = true;
      dropped.swap(q_);
      pending_.store(0);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void run() {
    std::unique_lock lk(mu_);
    bool polled = false;  // polled since the last task: sleep next time
    for (;;) {
      if (stop_) return;
      if (!q_.empty()) {
        polled = false;
        Task t = std::move(q_.front());
        q_.pop_front();
        pending_.fetch_sub(1);
        bool more = !q_.empty();
        lk.unlock();
        if (more && spinning_.load() == 0) cv_.notify_one();
        try {
          t();
        } catch (const std::exception& e) {
          spdlog::error("http: worker task failed: {}", e.what());
        } catch (...) {
          spdlog::error("http: worker task failed");
        }
        t = nullptr;  // release what the task holds before taking the lock
        lk.lock();
        continue;
      }
      if (!polled && spinning_.load() == 0) {
        polled = true;
        // One poller at a time; the decrement happens under the lock, so a
        // producer that saw it polling pushed before we re-check the queue.
        spinning_.fetch_add(1);
        lk.unlock();
        auto until = Clock::now() + kPollTime;
        while (pending_.load(std::memory_order_relaxed) == 0 && Clock::now() < until) std::this_thread::yield();
        lk.lock();
        spinning_.fetch_sub(1);
        continue;
      }
      cv_.wait(lk);
      polled = false;
    }
  }

  static constexpr auto kPollTime = std::chrono::microseconds(50);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> q_;
  std::atomic<size_t> pending_{0};
  std::atomic<int> spinning_{0};
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

class WsSession;

// ---- event hub ---------------------------------------------------------------

class Hub final : public EventHub {
 public:
  using EventHub::publish;
  void publish(const std::string& topic, const json& payload, const std::vector<std::string>& scopes) override;
  void resync(const std::string& reason) override;
  size_t clients() const override {
    std::lock_guard lk(mu_);
    size_t n = 0;
    for (const auto& [p, e] : sessions_) n += !e.session.expired();
    return n;
  }
  void add(const std::shared_ptr<WsSession>& s, std::string scope) {
    std::lock_guard lk(mu_);
    sessions_[s.get()] = Entry{s, {}, std::move(scope)};
  }
  void remove(const WsSession* s) {
    std::lock_guard lk(mu_);
    sessions_.erase(s);
  }
  // Applies a (un)subscription; returns the client's topics afterwards.
  std::vector<std::string> update(const WsSession* s, const std::vector<std::string>& sub,
                                  const std::vector<std::string>& unsub) {
    std::lock_guard lk(mu_);
    auto it = sessions_.find(s);
    if (it == sessions_.end()) return {};
    auto& topics = it->second.topics;
    for (const auto& t : unsub) std::erase(topics, t);
    for (const auto& t : sub)
      if (topics.size() < kWsMaxTopics && std::find(topics.begin(), topics.end(), t) == topics.end())
        topics.push_back(t);
    return topics;
  }
  void close_all();
  // After this nothing is posted to the I/O contexts any more: they are about
  // to be destroyed.
  void stop() {
    std::lock_guard lk(mu_);
    stopped_ = true;
    sessions_.clear();
  }

 private:
  struct Entry {
    std::weak_ptr<WsSession> session;
    std::vector<std::string> topics;
    std::string scope;  // org path prefix; "" = every event
  };
  // Posts msg to every session for which want(entry) holds.
  template <class Want>
  void post_to(const std::shared_ptr<const std::string>& msg, Want want);
  mutable std::mutex mu_;
  std::unordered_map<const WsSession*, Entry> sessions_;
  bool stopped_ = false;
};

// ---- the core shared by sessions --------------------------------------------

struct ServerCore {
  ServerCore(const Router& r, ServerOptions o) : router(r), opts(std::move(o)) {
    const char* env = std::getenv("SHOUHOU_ACCESS_LOG");
    access_on = !(env && (std::strcmp(env, "0") == 0 || std::strcmp(env, "off") == 0 || std::strcmp(env, "false") == 0));
    if (access_on) {
      access = spdlog::get("access");
      if (!access) {
        try {
          access = spdlog::stdout_logger_mt("access");
          access->set_pattern("%v");  // each line is a complete JSON object
          // Flushing per line would cost a syscall per request; a periodic
          // flush keeps piped logs timely.
          spdlog::flush_every(std::chrono::seconds(1));
        } catch (const spdlog::spdlog_ex&) {
          access = spdlog::get("access");  // another server registered it first
        }
      }
      if (!access) access_on = false;
    }
  }

  const Router& router;
  ServerOptions opts;
  Metrics metrics;
  Hub hub;
  std::shared_ptr<spdlog::logger> access;
  bool access_on = true;

  std::unordered_map<const Route*, size_t> route_slot;
  size_t static_slot = 0, unmatched_slot = 0, ws_slot = 0;
  size_t max_route_body = 0;  // Router::max_route_body(), taken at start

  std::atomic<int64_t> inflight{0};
  std::atomic<bool> stopping{false};

  std::mutex ws_auth_mu;
  std::shared_ptr<const WsAuthorizer> ws_auth;

  std::unique_ptr<WorkerPool> pool;

  size_t slot_of(const Route* r) const {
    auto it = route_slot.find(r);
    return it == route_slot.end() ? unmatched_slot : it->second;
  }
  std::shared_ptr<const WsAuthorizer> authorizer() {
    std::lock_guard lk(ws_auth_mu);
    return ws_auth;
  }
};

// ---- WebSocket session ------------------------------------------------------

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(ServerCore& srv, beast::tcp_stream&& s, std::string scope)
      : srv_(srv), ws_(std::move(s)), scope_(std::move(scope)) {}

  asio::any_io_executor executor() { return ws_.get_executor(); }

  void start(bhttp::request<bhttp::empty_body> req, std::string request_id) {
    req_ = std::move(req);
    beast::get_lowest_layer(ws_).expires_never();  // websocket's own timeouts take over
    websocket::stream_base::timeout t{};
    t.handshake_timeout = srv_.opts.request_timeout;
    t.idle_timeout = srv_.opts.idle_timeout;
    t.keep_alive_pings = true;  // ping at half the idle timeout; a dead peer is dropped
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator(
        [rid = std::move(request_id)](websocket::response_type& r) { r.set("X-Request-Id", rid); }));
    ws_.read_message_max(kWsMessageMax);
    ws_.async_accept(req_, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  // Runs on this session's executor.
  void enqueue(std::shared_ptr<const std::string> msg) {
    if (closing_ || dead_) return;
    if (queue_.size() >= kWsQueueLimit) {
      // A client this far behind is not reading; dropping it bounds memory
      // and keeps publish() from ever waiting on it.
      spdlog::warn("websocket client too slow ({} queued messages); dropping it", queue_.size());
      kill();
      return;
    }
    queue_.push_back(std::move(msg));
    if (!writing_) do_write();
  }

  // Runs on this session's executor: the server is shutting down.
  void shutdown() {
    if (dead_ || closing_) return;
    closing_ = true;
    // Keep only a message that is mid-write: its buffer is in use.
    if (writing_) queue_.erase(queue_.begin() + 1, queue_.end());
    else queue_.clear();
    if (!writing_) do_close();
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return;  // handshake failed; the socket closes with us
    srv_.hub.add(shared_from_this(), scope_);
    do_read();
  }

  void do_read() {
    ws_.async_read(rbuf_, [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      // Peer closed, timed out or was dropped. A write may still be
      // pending; it fails on its own and releases its message.
      dead_ = true;
      srv_.hub.remove(this);
      return;
    }
    std::string text = beast::buffers_to_string(rbuf_.data());
    rbuf_.consume(rbuf_.size());
    handle_message(text);
    do_read();
  }

  void handle_message(const std::string& text) {
    auto fail = [this](const std::string& msg) {
      json e{{"error", {{"code", "invalid"}, {"message", msg}}}};
      enqueue(std::make_shared<const std::string>(e.dump()));
    };
    if (!ws_.got_text() || !valid_utf8(text)) return fail("messages must be UTF-8 JSON text");
    json j = json::parse(text, nullptr, false);
    if (!j.is_object()) return fail("expected {\"subscribe\":[...]} or {\"unsubscribe\":[...]}");
    std::vector<std::string> sub, unsub;
    auto collect = [&](const char* key, std::vector<std::string>& out) -> bool {
      auto it = j.find(key);
      if (it == j.end()) return true;
      if (!it->is_array()) return false;
      for (const auto& t : *it) {
        if (!t.is_string() || t.get_ref<const std::string&>().empty() || t.get_ref<const std::string&>().size() > 128)
          return false;
        out.push_back(t.get<std::string>());
      }
      return true;
    };
    if (!collect("subscribe", sub) || !collect("unsubscribe", unsub))
      return fail("topics must be an array of non-empty strings");
    if (sub.empty() && unsub.empty() && !j.contains("subscribe") && !j.contains("unsubscribe"))
      return fail("expected {\"subscribe\":[...]} or {\"unsubscribe\":[...]}");
    auto topics = srv_.hub.update(this, sub, unsub);
    // The acknowledgement tells the client from when on it will see events.
    enqueue(std::make_shared<const std::string>(json{{"subscribed", topics}}.dump()));
  }

  void do_write() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    queue_.pop_front();
    if (ec || dead_) {
      kill();
      return;
    }
    if (closing_) do_close();
    else if (!queue_.empty()) do_write();
  }

  void do_close() {
    if (close_started_) return;
    close_started_ = true;
    // The pending read sees the peer's close reply and ends the session.
    ws_.async_close(websocket::close_code::going_away, [self = shared_from_this()](beast::error_code) {});
  }

  void kill() {
    if (dead_) return;
    dead_ = true;
    // A message being written must outlive its write, which now fails.
    if (writing_) queue_.erase(queue_.begin() + 1, queue_.end());
    else queue_.clear();
    srv_.hub.remove(this);
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);  // pending operations complete with an error
  }

  ServerCore& srv_;
  websocket::stream<beast::tcp_stream> ws_;
  bhttp::request<bhttp::empty_body> req_;
  beast::flat_buffer rbuf_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  bool writing_ = false, closing_ = false, close_started_ = false, dead_ = false;
  std::string scope_;  // the client's data scope, from the authorizer
};

template <class Want>
void Hub::post_to(const std::shared_ptr<const std::string>& msg, Want want) {
  std::lock_guard lk(mu_);
  if (stopped_) return;
  // Posting under the lock guarantees the target io_context is still alive
  // (stop() takes this lock before destroying them). The shared_ptr is moved
  // into the handler, so no reference is dropped here while locked.
  for (auto& [p, e] : sessions_) {
    if (!want(e)) continue;
    if (auto s = e.session.lock()) {
      auto ex = s->executor();
      asio::post(ex, [s = std::move(s), msg] { s->enqueue(msg); });
    }
  }
}

void Hub::publish(const std::string& topic, const json& payload, const std::vector<std::string>& scopes) {
  {
    std::lock_guard lk(mu_);
    if (stopped_ || sessions_.empty()) return;
  }
  auto msg = std::make_shared<const std::string>(
      json{{"topic", topic}, {"data", payload}}.dump(-1, ' ', false, json::error_handler_t::replace));
  post_to(msg, [&](const Entry& e) {
    if (std::find(e.topics.begin(), e.topics.end(), topic) == e.topics.end()) return false;
    if (scopes.empty() || e.scope.empty()) return true;
    // The client's scope is a prefix of one of the records' paths.
    return std::any_of(scopes.begin(), scopes.end(),
                       [&](const std::string& path) { return path.compare(0, e.scope.size(), e.scope) == 0; });
  });
}

void Hub::resync(const std::string& reason) {
  auto msg = std::make_shared<const std::string>(
      json{{"resync", true}, {"reason", reason}}.dump(-1, ' ', false, json::error_handler_t::replace));
  post_to(msg, [](const Entry&) { return true; });
}

void Hub::close_all() {
  std::lock_guard lk(mu_);
  if (stopped_) return;
  for (auto& [p, e] : sessions_)
    if (auto s = e.session.lock()) {
      auto ex = s->executor();
      asio::post(ex, [s = std::move(s)] { s->shutdown(); });
    }
}

// ---- HTTP session -----------------------------------------------------------

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(ServerCore& srv, tcp::socket&& s, size_t shard) : srv_(srv), stream_(std::move(s)), shard_(shard) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) client_ = ep.address().to_string();
  }

  ~HttpSession() {
    // A request abandoned mid-flight (connection torn down during shutdown)
    // must not leave the gauge raised.
    if (counted_) srv_.inflight.fetch_sub(1, std::memory_order_relaxed);
  }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

 private:
  // ---- reading ----
  void do_read() {
    req_ = Request{};
    res_ = Response{};
    route_ = nullptr;
    head_only_ = false;
    slot_ = srv_.unmatched_slot;
    parser_.emplace(req_);
    parser_->header_limit(kHeaderLimit);
    // The largest limit any route allows; on_header narrows it to the request's route.
    parser_->body_limit(static_cast<uint64_t>(std::max(srv_.opts.max_body_bytes, srv_.max_route_body)));
    // Bytes already buffered mean a pipelined request has started arriving.
    stream_.expires_after(buf_.size() ? srv_.opts.request_timeout : srv_.opts.idle_timeout);
    bhttp::async_read_header(stream_, buf_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    t0_ = Clock::now();
    if (parser_->is_done()) return on_request();
    body_limit_ = srv_.opts.max_body_bytes;
    if (srv_.max_route_body > body_limit_) {
      std::string_view target = req_.target;
      auto m = srv_.router.match(req_.method, target.substr(0, target.find('?')));
      if (m.route && m.route->max_body_bytes > body_limit_) body_limit_ = m.route->max_body_bytes;
      auto len = parser_->content_length();
      if (len && *len > body_limit_) return on_read_error(bhttp::error::body_limit);
      parser_->body_limit(static_cast<uint64_t>(body_limit_));
    }
    stream_.expires_after(srv_.opts.request_timeout);
    auto expect = req_.header("expect");
    if (expect && iequals(*expect, "100-continue")) {
      // The client waits for this before sending the body (curl does for
      // large uploads); an over-limit Content-Length was refused already.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->close_now();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buf_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->on_read_error(ec);
      self->on_request();
    });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      return respond_error(413, Error{Error::Code::too_large,
                                      "request body exceeds " + std::to_string(body_limit_) + " bytes",
                                      "body"});
    }
    if (ec == bhttp::error::header_limit) {
      keep_alive_ = false;
      return respond_error(431, Error{Error::Code::too_large, "request headers too large", {}});
    }
    static const auto& http_category = bhttp::make_error_code(bhttp::error::bad_method).category();
    if (ec.category() == http_category && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      keep_alive_ = false;
      return respond_error(400, Error::invalid("malformed HTTP request: " + ec.message()));
    }
    // end of stream, timeout, reset: nothing to answer.
    close_now();
  }

  // ---- routing ----
  void on_request() {
    counted_ = true;
    srv_.inflight.fetch_add(1, std::memory_order_relaxed);
    keep_alive_ = parser_->keep_alive() && !srv_.stopping.load(std::memory_order_relaxed);
    version_ = parser_->version();
    assign_request_id();
    req_.client_addr = client_;
    method_idx_ = method_index(req_.method);
    head_only_ = req_.method == "HEAD";

    std::string_view target = req_.target;
    size_t qpos = target.find('?');
    std::string_view raw_path = target.substr(0, qpos);
    if (raw_path.empty() || raw_path.front() != '/')
      return respond_error(400, Error::invalid("request target must be an absolute path", "path"));
    req_.path = url_decode(raw_path, false);
    if (!valid_utf8(req_.path) || req_.path.find('\0') != std::string::npos)
      return respond_error(400, Error::invalid("path is not valid UTF-8", "path"));
    if (qpos != std::string_view::npos) {
      req_.query = parse_query(target.substr(qpos + 1));
      for (const auto& [k, v] : req_.query)
        if (!valid_utf8(k) || !valid_utf8(v)) return respond_error(400, Error::invalid("query is not valid UTF-8", "query"));
    }

    if (req_.path == kWsPath && parser_->upgrade()) {
      auto up = req_.header("upgrade");
      if (up && icontains(*up, "websocket")) return handle_upgrade();
    }

    auto m = srv_.router.match(req_.method, req_.path);
    if (!m.route && head_only_) {
      auto g = srv_.router.match("GET", req_.path);
      if (g.route) m = std::move(g);
    }
    if (m.route) {
      route_ = m.route;
      slot_ = srv_.slot_of(route_);
      req_.params = std::move(m.params);
      if (route_->inline_ok) {
        run_handler();
        return send();
      }
      // The session is idle meanwhile: no reads are pending, so the worker
      // owns req_/res_ until the response is posted back.
      srv_.pool->post([self = shared_from_this(), ex = stream_.get_executor()] {
        self->run_handler();
        asio::post(ex, [self] { self->send(); });
      });
      return;
    }
    if (m.path_known) {
      res_ = Response::make_json(
          json{{"error", {{"code", "method_not_allowed"}, {"message", "method " + req_.method + " not allowed on " + req_.path}}}},
          405);
      std::string allow;
      for (const auto& a : srv_.router.allowed_methods(req_.path)) {
        if (!allow.empty()) allow += ", ";
        allow += a;
      }
      res_.headers.set("allow", std::move(allow));
      return send();
    }
    if (const auto& fb = srv_.router.fallback()) {
      slot_ = srv_.static_slot;
      // Static files: a stat and an open, cheap enough for the I/O thread.
      run_guarded([&] { res_ = fb(req_); });
      return send();
    }
    res_ = Response::error(Error::not_found("no such endpoint: " + req_.method + " " + req_.path));
    send();
  }

  void assign_request_id() {
    auto given = req_.header("x-request-id");
    req_.request_id = given && sane_request_id(*given) ? std::move(*given) : new_request_id();
  }

  template <class F>
  void run_guarded(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      spdlog::error("request {} {} {}: unhandled exception: {}", req_.request_id, req_.method, req_.path, e.what());
      res_ = Response::error(Error::internal("internal error (request " + req_.request_id + ")"));
    } catch (...) {
      spdlog::error("request {} {} {}: unhandled non-standard exception", req_.request_id, req_.method, req_.path);
      res_ = Response::error(Error::internal("internal error (request " + req_.request_id + ")"));
    }
  }

  void run_handler() {
    run_guarded([this] { res_ = srv_.router.dispatch(req_, *route_); });
  }

  void respond_error(int status, const Error& e) {
    if (!counted_) {  // failed before the request was complete
      counted_ = true;
      srv_.inflight.fetch_add(1, std::memory_order_relaxed);
      t0_ = Clock::now();
      version_ = 11;
      method_idx_ = method_index(req_.method);
    }
    if (req_.request_id.empty()) assign_request_id();
    req_.client_addr = client_;
    res_ = Response::error(e);
    res_.status = status;
    send();
  }

  // ---- WebSocket upgrade ----
  void handle_upgrade() {
    slot_ = srv_.ws_slot;
    if (srv_.stopping.load()) return respond_error(503, Error::unavailable("server is shutting down"));
    if (req_.method != "GET") return respond_error(400, Error::invalid("WebSocket upgrade must use GET"));
    auto auth = srv_.authorizer();
    if (!auth) return do_upgrade("");
    // The authorizer may look up a session in the database: worker pool.
    srv_.pool->post([self = shared_from_this(), auth = std::move(auth), ex = stream_.get_executor()] {
      std::optional<std::string> scope;
      self->run_guarded([&] { scope = (*auth)(self->req_); });
      asio::post(ex, [self, scope = std::move(scope)] {
        if (scope) return self->do_upgrade(*scope);
        if (self->res_.status >= 500) return self->send();  // the authorizer threw
        self->res_ = Response::error(Error::unauthorized("authentication required"));
        self->send();
      });
    });
  }

  void do_upgrade(std::string scope) {
    bhttp::request<bhttp::empty_body> breq;
    breq.method(bhttp::verb::get);
    breq.target(req_.target);
    breq.version(version_);
    for (const auto& [k, v] : req_.headers.items) breq.insert(k, v);
    record_request(101, 0);
    release_inflight();
    auto ws = std::make_shared<WsSession>(srv_, std::move(stream_), std::move(scope));
    ws->start(std::move(breq), req_.request_id);
    // This session ends here; the connection belongs to the WebSocket now.
  }

  // ---- writing ----
  void send() {
    if (!res_.file_path.empty()) return send_file();
    int status = res_.status >= 100 && res_.status <= 999 ? res_.status : 500;
    bool bodiless = status < 200 || status == 204 || status == 304;
    if (srv_.stopping.load(std::memory_order_relaxed)) keep_alive_ = false;
    head_.clear();
    write_head(status, res_.content_type, bodiless ? std::nullopt : std::optional<uint64_t>(res_.body.size()));
    head_.append("\r\n");
    bool with_body = !head_only_ && !bodiless && !res_.body.empty();
    record_request(status, with_body ? res_.body.size() : 0);
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head_),
                                           with_body ? asio::buffer(res_.body) : asio::const_buffer()};
    stream_.expires_after(srv_.opts.request_timeout);
    asio::async_write(stream_, bufs,
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_written(ec); });
  }

  // Status line and headers, without the final blank line.
  void write_head(int status, std::string_view content_type, std::optional<uint64_t> content_length) {
    head_.append("HTTP/1.1 ");
    append_uint(head_, static_cast<uint64_t>(status));
    head_.push_back(' ');
    head_.append(reason_phrase(status));
    head_.append("\r\n");
    bool custom_type = false;
    for (const auto& [k, v] : res_.headers.items) custom_type |= k == "content-type";
    if (!content_type.empty() && !custom_type) {
      head_.append("Content-Type: ");
      head_.append(content_type);
      head_.append("\r\n");
    }
    if (content_length) {
      head_.append("Content-Length: ");
      append_uint(head_, *content_length);
      head_.append("\r\n");
    }
    head_.append("Date: ");
    head_.append(http_date());
    head_.append("\r\nX-Request-Id: ");
    head_.append(req_.request_id);
    head_.append("\r\nX-Content-Type-Options: nosniff\r\n");
    if (!keep_alive_) head_.append("Connection: close\r\n");
    else if (version_ == 10) head_.append("Connection: keep-alive\r\n");
    for (const auto& [k, v] : res_.headers.items) {
      // A handler-supplied CR/LF would let input split the response.
      if (!header_name_ok(k) || !header_value_ok(v) || k == "content-length" || k == "connection") continue;
      head_.append(k);
      head_.append(": ");
      head_.append(v);
      head_.append("\r\n");
    }
  }

  void send_file() {
    beast::error_code ec;
    bhttp::file_body::value_type body;
    body.open(res_.file_path.c_str(), beast::file_mode::scan, ec);
    if (ec) {
      res_ = Response::error(Error::not_found("file not found"));
      return send();
    }
    uint64_t size = body.size();
    std::error_code fec;
    auto mtime = std::filesystem::last_write_time(res_.file_path, fec);
    char etag[64];
    std::snprintf(etag, sizeof etag, "W/\"%llx-%llx\"", static_cast<unsigned long long>(size),
                  static_cast<unsigned long long>(fec ? 0 : mtime.time_since_epoch().count()));
    if (!res_.headers.get("cache-control")) {
      bool immutable = req_.path.rfind("/assets/", 0) == 0;
      res_.headers.set("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
    }
    res_.headers.set("etag", etag);
    int status = res_.status >= 200 && res_.status <= 999 ? res_.status : 200;
    auto inm = req_.header("if-none-match");
    if (status == 200 && inm && (*inm == "*" || inm->find(etag) != std::string::npos)) status = 304;
    std::string_view type = content_type_for(res_.file_path);
    if (srv_.stopping.load(std::memory_order_relaxed)) keep_alive_ = false;

    if (head_only_ || status == 304) {
      head_.clear();
      write_head(status, status == 304 ? std::string_view() : type,
                 status == 304 ? std::nullopt : std::optional<uint64_t>(size));
      head_.append("\r\n");
      record_request(status, 0);
      stream_.expires_after(srv_.opts.request_timeout);
      asio::async_write(stream_, asio::buffer(head_),
                        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_written(ec); });
      return;
    }

    auto msg = std::make_shared<bhttp::response<bhttp::file_body>>(
        std::piecewise_construct, std::make_tuple(std::move(body)),
        std::make_tuple(bhttp::int_to_status(static_cast<unsigned>(status)), 11));
    bool custom_type = res_.headers.get("content-type").has_value();
    if (!custom_type) msg->set(bhttp::field::content_type, type);
    msg->set(bhttp::field::date, http_date());
    msg->set("X-Request-Id", req_.request_id);
    msg->set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : res_.headers.items)
      if (header_name_ok(k) && header_value_ok(v) && k != "content-length" && k != "connection") msg->set(k, v);
    msg->content_length(size);
    msg->keep_alive(keep_alive_);
    record_request(status, size);
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::file_body>>(*msg);
    write_file_chunk(std::move(msg), std::move(sr));
  }

  // The deadline is renewed per chunk, so a large file on a slow link is
  // fine and only a stalled client is cut off.
  void write_file_chunk(std::shared_ptr<bhttp::response<bhttp::file_body>> msg,
                        std::shared_ptr<bhttp::response_serializer<bhttp::file_body>> sr) {
    stream_.expires_after(srv_.opts.request_timeout);
    auto& ser = *sr;
    bhttp::async_write_some(stream_, ser,
                            [self = shared_from_this(), msg = std::move(msg), sr = std::move(sr)](
                                beast::error_code ec, size_t) mutable {
                              if (ec || sr->is_done()) return self->on_written(ec);
                              self->write_file_chunk(std::move(msg), std::move(sr));
                            });
  }

  void on_written(beast::error_code ec) {
    release_inflight();
    if (ec) return close_now();
    if (!keep_alive_ || srv_.stopping.load(std::memory_order_relaxed)) return linger_close();
    do_read();
  }

  // Metrics and the access line are recorded once the response is ready,
  // before it is written: a client that has its response sees it counted.
  void record_request(int status, uint64_t bytes) {
    auto us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0_).count());
    srv_.metrics.record(shard_, slot_, method_idx_, status, us);
    if (srv_.access_on) log_access(status, bytes, us);
  }

  // The in-flight unit is held until the response is written, so a graceful
  // stop waits for the bytes to leave.
  void release_inflight() {
    if (!counted_) return;
    counted_ = false;
    srv_.inflight.fetch_sub(1, std::memory_order_relaxed);
  }

  void log_access(int status, uint64_t bytes, uint64_t us) {
    if (!srv_.access->should_log(spdlog::level::info)) return;
    thread_local std::string line;
    line.clear();
    line.append("{\"ts\":\"");
    append_log_ts(line);
    line.append("\",\"request_id\":\"");
    line.append(req_.request_id);
    line.append("\",\"client\":\"");
    line.append(client_);
    line.append("\",\"method\":\"");
    append_json_escaped(line, req_.method);
    line.append("\",\"path\":\"");
    append_json_escaped(line, req_.path.empty() ? std::string_view(req_.target).substr(0, 256) : std::string_view(req_.path));
    line.append("\",\"status\":");
    append_uint(line, static_cast<uint64_t>(status));
    line.append(",\"bytes\":");
    append_uint(line, bytes);
    line.append(",\"duration_us\":");
    append_uint(line, us);
    line.push_back('}');
    srv_.access->log(spdlog::level::info, spdlog::string_view_t(line.data(), line.size()));
  }

  // ---- closing ----
  void close_now() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  // Half-close, then drain what the client still sends for a moment: closing
  // with unread input makes the kernel send RST, which can destroy the
  // response (e.g. a 413) before the client reads it.
  void linger_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close_now();
    buf_.consume(buf_.size());
    drained_ = 0;
    stream_.expires_after(kLingerTime);
    drain();
  }

  void drain() {
    stream_.async_read_some(buf_.prepare(16 * 1024), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kLingerMaxBytes) return self->close_now();
      self->drain();
    });
  }

  ServerCore& srv_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  std::optional<RequestParser> parser_;
  Request req_;
  Response res_;
  std::string head_;
  std::string client_;
  size_t shard_;
  const Route* route_ = nullptr;
  size_t body_limit_ = 0;  // of the request being read
  size_t slot_ = 0;
  size_t method_idx_ = 0;
  int version_ = 11;
  size_t drained_ = 0;
  bool keep_alive_ = true;
  bool head_only_ = false;
  bool counted_ = false;  // holds one unit of the in-flight gauge
  Clock::time_point t0_{};
};

}  // namespace

// ---- Server -----------------------------------------------------------------

struct Server::Impl : ServerCore {
  using ServerCore::ServerCore;

  std::mutex stop_mu;   // serialises start/stop
  bool started = false, stopped = false;
  std::mutex sig_mu;
  bool stop_requested = false;
  asio::io_context* sig_ctx = nullptr;

  // Declared last: destroyed first, while the members above are still alive
  // for the sessions whose destructors run inside io_context's destructor.
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> accept_retry;
  std::vector<std::thread> threads;
  size_t next_ioc = 0;  // acceptor thread only

  ~Impl() { stop(std::chrono::milliseconds(10000)); }

  Result<uint16_t> start() {
    std::lock_guard lk(stop_mu);
    if (started) return Error::conflict("server already started");
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(opts.address, ec);
    if (ec) return Error::invalid("bad listen address: " + opts.address, "address");
    size_t n_io = static_cast<size_t>(std::max(1, opts.io_threads));
    for (size_t i = 0; i < n_io; ++i) {
      iocs.push_back(std::make_unique<asio::io_context>(1));
      guards.emplace_back(asio::make_work_guard(*iocs.back()));
    }
    auto fail = [&](const std::string& what) -> Result<uint16_t> {
      std::string msg = what + " " + opts.address + ":" + std::to_string(opts.port) + ": " + ec.message();
      acceptor.reset();
      guards.clear();
      iocs.clear();
      return Error::unavailable(msg);
    };
    tcp::endpoint ep(addr, opts.port);
    acceptor = std::make_unique<tcp::acceptor>(*iocs[0]);
    acceptor->open(ep.protocol(), ec);
    if (ec) return fail("cannot open socket for");
    acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    acceptor->bind(ep, ec);
    if (ec) return fail("cannot bind");
    acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("cannot listen on");
    uint16_t port = acceptor->local_endpoint(ec).port();
    accept_retry = std::make_unique<asio::steady_timer>(*iocs[0]);

    max_route_body = router.max_route_body();
    // Metric slots: one per route, then the pseudo-routes.
    std::vector<std::string> names;
    for (const auto& r : router.routes()) {
      route_slot[r.get()] = names.size();
      names.push_back(r->pattern);
    }
    static_slot = names.size();
    names.push_back("(static)");
    unmatched_slot = names.size();
    names.push_back("(unmatched)");
    ws_slot = names.size();
    names.push_back(std::string(kWsPath));
    metrics.init(std::move(names), n_io);

    pool = std::make_unique<WorkerPool>(static_cast<size_t>(std::max(1, opts.worker_threads)));
    do_accept();
    for (size_t i = 0; i < n_io; ++i) threads.emplace_back([this, i] { run_io(i); });
    started = true;
    spdlog::info("http: listening on {}:{} ({} I/O threads, {} workers)", opts.address, port, n_io,
                 std::max(1, opts.worker_threads));
    return port;
  }

  void run_io(size_t i) {
    for (;;) {
      try {
        iocs[i]->run();
        return;
      } catch (const std::exception& e) {
        // Handlers catch their own errors; this is a last line of defence
        // (e.g. bad_alloc) that keeps the thread serving.
        spdlog::error("http: I/O thread {}: {}", i, e.what());
      }
    }
  }

  void do_accept() {
    auto& ctx = *iocs[next_ioc];
    size_t shard = next_ioc;
    next_ioc = (next_ioc + 1) % iocs.size();
    acceptor->async_accept(ctx, [this, shard](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (ec) {
        // Typically EMFILE: back off instead of spinning on the error.
        spdlog::warn("http: accept failed: {}", ec.message());
        accept_retry->expires_after(std::chrono::milliseconds(50));
        accept_retry->async_wait([this](beast::error_code e) {
          if (!e && acceptor->is_open()) do_accept();
        });
        return;
      }
      beast::error_code ignore;
      s.set_option(tcp::no_delay(true), ignore);
      std::make_shared<HttpSession>(*this, std::move(s), shard)->start();
      do_accept();
    });
  }

  void stop(std::chrono::milliseconds grace) {
    {
      std::lock_guard lk(sig_mu);
      stop_requested = true;
      if (sig_ctx) sig_ctx->stop();
    }
    std::lock_guard lk(stop_mu);
    if (!started || stopped) return;
    stopped = true;
    stopping = true;
    auto t_start = Clock::now();

    // Stop accepting (on the acceptor's own thread: it is not thread-safe).
    std::promise<void> closed;
    asio::post(*iocs[0], [this, &closed] {
      beast::error_code ec;
      acceptor->close(ec);
      accept_retry->cancel();
      closed.set_value();
    });
    closed.get_future().wait();

    // In-flight requests get the whole grace period; WebSocket clients are
    // asked to close and get at most two seconds to answer.
    hub.close_all();
    auto deadline = t_start + grace;
    auto ws_deadline = t_start + std::min<Clock::duration>(grace, std::chrono::seconds(2));
    for (;;) {
      auto now = Clock::now();
      bool busy = inflight.load() > 0 && now < deadline;
      bool ws_busy = hub.clients() > 0 && now < ws_deadline;
      if (!busy && !ws_busy) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (inflight.load() > 0) spdlog::warn("http: stopping with {} requests still in flight", inflight.load());

    hub.stop();
    guards.clear();
    for (auto& c : iocs) c->stop();
    for (auto& t : threads) t.join();
    threads.clear();
    // Workers may still post completions; the contexts are stopped but alive.
    pool->stop();
    pool.reset();
    accept_retry.reset();
    acceptor.reset();
    iocs.clear();  // destroys the remaining sessions and closes their sockets
    spdlog::info("http: stopped");
  }
};

Server::Server(const Router& router, ServerOptions opts) : impl_(std::make_unique<Impl>(router, std::move(opts))) {}

Server::~Server() = default;

Result<uint16_t> Server::start() { return impl_->start(); }

void Server::stop(std::chrono::milliseconds grace) { impl_->stop(grace); }

void Server::wait_for_signal() {
  asio::io_context ctx(1);
  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  signals.async_wait([](const beast::error_code& ec, int sig) {
    if (!ec) spdlog::info("http: signal {} received, shutting down", sig);
  });
  {
    std::lock_guard lk(impl_->sig_mu);
    if (impl_->stop_requested) return;
    impl_->sig_ctx = &ctx;
  }
  ctx.run();  // returns on a signal, or when stop() is called elsewhere
  {
    std::lock_guard lk(impl_->sig_mu);
    impl_->sig_ctx = nullptr;
  }
  stop();
}

EventHub& Server::events() { return impl_->hub; }

void Server::set_ws_authorizer(WsAuthorizer a) {
  auto p = a ? std::make_shared<const WsAuthorizer>(std::move(a)) : nullptr;
  std::lock_guard lk(impl_->ws_auth_mu);
  impl_->ws_auth = std::move(p);
}

json Server::metrics_snapshot() const {
  auto t = impl_->metrics.totals();
  json requests = json::array();
  impl_->metrics.each_count(t, [&](std::string_view m, const std::string& route, const char* cls, uint64_t n) {
    requests.push_back({{"method", m}, {"route", route}, {"status", cls}, {"count", n}});
  });
  json buckets = json::object();
  uint64_t cum = 0;
  for (size_t b = 0; b < kBucketUs.size(); ++b) {
    cum += t.buckets[b];
    buckets[kBucketLabel[b]] = cum;
  }
  buckets["+Inf"] = t.count;
  return json{{"requests", std::move(requests)},
              {"errors_total", t.errors},
              {"duration_seconds", {{"buckets", std::move(buckets)}, {"sum", double(t.sum_us) / 1e6}, {"count", t.count}}},
              {"inflight", impl_->inflight.load()},
              {"ws_clients", impl_->hub.clients()}};
}

std::string Server::prometheus_text() const {
  auto t = impl_->metrics.totals();
  std::string out;
  out.reserve(4096);
  out += "# HELP shouhou_http_requests_total HTTP requests by method, route pattern and status class.\n"
         "# TYPE shouhou_http_requests_total counter\n";
  impl_->metrics.each_count(t, [&](std::string_view m, const std::string& route, const char* cls, uint64_t n) {
    out += "shouhou_http_requests_total{method=\"";
    out += m;
    out += "\",route=\"";
    for (char c : route) {  // label escaping per the exposition format
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += "\",status=\"";
    out += cls;
    out += "\"} ";
    append_uint(out, n);
    out += '\n';
  });
  out += "# HELP shouhou_http_errors_total HTTP responses with a 5xx status.\n"
         "# TYPE shouhou_http_errors_total counter\nshouhou_http_errors_total ";
  append_uint(out, t.errors);
  out += "\n# HELP shouhou_http_request_duration_seconds Time from request header to response written.\n"
         "# TYPE shouhou_http_request_duration_seconds histogram\n";
  uint64_t cum = 0;
  for (size_t b = 0; b < kBucketUs.size(); ++b) {
    cum += t.buckets[b];
    out += "shouhou_http_request_duration_seconds_bucket{le=\"";
    out += kBucketLabel[b];
    out += "\"} ";
    append_uint(out, cum);
    out += '\n';
  }
  out += "shouhou_http_request_duration_seconds_bucket{le=\"+Inf\"} ";
  append_uint(out, t.count);
  char sum[48];
  std::snprintf(sum, sizeof sum, "%.6f", double(t.sum_us) / 1e6);
  out += "\nshouhou_http_request_duration_seconds_sum ";
  out += sum;
  out += "\nshouhou_http_request_duration_seconds_count ";
  append_uint(out, t.count);
  out += "\n# HELP shouhou_http_inflight HTTP requests being handled.\n# TYPE shouhou_http_inflight gauge\n"
         "shouhou_http_inflight ";
  out += std::to_string(impl_->inflight.load());
  out += "\n# HELP shouhou_ws_clients Connected WebSocket clients.\n# TYPE shouhou_ws_clients gauge\nshouhou_ws_clients ";
  append_uint(out, impl_->hub.clients());
  out += '\n';
  return out;
}

}  // namespace shouhou::http
