// The entitlement decision without a database: one asset with key parts and
// a few contracts, as the screen pop and the claim audit ask it.
#include <benchmark/benchmark.h>

#include "warranty/warranty.h"

using namespace shouhou::warranty;

namespace {

struct Fixture {
  AssetFacts facts;
  Policy policy;
  std::vector<Contract> contracts;
  Fixture() {
    facts.known = true;
    facts.serial = "KFR35GW-000123";
    facts.status = "installed";
    facts.sale_date = parse_date("2024-02-20");
    facts.install_date = parse_date("2024-03-01");
    facts.has_invoice = true;
    facts.components = {{"C1", "压缩机", true, "压缩机"}, {"PCB1", "主控板", true, "主板"},
                        {"M1", "风扇电机", true, "电机"}, {"F1", "过滤网", false, ""}};
    policy.id = 1;
    policy.name = "空调整机";
    policy.unit_months = 12;
    policy.key_parts = {{"压缩机", 36}, {"主板", 24}, {"电机", 24}};
    for (int i = 0; i < 3; ++i) {
      Contract c;
      c.id = i + 1;
      c.number = "FWHY-" + std::to_string(i);
      c.type = i == 2 ? "full" : "depot";
      c.status = i == 0 ? "expired" : "active";
      c.response_mode = "7x24";
      c.response_hours = 4;
      c.onsite_hours = 8;
      c.start = *parse_date("2025-01-01");
      c.end = *parse_date(i == 1 ? "2025-06-30" : "2026-12-31");
      contracts.push_back(c);
    }
  }
};

void BM_WarrantyDecide(benchmark::State& state) {
  Fixture fx;
  Date date = *parse_date("2025-08-15");
  for (auto _ : state) {
    auto d = decide(fx.facts, fx.policy, fx.contracts, date, "C1");
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_WarrantyDecide);

void BM_WarrantyDecideToJson(benchmark::State& state) {
  Fixture fx;
  Date date = *parse_date("2025-08-15");
  for (auto _ : state) {
    auto j = to_json(decide(fx.facts, fx.policy, fx.contracts, date));
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_WarrantyDecideToJson);

void BM_AddMonthsEnd(benchmark::State& state) {
  Date d = *parse_date("2024-01-31");
  int n = 0;
  for (auto _ : state) {
    auto e = add_months_end(d, 1 + (n++ & 63));
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_AddMonthsEnd);

}  // namespace
