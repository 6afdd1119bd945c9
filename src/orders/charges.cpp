#include "orders/charges.h"

#include <cstdio>

namespace shouhou::orders {

std::optional<Rounding> parse_rounding(std::string_view s) {
  if (s == "none") return Rounding::none;
  if (s == "jiao_down") return Rounding::jiao_down;
  if (s == "yuan_down") return Rounding::yuan_down;
  if (s == "yuan_half_up") return Rounding::yuan_half_up;
  return std::nullopt;
}

const char* rounding_name(Rounding r) {
  switch (r) {
    case Rounding::none: return "none";
    case Rounding::jiao_down: return "jiao_down";
    case Rounding::yuan_down: return "yuan_down";
    case Rounding::yuan_half_up: return "yuan_half_up";
  }
  return "none";
}

int64_t round_amount(int64_t fen, Rounding r) {
  int64_t sign = fen < 0 ? -1 : 1;
  int64_t a = fen < 0 ? -fen : fen;
  switch (r) {
    case Rounding::none: break;
    case Rounding::jiao_down: a -= a % 10; break;
    case Rounding::yuan_down: a -= a % 100; break;
    case Rounding::yuan_half_up: a = (a + 50) / 100 * 100; break;
  }
  return sign * a;
}

namespace {
int64_t pct_bp(int64_t fen, int64_t bp) { return (fen * bp + 5000) / 10000; }
}  // namespace

Totals totals(const std::vector<ChargeLine>& lines, int64_t parts_discount_bp, int64_t labour_discount_bp, Rounding r) {
  Totals t;
  for (const auto& l : lines) (l.kind == "part" ? t.parts_fen : t.services_fen) += l.amount_fen();
  t.subtotal_fen = t.parts_fen + t.services_fen;
  t.discount_fen = pct_bp(t.parts_fen, parts_discount_bp) + pct_bp(t.services_fen, labour_discount_bp);
  t.after_discount_fen = t.subtotal_fen - t.discount_fen;
  t.total_fen = round_amount(t.after_discount_fen, r);
  t.rounding_fen = t.total_fen - t.after_discount_fen;
  return t;
}

nlohmann::json to_json(const Totals& t) {
  return nlohmann::json{{"parts_fen", t.parts_fen},       {"services_fen", t.services_fen},
                        {"subtotal_fen", t.subtotal_fen}, {"discount_fen", t.discount_fen},
                        {"after_discount_fen", t.after_discount_fen}, {"rounding_fen", t.rounding_fen},
                        {"total_fen", t.total_fen}};
}

std::string format_yuan(int64_t fen) {
  bool neg = fen < 0;
  uint64_t a = neg ? static_cast<uint64_t>(-(fen + 1)) + 1 : static_cast<uint64_t>(fen);
  std::string yuan = std::to_string(a / 100);
  std::string grouped;
  for (size_t i = 0; i < yuan.size(); ++i) {
    if (i && (yuan.size() - i) % 3 == 0) grouped += ',';
    grouped += yuan[i];
  }
  char cents[4];
  std::snprintf(cents, sizeof cents, "%02d", static_cast<int>(a % 100));
  return std::string("¥") + (neg ? "-" : "") + grouped + "." + cents;
}

}  // namespace shouhou::orders
