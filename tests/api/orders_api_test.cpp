// M4 service orders against a real server process, on SQLite or (with
// SHOUHOU_TEST_PG) PostgreSQL: the default flow as the roles that own each
// step, illegal transitions, workflow changes with orders in flight, required
// fields, charges pricing and rounding, the seed 001 report, and scope.
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "core/pdf.h"
#include "store/db.h"
#include "harness.h"

using namespace shouhou;
using namespace shouhou::test;

class OrdersApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    // These tests dispatch by hand (the dispatcher's manual assignment); the
    // dispatch module's auto-dispatch, when present, is switched off so it
    // does not race them (it has its own tests).
    Session admin(server_->port());
    admin.login("admin");
    auto s = admin.get("/api/v1/dispatch/settings");
    if (s.status == 200 && body(s).contains("auto_dispatch"))
      admin.call("PUT", "/api/v1/dispatch/settings", json{{"auto_dispatch", false}, {"version", body(s)["version"]}}.dump());
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << "server must exit cleanly on SIGTERM\n" << server_->log();
    delete server_;
    server_ = nullptr;
  }
  struct LoggedIn : Session {
    LoggedIn(uint16_t port, const std::string& user) : Session(port) {
      auto r = login(user);
      EXPECT_EQ(r.status, 200) << r.body;
    }
  };
  static LoggedIn as(const std::string& user) { return LoggedIn(server_->port(), user); }
  static std::string uniq(const std::string& p) { return p + random_hex(4); }
  static std::string S(int64_t v) { return std::to_string(v); }
  static json ok(const http::ClientResponse& r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    return body(r);
  }
  static void bad(const http::ClientResponse& r, const std::string& field) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(body(r)["error"]["field"], field) << r.body;
  }
  static int64_t unit_id(Session& s, const std::string& code) {
    for (auto& u : items(s.get("/api/v1/org-units?limit=500")))
      if (u["code"] == code) return u["id"];
    return 0;
  }
  static int64_t user_id(Session& s, const std::string& name) {
    for (auto& u : items(s.get("/api/v1/users?limit=500")))
      if (u["username"] == name) return u["id"];
    return 0;
  }
  static int64_t customer_by_phone(Session& s, const std::string& phone) {
    auto r = ok(s.get("/api/v1/cti/lookup?phone=" + phone));
    EXPECT_GE(r["count"].get<int>(), 1) << r.dump();
    return r["matches"][0]["customer"]["id"];
  }
  // A repair order for the demo customer 王建国 (139 1234 5678) and his
  // air conditioner, as the call centre takes it.
  static json repair(Session& agent, const std::string& serial = "KFR35-2401-000101") {
    int64_t cust = customer_by_phone(agent, "13912345678");
    return ok(agent.post("/api/v1/service-orders",
                         json{{"type", "repair"}, {"customer_id", cust},
                              {"contact", {{"name", "王建国"}, {"phone", "139 1234 5678"}}},
                              {"site", {{"county_code", "310104"}, {"address", "漕溪北路88弄5号1201"}}},
                              {"serial", serial}, {"problem_area", "制冷"}, {"problem_subarea", "外机"},
                              {"reproducibility", "always"}, {"severity", "serious"}, {"priority", "high"},
                              {"description", "空调开机后不制冷，外机不转"}, {"summary", "不制冷"}}),
              201);
  }
  static json act(Session& s, int64_t id, const std::string& action, json b = json::object(), int status = 200) {
    return ok(s.post("/api/v1/service-orders/" + S(id) + "/actions/" + action, b), status);
  }
  static int64_t rounding_version(Session& admin) { return ok(admin.get("/api/v1/order-settings"))["version"]; }
  static void set_rounding(Session& admin, const std::string& mode) {
    ok(admin.call("PUT", "/api/v1/order-settings", json{{"rounding", mode}, {"version", rounding_version(admin)}}.dump()));
  }
  // An air-conditioner cause code (symptom → cause) for completion.
  static int64_t ac_fault(Session& admin) {
    int64_t ac = 0;
    for (auto& l : items(admin.get("/api/v1/product-lines?limit=100")))
      if (l["code"] == "AC") ac = l["id"];
    auto sym = ok(admin.post("/api/v1/fault-codes", json{{"product_line_id", ac}, {"code", uniq("S")}, {"name", "不制冷"}}), 201);
    auto cause = ok(admin.post("/api/v1/fault-codes", json{{"parent_id", sym["id"]}, {"code", uniq("C")}, {"name", "冷媒泄漏"}}), 201);
    EXPECT_EQ(cause["level"], "cause");
    return cause["id"];
  }
  static ServerProcess* server_;
};
ServerProcess* OrdersApi::server_ = nullptr;

TEST_F(OrdersApi, DefaultFlowAsTheRolesThatOwnEachStep) {
  auto agent = as("agent"), dispatcher = as("dispatcher"), provider1 = as("provider1"), engineer1 = as("engineer1"),
       admin = as("admin");
  set_rounding(admin, "yuan_down");
  json o = repair(agent);
  int64_t id = o["id"];
  EXPECT_TRUE(std::regex_match(o["number"].get<std::string>(), std::regex("FW\\d{8}\\d{3,}"))) << o["number"];
  EXPECT_EQ(o["state"], "created");
  EXPECT_EQ(o["channel"], "call_centre");
  EXPECT_EQ(o["warranty"], "out");  // installed 2024-03-01, 12 months
  EXPECT_EQ(o["serial"], "KFR35-2401-000101");
  EXPECT_TRUE(o["asset_id"].is_number());
  EXPECT_EQ(o["site"]["county_code"], "310104");
  EXPECT_EQ(o["org_unit_name"], "上海分公司");  // the branch for the site's region
  const std::string P = "/api/v1/service-orders/" + S(id);

  // The agent may not audit; nobody may skip a step.
  EXPECT_EQ(agent.post(P + "/actions/audit", json::object()).status, 403);
  auto skip = provider1.post(P + "/actions/accept", json::object());
  EXPECT_EQ(skip.status, 404) << "the order is not yet the provider's";
  auto illegal = dispatcher.post(P + "/actions/close", json::object());
  EXPECT_EQ(illegal.status, 409) << illegal.body;
  EXPECT_EQ(body(illegal)["error"]["field"], "action");
  auto allowed = body(illegal)["allowed_actions"];
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "audit"), allowed.end()) << illegal.body;
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "cancel"), allowed.end());

  json got = ok(dispatcher.get(P));
  bool audit_permitted = false;
  for (auto& a : got["actions"])
    if (a["action"] == "audit") audit_permitted = a["permitted"];
  EXPECT_TRUE(audit_permitted);
  o = act(dispatcher, id, "audit", json{{"remark", "信息完整"}, {"version", got["version"]}});
  EXPECT_EQ(o["state"], "audited");
  // A stale version is refused.
  EXPECT_EQ(dispatcher.post(P + "/actions/escalate", json{{"version", 1}}).status, 409);

  int64_t sp = unit_id(admin, "SP-SH-XH"), eng = user_id(admin, "engineer1");
  // Required fields cannot be faked through free workflow fields.
  bad(dispatcher.post(P + "/actions/dispatch", json{{"fields", {{"provider_unit_id", sp}}}}), "fields.provider_unit_id");
  bad(dispatcher.post(P + "/actions/dispatch", json::object()), "fields.provider_unit_id");
  bad(dispatcher.post(P + "/assign", json{{"provider_unit_id", sp}, {"engineer_id", user_id(admin, "engineer2")}}),
      "engineer_id");
  o = ok(dispatcher.post(P + "/assign", json{{"provider_unit_id", sp}, {"engineer_id", eng}, {"reason", "辖区网点"}}));
  EXPECT_EQ(o["state"], "dispatched");
  EXPECT_EQ(o["provider_unit_id"], sp);
  EXPECT_EQ(o["engineer_name"], "工程师 陈明");
  EXPECT_TRUE(o["org_path"].get<std::string>().find("/" + S(sp) + "/") != std::string::npos);

  o = act(provider1, id, "accept");
  EXPECT_EQ(o["state"], "accepted");
  o = act(engineer1, id, "arrive");
  EXPECT_EQ(o["state"], "on_site");
  // Completing needs the fault code and resolution.
  auto early = engineer1.post(P + "/actions/complete", json::object());
  bad(early, "fields.fault_code");
  int64_t cause = ac_fault(admin);
  o = ok(engineer1.call("PUT", P + "/completion",
                        json{{"version", o["version"]}, {"fault_code_id", cause},
                             {"failed_component", {{"position", "C1"}}}, {"resolution", "补焊并加氟"}}.dump()));
  EXPECT_EQ(o["completion"]["failed_component"]["name"], "变频压缩机");
  bad(engineer1.call("PUT", P + "/completion", json{{"version", o["version"]}, {"failed_component", {{"position", "Z9"}}}}.dump()),
      "failed_component.position");
  auto charges = ok(engineer1.call("PUT", P + "/charges",
                                   json{{"version", o["version"]},
                                        {"charges", {{{"service_item_code", "SI-AC-GAS"}, {"quantity", 1}}}},
                                        {"parts", {{{"part_code", "R32-1KG"}, {"name", "R32冷媒"}, {"quantity", 1},
                                                    {"unit_price_fen", 4550}}}}}.dump()));
  EXPECT_EQ(charges["totals"]["subtotal_fen"], 18000 + 4550);  // grade A price of SI-AC-GAS
  EXPECT_EQ(charges["totals"]["total_fen"], 22500);
  EXPECT_EQ(charges["totals"]["rounding_fen"], -50);
  ok(engineer1.post(P + "/maintenance", json{{"date", "2026-11-23"}, {"type", "维修"}, {"summary", "补焊铜管并加氟"}}), 201);
  o = act(engineer1, id, "complete", json{{"remark", "已修复"}});
  EXPECT_EQ(o["state"], "completed");
  EXPECT_FALSE(o["completed_at"].is_null());

  // Revisit by the call centre with the satisfaction score, close by dispatch.
  bad(agent.post(P + "/actions/revisit", json::object()), "fields.satisfaction");
  o = ok(agent.call("PUT", P + "/satisfaction",
                    json{{"version", o["version"]}, {"score", 9}, {"max_score", 10}, {"feedback", "满意"},
                         {"fee_as_standard", true}}.dump()));
  EXPECT_EQ(o["satisfaction"]["percent"], 90);
  o = act(agent, id, "revisit");
  EXPECT_EQ(agent.post(P + "/actions/close", json::object()).status, 403);
  o = act(dispatcher, id, "close");
  EXPECT_EQ(o["state"], "closed");
  EXPECT_FALSE(o["closed_at"].is_null());

  auto tl = ok(dispatcher.get(P + "/timeline"))["items"];
  std::vector<std::pair<std::string, std::string>> steps;
  for (auto& e : tl)
    if (e["kind"] == "transition") steps.push_back({e["action"], e["username"]});
  // Dispatch is the dispatcher's manual assignment, or the auto-dispatch
  // module's (the system) when it was quicker; the dispatcher's assignment
  // is on the timeline either way.
  bool by_dispatcher = false;
  for (auto& e : tl)
    if ((e["kind"] == "assign" || e["kind"] == "reassign") && e["username"] == "dispatcher") by_dispatcher = true;
  EXPECT_TRUE(by_dispatcher) << tl.dump();
  ASSERT_GE(steps.size(), 3u);
  if (steps[2].second == "system") steps[2].second = "dispatcher";
  std::vector<std::pair<std::string, std::string>> want = {
      {"create", "agent"}, {"audit", "dispatcher"}, {"dispatch", "dispatcher"}, {"accept", "provider1"},
      {"arrive", "engineer1"}, {"complete", "engineer1"}, {"revisit", "agent"}, {"close", "dispatcher"}};
  EXPECT_EQ(steps, want) << tl.dump();
  for (auto& e : tl) {
    EXPECT_FALSE(e["at"].get<std::string>().empty());
    EXPECT_EQ(e["result"], "ok");
  }
  // Each write is in the audit trail.
  auto audit = ok(admin.get("/api/v1/audit?entity=service_order&id=" + S(id) + "&limit=100"));
  EXPECT_GE(audit["items"].size(), 12u);
  // The asset's own history has the maintenance.
  auto hist = ok(admin.get("/api/v1/assets/" + S(o["asset_id"].get<int64_t>()) + "/history"));
  bool seen = false;
  for (auto& h : hist["items"])
    if (h["kind"] == "maintenance") seen = true;
  EXPECT_TRUE(seen) << hist.dump();
  // Closed stays closed, but can be reopened by the call centre.
  EXPECT_EQ(engineer1.post(P + "/actions/arrive", json::object()).status, 409);
  o = act(agent, id, "reopen");
  EXPECT_EQ(o["state"], "reopened");
  EXPECT_TRUE(o["closed_at"].is_null());
}

TEST_F(OrdersApi, RequiredFieldsPerTypeAndBadInput) {
  auto agent = as("agent"), admin = as("admin");
  auto r = agent.post("/api/v1/service-orders", json{{"type", "repair"}, {"description", "坏了"}});
  bad(r, "customer_id");
  std::vector<std::string> missing = body(r)["missing_fields"];
  EXPECT_EQ(missing, (std::vector<std::string>{"customer_id", "contact.phone", "site.address", "serial", "problem_area"}));
  bad(agent.post("/api/v1/service-orders", json{{"type", "fix"}}), "type");
  bad(agent.post("/api/v1/service-orders", json{{"type", "consultation"}, {"contact", {{"phone", "12"}}}}), "contact.phone");
  bad(agent.post("/api/v1/service-orders", json{{"type", "consultation"}, {"priority", "asap"}}), "priority");
  bad(agent.post("/api/v1/service-orders", json{{"type", "consultation"}, {"site", {{"county_code", "999999"}}}}),
      "site.county_code");
  bad(agent.post("/api/v1/service-orders", json{{"type", "consultation"}, {"state", "closed"}}), "state");
  bad(agent.post("/api/v1/service-orders", json{{"type", "consultation"}, {"expected_at", "tomorrow"}}), "expected_at");
  auto junk = agent.call("POST", "/api/v1/service-orders", "{\"type\": ");
  EXPECT_EQ(junk.status, 400) << junk.body;
  bad(agent.post("/api/v1/service-orders", json{{"type", "consultation"}, {"customer_id", 999999}}), "customer_id");

  // A consultation needs only the phone and the question.
  auto c = ok(agent.post("/api/v1/service-orders",
                         json{{"type", "consultation"}, {"contact", {{"phone", "021-64870011"}}}, {"description", "如何清洗滤网"}}),
              201);
  EXPECT_EQ(c["warranty"], "unknown");

  // The administrator makes the summary mandatory for consultations.
  auto types = ok(agent.get("/api/v1/order-types"));
  json cons;
  for (auto& t : types["items"])
    if (t["code"] == "consultation") cons = t;
  ASSERT_TRUE(cons.is_object());
  EXPECT_EQ(agent.call("PUT", "/api/v1/order-types/consultation",
                       json{{"required_fields", {"contact.phone", "description", "summary"}}, {"version", cons["version"]}}.dump())
                .status,
            403);
  bad(admin.call("PUT", "/api/v1/order-types/consultation",
                 json{{"required_fields", {"contact.phone", "colour"}}, {"version", cons["version"]}}.dump()),
      "required_fields[1]");
  ok(admin.call("PUT", "/api/v1/order-types/consultation",
                json{{"required_fields", {"contact.phone", "description", "summary"}}, {"version", cons["version"]}}.dump()));
  EXPECT_EQ(admin.call("PUT", "/api/v1/order-types/consultation",
                       json{{"required_fields", {"contact.phone"}}, {"version", cons["version"]}}.dump()).status,
            409);
  r = agent.post("/api/v1/service-orders",
                 json{{"type", "consultation"}, {"contact", {{"phone", "021-64870011"}}}, {"description", "如何清洗滤网"}});
  bad(r, "summary");
  ok(admin.call("PUT", "/api/v1/order-types/consultation",
                json{{"required_fields", {"contact.phone", "description"}}, {"version", cons["version"].get<int>() + 1}}.dump()));

  // Unknown ids are 404, like out-of-scope ones.
  EXPECT_EQ(agent.get("/api/v1/service-orders/99999999").status, 404);
  EXPECT_EQ(agent.get("/api/v1/service-orders/abc").status, 404);
  EXPECT_EQ(agent.post("/api/v1/service-orders/99999999/actions/audit", json::object()).status, 404);
}

TEST_F(OrdersApi, ChargesArePricedServiceItemsAndRounded) {
  auto agent = as("agent"), dispatcher = as("dispatcher"), provider2 = as("provider2"), admin = as("admin");
  set_rounding(admin, "yuan_down");
  // 李娜's air conditioner in Jinan, serviced by the grade-B provider.
  int64_t cust = customer_by_phone(agent, "13800138000");
  json o = ok(agent.post("/api/v1/service-orders",
                         json{{"type", "repair"}, {"customer_id", cust}, {"contact", {{"phone", "13800138000"}}},
                              {"site", {{"county_code", "370102"}, {"address", "文化东路59号"}}},
                              {"serial", "KFR35-2409-000777"}, {"problem_area", "噪音"}, {"description", "外机异响"}}),
              201);
  int64_t id = o["id"];
  const std::string P = "/api/v1/service-orders/" + S(id);
  EXPECT_EQ(o["org_unit_name"], "济南分公司");
  // No provider yet: no grade, no price.
  bad(admin.call("PUT", P + "/charges", json{{"version", o["version"]}, {"charges", {{{"service_item_code", "SI-DIAG"}, {"quantity", 1}}}}}.dump()),
      "charges");
  act(dispatcher, id, "audit");
  o = ok(dispatcher.post(P + "/assign", json{{"provider_unit_id", unit_id(admin, "SP-JN-LX")}}));
  int64_t v = o["version"];
  auto put = [&](const json& b) { return provider2.call("PUT", P + "/charges", b.dump()); };
  bad(put(json{{"version", v}, {"charges", {{{"name", "上门费"}, {"amount_fen", 10000}}}}}), "charges[0].service_item_code");
  bad(put(json{{"version", v}, {"charges", {{{"service_item_code", "SI-DIAG"}, {"quantity", 1}, {"unit_price_fen", 5000}}}}}),
      "charges[0].unit_price_fen");  // grade B pays 4000, not grade A's 5000
  bad(put(json{{"version", v}, {"charges", {{{"service_item_code", "NO-SUCH"}, {"quantity", 1}}}}}),
      "charges[0].service_item_code");
  bad(put(json{{"version", v}, {"charges", {{{"service_item_code", "SI-DIAG"}, {"quantity", 0}}}}}), "charges[0].quantity");
  bad(put(json{{"version", v}, {"parts", {{{"part_code", "X"}, {"name", "x"}, {"quantity", 1}, {"unit_price_fen", -1}}}}}),
      "parts[0].unit_price_fen");
  auto res = ok(put(json{{"version", v},
                         {"charges", {{{"service_item_code", "SI-DIAG"}, {"quantity", 1}},
                                      {{"service_item_code", "SI-AC-GAS"}, {"quantity", 1}, {"unit_price_fen", 16000}}}},
                         {"parts", {{{"part_code", "CAP-35", }, {"name", "启动电容"}, {"quantity", 3}, {"unit_price_fen", 1833}}}}}));
  EXPECT_EQ(res["lines"].size(), 3u);
  EXPECT_EQ(res["lines"][0]["kind"], "part");
  EXPECT_EQ(res["lines"][1]["unit_price_fen"], 4000);
  EXPECT_EQ(res["lines"][1]["grade"], "B");
  EXPECT_EQ(res["totals"]["subtotal_fen"], 4000 + 16000 + 5499);
  EXPECT_EQ(res["totals"]["total_fen"], 25400);
  EXPECT_EQ(res["totals"]["rounding_fen"], -99);
  EXPECT_EQ(res["payer"], "customer");
  // Stale version.
  EXPECT_EQ(put(json{{"version", v}, {"charges", json::array()}}).status, 409);
  // Rounding is configurable.
  set_rounding(admin, "yuan_half_up");
  EXPECT_EQ(ok(provider2.get(P + "/charges"))["totals"]["total_fen"], 25500);
  set_rounding(admin, "jiao_down");
  EXPECT_EQ(ok(provider2.get(P + "/charges"))["totals"]["total_fen"], 25490);
  set_rounding(admin, "none");
  EXPECT_EQ(ok(provider2.get(P + "/charges"))["totals"]["rounding_fen"], 0);
  set_rounding(admin, "yuan_down");
  bad(admin.call("PUT", "/api/v1/order-settings", json{{"rounding", "up"}, {"version", rounding_version(admin)}}.dump()), "rounding");
}

// Seed 001's 服务请求明细 rebuilt as data through the API.
TEST_F(OrdersApi, Seed001ReportTotalsAndSatisfaction) {
  auto admin = as("admin"), agent = as("agent"), dispatcher = as("dispatcher"), provider1 = as("provider1");
  set_rounding(admin, "yuan_down");
  std::string labour = uniq("L");
  ok(admin.post("/api/v1/service-items", json{{"code", labour}, {"name", "工时费"}, {"unit", "小时"},
                                              {"prices", {{{"grade", "A"}, {"price_fen", 12500}}}}}), 201);
  int64_t wanli = customer_by_phone(agent, "021-50301234");
  // The balancing machine as in the seed: a third-party asset, under no
  // discounted contract (the demo's copy is under a 10 %/20 % one).
  std::string serial = uniq("20040201-5326-");
  json machine{{"serial", serial}, {"third_party", true}, {"maker", "上海天硕机电设备有限公司"},
               {"model_text", "SY3240平衡机"}, {"owner_customer_id", wanli}, {"org_unit_id", unit_id(admin, "BR-SH")},
               {"asset_tag", "WL006"}, {"commissioned_on", "2004-06-02"}, {"installation", {{"date", "2004-05-31"}}}};
  // 资产# WL006 is 上海万力's number of the demo's copy: unique per owner, so
  // the demo's copy hands it over to this rebuild.
  auto taken = admin.post("/api/v1/assets", machine);
  EXPECT_EQ(taken.status, 409) << taken.body;
  EXPECT_EQ(body(taken)["error"]["field"], "asset_tag");
  auto demo_copy = ok(admin.get("/api/v1/assets/by-serial/20040201-5326-A33"));
  EXPECT_EQ(demo_copy["asset_tag"], "WL006");
  EXPECT_EQ(demo_copy["commissioned_on"], "2004-06-02");
  ok(admin.patch("/api/v1/assets/" + S(demo_copy["id"].get<int64_t>()),
                 json{{"version", demo_copy["version"]}, {"asset_tag", "WL006-DEMO"}}));
  ok(admin.post("/api/v1/assets", machine), 201);
  json o = ok(agent.post("/api/v1/service-orders",
                         json{{"type", "repair"}, {"customer_id", wanli},
                              {"contact", {{"name", "张云峰"}, {"phone", "13901888888"}}},
                              {"site", {{"county_code", "310115"}, {"address", "金港路108号"}, {"postcode", "201206"}}},
                              {"serial", serial}, {"problem_area", "运行故障"}, {"problem_subarea", "硬件"},
                              {"reproducibility", "always"}, {"severity", "serious"}, {"priority", "high"},
                              {"description", "1、立式平衡主轴转速不稳，可能是法兰连接皮带老化松动。2、主轴夹具不牢固，可能是螺栓滑扣。"},
                              {"summary", "立式平衡主轴转速不稳，主轴夹具不牢固"}}),
              201);
  int64_t id = o["id"];
  const std::string P = "/api/v1/service-orders/" + S(id);
  act(dispatcher, id, "audit");
  o = ok(dispatcher.post(P + "/assign", json{{"provider_unit_id", unit_id(admin, "SP-SH-XH")}}));
  ok(dispatcher.post(P + "/notes", json{{"kind", "general"}, {"body", "建议客户更换法兰连接皮带，易损件应每三个月检查一次"}}), 201);
  ok(dispatcher.post(P + "/notes", json{{"kind", "warning"}, {"body", "升级平衡机控制软件"}}), 201);
  bad(dispatcher.post(P + "/notes", json{{"kind", "secret"}, {"body", "x"}}), "kind");
  int64_t eng = user_id(admin, "engineer1");
  ok(provider1.post(P + "/tasks", json{{"subject", "诊断SY3240平衡机故障，携带零部件：法兰连接皮带和主轴夹具螺栓"},
                                       {"mode", "on_site"}, {"assignee_id", eng},
                                       {"planned_start", "2005-02-22T15:30:00+08:00"}, {"actual_start", "2005-02-22T16:00:00+08:00"},
                                       {"actual_end", "2005-02-22T18:00:00+08:00"}, {"status", "done"},
                                       {"remarks", "主轴夹具螺栓已更换，但主轴转速不稳不是连接皮带松动，而是由于驱动电机电刷磨损导致接触不好。"}}),
     201);
  auto t2 = ok(provider1.post(P + "/tasks", json{{"subject", "更换SY3240电机电刷"}, {"mode", "on_site"}, {"assignee_id", eng},
                                                 {"planned_start", "2005-02-23T09:00:00+08:00"}}), 201);
  bad(provider1.post(P + "/tasks", json{{"subject", "x"}, {"mode", "remote"}}), "mode");
  bad(provider1.post(P + "/tasks", json{{"subject", "x"}, {"assignee_id", user_id(admin, "engineer2")}}), "assignee_id");
  ok(provider1.patch(P + "/tasks/" + S(t2["id"].get<int64_t>()),
                     json{{"version", 1}, {"actual_start", "2005-02-23T09:00:00+08:00"}, {"actual_end", "2005-02-23T11:30:00+08:00"},
                          {"status", "done"}, {"remarks", "更换后设备正常运行，问题解决"}}));
  EXPECT_EQ(provider1.patch(P + "/tasks/" + S(t2["id"].get<int64_t>()), json{{"version", 1}, {"status", "done"}}).status, 409);
  ok(provider1.post(P + "/maintenance", json{{"date", "2005-02-22"}, {"type", "更换"}, {"summary", "更换主轴夹具螺栓，重新校正了偏距"},
                                             {"performed_by", "elitor"}}), 201);
  ok(provider1.post(P + "/maintenance", json{{"date", "2005-02-23"}, {"type", "更换/升级"},
                                             {"summary", "更换电机电刷，同时升级平衡机控制软件V3.01"}, {"performed_by", "lxb"}}), 201);
  o = ok(provider1.get(P));
  auto ch = ok(provider1.call("PUT", P + "/charges",
                              json{{"version", o["version"]},
                                   {"parts", {{{"part_code", "600102"}, {"name", "SY3240-AK03"}, {"quantity", 1}, {"unit_price_fen", 32432}},
                                              {{"part_code", "100201"}, {"name", "SY3240-AF01"}, {"quantity", 2}, {"unit_price_fen", 21000},
                                               {"remark", "交货推迟至3月1日"}},
                                              {{"part_code", "100202"}, {"name", "SY3240-AF02"}, {"quantity", 1}, {"unit_price_fen", 7813}}}},
                                   {"charges", {{{"service_item_code", labour}, {"quantity", 4}}}}}.dump()));
  EXPECT_EQ(ch["totals"]["subtotal_fen"], 132245);
  EXPECT_EQ(ch["totals"]["rounding_fen"], -45);
  EXPECT_EQ(ch["totals"]["total_fen"], 132200);
  EXPECT_EQ(ch["totals"]["subtotal"], "¥1,322.45");
  EXPECT_EQ(ch["totals"]["rounding_amount"], "¥-0.45");
  EXPECT_EQ(ch["totals"]["total"], "¥1,322.00");
  // The lines' sales contract header (配件销售单), signed by the provider and
  // approved (审核状态 已核准) by the dispatcher. Numbers are unique: the demo
  // already holds the seed's own.
  json header{{"number", "CTRNBRG0020050223001"}, {"signed_on", "2005-02-23"}, {"summary", "维修"}, {"type", "service"},
              {"status", "executing"}, {"contact_name", "张云峰"}, {"payment_method", "cheque"},
              {"sales_method", "after_sales_parts"}, {"delivery_method", "door_delivery"}, {"ship_date", "2005-02-23"},
              {"sales_team", "dm"}};
  auto dup_no = provider1.post(P + "/sales-order", header);
  EXPECT_EQ(dup_no.status, 409) << dup_no.body;
  EXPECT_EQ(body(dup_no)["error"]["field"], "number");
  std::string so_number = "CTRNBRG0020050223" + random_hex(3);
  for (auto& c : so_number) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  header["number"] = so_number;
  auto so = ok(provider1.post(P + "/sales-order", header), 201);
  EXPECT_EQ(so["approval_status"], "pending");
  so = ok(dispatcher.post(P + "/sales-order/approval", json{{"decision", "approved"}, {"version", so["version"]}}));
  EXPECT_EQ(so["approval_status_name"], "已核准");
  o = ok(agent.call("PUT", P + "/satisfaction",
                    json{{"version", ch["version"]}, {"score", 45}, {"max_score", 60}, {"date", "2005-02-23"},
                         {"contact_name", "张云峰"},
                         {"feedback", "客户建议今后现场服务人员多准备一些备品部件，尽可能一次上门就解决问题。对我方服务比较满意。"}}.dump()));
  EXPECT_EQ(o["satisfaction"]["percent"], 75);
  bad(agent.call("PUT", P + "/satisfaction", json{{"version", o["version"]}, {"score", 70}, {"max_score", 60}}.dump()), "score");

  auto rep = ok(agent.get(P + "/report"));
  EXPECT_EQ(rep["number"], o["number"]);
  EXPECT_EQ(rep["customer"]["name"], "上海万力机械有限公司");
  EXPECT_EQ(rep["customer"]["contact"], "张云峰");
  EXPECT_EQ(rep["customer"]["email"], "zhangyf@shwl.com");
  EXPECT_EQ(rep["customer"]["postcode"], "201206");
  std::string upper = serial;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(rep["asset"]["serial"], upper);
  EXPECT_EQ(rep["asset"]["supplier"], "上海天硕机电设备有限公司");
  EXPECT_EQ(rep["problem"]["area"], "运行故障");
  EXPECT_EQ(rep["problem"]["subarea"], "硬件");
  EXPECT_EQ(rep["problem"]["severity"], "serious");
  EXPECT_EQ(rep["problem"]["priority"], "high");
  EXPECT_EQ(rep["notes"].size(), 2u);
  EXPECT_EQ(rep["notes"][0]["kind"], "warning");  // newest first, like the seed
  ASSERT_EQ(rep["tasks"].size(), 2u);
  EXPECT_EQ(rep["tasks"][0]["subject"], "更换SY3240电机电刷");
  EXPECT_EQ(rep["tasks"][0]["assignee"], "engineer1");
  EXPECT_EQ(rep["tasks"][1]["actual_start"], "2005-02-22T08:00:00Z");
  ASSERT_EQ(rep["maintenance"].size(), 2u);
  EXPECT_EQ(rep["maintenance"][0]["date"], "2005-02-23");
  EXPECT_EQ(rep["maintenance"][0]["performed_by"], "lxb");
  ASSERT_EQ(rep["satisfaction"].size(), 1u);
  EXPECT_EQ(rep["satisfaction"][0]["score"], 45);
  EXPECT_EQ(rep["satisfaction"][0]["max_score"], 60);
  EXPECT_EQ(rep["satisfaction"][0]["percent"], 75);
  ASSERT_EQ(rep["charges"]["lines"].size(), 4u);
  EXPECT_EQ(rep["charges"]["lines"][3]["name"], "工时费");
  EXPECT_EQ(rep["charges"]["lines"][3]["unit"], "小时");
  EXPECT_EQ(rep["charges"]["lines"][3]["amount_fen"], 50000);
  EXPECT_EQ(rep["charges"]["lines"][1]["remark"], "交货推迟至3月1日");
  EXPECT_EQ(rep["charges"]["totals"]["total_fen"], 132200);
  EXPECT_EQ(rep["asset"]["asset_tag"], "WL006");
  EXPECT_EQ(rep["asset"]["commissioned_on"], "2004-06-02");
  EXPECT_EQ(rep["asset"]["install_date"], "2004-05-31");
  const json& sh = rep["sales_order"];
  EXPECT_EQ(sh["number"], so_number);
  EXPECT_EQ(sh["signed_on"], "2005-02-23");
  EXPECT_EQ(sh["approval_status_name"], "已核准");
  EXPECT_EQ(sh["summary"], "维修");
  EXPECT_EQ(sh["type_name"], "服务");
  EXPECT_EQ(sh["status_name"], "执行中");
  EXPECT_EQ(sh["customer_name"], "上海万力机械有限公司");
  EXPECT_EQ(sh["contact_name"], "张云峰");
  EXPECT_EQ(sh["payment_method_name"], "支票");
  EXPECT_EQ(sh["sales_method_name"], "售后零部件");
  EXPECT_EQ(sh["delivery_method_name"], "上门送货");
  EXPECT_EQ(sh["ship_date"], "2005-02-23");
  EXPECT_EQ(sh["sales_team"], "dm");
  EXPECT_EQ(rep["charges"]["lines"][3]["unit"], "小时");
  EXPECT_TRUE(rep.contains("contract"));
  EXPECT_EQ(rep["problem"]["service_group"], "上海徐汇家电服务部");
  EXPECT_EQ(rep["problem"]["state_name"], "已派单");
  EXPECT_EQ(rep["footer"]["owner"], "上海徐汇家电服务部");

  // The same report as a PDF: a well-formed file whose text (UTF-16BE hex for
  // STSong-Light / UniGB-UCS2-H) has the number, the totals and the rate.
  auto pdf = agent.get(P + "/report.pdf");
  ASSERT_EQ(pdf.status, 200) << pdf.body.substr(0, 300);
  EXPECT_EQ(pdf.headers.get("content-type").value_or(""), "application/pdf");
  auto objects = shouhou::pdf::check_structure(pdf.body);
  ASSERT_TRUE(objects) << objects.error().message;
  EXPECT_GE(*objects, 8u);
  EXPECT_NE(pdf.body.find("/BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"), std::string::npos);
  for (const std::string& text : {o["number"].get<std::string>(), std::string("上海万力机械有限公司"), std::string("1,322.45"),
                                  std::string("-0.45"), std::string("1,322.00"), std::string("75%"), std::string("去零"),
                                  std::string("交货推迟至3月1日"), std::string("更换SY3240电机电刷"), std::string("WL006"),
                                  std::string("运行日期"), std::string("2004-06-02"), so_number, std::string("已核准"),
                                  std::string("支票"), std::string("售后零部件"), std::string("上门送货"),
                                  std::string("执行中"), std::string("销售小组")}) {
    std::string hex = shouhou::pdf::hex_string(text);  // "<...>"; the text may be part of a longer string
    EXPECT_NE(pdf.body.find(hex.substr(1, hex.size() - 2)), std::string::npos) << text;
  }
  // Scope: another provider gets the same 404 as for an unknown id.
  auto provider2 = as("provider2");
  EXPECT_EQ(provider2.get(P + "/report.pdf").status, 404);
  EXPECT_EQ(provider2.get("/api/v1/service-orders/99999999/report.pdf").status, 404);
}

TEST_F(OrdersApi, WorkflowChangedWhileOrdersAreInFlight) {
  auto admin = as("admin"), agent = as("agent"), dispatcher = as("dispatcher"), provider1 = as("provider1"),
       engineer1 = as("engineer1");
  int64_t sp = unit_id(admin, "SP-SH-XH"), eng = user_id(admin, "engineer1");
  json old_order = repair(agent);
  int64_t a = old_order["id"];
  act(dispatcher, a, "audit");
  ok(dispatcher.post("/api/v1/service-orders/" + S(a) + "/assign", json{{"provider_unit_id", sp}, {"engineer_id", eng}}));
  act(provider1, a, "accept");

  // The administrator adds "waiting for parts" after acceptance.
  auto wf = ok(admin.get("/api/v1/workflows/repair"));
  int64_t base = wf["version"];
  json def = wf;
  for (const char* k : {"id", "source", "created_at", "bound_order_types", "open_orders", "versions", "version", "code"})
    def.erase(k);
  def["base_version"] = base;
  def["states"].push_back(json{{"code", "parts_waiting"}, {"name", "待备件"}, {"name_en", "Waiting for parts"},
                               {"paused", true}, {"required_fields", {"parts_eta"}}});
  def["transitions"].push_back(json{{"action", "wait_parts"}, {"name", "待件"}, {"from", {"accepted"}},
                                    {"to", "parts_waiting"}, {"permission", "order.work"}});
  def["transitions"].push_back(json{{"action", "parts_arrived"}, {"name", "到件"}, {"from", {"parts_waiting"}},
                                    {"to", "accepted"}, {"permission", "order.work"}});
  EXPECT_EQ(agent.call("PUT", "/api/v1/workflows/repair", def.dump()).status, 403);
  json broken = def;
  broken["transitions"].back()["to"] = "nowhere";
  bad(admin.call("PUT", "/api/v1/workflows/repair", broken.dump()), "transitions[" + S(broken["transitions"].size() - 1) + "].to");
  broken = def;
  broken["transitions"].back()["permission"] = "order.fly";
  bad(admin.call("PUT", "/api/v1/workflows/repair", broken.dump()),
      "transitions[" + S(broken["transitions"].size() - 1) + "].permission");
  auto saved = ok(admin.call("PUT", "/api/v1/workflows/repair", def.dump()));
  EXPECT_EQ(saved["version"], base + 1);
  EXPECT_EQ(admin.call("PUT", "/api/v1/workflows/repair", def.dump()).status, 409) << "stale base_version";

  // The new order runs on the new flow.
  json new_order = repair(agent);
  int64_t b = new_order["id"];
  EXPECT_NE(new_order["workflow_id"], old_order["workflow_id"]);
  act(dispatcher, b, "audit");
  ok(dispatcher.post("/api/v1/service-orders/" + S(b) + "/assign", json{{"provider_unit_id", sp}, {"engineer_id", eng}}));
  act(provider1, b, "accept");
  bad(engineer1.post("/api/v1/service-orders/" + S(b) + "/actions/wait_parts", json::object()), "fields.parts_eta");
  json w = act(engineer1, b, "wait_parts", json{{"fields", {{"parts_eta", "2026-11-25"}}}});
  EXPECT_EQ(w["state"], "parts_waiting");
  EXPECT_EQ(w["fields"]["parts_eta"], "2026-11-25");
  act(engineer1, b, "parts_arrived");
  EXPECT_EQ(act(engineer1, b, "arrive")["state"], "on_site");

  // The order in flight keeps its version: no parts_waiting, and it goes on.
  auto r = engineer1.post("/api/v1/service-orders/" + S(a) + "/actions/wait_parts", json::object());
  EXPECT_EQ(r.status, 409) << r.body;
  auto allowed = body(r)["allowed_actions"];
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "arrive"), allowed.end()) << r.body;
  EXPECT_EQ(act(engineer1, a, "arrive")["state"], "on_site");
  auto listed = ok(admin.get("/api/v1/workflows/repair"));
  EXPECT_EQ(listed["versions"].size(), 2u);
}

TEST_F(OrdersApi, ProvidersAndEngineersSeeOnlyTheirOrders) {
  auto agent = as("agent"), dispatcher = as("dispatcher"), admin = as("admin"), provider1 = as("provider1"),
       provider2 = as("provider2"), engineer1 = as("engineer1"), engineer2 = as("engineer2");
  json o = repair(agent);
  int64_t id = o["id"];
  const std::string P = "/api/v1/service-orders/" + S(id);
  act(dispatcher, id, "audit");
  ok(dispatcher.post(P + "/assign", json{{"provider_unit_id", unit_id(admin, "SP-SH-XH")}}));
  EXPECT_EQ(ok(provider1.get(P))["id"], id);
  // provider2 probes by id: every door is 404, exactly like an unknown id.
  for (const std::string& path : {P, P + "/timeline", P + "/report", P + "/report.pdf", P + "/charges", P + "/tasks", P + "/notes",
                                  P + "/attachments", P + "/maintenance"}) {
    auto r = provider2.get(path);
    EXPECT_EQ(r.status, 404) << path << " " << r.body;
  }
  for (const char* action : {"accept", "reject", "arrive", "cancel"})
    EXPECT_EQ(provider2.post(P + "/actions/" + action, json::object()).status, 404) << action;
  EXPECT_EQ(provider2.post(P + "/notes", json{{"body", "x"}}).status, 404);
  EXPECT_EQ(provider2.post(P + "/assign", json{{"provider_unit_id", unit_id(admin, "SP-JN-LX")}}).status, 404);
  EXPECT_EQ(provider2.call("PUT", P + "/charges", json{{"version", 1}}.dump()).status, 404);
  EXPECT_EQ(provider2.post(P + "/leads", json{{"product_interest", "x"}}).status, 404);
  auto unknown = provider2.get("/api/v1/service-orders/99999999");
  EXPECT_EQ(body(unknown)["error"]["code"], body(provider2.get(P))["error"]["code"]);
  for (auto& it : items(provider2.get("/api/v1/service-orders?limit=500"))) EXPECT_NE(it["id"], id);
  // A provider cannot hand the order to another provider outside its scope.
  bad(provider1.post(P + "/assign", json{{"provider_unit_id", unit_id(admin, "SP-JN-LX")}}), "provider_unit_id");
  // Engineers see only what is assigned to them.
  EXPECT_EQ(engineer1.get(P).status, 404);
  EXPECT_EQ(engineer2.get(P).status, 404);
  act(provider1, id, "accept");
  ok(provider1.post(P + "/assign", json{{"provider_unit_id", unit_id(admin, "SP-SH-XH")}, {"engineer_id", user_id(admin, "engineer1")}}));
  EXPECT_EQ(ok(engineer1.get(P))["engineer_name"], "工程师 陈明");
  bool listed = false;
  for (auto& it : items(engineer1.get("/api/v1/service-orders?mine=1"))) listed = listed || it["id"] == id;
  EXPECT_TRUE(listed);
  EXPECT_EQ(engineer2.get(P).status, 404);
  // The timeline shows the reassignment.
  bool reassigned = false;
  json tl = ok(provider1.get(P + "/timeline"))["items"];
  for (auto& e : tl) reassigned = reassigned || e["kind"] == "reassign";
  EXPECT_TRUE(reassigned);
}

// The customers module shows a customer's orders (360 view, screen pop)
// through the provider the orders module installs, with the orders' scope.
TEST_F(OrdersApi, CustomerViewAndScreenPopListTheCustomersOrders) {
  auto agent = as("agent"), dispatcher = as("dispatcher"), admin = as("admin"), provider1 = as("provider1"),
       provider2 = as("provider2"), engineer1 = as("engineer1");
  json o = repair(agent);
  int64_t id = o["id"], cust = o["customer_id"];
  const std::string C = "/api/v1/customers/" + S(cust) + "/360";
  auto find = [](const json& list, int64_t oid) {
    for (const auto& x : list)
      if (x["id"] == oid) return x;
    return json(nullptr);
  };
  // The screen pop's open orders of this customer (null: the caller does not see the customer).
  auto pop_orders = [&](Session& s) {
    json r = ok(s.get("/api/v1/cti/lookup?phone=13912345678"));
    for (const auto& m : r["matches"])
      if (m["customer"]["id"] == cust) return m["open_orders"];
    return json(nullptr);
  };
  json c360 = ok(agent.get(C));
  json row = find(c360["orders"], id);
  ASSERT_TRUE(row.is_object()) << c360["orders"].dump();
  EXPECT_EQ(row["number"], o["number"]);
  EXPECT_EQ(row["state"], "created");
  EXPECT_EQ(row["state_name"], "已创建");
  EXPECT_EQ(row["open"], true);
  EXPECT_EQ(row["serial"], "KFR35-2401-000101");
  int64_t open_before = c360["stats"]["open_orders"];
  EXPECT_GE(open_before, 1);
  int64_t open_listed = 0;
  for (const auto& x : c360["orders"]) open_listed += x["open"].get<bool>() ? 1 : 0;
  EXPECT_EQ(open_listed, open_before);
  EXPECT_TRUE(find(pop_orders(agent), id).is_object());

  act(dispatcher, id, "audit");
  ok(dispatcher.post("/api/v1/service-orders/" + S(id) + "/assign", json{{"provider_unit_id", unit_id(admin, "SP-SH-XH")}}));
  EXPECT_EQ(find(pop_orders(provider1), id)["provider_name"], "上海徐汇家电服务部");
  // Another provider and an engineer it is not assigned to never see it, whether or not they see the customer.
  for (Session* s : {static_cast<Session*>(&provider2), static_cast<Session*>(&engineer1)}) {
    auto r = s->get(C);
    if (r.status == 200) EXPECT_TRUE(find(body(r)["orders"], id).is_null()) << r.body;
    else EXPECT_EQ(r.status, 404) << r.body;
    json pop = pop_orders(*s);
    if (!pop.is_null()) EXPECT_TRUE(find(pop, id).is_null()) << pop.dump();
  }

  // Cancelled: off the screen pop and the open count, still in the 360 as closed.
  act(dispatcher, id, "cancel", json{{"fields", {{"cancel_reason", "客户取消"}}}});
  EXPECT_TRUE(find(pop_orders(agent), id).is_null());
  c360 = ok(agent.get(C));
  EXPECT_EQ(c360["stats"]["open_orders"].get<int64_t>(), open_before - 1);
  row = find(c360["orders"], id);
  ASSERT_TRUE(row.is_object());
  EXPECT_EQ(row["open"], false);
  EXPECT_EQ(row["state"], "cancelled");
}

TEST_F(OrdersApi, AttachmentsNotesAndLeads) {
  auto agent = as("agent"), engineer1 = as("engineer1"), manager = as("manager"), dispatcher = as("dispatcher"),
       admin = as("admin");
  json o = repair(agent);
  int64_t id = o["id"];
  const std::string P = "/api/v1/service-orders/" + S(id);
  // A 1x1 PNG.
  const std::string png =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
  auto att = ok(agent.post(P + "/attachments", json{{"name", "故障照片.png"}, {"kind", "photo"}, {"content_base64", png}}), 201);
  EXPECT_EQ(att["content_type"], "image/png");
  EXPECT_EQ(att["size"], 70);
  auto dl = agent.get(P + "/attachments/" + S(att["id"].get<int64_t>()));
  EXPECT_EQ(dl.status, 200);
  EXPECT_EQ(dl.body.size(), 70u);
  EXPECT_EQ(dl.body.substr(1, 3), "PNG");
  // A script renamed .png is refused by its bytes.
  bad(agent.post(P + "/attachments", json{{"name", "x.png"}, {"content_base64", "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="}}),
      "content_base64");
  bad(agent.post(P + "/attachments", json{{"name", "x.png"}, {"content_base64", "***"}}), "content_base64");
  std::string big = "/9j/" + std::string(7'200'000, 'A');  // > 5 MiB of JPEG-looking bytes
  bad(agent.post(P + "/attachments", json{{"name", "big.jpg"}, {"content_base64", big}}), "content_base64");
  EXPECT_EQ(ok(agent.get(P + "/attachments"))["items"].size(), 1u);

  // Notes with author and time.
  auto n = ok(agent.post(P + "/notes", json{{"kind", "warning"}, {"body", "客户家有大型犬，上门前电话联系"}}), 201);
  EXPECT_EQ(n["author"], "agent");
  bad(agent.post(P + "/notes", json{{"body", ""}}), "body");

  // A lead forwarded from the order reaches the sales users of the region.
  act(dispatcher, id, "audit");
  ok(dispatcher.post(P + "/assign", json{{"provider_unit_id", unit_id(admin, "SP-SH-XH")},
                                         {"engineer_id", user_id(admin, "engineer1")}}));
  auto lead = ok(engineer1.post(P + "/leads", json{{"product_interest", "客厅再装一台立柜式空调"}, {"note", "客户主动询价"}}), 201);
  EXPECT_EQ(lead["customer_name"], "王建国");
  bad(engineer1.post(P + "/leads", json{{"note", "x"}}), "product_interest");
  EXPECT_EQ(agent.get("/api/v1/sales-leads").status, 403);
  bool found = false;
  for (auto& l : items(manager.get("/api/v1/sales-leads?limit=500"))) found = found || l["id"] == lead["id"];
  EXPECT_TRUE(found);
}

TEST_F(OrdersApi, ListFiltersAndNumbersAreUnique) {
  auto agent = as("agent");
  std::set<std::string> numbers;
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    json o = repair(agent);
    numbers.insert(o["number"].get<std::string>());
    ids.push_back(o["id"]);
  }
  EXPECT_EQ(numbers.size(), 5u);
  auto page1 = ok(agent.get("/api/v1/service-orders?limit=2&type=repair&state=created"));
  ASSERT_EQ(page1["items"].size(), 2u);
  EXPECT_GT(page1["items"][0]["id"].get<int64_t>(), page1["items"][1]["id"].get<int64_t>());  // newest first
  auto page2 = ok(agent.get("/api/v1/service-orders?limit=2&type=repair&cursor=" + page1["next_cursor"].get<std::string>()));
  EXPECT_LT(page2["items"][0]["id"].get<int64_t>(), page1["items"][1]["id"].get<int64_t>());
  auto byq = ok(agent.get("/api/v1/service-orders?q=" + *numbers.begin()));
  ASSERT_EQ(byq["items"].size(), 1u);
  bad(agent.get("/api/v1/service-orders?sla_status=red"), "sla_status");
  bad(agent.get("/api/v1/service-orders?customer_id=x"), "customer_id");
  bad(agent.get("/api/v1/service-orders?created_from=yesterday"), "created_from");
  for (auto& it : items(agent.get("/api/v1/service-orders?open=1&limit=50"))) EXPECT_TRUE(it["closed_at"].is_null());
}

TEST_F(OrdersApi, NumbersStayUniqueWithTwoServersCreatingAtOnce) {
  // Issue 4: numbers unique across servers on one database. On PostgreSQL
  // the day's sequence is not a locked counter row (next_number): both
  // servers' creates overlap and every number must still be distinct, of
  // the form FW + the China day + at least three digits.
  ServerProcess second(server_->db());
  std::mutex mu;
  std::vector<std::string> numbers;
  auto feed = [&](uint16_t port) {
    LoggedIn agent(port, "agent");
    for (int i = 0; i < 15; ++i) {
      json o = repair(agent);
      std::lock_guard lk(mu);
      numbers.push_back(o["number"].get<std::string>());
    }
  };
  auto cn_day = [] {  // the China day now (the run may cross midnight)
    std::string d = iso_utc(now_ms() + 8 * 3'600'000).substr(0, 10);
    d.erase(std::remove(d.begin(), d.end(), '-'), d.end());
    return d;
  };
  std::string day0 = cn_day();
  std::vector<std::thread> ts;
  for (uint16_t port : {server_->port(), second.port(), server_->port(), second.port()}) ts.emplace_back(feed, port);
  for (auto& t : ts) t.join();
  ASSERT_EQ(numbers.size(), 60u);
  std::set<std::string> distinct(numbers.begin(), numbers.end());
  EXPECT_EQ(distinct.size(), numbers.size());
  std::regex form("FW(" + day0 + "|" + cn_day() + ")\\d{3,}");
  for (const auto& n : numbers) EXPECT_TRUE(std::regex_match(n, form)) << n;
  EXPECT_EQ(second.stop(), 0);
}

// The parts sales order (配件销售单): validation naming fields, generated
// numbers, version checks, approval and re-approval, the dictionary, audit,
// and scope (another provider gets 404 as for an unknown id).
TEST_F(OrdersApi, SalesOrderRulesApprovalAndScope) {
  auto admin = as("admin"), agent = as("agent"), dispatcher = as("dispatcher"), provider1 = as("provider1"),
       provider2 = as("provider2");
  json o = repair(agent);
  int64_t id = o["id"];
  const std::string P = "/api/v1/service-orders/" + S(id), SO = P + "/sales-order";
  act(dispatcher, id, "audit");
  ok(dispatcher.post(P + "/assign", json{{"provider_unit_id", unit_id(admin, "SP-SH-XH")}}));
  EXPECT_EQ(provider1.get(SO).status, 404) << "none yet";

  // The attacker: another provider guessing the order's id.
  EXPECT_EQ(provider2.post(SO, json::object()).status, 404);
  EXPECT_EQ(provider2.get(SO).status, 404);

  bad(provider1.post(SO, json{{"payment_method", "bitcoin"}}), "payment_method");
  bad(provider1.post(SO, json{{"delivery_method", 3}}), "delivery_method");
  bad(provider1.post(SO, json{{"signed_on", "2024-02-30"}}), "signed_on");
  bad(provider1.post(SO, json{{"signed_on", "2999-01-01"}}), "signed_on");
  bad(provider1.post(SO, json{{"signed_on", "2024-03-01"}, {"ship_date", "2024-02-29"}}), "ship_date");
  bad(provider1.post(SO, json{{"type", "gift"}}), "type");
  bad(provider1.post(SO, json{{"status", "paid"}}), "status");
  bad(provider1.post(SO, json{{"number", "X!"}}), "number");
  bad(provider1.post(SO, json{{"approval_status", "approved"}}), "approval_status");
  bad(provider1.post(SO, json{{"sales_team", std::string(41, 'x')}}), "sales_team");
  EXPECT_EQ(provider1.call("POST", SO, "{not json").status, 400);
  EXPECT_EQ(provider1.get(SO).status, 404) << "nothing half-written";

  auto so = ok(provider1.post(SO, json{{"payment_method", "cash"}, {"delivery_method", "pickup"}, {"summary", "换电容"}}), 201);
  EXPECT_TRUE(std::regex_match(so["number"].get<std::string>(), std::regex("CTRN\\d{8}\\d{3,}"))) << so["number"];
  EXPECT_EQ(so["approval_status"], "pending");
  EXPECT_EQ(so["status"], "draft");
  EXPECT_EQ(so["type"], "service");
  EXPECT_EQ(so["contact_name"], "王建国") << "the order's contact by default";
  EXPECT_EQ(so["customer_name"], o["customer_name"]);
  EXPECT_EQ(so["payment_method_name"], "现金");
  EXPECT_EQ(so["payment_method_name_en"], "Cash");
  EXPECT_EQ(so["delivery_method_name"], "客户自提");
  EXPECT_EQ(provider1.post(SO, json::object()).status, 409) << "one per order";
  // An order not (yet) the provider's is not there for it.
  EXPECT_EQ(provider1.post("/api/v1/service-orders/" + S(repair(agent)["id"].get<int64_t>()) + "/sales-order",
                           json::object()).status, 404);

  // Changes need the version read; the attacker cannot change it either.
  int64_t v = so["version"];
  EXPECT_EQ(provider2.patch(SO, json{{"version", v}, {"sales_team", "x"}}).status, 404);
  bad(provider1.patch(SO, json{{"version", v}, {"ship_date", "2000-01-01"}}), "ship_date");
  bad(provider1.patch(SO, json{{"version", v}, {"number", nullptr}}), "number");
  so = ok(provider1.patch(SO, json{{"version", v}, {"status", "executing"}, {"sales_team", "dm"}, {"ship_date", nullptr}}));
  EXPECT_EQ(so["status_name"], "执行中");
  EXPECT_EQ(so["sales_team"], "dm");
  EXPECT_EQ(so["summary"], "换电容") << "fields not sent are kept";
  EXPECT_EQ(provider1.patch(SO, json{{"version", v}, {"sales_team", "stale"}}).status, 409);

  // Approval is the auditor's (order.audit), with the version.
  EXPECT_EQ(provider1.post(SO + "/approval", json{{"decision", "approved"}, {"version", so["version"]}}).status, 403);
  bad(dispatcher.post(SO + "/approval", json{{"decision", "maybe"}, {"version", so["version"]}}), "decision");
  EXPECT_EQ(dispatcher.post(SO + "/approval", json{{"decision", "approved"}, {"version", 1}}).status, 409);
  so = ok(dispatcher.post(SO + "/approval", json{{"decision", "approved"}, {"version", so["version"]}}));
  EXPECT_EQ(so["approval_status"], "approved");
  EXPECT_EQ(so["approved_by"], "dispatcher");
  // Delivery progress keeps the approval; new terms need a new one.
  so = ok(provider1.patch(SO, json{{"version", so["version"]}, {"ship_date", "2030-01-01"}, {"status", "completed"}}));
  EXPECT_EQ(so["approval_status"], "approved");
  so = ok(provider1.patch(SO, json{{"version", so["version"]}, {"payment_method", "cheque"}}));
  EXPECT_EQ(so["approval_status"], "pending");
  EXPECT_TRUE(so["approved_by"].is_null());

  // The dictionary: an administrator adds a payment method and retires it.
  auto opts = ok(provider1.get("/api/v1/sales-order-options?kind=payment_method"));
  bool cheque = false;
  for (auto& x : opts["items"]) cheque = cheque || (x["code"] == "cheque" && x["name"] == "支票" && x["name_en"] == "Cheque");
  EXPECT_TRUE(cheque) << opts.dump();
  bad(provider1.get("/api/v1/sales-order-options?kind=colour"), "kind");
  std::string code = "pay_" + random_hex(3);
  EXPECT_EQ(provider1.call("PUT", "/api/v1/sales-order-options/payment_method/" + code,
                           json{{"name", "支付宝"}, {"name_en", "Alipay"}}.dump()).status, 403);
  bad(admin.call("PUT", "/api/v1/sales-order-options/colour/" + code, json{{"name", "x"}, {"name_en", "x"}}.dump()), "kind");
  bad(admin.call("PUT", "/api/v1/sales-order-options/payment_method/" + code, json{{"name_en", "Alipay"}}.dump()), "name");
  auto added = ok(admin.call("PUT", "/api/v1/sales-order-options/payment_method/" + code,
                             json{{"name", "支付宝"}, {"name_en", "Alipay"}, {"sort_order", 9}}.dump()), 201);
  so = ok(provider1.patch(SO, json{{"version", so["version"]}, {"payment_method", code}}));
  EXPECT_EQ(so["payment_method_name"], "支付宝");
  EXPECT_EQ(admin.call("PUT", "/api/v1/sales-order-options/payment_method/" + code,
                       json{{"name", "支付宝"}, {"name_en", "Alipay"}, {"active", false}, {"version", 99}}.dump()).status, 409);
  ok(admin.call("PUT", "/api/v1/sales-order-options/payment_method/" + code,
                json{{"name", "支付宝"}, {"name_en", "Alipay"}, {"active", false}, {"version", added["version"]}}.dump()));
  bad(provider1.patch(SO, json{{"version", so["version"]}, {"payment_method", "cash"}, {"delivery_method", "teleport"}}),
      "delivery_method");
  auto fresh = ok(provider1.get(SO));
  EXPECT_EQ(fresh["payment_method"], code) << "a retired entry stays on the records that use it";
  EXPECT_EQ(fresh["version"], so["version"]) << "the refused change wrote nothing";

  // Every change is in the audit log.
  auto audit = ok(admin.get("/api/v1/audit?entity=sales_order&id=" + S(so["id"].get<int64_t>())));
  std::vector<std::string> actions;
  for (auto& e : audit["items"]) actions.push_back(e["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"update", "update", "update", "approve", "update", "create"}));
  // The report carries it; the attacker gets neither.
  EXPECT_EQ(ok(provider1.get(P + "/report"))["sales_order"]["number"], so["number"]);
  EXPECT_EQ(provider2.get(P + "/report").status, 404);
  EXPECT_EQ(provider2.post(SO + "/approval", json{{"decision", "approved"}, {"version", so["version"]}}).status, 403);
  EXPECT_EQ(dispatcher.get("/api/v1/service-orders/99999999/sales-order").status, 404);
}

// A reassigned order takes its child rows along into the new provider's data
// scope (org_path of timeline, tasks and notes; assign() updates only the
// child tables that have rows of the order), and leaves the empty ones alone.
TEST_F(OrdersApi, ReassignedOrderChildrenMoveWithIt) {
  auto agent = as("agent"), dispatcher = as("dispatcher"), admin = as("admin"), provider1 = as("provider1"),
       provider2 = as("provider2");
  json o = repair(agent);
  int64_t id = o["id"];
  const std::string P = "/api/v1/service-orders/" + S(id);
  act(dispatcher, id, "audit");
  int64_t sh = unit_id(admin, "SP-SH-XH"), jn = unit_id(admin, "SP-JN-LX");
  ok(dispatcher.post(P + "/assign", json{{"provider_unit_id", sh}}));
  ok(dispatcher.post(P + "/notes", json{{"kind", "general"}, {"body", "客户下午在家"}}), 201);
  ok(provider1.post(P + "/tasks", json{{"subject", "上门诊断"}, {"mode", "on_site"}}), 201);

  auto db = store::Database::open(server_->db());
  ASSERT_TRUE(db) << db.error().message;
  // Paths of the order and of each child table's rows (distinct; "" = no rows).
  auto paths = [&] {
    std::map<std::string, std::set<std::string>> out;
    auto r = (*db)->read_as([&](store::Conn& c) -> Result<bool> {
      out["order"].insert(TRY(c.one("SELECT org_path FROM service_orders WHERE id = ?", {id}))->s(0));
      for (const char* t : {"order_timeline", "order_tasks", "order_notes", "order_attachments", "order_charges", "order_maintenance"})
        for (const auto& row : TRY(c.query(std::string("SELECT DISTINCT org_path FROM ") + t + " WHERE order_id = ?", {id})))
          out[t].insert(row.s(0));
      return true;
    });
    EXPECT_TRUE(r) << r.error().message;
    return out;
  };
  auto before = paths();
  std::string sh_path = *before["order"].begin();
  for (const char* t : {"order_timeline", "order_tasks", "order_notes"})
    EXPECT_EQ(before[t], std::set<std::string>{sh_path}) << t;

  ok(dispatcher.post(P + "/assign", json{{"provider_unit_id", jn}}));
  auto after = paths();
  std::string jn_path = *after["order"].begin();
  EXPECT_NE(jn_path, sh_path);
  for (const char* t : {"order_timeline", "order_tasks", "order_notes"})
    EXPECT_EQ(after[t], std::set<std::string>{jn_path}) << t << " rows stayed behind";
  for (const char* t : {"order_attachments", "order_charges", "order_maintenance"}) EXPECT_TRUE(after[t].empty()) << t;
  // And through the API: the new provider reads them, the old one gets 404.
  EXPECT_EQ(ok(provider2.get(P + "/notes"))["items"].size(), 1u);
  EXPECT_EQ(ok(provider2.get(P + "/tasks"))["items"].size(), 1u);
  EXPECT_EQ(provider1.get(P + "/tasks").status, 404);
}
