// Dispatch decision speed on a national-size network: 5,000 outlets and
// 20,000 engineers over real GB/T 2260 counties (issue 5: p99 < 2 ms per
// decision, >= 2,000 dispatches/s).
//   build/<dir>/micro_bench --benchmark_filter=Dispatch
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <random>

#include <time.h>

#include "core/util.h"
#include "dispatch/engine.h"
#include "divisions/divisions.h"

using namespace shouhou;
using namespace shouhou::dispatch;

namespace {

struct Network {
  Index idx;
  std::vector<std::string> counties;
  std::vector<network::Outlet> outlets;
  std::vector<network::Engineer> engineers;
};

// Outlets sit in random counties and serve their county plus, for one in
// five, their whole city; one in ten serves the province. Four engineers
// each, skilled in one to three of eight product lines.
void build(Network& n) {
  {
    for (const auto& d : divisions::embedded())
      if (d.level == 3) n.counties.push_back(d.code);
    std::mt19937 rng(42);
    const std::vector<std::string> types = {"installation", "repair", "maintenance", "inspection", "delivery"};
    for (int i = 0; i < 5000; ++i) {
      network::Outlet o;
      o.unit_id = 1000 + i;
      o.code = "SP" + std::to_string(i);
      o.name = o.code;
      const std::string& county = n.counties[rng() % n.counties.size()];
      o.division_code = county;
      o.areas = {county};
      if (i % 5 == 0) o.areas.push_back(county.substr(0, 4) + "00");
      if (i % 10 == 0) o.areas.push_back(county.substr(0, 2) + "0000");
      for (int l = 1; l <= 8; ++l)
        if (rng() % 3 == 0) o.product_lines.push_back(l);
      if (o.product_lines.empty()) o.product_lines.push_back(1 + rng() % 8);
      for (const auto& t : types) o.capacity.push_back({t, 5 + int64_t(rng() % 20)});
      o.priority = 1 + rng() % 10;
      o.satisfaction = 60 + rng() % 41;
      o.auto_engineer = rng() % 2;
      o.location = {20 + (rng() % 2000) / 100.0, 100 + (rng() % 2000) / 100.0, true};
      n.outlets.push_back(o);
    }
    static const char* statuses[] = {"off_duty", "free", "travelling", "on_site"};
    for (int i = 0; i < 20000; ++i) {
      network::Engineer e;
      e.user_id = 100000 + i;
      e.unit_id = 1000 + i % 5000;
      e.name = "E" + std::to_string(i);
      e.status = statuses[rng() % 4];
      for (int64_t l : n.outlets[i % 5000].product_lines)
        if (rng() % 2 == 0) e.skills.push_back({l, "*", "", ""});
      if (e.skills.empty()) e.skills.push_back({n.outlets[i % 5000].product_lines[0], "*", "", ""});
      e.work_days_mask = 0x3F;
      e.home = {20 + (rng() % 2000) / 100.0, 100 + (rng() % 2000) / 100.0, true};
      n.engineers.push_back(e);
    }
    n.idx.rebuild(n.outlets, n.engineers);
  }
}

Network& net() {
  static Network n;
  static const bool built = (build(n), true);
  (void)built;
  return n;
}

OrderFacts random_order(std::mt19937& rng, const Network& n) {
  static const std::vector<std::string> types = {"installation", "repair", "maintenance", "inspection", "delivery"};
  OrderFacts o;
  o.order_type = types[rng() % types.size()];
  o.product_line_id = 1 + rng() % 8;
  // Mostly counties with an outlet (real demand follows the network).
  o.county_code = rng() % 4 ? n.outlets[rng() % n.outlets.size()].division_code : n.counties[rng() % n.counties.size()];
  o.site = {20 + (rng() % 2000) / 100.0, 100 + (rng() % 2000) / 100.0, true};
  o.now = now_ms();
  o.resolve_due_at = o.now + int64_t(rng() % 48) * 3'600'000;
  return o;
}

double thread_cpu_us() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

// One decision per iteration; reports p50/p99 in microseconds, wall clock
// and this thread's CPU time (the latter without time lost to other
// processes on a shared machine).
void BM_DispatchDecision(benchmark::State& state) {
  Network& n = net();
  std::mt19937 rng(7);
  Weights w;
  std::vector<double> us, cpu;
  us.reserve(1 << 20);
  cpu.reserve(1 << 20);
  size_t chosen = 0;
  for (auto _ : state) {
    OrderFacts o = random_order(rng, n);
    double c0 = thread_cpu_us();
    auto t0 = std::chrono::steady_clock::now();
    Decision d = n.idx.decide(o, w);
    auto t1 = std::chrono::steady_clock::now();
    cpu.push_back(thread_cpu_us() - c0);
    chosen += d.chosen.has_value();
    benchmark::DoNotOptimize(d);
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[us.size() * 99 / 100];
  state.counters["max_us"] = us.back();
  std::sort(cpu.begin(), cpu.end());
  state.counters["cpu_p50_us"] = cpu[cpu.size() / 2];
  state.counters["cpu_p99_us"] = cpu[cpu.size() * 99 / 100];
  state.counters["assigned_pct"] = 100.0 * double(chosen) / double(us.size());
  state.counters["decisions_per_s"] = benchmark::Counter(double(us.size()), benchmark::Counter::kIsRate);
  state.counters["outlets"] = double(n.idx.outlet_count());
  state.counters["engineers"] = double(n.idx.engineer_count());
}
BENCHMARK(BM_DispatchDecision)->Unit(benchmark::kMicrosecond);

// Decision plus the index bookkeeping of an assignment, from two threads
// sharing the index (two cores).
void BM_DispatchDecideAndCount(benchmark::State& state) {
  Network& n = net();
  std::mt19937 rng(11 + state.thread_index());
  Weights w;
  for (auto _ : state) {
    OrderFacts o = random_order(rng, n);
    Decision d = n.idx.decide(o, w);
    if (d.chosen) {
      const auto& c = d.candidates[*d.chosen];
      n.idx.count_assignment(c.unit_id, c.engineer ? c.engineer->user_id : 0, o.order_type, local_day(o.now));
      n.idx.count_release(c.unit_id, c.engineer ? c.engineer->user_id : 0);
    }
  }
  state.counters["dispatches_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DispatchDecideAndCount)->Threads(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Rebuilding the whole index (after a network change).
void BM_DispatchRebuild(benchmark::State& state) {
  Network& n = net();
  Index idx;
  for (auto _ : state) idx.rebuild(n.outlets, n.engineers);
}
BENCHMARK(BM_DispatchRebuild)->Unit(benchmark::kMillisecond);

}  // namespace

// ---- the real code path: queue -> decision -> order assignment, on SQLite ----

#include <filesystem>
#include <unistd.h>

#include "app/app.h"
#include "customers/customers.h"
#include "dispatch/dispatch.h"
#include "network/network.h"
#include "org/org.h"
#include "orders/orders.h"
#include "products/products.h"

namespace {

// A temp SQLite database with every module's tables, the same 5,000 outlets
// (as provider units) and 20,000 engineers (as users) as above, and the
// modules wired on a bus as in the server.
struct Pipeline {
  std::string path;
  std::unique_ptr<store::Database> db;
  api::DomainBus bus;
  std::unique_ptr<api::Platform> p;
  int64_t customer = 0;
  std::vector<int64_t> models;  // by product line 1..8 (index line-1)
  std::vector<std::string> counties;
  ~Pipeline() {
    p.reset();
    db.reset();
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
  }
};

#define BENCH_TRY(expr)                                                     \
  do {                                                                      \
    auto r_ = (expr);                                                       \
    if (!r_) {                                                              \
      state.SkipWithError((std::string(#expr) + ": " + r_.error().message).c_str()); \
      return;                                                               \
    }                                                                       \
  } while (0)

double process_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

void BM_DispatchPipelineSqlite(benchmark::State& state) {
  const int64_t kOrders = state.range(0);
  Pipeline pl;
  pl.path = "/tmp/shouhou-dispatch-bench-" + std::to_string(getpid()) + ".db";
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(pl.path + ext);
  auto opened = app::open_database(pl.path);
  if (!opened) return state.SkipWithError(opened.error().message.c_str());
  pl.db = std::move(*opened);
  pl.p = std::make_unique<api::Platform>(api::Platform{*pl.db});
  pl.p->bus = &pl.bus;
  app::wire_modules(*pl.p);
  Network& n = net();  // same shape as the decision benchmarks
  BENCH_TRY(api::write_as(*pl.p, nullptr, [&](api::WriteTx& tx) -> Result<api::json> {
    store::Conn& c = tx.db;
    int64_t hq = TRY(org::insert_unit(c, {.code = "BHQ", .name = "总部", .type = "hq"}));
    std::string hq_path = TRY(c.one("SELECT path FROM org_units WHERE id = ?", {hq}))->s(0);
    std::vector<int64_t> lines;
    for (int l = 1; l <= 8; ++l) {
      int64_t line = TRY(products::insert_product_line(c, {.code = "BL" + std::to_string(l), .name = "产品线" + std::to_string(l)}, hq_path));
      lines.push_back(line);
      pl.models.push_back(TRY(products::insert_model(c, {.product_line_id = line, .code = "BM" + std::to_string(l), .name = "机型"}, hq_path)));
    }
    pl.customer = TRY(customers::insert_customer(c, {.org_unit_id = hq, .org_path = hq_path, .name = "压测客户",
                                                     .phones = {"13800138000"}}));
    std::unordered_map<int64_t, int64_t> unit_of;  // bench unit id -> org unit id
    for (const auto& o : n.outlets) {
      int64_t u = TRY(org::insert_unit(c, {.code = o.code, .name = "网点" + o.code, .type = "provider", .parent_id = hq,
                                           .division_code = o.division_code, .grade = "A"}));
      unit_of[o.unit_id] = u;
      network::Outlet x = o;
      x.unit_id = u;
      for (auto& l : x.product_lines) l = lines[l - 1];
      TRY_VOID(network::save_outlet(c, x));
    }
    for (const auto& e : n.engineers) {
      int64_t u = TRY(org::insert_user(c, {.username = e.name, .display_name = "工程师" + e.name, .password_hash = "-",
                                           .org_unit_id = unit_of[e.unit_id], .roles = {"engineer"}}));
      network::Engineer x = e;
      x.user_id = u;
      x.unit_id = unit_of[e.unit_id];
      x.work_days_mask = 0x7F;
      for (auto& s : x.skills) s.product_line_id = lines[s.product_line_id - 1];
      TRY_VOID(network::save_engineer(c, x));
    }
    return api::json(nullptr);
  }));
  pl.counties.reserve(n.outlets.size());
  for (const auto& o : n.outlets) pl.counties.push_back(o.division_code);
  std::mt19937 rng(5);
  int64_t total = 0;
  double seconds = 0, cpu_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    // Audited installation orders (through orders::create and the
    // "audit" action, which queues them as in the server).
    for (int64_t done = 0; done < kOrders;) {
      BENCH_TRY(api::write_as(*pl.p, nullptr, [&](api::WriteTx& tx) -> Result<api::json> {
        for (int k = 0; k < 500 && done < kOrders; ++k, ++done) {
          api::json body{{"type", "installation"},
                         {"customer_id", pl.customer},
                         {"model_id", pl.models[rng() % pl.models.size()]},
                         {"contact", {{"name", "李娜"}, {"phone", "13800138000"}}},
                         {"site", {{"county_code", pl.counties[rng() % pl.counties.size()]}, {"address", "测试路1号"}}},
                         {"description", "压测"}};
          api::json o = TRY(orders::create(tx, body));
          TRY(orders::transition(tx, o["id"].get<int64_t>(), "audit"));
        }
        return api::json(nullptr);
      }));
    }
    state.ResumeTiming();
    auto t0 = std::chrono::steady_clock::now();
    double c0 = process_cpu_s();
    total += dispatch::run_pending(*pl.p);
    cpu_seconds += process_cpu_s() - c0;
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  auto assigned = pl.db->read_as([](store::Conn& c) -> Result<int64_t> {
    return TRY(c.one("SELECT COUNT(*) FROM dispatch_assignments"))->i(0);
  });
  state.counters["orders"] = double(total);
  state.counters["assigned"] = assigned ? double(*assigned) : -1;
  state.counters["dispatches_per_s"] = seconds > 0 ? double(total) / seconds : 0;
  // Per second of this process's CPU (all threads): the rate on an idle
  // core, without the time other processes on a shared machine take.
  state.counters["dispatches_per_cpu_s"] = cpu_seconds > 0 ? double(total) / cpu_seconds : 0;
}
BENCHMARK(BM_DispatchPipelineSqlite)->Arg(5000)->Iterations(2)->Unit(benchmark::kMillisecond);

}  // namespace
