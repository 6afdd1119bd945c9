// The screen pop (GET /api/v1/cti/lookup) in-process: the route's handler,
// as the server runs it after authentication, on a real database (SQLite file
// or PostgreSQL URL in SHOUHOU_BENCH_DB, e.g. generated with
// `shouhou demo --customers 1000000`). Caller numbers are the stored numbers
// of a spread sample of customers, each written the way a telephone system or
// an agent might: "+86 138 0013 8000", "(021) 5030-1234", "021-5030-1234 转 8"...
// Target (issue 3): p99 under 5 ms with 1,000,000 customers. Reports p50 and
// p99 per lookup (counters p50_us / p99_us) besides Google Benchmark's mean.
//   SHOUHOU_BENCH_DB=/tmp/1m.db build/rel/micro_bench --benchmark_filter=CtiLookup
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "app/app.h"
#include "http/http.h"

namespace {

using namespace shouhou;

// "13800138000" -> the ways people and switchboards write it.
std::vector<std::string> formats_of(const std::string& n) {
  std::vector<std::string> out;
  if (n.size() == 11 && n[0] == '1') {
    out.push_back(n);
    out.push_back("+86 " + n.substr(0, 3) + " " + n.substr(3, 4) + " " + n.substr(7));
    out.push_back(n.substr(0, 3) + "-" + n.substr(3, 4) + "-" + n.substr(7));
    out.push_back("0086" + n);
  } else if (n.size() >= 10 && n[0] == '0') {
    // Area codes: 010 and 02x have three digits, the others four.
    size_t a = (n[1] == '1' || n[1] == '2') ? 3 : 4;
    std::string area = n.substr(0, a), local = n.substr(a);
    out.push_back(area + "-" + local);
    out.push_back("(" + area + ") " + local.substr(0, local.size() / 2) + "-" + local.substr(local.size() / 2));
    out.push_back("+86 " + area.substr(1) + " " + local);
    out.push_back(area + local + " 转 8");
  } else {
    out.push_back(n);
  }
  return out;
}

struct Fixture {
  std::unique_ptr<store::Database> db;
  std::unique_ptr<app::App> app;
  const http::Route* route = nullptr;
  std::shared_ptr<const http::Principal> who;
  std::vector<std::string> numbers;
  std::string error;
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture f;
    const char* url = std::getenv("SHOUHOU_BENCH_DB");
    if (!url || !*url) {
      f.error = "set SHOUHOU_BENCH_DB to a generated database (shouhou demo --customers 1000000)";
      return f;
    }
    auto db = app::open_database(url);
    if (!db) {
      f.error = "open " + std::string(url) + ": " + db.error().message;
      return f;
    }
    f.db = std::move(*db);
    f.app = std::make_unique<app::App>(*f.db, app::Config{});
    auto m = f.app->router().match("GET", "/api/v1/cti/lookup");
    f.route = m.route;
    // An HQ agent: the root of the org tree, so every customer is in scope.
    auto p = std::make_shared<http::Principal>();
    p->user_id = 1;
    p->username = "bench";
    p->org_unit_id = 1;
    p->permissions = {"customer.read"};
    auto keys = f.db->read([&](store::Conn& c) -> Result<void> {
      auto root = TRY(c.one("SELECT path FROM org_units WHERE parent_id IS NULL ORDER BY id LIMIT 1"));
      p->org_path = root ? root->s(0) : "/";
      auto max = TRY(c.one("SELECT COALESCE(MAX(id), 0) FROM customer_phones"));
      int64_t step = std::max<int64_t>(1, max->i(0) / 5000);
      auto rows = TRY(c.query("SELECT phone_norm FROM customer_phones WHERE id % ? = 0 ORDER BY id LIMIT 5000", {step}));
      for (const auto& r : rows)
        for (auto& s : formats_of(r.s(0))) f.numbers.push_back(std::move(s));
      return {};
    });
    if (!keys) f.error = "sample phones: " + keys.error().message;
    f.who = std::move(p);
    // Interleave formats and customers (the sample is in id order).
    std::vector<std::string> shuffled;
    for (size_t k = 0; k < 4; ++k)
      for (size_t i = k; i < f.numbers.size(); i += 4) shuffled.push_back(f.numbers[i]);
    f.numbers = std::move(shuffled);
    if (!f.route && f.error.empty()) f.error = "no route GET /api/v1/cti/lookup";
    if (f.numbers.empty() && f.error.empty()) f.error = "no phone numbers in the database";
    return f;
  }();
  return f;
}

void BM_CtiLookup(benchmark::State& st) {
  auto& f = fixture();
  if (!f.error.empty()) {
    st.SkipWithError(f.error.c_str());
    return;
  }
  std::vector<double> us;
  us.reserve(1 << 16);
  size_t i = 0, found = 0;
  for (auto _ : st) {
    http::Request req;
    req.method = "GET";
    req.path = "/api/v1/cti/lookup";
    req.query["phone"] = f.numbers[i++ % f.numbers.size()];
    req.principal = f.who;
    auto t0 = std::chrono::steady_clock::now();
    http::Response r = f.route->handler(req);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    if (r.status != 200) {
      st.SkipWithError(("status " + std::to_string(r.status) + ": " + r.body.substr(0, 200)).c_str());
      return;
    }
    found += r.body.find("\"count\":0") == std::string::npos;
  }
  std::sort(us.begin(), us.end());
  auto pct = [&](double q) { return us.empty() ? 0.0 : us[std::min(us.size() - 1, size_t(q * us.size()))]; };
  st.counters["p50_us"] = pct(0.50);
  st.counters["p99_us"] = pct(0.99);
  st.counters["found_pct"] = us.empty() ? 0.0 : 100.0 * double(found) / double(us.size());
  st.counters["lookups_per_s"] = benchmark::Counter(double(us.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CtiLookup)->Unit(benchmark::kMicrosecond)->MinTime(3.0);

}  // namespace
