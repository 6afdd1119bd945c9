// JSON encoding of a service order: the row as the order page, the list and
// every transition read it (order_row_json, which parses the JSON columns
// and formats the times), and the body the server sends (dump).
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "orders/internal.h"

namespace {

using namespace shouhou;

// A dispatched repair order with a contact, a site, a warranty decision and a
// completion record, column by column in kCols' order (orders.cpp).
store::Row sample_row() {
  using store::Value;
  const int64_t t = 1'795'000'000'000;
  std::vector<Value> v = {
      int64_t(1234567), std::string("FW20261120017"), std::string("repair"), std::string("call_centre"),
      std::string("on_site"), int64_t(1), t + 3'600'000, int64_t(424242), std::string("济南市历下区王建国"),
      std::string(R"({"name":"王建国","phone":"138 0013 8000","phone_normalized":"13800138000"})"),
      std::string(R"({"address":"经十路12399号龙奥花园3栋2单元1201","county_code":"370102","division_name":"山东省济南市历下区"})"),
      std::string("370102"), int64_t(777777), std::string("KFR35GW2403A0012345"), int64_t(3), int64_t(1),
      Value(), std::string("in"), std::string("high"), std::string("normal"), std::string("always"),
      std::string("制冷效果差"), Value(), std::string("开机半小时仍不制冷，外机有异响"), Value(), Value(),
      int64_t(57), std::string("/1/2/9/57/"), int64_t(57), std::string("济南历下服务站"), int64_t(312),
      std::string("李师傅"), std::string("passed"), t + 7'200'000, t + 86'400'000, std::string("ok"),
      std::string(R"({"status":"in_warranty","entitled":true,"source":"unit","unit_end":"2027-03-01"})"),
      std::string(R"({"appointment":"2026-11-21 10:00"})"),
      std::string(R"({"resolution":"更换C1，试机正常","first_time_fix":true,"fault_code":"E1","fault_code_name":"压缩机不启动","failed_component":{"position":"C1","name":"压缩机"}})"),
      Value(), Value(), Value(), int64_t(41), int64_t(5), t, t + 3'600'000, std::string("华东大区济南分公司")};
  store::Row r;
  r.cols = std::move(v);
  return r;
}

void BM_OrderRowToJson(benchmark::State& state) {
  store::Row r = sample_row();
  for (auto _ : state) benchmark::DoNotOptimize(orders::detail::order_row_json(r));
}
BENCHMARK(BM_OrderRowToJson);

void BM_OrderJsonDump(benchmark::State& state) {
  api::json o = orders::detail::order_row_json(sample_row());
  for (auto _ : state) benchmark::DoNotOptimize(o.dump());
}
BENCHMARK(BM_OrderJsonDump);

// Row to response body: what GET /api/v1/service-orders/{id} pays after SQL.
void BM_OrderRowToBody(benchmark::State& state) {
  store::Row r = sample_row();
  for (auto _ : state) benchmark::DoNotOptimize(orders::detail::order_row_json(r).dump());
}
BENCHMARK(BM_OrderRowToBody);

}  // namespace
