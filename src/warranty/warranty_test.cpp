// Warranty decisions on boundary dates, each against an expected value.
#include <gtest/gtest.h>

#include "warranty/warranty.h"

using namespace shouhou::warranty;

namespace {

Date D(const char* s) {
  auto d = parse_date(s);
  EXPECT_TRUE(d) << s;
  return d ? *d : Date{};
}

// 空调整机: 12 months from installation (fallback sale), compressor 36 months,
// mainboard 24 months.
Policy ac_policy() {
  Policy p;
  p.id = 1;
  p.name = "空调整机";
  p.unit_months = 12;
  p.key_parts = {{"压缩机", 36}, {"主板", 24}};
  p.start_basis = Basis::installation;
  p.fallback_basis = Basis::sale;
  p.parts_pct = 100;
  p.labour_pct = 100;
  p.travel_pct = 100;
  p.response_mode = "8x5";
  p.response_hours = 24;
  p.onsite_hours = 48;
  return p;
}

AssetFacts sold_installed(const char* sale, const char* install) {
  AssetFacts f;
  f.known = true;
  f.asset_id = 7;
  f.serial = "KFR35GW-0001";
  f.status = install ? "installed" : "sold";
  if (sale) f.sale_date = D(sale);
  if (install) f.install_date = D(install);
  f.has_invoice = true;
  f.components = {{"C1", "压缩机", true, "压缩机"}, {"PCB1", "主控板", true, "主板"}, {"F1", "风扇电机", false, ""}};
  return f;
}

Contract contract(const char* number, const char* type, const char* status, const char* start, const char* end) {
  Contract c;
  c.id = 3;
  c.number = number;
  c.type = type;
  c.status = status;
  c.response_mode = "7x24";
  c.response_hours = 2;
  c.onsite_hours = 4;
  c.start = D(start);
  c.end = D(end);
  c.parts_discount_bp = 1000;
  c.labour_discount_bp = 2000;
  return c;
}

}  // namespace

TEST(WarrantyDates, ParseRejectsNonDays) {
  EXPECT_TRUE(parse_date("2024-02-29"));
  EXPECT_FALSE(parse_date("2023-02-29"));
  EXPECT_FALSE(parse_date("1900-02-29"));  // not a leap year
  EXPECT_TRUE(parse_date("2000-02-29"));   // is one
  EXPECT_FALSE(parse_date("2024-13-01"));
  EXPECT_FALSE(parse_date("2024-04-31"));
  EXPECT_FALSE(parse_date("2024-4-1"));
  EXPECT_FALSE(parse_date("2024/04/01"));
  EXPECT_FALSE(parse_date(""));
  EXPECT_EQ(D("2024-03-01").str(), "2024-03-01");
}

TEST(WarrantyDates, DayCountRoundTrips) {
  EXPECT_EQ(to_days(D("1970-01-01")), 0);
  EXPECT_EQ(to_days(D("2024-03-01")) - to_days(D("2024-02-28")), 2);
  EXPECT_EQ(to_days(D("2023-03-01")) - to_days(D("2023-02-28")), 1);
  for (int64_t n = -1000; n < 30000; n += 17) EXPECT_EQ(to_days(from_days(n)), n);
  EXPECT_EQ(add_days(D("2024-12-31"), 1), D("2025-01-01"));
}

TEST(WarrantyDates, MonthsFromDateEndOnTheDayBefore) {
  EXPECT_EQ(add_months_end(D("2024-03-01"), 12), D("2025-02-28"));
  EXPECT_EQ(add_months_end(D("2023-03-01"), 12), D("2024-02-29"));  // leap year end
  EXPECT_EQ(add_months_end(D("2024-06-15"), 1), D("2024-07-14"));
  EXPECT_EQ(add_months_end(D("2024-12-01"), 1), D("2024-12-31"));
  EXPECT_EQ(add_months_end(D("2024-11-20"), 3), D("2025-02-19"));
  EXPECT_EQ(add_months_end(D("2024-01-01"), 36), D("2026-12-31"));
}

TEST(WarrantyDates, MissingDayOfMonthClampsToEndOfMonth) {
  EXPECT_EQ(add_months_end(D("2024-01-31"), 1), D("2024-02-29"));
  EXPECT_EQ(add_months_end(D("2023-01-31"), 1), D("2023-02-28"));
  EXPECT_EQ(add_months_end(D("2024-01-30"), 1), D("2024-02-29"));
  EXPECT_EQ(add_months_end(D("2024-01-29"), 1), D("2024-02-28"));  // 02-29 exists: the day before
  EXPECT_EQ(add_months_end(D("2024-03-31"), 1), D("2024-04-30"));
  EXPECT_EQ(add_months_end(D("2024-05-31"), 1), D("2024-06-30"));
  EXPECT_EQ(add_months_end(D("2024-08-31"), 6), D("2025-02-28"));
}

TEST(WarrantyDates, Feb29Starts) {
  EXPECT_EQ(add_months_end(D("2024-02-29"), 12), D("2025-02-28"));
  EXPECT_EQ(add_months_end(D("2024-02-29"), 24), D("2026-02-28"));
  EXPECT_EQ(add_months_end(D("2024-02-29"), 48), D("2028-02-28"));  // 2028-02-29 exists
  EXPECT_EQ(add_months_end(D("2024-02-29"), 1), D("2024-03-28"));
}

TEST(WarrantyDates, ZeroMonthsCoversNothing) {
  EXPECT_EQ(add_months_end(D("2024-01-15"), 0), D("2024-01-14"));
}

TEST(WarrantyDecide, UnitLastDayInFirstDayOut) {
  auto f = sold_installed("2024-02-20", "2024-03-01");
  auto p = ac_policy();
  auto in = decide(f, p, {}, D("2025-02-28"));
  EXPECT_EQ(in.status, "in_warranty");
  EXPECT_TRUE(in.entitled);
  EXPECT_EQ(in.source, "policy");
  EXPECT_EQ(in.basis, Basis::installation);
  EXPECT_EQ(in.unit_end, D("2025-02-28"));
  ASSERT_FALSE(in.why.empty());
  EXPECT_EQ(in.why.back(), "policy 空调整机 whole unit 12 months from installation 2024-03-01 → until 2025-02-28");
  EXPECT_EQ(in.response_mode, "8x5");
  EXPECT_EQ(in.response_hours, 24);
  EXPECT_EQ(in.coverage.labour_pct, 100);

  auto out = decide(f, p, {}, D("2025-03-01"));
  EXPECT_EQ(out.status, "out_of_warranty");
  EXPECT_FALSE(out.entitled);
  EXPECT_FALSE(out.unit_in_warranty);
  EXPECT_EQ(out.coverage.parts_pct, 0);
}

TEST(WarrantyDecide, LeapYearStartFeb29) {
  auto f = sold_installed("2024-02-29", "2024-02-29");
  auto p = ac_policy();
  EXPECT_EQ(decide(f, p, {}, D("2025-02-28")).status, "in_warranty");
  EXPECT_EQ(decide(f, p, {}, D("2025-03-01")).status, "out_of_warranty");
  // Compressor: 36 months → 2027-02-28.
  auto d = decide(f, p, {}, D("2027-02-28"));
  ASSERT_EQ(d.parts.size(), 2u);
  EXPECT_EQ(d.parts[0].category, "压缩机");
  EXPECT_EQ(d.parts[0].end, D("2027-02-28"));
  EXPECT_TRUE(d.parts[0].in_warranty);
  EXPECT_FALSE(decide(f, p, {}, D("2027-03-01")).parts[0].in_warranty);
}

TEST(WarrantyDecide, LeapYearEndFeb29) {
  // Installed 2023-03-01: 12 months end on 2024-02-29 (a leap day).
  auto f = sold_installed("2023-02-25", "2023-03-01");
  auto p = ac_policy();
  auto d = decide(f, p, {}, D("2024-02-29"));
  EXPECT_EQ(d.status, "in_warranty");
  EXPECT_EQ(d.unit_end, D("2024-02-29"));
  EXPECT_EQ(decide(f, p, {}, D("2024-03-01")).status, "out_of_warranty");
}

TEST(WarrantyDecide, KeyPartOutlivesUnit) {
  auto f = sold_installed("2024-03-01", "2024-03-01");
  auto p = ac_policy();
  auto d = decide(f, p, {}, D("2026-01-10"), "压缩机");
  EXPECT_EQ(d.status, "out_of_warranty");  // the unit
  ASSERT_TRUE(d.component);
  EXPECT_EQ(d.component->category, "压缩机");
  EXPECT_TRUE(d.component->in_warranty);
  EXPECT_EQ(d.component->end, D("2027-02-28"));
  // Mainboard: 24 months → 2026-02-28; first day out 2026-03-01.
  EXPECT_TRUE(decide(f, p, {}, D("2026-02-28"), "主板").component->in_warranty);
  EXPECT_FALSE(decide(f, p, {}, D("2026-03-01"), "主板").component->in_warranty);
  // By position number (位号).
  auto byPos = decide(f, p, {}, D("2026-01-10"), "C1");
  EXPECT_EQ(byPos.component->category, "压缩机");
  EXPECT_TRUE(byPos.component->in_warranty);
  // A part that is no key part follows the unit.
  auto fan = decide(f, p, {}, D("2026-01-10"), "F1");
  EXPECT_FALSE(fan.component->in_warranty);
  EXPECT_EQ(fan.component->end, D("2025-02-28"));
  EXPECT_TRUE(decide(f, p, {}, D("2025-02-28"), "F1").component->in_warranty);
}

TEST(WarrantyDecide, KeyPartsOnlyThoseTheModelHas) {
  auto f = sold_installed("2024-03-01", "2024-03-01");
  f.components = {{"C1", "压缩机", true, "压缩机"}};
  auto d = decide(f, ac_policy(), {}, D("2024-06-01"));
  ASSERT_EQ(d.parts.size(), 1u);
  EXPECT_EQ(d.parts[0].category, "压缩机");
}

TEST(WarrantyDecide, SaleVersusInstallationStart) {
  auto f = sold_installed("2024-01-10", "2024-03-01");
  auto p = ac_policy();
  p.start_basis = Basis::sale;
  auto bySale = decide(f, p, {}, D("2025-01-09"));
  EXPECT_EQ(bySale.basis, Basis::sale);
  EXPECT_EQ(bySale.unit_end, D("2025-01-09"));
  EXPECT_EQ(bySale.status, "in_warranty");
  EXPECT_EQ(decide(f, p, {}, D("2025-01-10")).status, "out_of_warranty");
  p.start_basis = Basis::installation;
  auto byInstall = decide(f, p, {}, D("2025-01-10"));
  EXPECT_EQ(byInstall.basis, Basis::installation);
  EXPECT_EQ(byInstall.unit_end, D("2025-02-28"));
  EXPECT_EQ(byInstall.status, "in_warranty");
}

TEST(WarrantyDecide, MissingInstallationFallsBackToSale) {
  auto f = sold_installed("2024-05-31", nullptr);
  auto d = decide(f, ac_policy(), {}, D("2025-05-30"));
  EXPECT_EQ(d.basis, Basis::sale);
  EXPECT_EQ(d.unit_end, D("2025-05-30"));
  EXPECT_EQ(d.status, "in_warranty");
  ASSERT_GE(d.why.size(), 2u);
  EXPECT_EQ(d.why[0], "policy 空调整机: no installation date → counting from sale (policy fallback)");
  EXPECT_EQ(decide(f, ac_policy(), {}, D("2025-05-31")).status, "out_of_warranty");
}

TEST(WarrantyDecide, BetweenSaleAndInstallationIsCovered) {
  auto f = sold_installed("2024-01-10", "2024-03-01");
  auto d = decide(f, ac_policy(), {}, D("2024-02-01"));
  EXPECT_EQ(d.status, "in_warranty");
  EXPECT_EQ(d.start, D("2024-03-01"));
}

TEST(WarrantyDecide, InvoiceRequiredForSaleDate) {
  auto f = sold_installed("2024-01-10", nullptr);
  f.has_invoice = false;
  f.production_date = D("2023-12-01");
  auto p = ac_policy();
  p.start_basis = Basis::sale;
  p.requires_invoice = true;
  p.fallback_basis = Basis::production;
  p.production_offset_days = 90;  // 2023-12-01 + 90 days = 2024-02-29
  auto d = decide(f, p, {}, D("2025-02-28"));
  EXPECT_EQ(d.basis, Basis::production);
  EXPECT_EQ(d.start, D("2024-02-29"));
  EXPECT_EQ(d.unit_end, D("2025-02-28"));
  EXPECT_EQ(d.status, "in_warranty");
  EXPECT_EQ(decide(f, p, {}, D("2025-03-01")).status, "out_of_warranty");
  // Without any fallback: no proof, no warranty.
  p.fallback_basis = Basis::none;
  auto none = decide(f, p, {}, D("2024-02-01"));
  EXPECT_EQ(none.status, "out_of_warranty");
  EXPECT_FALSE(none.start);
}

TEST(WarrantyDecide, ContractOverridesPolicy) {
  auto f = sold_installed("2022-03-01", "2022-03-01");
  auto p = ac_policy();
  std::vector<Contract> cs{contract("FWHY-001", "full", "active", "2024-12-01", "2025-05-31")};
  auto d = decide(f, p, cs, D("2025-05-31"));
  EXPECT_EQ(d.status, "under_contract");
  EXPECT_EQ(d.source, "contract");
  EXPECT_TRUE(d.entitled);
  EXPECT_FALSE(d.unit_in_warranty);
  ASSERT_TRUE(d.contract);
  EXPECT_EQ(d.contract->number, "FWHY-001");
  EXPECT_EQ(d.response_mode, "7x24");
  EXPECT_EQ(d.response_hours, 2);
  EXPECT_EQ(d.onsite_hours, 4);
  EXPECT_EQ(d.labour_discount_bp, 2000);
  EXPECT_EQ(d.coverage.travel_pct, 100);
  EXPECT_EQ(d.why.back(), "contract FWHY-001 (full, 7x24) active 2024-12-01 … 2025-05-31 overrides the policy");
  // The day after: expired, back to the policy (long over).
  auto after = decide(f, p, cs, D("2025-06-01"));
  EXPECT_EQ(after.status, "out_of_warranty");
  EXPECT_FALSE(after.contract);
  ASSERT_EQ(after.contracts_not_applied.size(), 1u);
  EXPECT_EQ(after.contracts_not_applied[0], "FWHY-001: expired on 2025-05-31");
  EXPECT_EQ(after.response_mode, "8x5");
  // The day before it starts.
  EXPECT_EQ(decide(f, p, cs, D("2024-11-30")).contracts_not_applied[0], "FWHY-001: not started (starts 2024-12-01)");
}

TEST(WarrantyDecide, ContractNeverReducesWarrantyCoverage) {
  auto f = sold_installed("2024-03-01", "2024-03-01");
  std::vector<Contract> cs{contract("PO-1", "parts_only", "active", "2024-03-01", "2027-02-28")};
  auto d = decide(f, ac_policy(), cs, D("2024-06-01"));
  EXPECT_EQ(d.source, "contract");
  EXPECT_EQ(d.coverage.labour_pct, 100);  // still in the maker's warranty
  auto later = decide(f, ac_policy(), cs, D("2025-06-01"));
  EXPECT_EQ(later.source, "contract");
  EXPECT_EQ(later.coverage.labour_pct, 0);  // parts only now
  EXPECT_EQ(later.coverage.parts_pct, 100);
}

TEST(WarrantyDecide, ExpiredOrDraftContractsDoNotApply) {
  auto f = sold_installed("2022-03-01", "2022-03-01");
  std::vector<Contract> cs{contract("E-1", "full", "expired", "2024-01-01", "2025-12-31"),
                           contract("D-1", "full", "draft", "2024-01-01", "2025-12-31"),
                           contract("X-1", "on_site", "cancelled", "2024-01-01", "2025-12-31")};
  auto d = decide(f, ac_policy(), cs, D("2025-01-01"));
  EXPECT_EQ(d.status, "out_of_warranty");
  EXPECT_FALSE(d.contract);
  EXPECT_EQ(d.contracts_not_applied.size(), 3u);
  EXPECT_EQ(d.contracts_not_applied[0], "E-1: status expired");
}

TEST(WarrantyDecide, BestOfSeveralContracts) {
  auto f = sold_installed("2022-03-01", "2022-03-01");
  std::vector<Contract> cs{contract("D-1", "depot", "active", "2024-01-01", "2025-12-31"),
                           contract("F-1", "full", "active", "2024-01-01", "2025-12-31")};
  EXPECT_EQ(decide(f, ac_policy(), cs, D("2025-01-01")).contract->number, "F-1");
}

TEST(WarrantyDecide, ContractCoversNonKeyComponent) {
  auto f = sold_installed("2022-03-01", "2022-03-01");
  std::vector<Contract> cs{contract("F-1", "full", "active", "2024-01-01", "2025-12-31")};
  auto d = decide(f, ac_policy(), cs, D("2025-01-01"), "F1");
  EXPECT_TRUE(d.component->in_warranty);
}

TEST(WarrantyDecide, UnknownSerial) {
  AssetFacts f;
  f.serial = "NOPE";
  auto d = decide(f, ac_policy(), {}, D("2025-01-01"));
  EXPECT_EQ(d.status, "unknown_serial");
  EXPECT_FALSE(d.entitled);
  EXPECT_EQ(d.why.at(0), "serial NOPE is not in the install base");
}

TEST(WarrantyDecide, NotSold) {
  AssetFacts f;
  f.known = true;
  f.serial = "S1";
  f.status = "in_stock";
  EXPECT_EQ(decide(f, ac_policy(), {}, D("2025-01-01")).status, "not_sold");
  // Sold, but asked for a date before the sale.
  auto g = sold_installed("2024-05-01", nullptr);
  EXPECT_EQ(decide(g, ac_policy(), {}, D("2024-04-30")).status, "not_sold");
  EXPECT_EQ(decide(g, ac_policy(), {}, D("2024-05-01")).status, "in_warranty");
}

TEST(WarrantyDecide, ScrappedHasNoEntitlement) {
  auto f = sold_installed("2024-05-01", "2024-05-02");
  f.status = "scrapped";
  EXPECT_EQ(decide(f, ac_policy(), {}, D("2024-06-01")).status, "inactive");
}

TEST(WarrantyDecide, ThirdPartyOnlyByContract) {
  auto f = sold_installed("2024-05-01", "2024-05-02");
  f.third_party = true;
  f.components.clear();
  Policy none;
  auto d = decide(f, none, {}, D("2024-06-01"));
  EXPECT_EQ(d.status, "out_of_warranty");
  EXPECT_EQ(d.why.at(0), "third-party asset: no maker's warranty policy");
  std::vector<Contract> cs{contract("F-1", "on_site", "active", "2024-01-01", "2025-12-31")};
  EXPECT_EQ(decide(f, none, cs, D("2024-06-01")).status, "under_contract");
}

TEST(WarrantyDecide, JsonShape) {
  auto f = sold_installed("2024-02-20", "2024-03-01");
  auto j = to_json(decide(f, ac_policy(), {}, D("2024-06-01"), "压缩机"));
  EXPECT_EQ(j["status"], "in_warranty");
  EXPECT_EQ(j["unit"]["end_date"], "2025-02-28");
  EXPECT_EQ(j["key_parts"][0]["end_date"], "2027-02-28");
  EXPECT_EQ(j["component"]["category"], "压缩机");
  EXPECT_EQ(j["response"]["mode"], "8x5");
  EXPECT_TRUE(j["contract"].is_null());
}

// The reasons as data: stable codes with arguments, and a Chinese text for each.
TEST(WarrantyReasons, CodesAndChineseTexts) {
  auto f = sold_installed("2024-05-31", nullptr);
  auto d = decide(f, ac_policy(), {}, D("2025-05-31"));
  ASSERT_EQ(d.reasons.size(), d.why.size());
  ASSERT_EQ(d.reasons.size(), 4u);  // + the two key parts still covered
  EXPECT_EQ(d.reasons[0].code, "start_fallback");
  EXPECT_EQ(d.reasons[0].arg("missing"), "no_installation_date");
  EXPECT_EQ(d.reasons[0].arg("fallback"), "sale");
  EXPECT_EQ(reason_text(d.reasons[0], "zh-CN"), "三包政策 空调整机：无安装日期，改按销售日期起算（政策的备选依据）");
  EXPECT_EQ(d.reasons[1].code, "unit_period_expired");
  EXPECT_EQ(d.reasons[1].arg("end"), "2025-05-30");
  EXPECT_EQ(reason_text(d.reasons[1], "zh-CN"),
            "三包政策 空调整机：整机 12 个月，自销售日期 2024-05-31起 → 至 2025-05-30；2025-05-31 时已过保");
  EXPECT_EQ(reason_text(d.reasons[1], "en"),
            "policy 空调整机 whole unit 12 months from sale 2024-05-31 → until 2025-05-30: expired on 2025-05-31");
  EXPECT_EQ(d.reasons[2].code, "key_part_still_covered");
  EXPECT_EQ(reason_text(d.reasons[2], "zh-CN"), "关键件压缩机仍在保，至 2027-05-30");

  std::vector<Contract> cs{contract("FWHY-001", "full", "active", "2024-12-01", "2025-05-31"),
                           contract("FWHY-002", "depot", "draft", "2024-12-01", "2025-05-31")};
  auto c = decide(sold_installed("2022-03-01", "2022-03-01"), ac_policy(), cs, D("2025-05-31"), "压缩机");
  EXPECT_EQ(c.contracts_not_applied.at(0), "FWHY-002: status draft");
  ASSERT_GE(c.reasons.size(), 2u);
  EXPECT_EQ(c.reasons[c.reasons.size() - 2].code, "contract_inactive");
  EXPECT_EQ(reason_text(c.reasons[c.reasons.size() - 2], "zh-CN"), "服务合约 FWHY-002：状态为草稿，不适用");
  EXPECT_EQ(c.reasons.back().code, "contract_applies");
  EXPECT_EQ(reason_text(c.reasons.back(), "zh-CN"),
            "服务合约 FWHY-001（全保，7x24）有效期 2024-12-01 … 2025-05-31，优先于三包政策");
  ASSERT_TRUE(c.component);
  ASSERT_FALSE(c.component->reasons.empty());
  EXPECT_EQ(c.component->reasons.back().code, "covered_by_contract");
  EXPECT_EQ(reason_text(c.component->reasons.back(), "zh-CN"), "由服务合约 FWHY-001 保障");

  auto j = to_json(c);
  EXPECT_EQ(j["reasons"].back()["code"], "contract_applies");
  EXPECT_EQ(j["reasons"].back()["args"]["number"], "FWHY-001");
  EXPECT_EQ(j["reasons"].back()["text"]["en"], j["why"].back());
  EXPECT_EQ(j["component"]["reasons"].back()["text"]["zh-CN"], "由服务合约 FWHY-001 保障");

  Reason unknown{"no_such_code", {}};
  EXPECT_EQ(reason_text(unknown, "en"), "no_such_code");
}
