// Warranty claim auto-audit against a real server process, on SQLite or
// (with SHOUHOU_TEST_PG) PostgreSQL: each audit rule with a claim that trips
// it and one that does not, clean claims passing on their own, the manual
// audit queue with its reasons, decisions, and scope tested like an attacker.
#include "harness.h"
#include "warranty/warranty.h"

using namespace shouhou;
using namespace shouhou::test;

class ClaimsApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    Session admin(server_->port());
    admin.login("admin");
    auto s = admin.get("/api/v1/dispatch/settings");
    if (s.status == 200 && body(s).contains("auto_dispatch"))
      admin.call("PUT", "/api/v1/dispatch/settings", json{{"auto_dispatch", false}, {"version", body(s)["version"]}}.dump());
    // A product line whose units are covered 12 months from installation.
    line_ = ok(admin.post("/api/v1/product-lines", json{{"code", uniq("PL")}, {"name", uniq("热水器")}}), 201)["id"];
    model_ = ok(admin.post("/api/v1/models", json{{"product_line_id", line_}, {"code", uniq("SWH-")}, {"name", "太阳能热水器"}}), 201)["id"];
    ok(admin.post("/api/v1/warranty-policies",
                  json{{"name", "整机一年"}, {"product_line_id", line_}, {"unit_months", 12},
                       {"start_basis", "installation"}, {"fallback_basis", "sale"}}),
       201);
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << "server must exit cleanly on SIGTERM\n" << server_->log();
    delete server_;
    server_ = nullptr;
  }
  struct LoggedIn : Session {
    LoggedIn(uint16_t port, const std::string& user, const std::string& pw = "shouhou") : Session(port) {
      auto r = login(user, pw);
      EXPECT_EQ(r.status, 200) << r.body;
    }
  };
  static LoggedIn as(const std::string& user, const std::string& pw = "shouhou") { return LoggedIn(server_->port(), user, pw); }
  static std::string uniq(const std::string& p) {
    std::string s = p + random_hex(4);
    for (auto& ch : s) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
    return s;
  }
  static std::string S(int64_t v) { return std::to_string(v); }
  static json ok(const http::ClientResponse& r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    return body(r);
  }
  static void bad(const http::ClientResponse& r, const std::string& field) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(body(r)["error"]["field"], field) << r.body;
  }
  static int64_t customer(Session& admin, const std::string& name) {
    return ok(admin.post("/api/v1/customers", json{{"name", name + random_hex(3)}, {"kind", "individual"}, {"type", "direct"}}), 201)["id"];
  }
  static std::string day(int offset) { return warranty::add_days(warranty::today_cn(), offset).str(); }
  // A sold, installed unit. Installed `installed_days_ago` days ago in `division`.
  static std::string asset(Session& admin, int64_t cust, int installed_days_ago = 60, const std::string& division = "310104") {
    std::string serial = uniq("CL-");
    ok(admin.post("/api/v1/assets", json{{"serial", serial}, {"model_id", model_},
                                         {"sale", {{"date", day(-installed_days_ago - 3)}, {"customer_id", cust}, {"invoice_no", "FP-1"}}},
                                         {"installation", {{"date", day(-installed_days_ago)}, {"division_code", division}}}}),
       201);
    return serial;
  }
  // An asset whose whole-unit warranty ends `days_left` days from today.
  static std::string asset_ending_in(Session& admin, int64_t cust, int days_left) {
    warranty::Date end = warranty::add_days(warranty::today_cn(), days_left + 1);
    warranty::Date start{end.y - 1, end.m, end.d == 29 && end.m == 2 ? 28 : end.d};
    std::string serial = uniq("NE-");
    ok(admin.post("/api/v1/assets", json{{"serial", serial}, {"model_id", model_},
                                         {"sale", {{"date", start.str()}, {"customer_id", cust}, {"invoice_no", "FP-2"}}},
                                         {"installation", {{"date", start.str()}, {"division_code", "310104"}}}}),
       201);
    auto w = ok(admin.get("/api/v1/warranty/" + serial));
    EXPECT_EQ(w["unit"]["end_date"], day(days_left)) << w.dump();
    return serial;
  }
  static json repair(Session& s, int64_t cust, const std::string& serial, const std::string& area = "漏水",
                     const std::string& channel = "call_centre") {
    return ok(s.post("/api/v1/service-orders",
                     json{{"type", "repair"}, {"channel", channel}, {"customer_id", cust},
                          {"contact", {{"name", "李女士"}, {"phone", "13800138000"}}},
                          {"site", {{"county_code", "310104"}, {"address", "漕溪北路88弄5号1201"}}},
                          {"serial", serial}, {"problem_area", area}, {"problem_subarea", "集热管"},
                          {"reproducibility", "always"}, {"severity", "normal"}, {"priority", "medium"},
                          {"description", "集热管破裂漏水"}, {"summary", "漏水"}}),
              201);
  }
  // The demo provider SP-SH-XH and its engineer1.
  static std::pair<int64_t, int64_t> provider_and_engineer(Session& admin) {
    int64_t sp = 0, eng = 0;
    for (auto& u : items(admin.get("/api/v1/org-units?limit=500")))
      if (u["code"] == "SP-SH-XH") sp = u["id"];
    for (auto& u : items(admin.get("/api/v1/users?limit=500")))
      if (u["username"] == "engineer1") eng = u["id"];
    return {sp, eng};
  }
  static json claim(Session& s, int64_t order_id) { return ok(s.get("/api/v1/claims/" + S(order_id))); }
  static std::vector<std::string> reasons(Session& s, int64_t order_id) {
    json c = claim(s, order_id);
    std::vector<std::string> out;
    if (c["items"].empty()) return out;
    for (auto& r : c["items"].back()["reasons"]) out.push_back(r["code"]);
    return out;
  }
  static bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  }
  static json order(Session& s, int64_t id) { return ok(s.get("/api/v1/service-orders/" + S(id))); }
  static void cancel(Session& s, int64_t id) {
    ok(s.post("/api/v1/service-orders/" + S(id) + "/actions/cancel", json{{"fields", {{"cancel_reason", "测试结束"}}}}));
  }
  static json settings(Session& admin, json changes) {
    json cur = ok(admin.get("/api/v1/claims/settings"));
    changes["version"] = cur["version"];
    return ok(admin.call("PUT", "/api/v1/claims/settings", changes.dump()));
  }
  static std::vector<int64_t> queue_ids(Session& s) {
    std::vector<int64_t> out;
    for (auto& it : items(s.get("/api/v1/claims/queue?limit=500"))) out.push_back(it["order_id"]);
    return out;
  }
  static ServerProcess* server_;
  static int64_t line_, model_;
};
ServerProcess* ClaimsApi::server_ = nullptr;
int64_t ClaimsApi::line_ = 0;
int64_t ClaimsApi::model_ = 0;

TEST_F(ClaimsApi, CleanClaimPassesOnItsOwn) {
  auto admin = as("admin");
  auto agent = as("agent");
  auto dispatcher = as("dispatcher");
  int64_t cust = customer(admin, "李女士");
  std::string serial = asset(admin, cust);
  json o = repair(agent, cust, serial);
  int64_t id = o["id"];
  json got = order(agent, id);
  EXPECT_EQ(got["warranty"], "in");
  EXPECT_EQ(got["claim_status"], "passed");
  EXPECT_EQ(got["state"], "audited") << "the system audits a clean claim";
  json c = claim(agent, id);
  ASSERT_EQ(c["items"].size(), 1u) << c.dump();
  EXPECT_EQ(c["items"][0]["outcome"], "passed");
  EXPECT_EQ(c["items"][0]["stage"], "created");
  EXPECT_EQ(c["items"][0]["reasons"], json::array());
  EXPECT_EQ(c["items"][0]["facts"]["owner_matches"], true);
  EXPECT_FALSE(has(std::vector<std::string>{}, "x"));
  auto q = queue_ids(dispatcher);
  EXPECT_EQ(std::find(q.begin(), q.end(), id), q.end());
  bool audited_by_system = false;
  for (auto& e : items(agent.get("/api/v1/service-orders/" + S(id) + "/timeline")))
    if (e["action"] == "audit" && e["username"] == "system") audited_by_system = true;
  EXPECT_TRUE(audited_by_system);
  // Out of warranty is no claim: nothing to audit.
  std::string old = asset(admin, cust, 800);
  json paid = repair(agent, cust, old);
  EXPECT_EQ(order(agent, paid["id"])["warranty"], "out");
  EXPECT_EQ(order(agent, paid["id"])["claim_status"], "none");
  EXPECT_EQ(claim(agent, paid["id"])["items"].size(), 0u);
  cancel(dispatcher, id);
  cancel(dispatcher, paid["id"]);
}

TEST_F(ClaimsApi, SerialOwnerAndSaleRules) {
  auto admin = as("admin");
  auto agent = as("agent");
  auto dispatcher = as("dispatcher");
  int64_t cust = customer(admin, "张先生");
  // Unknown serial: flagged, waits in the queue, not audited.
  json unknown = repair(agent, cust, uniq("NOPE-"));
  int64_t u = unknown["id"];
  EXPECT_EQ(order(agent, u)["claim_status"], "flagged");
  EXPECT_EQ(order(agent, u)["state"], "created");
  EXPECT_EQ(reasons(agent, u), std::vector<std::string>{"serial_unknown"});
  // Someone else's unit.
  int64_t other = customer(admin, "王女士");
  std::string theirs = asset(admin, other);
  json foreign = repair(agent, cust, theirs);
  EXPECT_TRUE(has(reasons(agent, foreign["id"]), "owner_mismatch")) << claim(agent, foreign["id"]).dump();
  // ... and the owner's own claim on it does not trip the rule.
  cancel(dispatcher, foreign["id"]);
  json own = repair(agent, other, theirs, "噪音");
  EXPECT_FALSE(has(reasons(agent, own["id"]), "owner_mismatch"));
  // Never sold.
  std::string stock = uniq("ST-");
  ok(admin.post("/api/v1/assets", json{{"serial", stock}, {"model_id", model_}, {"owner_customer_id", cust}}), 201);
  json unsold = repair(agent, cust, stock);
  EXPECT_TRUE(has(reasons(agent, unsold["id"]), "not_sold")) << claim(agent, unsold["id"]).dump();
  // The queue lists every flagged claim with its reasons and the order.
  json q = ok(dispatcher.get("/api/v1/claims/queue?limit=500"));
  bool listed = false;
  for (auto& it : q["items"])
    if (it["order_id"] == u) {
      listed = true;
      EXPECT_EQ(it["order"]["number"], unknown["number"]);
      EXPECT_EQ(it["reasons"][0]["code"], "serial_unknown");
      EXPECT_FALSE(it["reasons"][0]["message"].get<std::string>().empty());
    }
  EXPECT_TRUE(listed) << q.dump();
  for (int64_t id : {u, own["id"].get<int64_t>(), unsold["id"].get<int64_t>()}) cancel(dispatcher, id);
}

TEST_F(ClaimsApi, OpenOrderAndRepeatFault) {
  auto admin = as("admin");
  auto agent = as("agent");
  auto dispatcher = as("dispatcher");
  int64_t cust = customer(admin, "赵先生");
  std::string serial = asset(admin, cust);
  json first = repair(agent, cust, serial);
  EXPECT_EQ(order(agent, first["id"])["claim_status"], "passed");
  // A second order while the first is open.
  json second = repair(agent, cust, serial, "不加热");
  auto r2 = reasons(agent, second["id"]);
  EXPECT_TRUE(has(r2, "open_order")) << claim(agent, second["id"]).dump();
  EXPECT_NE(claim(agent, second["id"])["items"][0]["reasons"][0]["message"].get<std::string>().find(first["number"].get<std::string>()),
            std::string::npos);
  cancel(dispatcher, first["id"]);
  cancel(dispatcher, second["id"]);
  // The same fault again within 30 days: repeat_fault (and no open order any more).
  json third = repair(agent, cust, serial, "漏水");
  auto r3 = reasons(agent, third["id"]);
  EXPECT_TRUE(has(r3, "repeat_fault")) << claim(agent, third["id"]).dump();
  EXPECT_FALSE(has(r3, "open_order"));
  cancel(dispatcher, third["id"]);
  // A different fault on the same unit passes.
  json fourth = repair(agent, cust, serial, "水位显示");
  EXPECT_EQ(reasons(agent, fourth["id"]), std::vector<std::string>{});
  EXPECT_EQ(order(agent, fourth["id"])["claim_status"], "passed");
  cancel(dispatcher, fourth["id"]);
  // A window of one day still catches a claim made minutes ago.
  settings(admin, json{{"repeat_window_days", 1}});
  json fifth = repair(agent, cust, serial, "漏水");
  EXPECT_TRUE(has(reasons(agent, fifth["id"]), "repeat_fault"));
  cancel(dispatcher, fifth["id"]);
  settings(admin, json{{"repeat_window_days", 30}});
}

TEST_F(ClaimsApi, SuspiciousPatterns) {
  auto admin = as("admin");
  auto dispatcher = as("dispatcher");
  bad(admin.call("PUT", "/api/v1/claims/settings", json{{"far_min_claims", 0}, {"version", 1}}.dump()), "far_min_claims");
  bad(admin.call("PUT", "/api/v1/claims/settings", json{{"claim_types", {"fly"}}, {"version", 1}}.dump()), "claim_types");
  EXPECT_EQ(dispatcher.call("PUT", "/api/v1/claims/settings", json{{"far_min_claims", 2}, {"version", 1}}.dump()).status, 403);
  settings(admin, json{{"far_min_claims", 2}, {"near_end_min_claims", 2}, {"near_end_days", 15}});
  int64_t cust = customer(admin, "孙先生");
  std::vector<int64_t> opened;
  // Units installed in Shenzhen (44) claimed by the same provider in Shanghai.
  json far1 = repair(admin, cust, asset(admin, cust, 60, "440305"), "漏水", "provider_portal");
  opened.push_back(far1["id"]);
  EXPECT_EQ(reasons(admin, far1["id"]), std::vector<std::string>{}) << "one far claim is below the threshold";
  EXPECT_EQ(claim(admin, far1["id"])["items"][0]["facts"]["far"], true);
  json far2 = repair(admin, cust, asset(admin, cust, 60, "440305"), "漏水", "provider_portal");
  opened.push_back(far2["id"]);
  EXPECT_EQ(reasons(admin, far2["id"]), std::vector<std::string>{"far_region"});
  json near_home = repair(admin, cust, asset(admin, cust, 60, "310112"), "漏水", "provider_portal");
  opened.push_back(near_home["id"]);
  EXPECT_EQ(reasons(admin, near_home["id"]), std::vector<std::string>{}) << "a local unit is not far";

  // Claims clustered just before the warranty ends.
  json end1 = repair(admin, cust, asset_ending_in(admin, cust, 5), "漏水", "provider_portal");
  opened.push_back(end1["id"]);
  EXPECT_EQ(claim(admin, end1["id"])["items"][0]["facts"]["days_to_warranty_end"], 5);
  EXPECT_EQ(reasons(admin, end1["id"]), std::vector<std::string>{});
  json end2 = repair(admin, cust, asset_ending_in(admin, cust, 3), "漏水", "provider_portal");
  opened.push_back(end2["id"]);
  EXPECT_EQ(reasons(admin, end2["id"]), std::vector<std::string>{"near_warranty_end"});
  json mid = repair(admin, cust, asset_ending_in(admin, cust, 200), "漏水", "provider_portal");
  opened.push_back(mid["id"]);
  EXPECT_EQ(reasons(admin, mid["id"]), std::vector<std::string>{}) << "far from the end of the warranty";
  for (int64_t id : opened) cancel(dispatcher, id);
  settings(admin, json{{"far_min_claims", 3}, {"near_end_min_claims", 3}});
}

TEST_F(ClaimsApi, ManualDecisionAndScope) {
  auto admin = as("admin");
  auto agent = as("agent");
  auto dispatcher = as("dispatcher");
  auto provider = as("provider1");
  int64_t cust = customer(admin, "周女士");
  json a = repair(agent, cust, uniq("FAKE-"));
  json b = repair(agent, cust, uniq("FAKE-"));
  int64_t ia = a["id"], ib = b["id"];
  std::string D = "/api/v1/claims/" + S(ia) + "/decision";
  // Without claim.audit: 403; a claim auditor of another branch: 404 like an unknown id.
  EXPECT_EQ(provider.get("/api/v1/claims/queue").status, 403);
  EXPECT_EQ(provider.post(D, json{{"decision", "approve"}, {"comment", "ok"}}).status, 403);
  EXPECT_EQ(agent.post(D, json{{"decision", "approve"}, {"comment", "ok"}}).status, 403);
  int64_t branch = 0;
  for (auto& u : items(admin.get("/api/v1/org-units?limit=500")))
    if (u["code"] == "BR-JN") branch = u["id"];
  ASSERT_GT(branch, 0);
  std::string name = "aud" + random_hex(3);
  ok(admin.post("/api/v1/users", json{{"username", name}, {"display_name", "济南审核员"}, {"password", "Auditor-2026x"},
                                      {"org_unit_id", branch}, {"roles", {"dispatcher"}}}),
     201);
  auto far_auditor = as(name, "Auditor-2026x");
  auto q = queue_ids(far_auditor);
  EXPECT_EQ(std::find(q.begin(), q.end(), ia), q.end()) << "another branch's claims are not listed";
  auto r = far_auditor.post(D, json{{"decision", "approve"}, {"comment", "看看"}});
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(far_auditor.get("/api/v1/claims/" + S(ia)).status, 404);
  EXPECT_EQ(dispatcher.post("/api/v1/claims/99999999/decision", json{{"decision", "approve"}, {"comment", "x"}}).status, 404);
  // Bad input names the field.
  bad(dispatcher.post(D, json{{"decision", "maybe"}, {"comment", "x"}}), "decision");
  bad(dispatcher.post(D, json{{"decision", "approve"}}), "comment");
  bad(dispatcher.post(D, json{{"decision", "approve"}, {"comment", 5}}), "comment");
  EXPECT_EQ(dispatcher.call("POST", D, "{\"decision\":").status, 400);
  EXPECT_EQ(order(agent, ia)["claim_status"], "flagged") << "nothing half-written";

  // Approve: recorded, the order moves on; a second decision is a conflict.
  json dec = ok(dispatcher.post(D, json{{"decision", "approve"}, {"comment", "回访确认用户机器为赠品，条码未录入"}}));
  EXPECT_EQ(dec["decision"], "approve");
  EXPECT_EQ(dec["decided_by_name"], "dispatcher");
  EXPECT_EQ(dec["order"]["claim_status"], "approved");
  EXPECT_EQ(dec["order"]["state"], "audited");
  EXPECT_EQ(dispatcher.post(D, json{{"decision", "reject"}, {"comment", "again"}}).status, 409);
  q = queue_ids(dispatcher);
  EXPECT_EQ(std::find(q.begin(), q.end(), ia), q.end());
  // Reject: the order stays where it was.
  json rej = ok(dispatcher.post("/api/v1/claims/" + S(ib) + "/decision", json{{"decision", "reject"}, {"comment", "假单"}}));
  EXPECT_EQ(rej["order"]["claim_status"], "rejected");
  EXPECT_EQ(rej["order"]["state"], "created");
  json c = claim(agent, ib);
  EXPECT_EQ(c["items"].back()["decision"], "reject");
  EXPECT_EQ(c["items"].back()["comment"], "假单");
  auto audit = ok(admin.get("/api/v1/audit?entity=claim_audit&id=" + S(c["items"].back()["id"].get<int64_t>())));
  bool found = false;
  for (auto& e : audit["items"])
    if (e["action"] == "reject") found = true;
  EXPECT_TRUE(found) << audit.dump();
  cancel(dispatcher, ia);
  cancel(dispatcher, ib);
}

TEST_F(ClaimsApi, CompletionIsAuditedAgain) {
  auto admin = as("admin");
  auto agent = as("agent");
  auto dispatcher = as("dispatcher");
  auto provider = as("provider1");
  auto engineer = as("engineer1");
  auto [sp, eng] = provider_and_engineer(admin);
  ASSERT_TRUE(sp && eng);
  int64_t cust = customer(admin, "吴先生");
  std::string serial = asset(admin, cust);
  json a = repair(agent, cust, serial);
  int64_t ia = a["id"];
  EXPECT_EQ(order(agent, ia)["claim_status"], "passed");
  ok(dispatcher.post("/api/v1/service-orders/" + S(ia) + "/assign", json{{"provider_unit_id", sp}, {"engineer_id", eng}}));
  // Another order for the same unit comes in while the provider works on the first.
  json b = repair(agent, cust, serial, "噪音");
  EXPECT_TRUE(has(reasons(agent, b["id"]), "open_order"));
  ok(provider.post("/api/v1/service-orders/" + S(ia) + "/actions/accept", json::object()));
  ok(engineer.post("/api/v1/service-orders/" + S(ia) + "/actions/arrive", json::object()));
  // The engineer records the fault (product line -> symptom -> cause) and completes.
  std::string code = uniq("SWH-C");
  auto sym = ok(admin.post("/api/v1/fault-codes", json{{"product_line_id", line_}, {"code", uniq("SWH-S")}, {"name", "漏水"}}), 201);
  auto cause = ok(admin.post("/api/v1/fault-codes", json{{"parent_id", sym["id"]}, {"code", code}, {"name", "集热管破裂"}}), 201);
  json cur = order(engineer, ia);
  ok(engineer.call("PUT", "/api/v1/service-orders/" + S(ia) + "/completion",
                   json{{"version", cur["version"]}, {"fault_code_id", cause["id"]}, {"resolution", "更换集热管"}}.dump()));
  ok(engineer.post("/api/v1/service-orders/" + S(ia) + "/actions/complete", json::object()));
  json c = claim(dispatcher, ia);
  ASSERT_EQ(c["items"].size(), 2u) << c.dump();
  EXPECT_EQ(c["items"][1]["stage"], "completed");
  EXPECT_EQ(c["items"][1]["outcome"], "flagged");
  EXPECT_EQ(c["items"][1]["facts"]["fault_key"], "fault:" + code);
  EXPECT_TRUE(has(reasons(dispatcher, ia), "open_order"));
  EXPECT_EQ(order(dispatcher, ia)["claim_status"], "flagged");
  auto q = queue_ids(dispatcher);
  EXPECT_NE(std::find(q.begin(), q.end(), ia), q.end());
  // The provider that did the work cannot read the audit queue.
  EXPECT_EQ(provider.get("/api/v1/claims/queue").status, 403);
  cancel(dispatcher, b["id"]);
}

TEST_F(ClaimsApi, EveryResponseIsTheOrderAsStored) {
  // The order a write returns is carried through the write and patched by
  // the reactions (SLA figures, claim status, the system's audit) instead of
  // being read again: it must equal what a fresh read shows.
  auto admin = as("admin");
  auto agent = as("agent");
  auto dispatcher = as("dispatcher");
  auto provider = as("provider1");
  auto engineer = as("engineer1");
  auto [sp, eng] = provider_and_engineer(admin);
  ASSERT_TRUE(sp && eng);
  auto same = [&](const json& written, const char* step) {
    SCOPED_TRACE(std::string(step) + ": " + written.dump());
    json got = order(admin, written["id"]);  // admin: the order moves to the provider's scope
    for (auto& [k, v] : written.items()) {
      if (k != "actions") {
        EXPECT_EQ(v, got[k]) << step << ": " << k;
      }
    }
  };
  int64_t cust = customer(admin, "郑先生");
  json clean = repair(agent, cust, asset(admin, cust));  // passes, audited by the system
  EXPECT_EQ(clean["state"], "audited");
  EXPECT_EQ(clean["claim_status"], "passed");
  EXPECT_FALSE(clean["response_due_at"].is_null());
  same(clean, "create, auto-audited");
  json flagged = repair(agent, cust, uniq("NOPE-"));
  EXPECT_EQ(flagged["claim_status"], "flagged");
  same(flagged, "create, flagged");
  std::string P = "/api/v1/service-orders/" + S(clean["id"]);
  json o = ok(dispatcher.post(P + "/assign", json{{"provider_unit_id", sp}}));  // with the dispatch action
  EXPECT_EQ(o["state"], "dispatched");
  EXPECT_TRUE(o["engineer_id"].is_null());
  same(o, "assign");
  o = ok(dispatcher.post(P + "/assign", json{{"provider_unit_id", sp}, {"engineer_id", eng}, {"reason", "指定工程师"}}));
  EXPECT_EQ(o["engineer_name"], "工程师 陈明");  // no dispatch action now: an update
  same(o, "reassign");
  same(ok(provider.post(P + "/actions/accept", json::object())), "accept");
  same(ok(engineer.post(P + "/actions/arrive", json::object())), "arrive");
  o = ok(dispatcher.post("/api/v1/service-orders/" + S(flagged["id"]) + "/actions/cancel",
                         json{{"fields", {{"cancel_reason", "测试结束"}}}}));
  EXPECT_FALSE(o["closed_at"].is_null());
  same(o, "cancel");
}
