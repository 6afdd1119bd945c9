#include <gtest/gtest.h>

#include "orders/charges.h"
#include "orders/workflow.h"

using namespace shouhou::orders;
using nlohmann::json;

namespace {
const std::vector<std::string> kTypes = {"repair", "installation", "maintenance"};

json tiny() {
  return json::parse(R"({"code": "t", "order_types": ["repair"], "initial": "new",
    "states": [{"code": "new"}, {"code": "done", "final": true, "required_fields": ["resolution"]},
               {"code": "waiting", "paused": true, "timer": {"minutes": 60, "action": "resume"}}],
    "transitions": [{"action": "finish", "from": ["new", "waiting"], "to": "done", "permission": "order.complete"},
                    {"action": "wait", "from": ["new"], "to": "waiting", "permission": "order.work"},
                    {"action": "resume", "from": ["waiting"], "to": "new", "permission": "order.work"}]})");
}
}  // namespace

TEST(OrdersWorkflow, DefaultFilesParse) {
  const json& defs = wf::default_definitions();
  ASSERT_EQ(defs.size(), 2u);
  for (const auto& j : defs) {
    auto d = wf::parse(j, {"installation", "delivery", "repair", "return_exchange", "maintenance", "inspection",
                           "startup", "complaint", "consultation"});
    ASSERT_TRUE(d) << d.error().message << " " << d.error().field;
    EXPECT_EQ(d->initial, "created");
    // The default path: created → audited → dispatched → accepted → on_site → completed → revisited → closed.
    std::string s = d->initial;
    for (const char* a : {"audit", "dispatch", "accept", "arrive", "complete", "revisit", "close"}) {
      const auto* t = wf::find_transition(*d, s, a);
      ASSERT_NE(t, nullptr) << a << " from " << s;
      s = t->to;
    }
    EXPECT_EQ(s, "closed");
    EXPECT_TRUE(wf::find_state(*d, "closed")->final);
    for (const char* st : {"cancelled", "reopened", "escalated"}) EXPECT_NE(wf::find_state(*d, st), nullptr) << st;
    EXPECT_EQ(wf::find_transition(*d, "created", "close"), nullptr);
  }
}

TEST(OrdersWorkflow, AllowedActionsAndRequiredFields) {
  auto d = wf::parse(tiny(), kTypes);
  ASSERT_TRUE(d) << d.error().message;
  auto allowed = wf::allowed(*d, "new");
  ASSERT_EQ(allowed.size(), 2u);
  EXPECT_EQ(allowed[0]->action, "finish");
  EXPECT_EQ(allowed[1]->action, "wait");
  EXPECT_EQ(wf::find_transition(*d, "done", "finish"), nullptr);
  const auto* done = wf::find_state(*d, "done");
  EXPECT_EQ(wf::missing_fields(*done, json{{"resolution", ""}}), std::vector<std::string>{"resolution"});
  EXPECT_EQ(wf::missing_fields(*done, json{{"resolution", nullptr}}), std::vector<std::string>{"resolution"});
  EXPECT_TRUE(wf::missing_fields(*done, json{{"resolution", "ok"}}).empty());
  EXPECT_EQ(wf::find_state(*d, "waiting")->timer_minutes, 60);
  EXPECT_TRUE(wf::find_state(*d, "waiting")->paused);
  // Round trip.
  auto again = wf::parse(wf::to_json(*d), kTypes);
  ASSERT_TRUE(again);
  EXPECT_EQ(wf::to_json(*again), wf::to_json(*d));
}

TEST(OrdersWorkflow, BadDefinitionsNameTheField) {
  auto field_of = [](json j) {
    auto d = wf::parse(j, kTypes);
    return d ? std::string("ok") : d.error().field;
  };
  json j = tiny();
  j["initial"] = "nowhere";
  EXPECT_EQ(field_of(j), "initial");
  j = tiny();
  j["states"][1]["code"] = "new";
  EXPECT_EQ(field_of(j), "states[1].code");
  j = tiny();
  j["transitions"][0]["to"] = "gone";
  EXPECT_EQ(field_of(j), "transitions[0].to");
  j = tiny();
  j["transitions"][1]["from"] = json::array({"nope"});
  EXPECT_EQ(field_of(j), "transitions[1].from[0]");
  j = tiny();
  j["transitions"][0]["permission"] = "order.teleport";
  EXPECT_EQ(field_of(j), "transitions[0].permission");
  j = tiny();
  j["transitions"][2]["action"] = "wait";  // "wait" twice from... different states is fine
  EXPECT_EQ(field_of(j), "states[2].timer.action");  // but the timer's action no longer exists
  j = tiny();
  j["transitions"].push_back(json{{"action", "finish"}, {"from", {"new"}}, {"to", "waiting"}, {"permission", "order.work"}});
  EXPECT_EQ(field_of(j), "transitions[3].action");
  j = tiny();
  j["order_types"] = json::array({"spaceflight"});
  EXPECT_EQ(field_of(j), "order_types[0]");
  j = tiny();
  j["states"].push_back(json{{"code", "orphan"}});
  EXPECT_EQ(field_of(j), "states[3].code");
  j = tiny();
  j["code"] = "Bad Code";
  EXPECT_EQ(field_of(j), "code");
  EXPECT_EQ(field_of(json::array()), "body");
}

TEST(OrdersCharges, Seed001TotalsAndRounding) {
  // 服务请求明细: three parts and four hours of labour.
  std::vector<ChargeLine> lines = {{"part", 1, 32432}, {"part", 2, 21000}, {"part", 1, 7813}, {"service", 4, 12500}};
  Totals t = totals(lines, 0, 0, Rounding::yuan_down);
  EXPECT_EQ(t.subtotal_fen, 132245);
  EXPECT_EQ(t.rounding_fen, -45);
  EXPECT_EQ(t.total_fen, 132200);
  EXPECT_EQ(format_yuan(t.subtotal_fen), "¥1,322.45");
  EXPECT_EQ(format_yuan(t.rounding_fen), "¥-0.45");
  EXPECT_EQ(format_yuan(t.total_fen), "¥1,322.00");
  EXPECT_EQ(t.parts_fen, 82245);
  EXPECT_EQ(t.services_fen, 50000);
}

TEST(OrdersCharges, DiscountsAndRoundingModes) {
  std::vector<ChargeLine> lines = {{"part", 1, 82245}, {"service", 1, 50000}};
  Totals t = totals(lines, 1000, 2000, Rounding::none);  // 10 % on parts, 20 % on labour
  EXPECT_EQ(t.discount_fen, 8225 + 10000);              // 8224.5 rounds half up
  EXPECT_EQ(t.after_discount_fen, 132245 - 18225);
  EXPECT_EQ(t.total_fen, t.after_discount_fen);
  EXPECT_EQ(round_amount(132245, Rounding::jiao_down), 132240);
  EXPECT_EQ(round_amount(132245, Rounding::yuan_down), 132200);
  EXPECT_EQ(round_amount(132245, Rounding::yuan_half_up), 132200);
  EXPECT_EQ(round_amount(132250, Rounding::yuan_half_up), 132300);
  EXPECT_EQ(round_amount(99, Rounding::yuan_down), 0);
  EXPECT_EQ(round_amount(-145, Rounding::yuan_down), -100);
  EXPECT_EQ(round_amount(0, Rounding::yuan_half_up), 0);
  EXPECT_EQ(totals({}, 0, 0, Rounding::yuan_down).total_fen, 0);
  EXPECT_EQ(parse_rounding("yuan_down"), Rounding::yuan_down);
  EXPECT_FALSE(parse_rounding("up"));
  EXPECT_EQ(format_yuan(0), "¥0.00");
  EXPECT_EQ(format_yuan(123456789), "¥1,234,567.89");
  EXPECT_EQ(format_yuan(-5), "¥-0.05");
}
