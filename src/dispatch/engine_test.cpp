// The dispatch engine: one case per hard filter and per score term, each
// built so that exactly that filter or term decides the outcome.
#include "dispatch/engine.h"

#include <gtest/gtest.h>

using namespace shouhou;
using namespace shouhou::dispatch;

namespace {

constexpr int64_t kLine = 7;       // 太阳能热水器
constexpr int64_t kOtherLine = 8;  // 空调
// 2026-11-23 (a Monday) 10:00 Asia/Shanghai = 02:00 UTC.
constexpr int64_t kNow = 1795399200000;

network::Outlet outlet(int64_t id, std::vector<std::string> areas = {"370102"}) {
  network::Outlet o;
  o.unit_id = id;
  o.code = "SP" + std::to_string(id);
  o.name = "网点" + std::to_string(id);
  o.division_code = "370102";
  o.areas = std::move(areas);
  o.product_lines = {kLine};
  o.capacity = {{"repair", 10}, {"installation", 5}};
  o.priority = 5;
  o.satisfaction = 80;
  o.auto_engineer = true;
  return o;
}

network::Engineer engineer(int64_t user, int64_t unit, std::string status = "free") {
  network::Engineer e;
  e.user_id = user;
  e.unit_id = unit;
  e.name = "工程师" + std::to_string(user);
  e.status = std::move(status);
  e.skills = {{kLine, "*", "", ""}};
  e.work_days_mask = 0x7F;
  return e;
}

OrderFacts order(std::string type = "repair") {
  OrderFacts o;
  o.order_id = 1;
  o.order_type = std::move(type);
  o.product_line_id = kLine;
  o.county_code = "370102";
  o.now = kNow;
  o.product_line_name = "太阳能热水器";
  return o;
}

// Two outlets identical except for what a test changes on b (id 2); a
// always has id 1 and wins ties.
struct Pair {
  network::Outlet a = outlet(1), b = outlet(2);
  std::vector<network::Engineer> engineers = {engineer(101, 1), engineer(102, 2)};
  Index idx;
  void build() { idx.rebuild({a, b}, engineers); }
  Decision decide(const OrderFacts& o = order(), Weights w = {}) { return idx.decide(o, w); }
  int64_t winner(const OrderFacts& o = order(), Weights w = {}) {
    auto d = decide(o, w);
    return d.chosen ? d.candidates[*d.chosen].unit_id : 0;
  }
};

}  // namespace

TEST(DispatchEngine, TieGoesToLowerUnitId) {
  Pair p;
  p.build();
  EXPECT_EQ(p.winner(), 1);
}

TEST(DispatchEngine, AreaFilterAtEveryLevel) {
  Pair p;
  p.a.areas = {"310104"};  // Shanghai Xuhui: not the order's area
  p.b.areas = {"370100"};  // Jinan city covers county 370102
  p.build();
  auto d = p.decide();
  ASSERT_TRUE(d.chosen);
  EXPECT_EQ(d.candidates[0].unit_id, 2);
  EXPECT_EQ(d.candidates[0].area_match, "city");
  EXPECT_EQ(d.candidates.size(), 1u);  // a is not even a candidate
  p.b.areas = {"370000"};
  p.build();
  EXPECT_EQ(p.decide().candidates[0].area_match, "province");
  p.b.areas = {"370103"};  // neighbouring county only
  p.build();
  auto none = p.decide();
  EXPECT_FALSE(none.chosen);
  EXPECT_EQ(none.reason_code, "area");
  EXPECT_EQ(none.reason, "no outlet serves 370102");
}

TEST(DispatchEngine, SuspendedOutletIsSkipped) {
  Pair p;
  p.a.active = false;
  p.build();
  EXPECT_EQ(p.winner(), 2);
  p.b.active = false;
  p.build();
  auto d = p.decide();
  EXPECT_FALSE(d.chosen);
  EXPECT_EQ(d.reason_code, "suspended");
}

TEST(DispatchEngine, ProductLineAuthorisation) {
  Pair p;
  p.a.product_lines = {kOtherLine};
  p.build();
  EXPECT_EQ(p.winner(), 2);
  p.b.product_lines = {kOtherLine};
  p.build();
  auto d = p.decide();
  EXPECT_FALSE(d.chosen);
  EXPECT_EQ(d.reason_code, "product_line");
  EXPECT_EQ(d.reason, "no outlet authorised for 太阳能热水器 in 370102");
  EXPECT_EQ(d.candidates[0].failed, Filter::line);
}

TEST(DispatchEngine, OrderTypeAuthorisation) {
  Pair p;
  p.a.capacity = {{"installation", 5}};
  p.build();
  EXPECT_EQ(p.winner(), 2);
  auto area_named = order();
  area_named.area_name = "山东省 济南市 历下区";
  p.b.capacity = {{"installation", 5}};
  p.build();
  auto d = p.decide(area_named);
  EXPECT_EQ(d.reason_code, "order_type");
  EXPECT_EQ(d.reason_zh, "山东省 济南市 历下区 (370102)没有获得太阳能热水器维修授权的网点");
}

TEST(DispatchEngine, SkillFilter) {
  Pair p;
  p.engineers[0].skills = {{kOtherLine, "*", "", ""}};        // a's engineer: wrong line
  p.engineers[1].skills = {{kLine, "installation", "", ""}};  // b's: right line, wrong type
  p.build();
  auto d = p.decide();
  EXPECT_FALSE(d.chosen);
  EXPECT_EQ(d.reason_code, "skill");
  EXPECT_EQ(p.winner(order("installation")), 2);
  // An expired certificate does not count.
  p.engineers[1].skills = {{kLine, "repair", "CERT-1", "2026-11-22"}};
  p.build();
  EXPECT_FALSE(p.decide().chosen);
  p.engineers[1].skills = {{kLine, "repair", "CERT-1", "2026-11-23"}};
  p.build();
  EXPECT_EQ(p.winner(), 2);
  // An inactive engineer does not count either.
  p.engineers[1].active = false;
  p.build();
  EXPECT_FALSE(p.decide().chosen);
}

TEST(DispatchEngine, CapacityLeftToday) {
  Pair p;
  p.a.capacity = {{"repair", 2}};
  p.build();
  Weights no_load;  // keep the load term out of it: only capacity decides
  no_load.load = 0;
  int64_t day = local_day(kNow);
  p.idx.count_assignment(1, 101, "repair", day);
  EXPECT_EQ(p.winner(order(), no_load), 1);
  p.idx.count_assignment(1, 101, "repair", day);  // a is full today
  EXPECT_EQ(p.winner(order(), no_load), 2);
  auto d = p.decide(order(), no_load);
  EXPECT_EQ(d.candidates[1].failed, Filter::capacity);
  EXPECT_EQ(d.candidates[1].used_today, 2);
  // Tomorrow a has room again.
  auto tomorrow = order();
  tomorrow.now = kNow + 86'400'000;
  EXPECT_EQ(p.winner(tomorrow, no_load), 1);
}

TEST(DispatchEngine, ExcludedOutletsForRedispatch) {
  Pair p;
  p.build();
  auto o = order();
  o.exclude = {1};
  EXPECT_EQ(p.winner(o), 2);
  o.exclude = {1, 2};
  auto d = p.decide(o);
  EXPECT_FALSE(d.chosen);
  EXPECT_EQ(d.reason_code, "excluded");
}

TEST(DispatchEngine, LoadTerm) {
  Pair p;
  p.build();
  // a carries 6 open orders of its 15 a day: b, idle, wins.
  for (int i = 0; i < 6; ++i) p.idx.count_assignment(1, 101, "installation", local_day(kNow) - 1);
  auto d = p.decide();
  EXPECT_EQ(d.candidates[0].unit_id, 2);
  EXPECT_NEAR(d.candidates[1].load, 1.0 - 6.0 / 15.0, 1e-9);
  // Releasing them restores the tie.
  for (int i = 0; i < 6; ++i) p.idx.count_release(1, 101);
  EXPECT_EQ(p.winner(), 1);
}

TEST(DispatchEngine, SatisfactionTerm) {
  Pair p;
  p.b.satisfaction = 95;
  p.build();
  EXPECT_EQ(p.winner(), 2);
}

TEST(DispatchEngine, PriorityTerm) {
  Pair p;
  p.b.priority = 9;
  p.build();
  EXPECT_EQ(p.winner(), 2);
  // With the priority weight at zero the tie is back.
  Weights w;
  w.priority = 0;
  EXPECT_EQ(p.winner(order(), w), 1);
}

TEST(DispatchEngine, DistanceTerm) {
  Pair p;
  // Both outlets in Jinan; the site is next to b.
  p.a.location = {36.70, 117.20, true};
  p.b.location = {36.66, 117.02, true};
  p.build();
  auto o = order();
  o.site = {36.665, 117.03, true};
  auto d = p.decide(o);
  EXPECT_EQ(d.candidates[0].unit_id, 2);
  ASSERT_TRUE(d.candidates[0].distance_km);
  EXPECT_LT(*d.candidates[0].distance_km, 2.0);
  // Without coordinates, the outlet's own county counts.
  p.a.location = {};
  p.b.location = {};
  p.a.division_code = "370112";  // another district of Jinan
  p.build();
  EXPECT_EQ(p.winner(), 2);
}

TEST(DispatchEngine, SlaUrgencyFavoursAFreeEngineer) {
  Pair p;
  p.a.priority = 6;  // a is slightly better on priority...
  p.engineers[0].status = "on_site";  // ...but its only engineer is busy
  p.build();
  auto relaxed = order();
  relaxed.resolve_due_at = kNow + 72 * 3'600'000LL;  // three days left: no urgency
  EXPECT_EQ(p.winner(relaxed), 1);
  auto urgent = order();
  urgent.resolve_due_at = kNow + 1 * 3'600'000LL;  // one hour left
  auto d = p.decide(urgent);
  EXPECT_DOUBLE_EQ(d.urgency, 1.0);
  EXPECT_EQ(d.candidates[0].unit_id, 2);
  EXPECT_DOUBLE_EQ(d.candidates[0].sla_term, 1.0);
}

TEST(DispatchEngine, PicksTheBestEngineerOfTheOutlet) {
  Pair p;
  p.engineers = {engineer(101, 1, "on_site"), engineer(103, 1, "free"), engineer(104, 1, "free"), engineer(102, 2)};
  p.engineers[2].work_days_mask = 0x7F & ~1;  // 104 does not work on Mondays
  p.build();
  p.idx.count_assignment(1, 103, "installation", local_day(kNow) - 1);
  auto a = p.idx.evaluate(order(), Weights{}, 1);
  // 103 is free but has a job; 104 is off today; so 103 still beats the on-site 101.
  ASSERT_TRUE(a && a->engineer);
  EXPECT_EQ(a->engineer->user_id, 103);
  EXPECT_EQ(a->free_engineers, 1);
  p.engineers[1].days_off = {"2026-11-23"};
  p.build();
  EXPECT_EQ(p.idx.evaluate(order(), Weights{}, 1)->engineer->user_id, 101);
  // A status change reaches the index without a rebuild.
  p.idx.set_engineer_status(101, "off_duty");
  auto off = p.idx.evaluate(order(), Weights{}, 1);
  EXPECT_EQ(off->engineer->status, "off_duty");
  EXPECT_EQ(off->free_engineers, 0);
}

TEST(DispatchEngine, ExplainListsOutOfAreaOutletsOfTheProvince) {
  Pair p;
  p.b.areas = {"370211"};
  p.b.division_code = "370211";  // Qingdao, same province
  p.build();
  EXPECT_EQ(p.decide().candidates.size(), 1u);
  auto all = p.idx.decide(order(), Weights{}, true);
  ASSERT_EQ(all.candidates.size(), 2u);
  EXPECT_EQ(all.candidates[1].area_match, "none");
  EXPECT_EQ(all.candidates[1].failed, Filter::area);
  auto j = all.to_json();
  EXPECT_EQ(j["candidates"][1]["failed"], "area");
  EXPECT_EQ(j["chosen_unit_id"], 1);
}

TEST(DispatchEngine, CountersSurviveARebuild) {
  Pair p;
  p.a.capacity = {{"repair", 1}};
  p.build();
  p.idx.count_assignment(1, 101, "repair", local_day(kNow));
  p.build();  // config reload
  EXPECT_EQ(p.winner(), 2);
}

TEST(DispatchEngine, Days) {
  EXPECT_EQ(parse_day("1970-01-01"), 0);
  EXPECT_EQ(parse_day("2026-11-23"), local_day(kNow));
  EXPECT_EQ(parse_day("2026-13-01"), -1);
  EXPECT_EQ(local_day(kNow - 10 * 3'600'000LL), parse_day("2026-11-23"));  // 00:00 Shanghai
  EXPECT_NEAR(haversine_km({39.9, 116.4, true}, {31.23, 121.47, true}), 1067, 5);
}
