// Parts and labour on an order (零部件及工时): line amounts, the contract
// discount and the configured rounding (seed 001's 去零: 1,322.45 -> 1,322.00).
// Pure code, unit-tested in orders_test.cpp. Money is integer fen.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shouhou::orders {

// How the amount due is rounded:
//   none          exact fen
//   jiao_down     drop the fen (抹分): 1,322.45 -> 1,322.40
//   yuan_down     drop jiao and fen (去零): 1,322.45 -> 1,322.00
//   yuan_half_up  to the nearest yuan: 1,322.45 -> 1,322.00, 1,322.50 -> 1,323.00
enum class Rounding { none, jiao_down, yuan_down, yuan_half_up };
std::optional<Rounding> parse_rounding(std::string_view s);
const char* rounding_name(Rounding r);
// The rounded amount (non-negative amounts; negatives round toward zero).
int64_t round_amount(int64_t fen, Rounding r);

struct ChargeLine {
  std::string kind;  // "part" or "service"
  int64_t quantity = 1;
  int64_t unit_price_fen = 0;
  int64_t amount_fen() const { return quantity * unit_price_fen; }
};

struct Totals {
  int64_t parts_fen = 0, services_fen = 0, subtotal_fen = 0;  // 合计金额
  int64_t discount_fen = 0;                                   // contract discount
  int64_t after_discount_fen = 0;
  int64_t rounding_fen = 0;                                   // 去零 (<= 0 when rounding down)
  int64_t total_fen = 0;                                      // 总计金额
};
// discount_bp: basis points (1000 = 10 %) on parts and on services
// (labour); each discount rounds half up to the fen.
Totals totals(const std::vector<ChargeLine>& lines, int64_t parts_discount_bp, int64_t labour_discount_bp, Rounding r);
nlohmann::json to_json(const Totals& t);

// "¥1,322.45" / "¥-0.45"
std::string format_yuan(int64_t fen);

}  // namespace shouhou::orders
