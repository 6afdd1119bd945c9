// SLA clock against a real server process, on SQLite or (with SHOUHOU_TEST_PG)
// PostgreSQL: due times on created orders from the default policy, type and
// tier policies, business calendars with Chinese holidays through the API, a
// paused state, and the background job's warnings, breaches and escalation
// (also after a server restart), with scope and bad input.
#include <cstdlib>
#include <thread>

#include "harness.h"

using namespace shouhou;
using namespace shouhou::test;

class SlaApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A short job period so the tests see the job's effect without sleeping long.
    setenv("SHOUHOU_SLA_TICK_MS", "150", 1);
    server_ = new ServerProcess();
    unsetenv("SHOUHOU_SLA_TICK_MS");
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
  static LoggedIn as(const std::string& user, uint16_t port = 0) { return LoggedIn(port ? port : server_->port(), user); }
  static std::string S(int64_t v) { return std::to_string(v); }
  static json ok(const http::ClientResponse& r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    return body(r);
  }
  static void bad(const http::ClientResponse& r, const std::string& field) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(body(r)["error"]["field"], field) << r.body;
  }
  static int64_t ms(const json& iso) { return parse_iso(iso.get<std::string>()).value(); }
  static int64_t customer(Session& agent) {
    auto r = ok(agent.get("/api/v1/cti/lookup?phone=13912345678"));
    EXPECT_GE(r["count"].get<int>(), 1) << r.dump();
    return r["matches"][0]["customer"]["id"];
  }
  // A consultation ticket (no serial, so no warranty claim) for 王建国.
  static json ticket(Session& agent, const std::string& type = "consultation") {
    return ok(agent.post("/api/v1/service-orders",
                         json{{"type", type}, {"customer_id", customer(agent)},
                              {"contact", {{"name", "王建国"}, {"phone", "139 1234 5678"}}},
                              {"site", {{"county_code", "310104"}, {"address", "漕溪北路88弄5号1201"}}},
                              {"description", "咨询空调保养"}, {"summary", "咨询"}, {"priority", "medium"}}),
              201);
  }
  static json sla(Session& s, int64_t id) { return ok(s.get("/api/v1/service-orders/" + S(id) + "/sla")); }
  static int count_kind(Session& s, int64_t id, const std::string& kind) {
    int n = 0;
    for (auto& e : items(s.get("/api/v1/service-orders/" + S(id) + "/timeline")))
      if (e["kind"] == kind) ++n;
    return n;
  }
  // Waits (bounded) until pred holds on the order's SLA.
  template <typename F>
  static json wait_sla(Session& s, int64_t id, F pred) {
    json j;
    for (int i = 0; i < 100; ++i) {
      j = sla(s, id);
      if (pred(j)) return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return j;
  }
  static ServerProcess* server_;
};
ServerProcess* SlaApi::server_ = nullptr;

TEST_F(SlaApi, DefaultTargetsOnCreatedOrder) {
  auto agent = as("agent");
  json o = ticket(agent);
  int64_t id = o["id"];
  json s = sla(agent, id);
  EXPECT_EQ(s["source"], "policy");
  EXPECT_EQ(s["calendar"], "7x24");
  EXPECT_EQ(s["response"]["minutes"], 120);    // seed 004: reply within 2 hours
  EXPECT_EQ(s["resolution"]["minutes"], 240);  // and resolve within 4 hours
  int64_t start = ms(s["started_at"]);
  EXPECT_EQ(start, ms(o["created_at"]));
  EXPECT_EQ(ms(s["response"]["due_at"]), start + 120 * 60'000);
  EXPECT_EQ(ms(s["resolution"]["due_at"]), start + 240 * 60'000);
  EXPECT_GE(s["response"]["remaining_minutes"].get<int>(), 118);
  EXPECT_LE(s["response"]["remaining_minutes"].get<int>(), 120);
  EXPECT_EQ(s["status"], "ok");
  // The order carries the same figures for lists and colouring.
  json got = ok(agent.get("/api/v1/service-orders/" + S(id)));
  EXPECT_EQ(got["response_due_at"], s["response"]["due_at"]);
  EXPECT_EQ(got["resolve_due_at"], s["resolution"]["due_at"]);
  EXPECT_EQ(got["sla_status"], "ok");

  // Scope: a provider guessing the id gets the same 404 as an unknown id.
  auto provider = as("provider1");
  auto r = provider.get("/api/v1/service-orders/" + S(id) + "/sla");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(provider.get("/api/v1/service-orders/99999999/sla").status, 404);
  EXPECT_EQ(agent.get("/api/v1/service-orders/abc/sla").status, 404);
  Session anon(server_->port());
  EXPECT_EQ(anon.get("/api/v1/service-orders/" + S(id) + "/sla").status, 401);
}

TEST_F(SlaApi, PoliciesByTypeAndTier) {
  auto admin = as("admin");
  auto agent = as("agent");
  std::string P = "/api/v1/sla/policies";
  // Bad input names the field; only workflow.write may change policies.
  bad(admin.post(P, json{{"name", "x"}, {"order_type", "fix"}, {"calendar_code", "8x5"}, {"response_minutes", 60}, {"resolve_minutes", 60}}), "order_type");
  bad(admin.post(P, json{{"name", "x"}, {"customer_tier", "gold"}, {"calendar_code", "8x5"}, {"response_minutes", 60}, {"resolve_minutes", 60}}), "customer_tier");
  bad(admin.post(P, json{{"name", "x"}, {"calendar_code", "9x9"}, {"response_minutes", 60}, {"resolve_minutes", 60}}), "calendar_code");
  bad(admin.post(P, json{{"name", "x"}, {"calendar_code", "8x5"}, {"response_minutes", 0}, {"resolve_minutes", 60}}), "response_minutes");
  bad(admin.post(P, json{{"name", "x"}, {"calendar_code", "8x5"}, {"response_minutes", "60"}, {"resolve_minutes", 60}}), "response_minutes");
  bad(admin.post(P, json{{"name", "x"}, {"calendar_code", "8x5"}, {"response_minutes", 90}, {"resolve_minutes", 60}}), "resolve_minutes");
  bad(admin.post(P, json{{"calendar_code", "8x5"}, {"response_minutes", 90}, {"resolve_minutes", 60}}), "name");
  EXPECT_EQ(admin.call("POST", P, "{not json").status, 400);
  EXPECT_EQ(agent.post(P, json{{"name", "x"}, {"calendar_code", "8x5"}, {"response_minutes", 60}, {"resolve_minutes", 60}}).status, 403);
  EXPECT_EQ(admin.post(P, json{{"name", "dup default"}, {"calendar_code", "8x5"}, {"response_minutes", 60}, {"resolve_minutes", 60}}).status, 409)
      << "one active default policy";

  // Type policy: consultations on office hours, reply in 1 hour.
  json type_pol = ok(admin.post(P, json{{"name", "咨询 8x5"}, {"order_type", "consultation"}, {"calendar_code", "8x5"},
                                         {"response_minutes", 60}, {"resolve_minutes", 480}}), 201);
  json o = ticket(agent);
  json s = sla(agent, o["id"]);
  EXPECT_EQ(s["policy_id"], type_pol["id"]);
  EXPECT_EQ(s["calendar"], "8x5");
  auto due = ok(agent.get("/api/v1/sla/calendars/8x5/due?start=" + s["started_at"].get<std::string>() + "&minutes=60"));
  EXPECT_EQ(s["response"]["due_at"], due["due_at"]);
  due = ok(agent.get("/api/v1/sla/calendars/8x5/due?start=" + s["started_at"].get<std::string>() + "&minutes=480"));
  EXPECT_EQ(s["resolution"]["due_at"], due["due_at"]);

  // Tier beats type; tier and type together beat both.
  std::string tier = s["customer_tier"];
  ASSERT_FALSE(tier.empty());
  json tier_pol = ok(admin.post(P, json{{"name", "等级"}, {"customer_tier", tier}, {"calendar_code", "7x24"},
                                         {"response_minutes", 30}, {"resolve_minutes", 90}}), 201);
  s = sla(agent, ticket(agent)["id"]);
  EXPECT_EQ(s["policy_id"], tier_pol["id"]);
  EXPECT_EQ(ms(s["response"]["due_at"]) - ms(s["started_at"]), 30 * 60'000);
  json both = ok(admin.post(P, json{{"name", "等级+咨询"}, {"customer_tier", tier}, {"order_type", "consultation"},
                                     {"calendar_code", "7x24"}, {"response_minutes", 15}, {"resolve_minutes", 45}}), 201);
  s = sla(agent, ticket(agent)["id"]);
  EXPECT_EQ(s["policy_id"], both["id"]);
  EXPECT_EQ(ms(s["resolution"]["due_at"]) - ms(s["started_at"]), 45 * 60'000);
  // Another order type falls back to the tier policy.
  s = sla(agent, ticket(agent, "complaint")["id"]);
  EXPECT_EQ(s["policy_id"], tier_pol["id"]);

  // Updates check the version; unknown ids are 404; everything is audited.
  std::string U = P + "/" + S(both["id"]);
  EXPECT_EQ(admin.patch(U, json{{"response_minutes", 20}, {"version", 99}}).status, 409);
  EXPECT_EQ(admin.patch(P + "/99999999", json{{"active", false}, {"version", 1}}).status, 404);
  bad(admin.patch(U, json{{"order_type", "repair"}, {"version", both["version"]}}), "order_type");
  for (json* pol : {&type_pol, &tier_pol, &both}) {
    auto r = ok(admin.patch(P + "/" + S((*pol)["id"]), json{{"active", false}, {"version", (*pol)["version"]}}));
    EXPECT_EQ(r["active"], false);
  }
  s = sla(agent, ticket(agent)["id"]);
  EXPECT_EQ(s["calendar"], "7x24");
  EXPECT_EQ(s["response"]["minutes"], 120);
  auto audit = ok(admin.get("/api/v1/audit?entity=sla_policy&limit=50"));
  EXPECT_GE(audit["items"].size(), 6u) << audit.dump();
}

TEST_F(SlaApi, CalendarsWithHolidaysAndSwappedDays) {
  auto admin = as("admin");
  auto agent = as("agent");
  auto due = [&](const std::string& cal, const std::string& start, int minutes) {
    return ok(agent.get("/api/v1/sla/calendars/" + cal + "/due?start=" + start + "&minutes=" + S(minutes)))["due_at"];
  };
  // Friday 15:00 (China) + 4 h on 8x5: 2 h Friday, 2 h Monday -> Monday 11:00.
  EXPECT_EQ(due("8x5", "2026-11-20T07:00:00Z", 240), "2026-11-23T03:00:00Z");
  EXPECT_EQ(due("7x24", "2026-11-20T07:00:00Z", 240), "2026-11-20T11:00:00Z");
  // Wednesday 30 Sep 16:00 + 2 h: National Day 1-7 Oct is off -> Thursday 8 Oct 10:00.
  EXPECT_EQ(due("8x5", "2026-09-30T08:00:00Z", 120), "2026-10-08T02:00:00Z");
  // Friday 9 Oct 16:00 + 2 h: Saturday 10 Oct is a swapped working day -> 10:00 that Saturday.
  EXPECT_EQ(due("8x5", "2026-10-09T08:00:00Z", 120), "2026-10-10T02:00:00Z");
  bad(agent.get("/api/v1/sla/calendars/8x5/due?start=yesterday&minutes=5"), "start");
  bad(agent.get("/api/v1/sla/calendars/8x5/due?start=2026-10-09T08:00:00Z&minutes=-5"), "minutes");
  EXPECT_EQ(agent.get("/api/v1/sla/calendars/9x9/due?minutes=5").status, 404);

  auto hol = ok(agent.get("/api/v1/sla/holidays?year=2026"));
  bool national = false, swapped = false;
  for (auto& d : hol["items"]) {
    if (d["date"] == "2026-10-01") national = d["kind"] == "holiday" && d["name_zh"] == "国庆节";
    if (d["date"] == "2026-09-20") swapped = d["kind"] == "workday";
  }
  EXPECT_TRUE(national && swapped) << hol.dump();
  bad(agent.get("/api/v1/sla/holidays?year=26"), "year");

  // A company day off on Thursday 8 Oct moves the due time to Friday 9 Oct.
  json cals = ok(agent.get("/api/v1/sla/calendars"));
  json office;
  for (auto& c : cals["items"])
    if (c["code"] == "8x5") office = c;
  ASSERT_FALSE(office.is_null());
  EXPECT_EQ(office["work_start"], "09:00");
  EXPECT_EQ(office["work_end"], "17:00");
  std::string C = "/api/v1/sla/calendars/8x5";
  EXPECT_EQ(agent.patch(C, json{{"days", {{"2026-10-08", "holiday"}}}, {"version", office["version"]}}).status, 403);
  bad(admin.patch(C, json{{"work_start", "25:00"}, {"version", office["version"]}}), "work_start");
  bad(admin.patch(C, json{{"work_start", "18:00"}, {"version", office["version"]}}), "work_start");
  bad(admin.patch(C, json{{"days", {{"2026-13-01", "holiday"}}}, {"version", office["version"]}}), "days");
  bad(admin.patch(C, json{{"days", {{"2026-10-08", "party"}}}, {"version", office["version"]}}), "days.2026-10-08");
  EXPECT_EQ(admin.patch(C, json{{"days", json::object()}, {"version", 999}}).status, 409);
  json changed = ok(admin.patch(C, json{{"days", {{"2026-10-08", "holiday"}}}, {"version", office["version"]}}));
  EXPECT_EQ(changed["days"]["2026-10-08"], "holiday");
  EXPECT_EQ(due("8x5", "2026-09-30T08:00:00Z", 120), "2026-10-09T02:00:00Z");
  ok(admin.patch(C, json{{"days", json::object()}, {"version", changed["version"]}}));
  EXPECT_EQ(due("8x5", "2026-09-30T08:00:00Z", 120), "2026-10-08T02:00:00Z");
}

TEST_F(SlaApi, PausedStateStopsTheClock) {
  auto admin = as("admin");
  auto agent = as("agent");
  auto dispatcher = as("dispatcher");
  json st = ok(admin.get("/api/v1/sla/settings"));
  EXPECT_EQ(st["warn_pct"], 80);
  bad(admin.call("PUT", "/api/v1/sla/settings", json{{"warn_pct", 150}, {"version", st["version"]}}.dump()), "warn_pct");
  bad(admin.call("PUT", "/api/v1/sla/settings", json{{"paused_states", {"Bad State"}}, {"version", st["version"]}}.dump()),
      "paused_states");
  EXPECT_EQ(agent.call("PUT", "/api/v1/sla/settings", json{{"warn_pct", 70}, {"version", st["version"]}}.dump()).status, 403);
  // For this test "audited" (waiting for dispatch) does not count against the provider.
  json paused_list = st["paused_states"];
  paused_list.push_back("audited");
  st = ok(admin.call("PUT", "/api/v1/sla/settings", json{{"paused_states", paused_list}, {"version", st["version"]}}.dump()));
  EXPECT_EQ(admin.call("PUT", "/api/v1/sla/settings", json{{"warn_pct", 70}, {"version", 1}}.dump()).status, 409);

  json o = ticket(agent);
  int64_t id = o["id"];
  json before = sla(agent, id);
  ok(dispatcher.post("/api/v1/service-orders/" + S(id) + "/actions/audit", json::object()));
  json paused = sla(agent, id);
  EXPECT_EQ(paused["paused"], true);
  EXPECT_EQ(paused["status"], "paused");
  EXPECT_EQ(ok(agent.get("/api/v1/service-orders/" + S(id)))["sla_status"], "paused");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  // Frozen while paused.
  json later = sla(agent, id);
  EXPECT_EQ(later["response"]["remaining_minutes"], paused["response"]["remaining_minutes"]);
  // Leaving the state resumes the clock: the due time moved out by exactly the pause.
  ok(dispatcher.post("/api/v1/service-orders/" + S(id) + "/actions/cancel", json{{"fields", {{"cancel_reason", "客户取消"}}}}));
  json after = sla(agent, id);
  EXPECT_EQ(after["paused"], false);
  ASSERT_EQ(after["pauses"].size(), 1u) << after.dump();
  int64_t pause = ms(after["pauses"][0]["to"]) - ms(after["pauses"][0]["from"]);
  EXPECT_GE(pause, 1200);
  EXPECT_EQ(ms(after["response"]["due_at"]), ms(before["response"]["due_at"]) + pause);
  EXPECT_EQ(ms(after["resolution"]["due_at"]), ms(before["resolution"]["due_at"]) + pause);
  EXPECT_FALSE(after["stopped_at"].is_null()) << "cancelled stops the clock";
  EXPECT_EQ(after["next_check_at"], nullptr);

  st = ok(admin.get("/api/v1/sla/settings"));
  json restored = json::array();
  for (auto& x : st["paused_states"])
    if (x != "audited") restored.push_back(x);
  ok(admin.call("PUT", "/api/v1/sla/settings", json{{"paused_states", restored}, {"version", st["version"]}}.dump()));
}

TEST_F(SlaApi, WarningThenBreachEscalatesOnce) {
  auto admin = as("admin");
  auto agent = as("agent");
  json o = ticket(agent);
  int64_t id = o["id"];
  std::string R = "/api/v1/service-orders/" + S(id) + "/sla/restart";
  bad(admin.post(R, json{{"started_at", "2099-01-01T00:00:00Z"}, {"reason", "x"}}), "started_at");
  bad(admin.post(R, json{{"started_at", "soon"}, {"reason", "x"}}), "started_at");
  bad(admin.post(R, json{{"started_at", iso_utc(now_ms() - 60'000)}}), "reason");
  EXPECT_EQ(agent.post(R, json{{"started_at", iso_utc(now_ms() - 60'000)}, {"reason", "x"}}).status, 403);
  EXPECT_EQ(admin.post("/api/v1/service-orders/99999999/sla/restart",
                       json{{"started_at", iso_utc(now_ms() - 60'000)}, {"reason", "x"}}).status, 404);

  // The customer actually called 100 minutes ago: 83 % of the 2 h response target.
  ok(admin.post(R, json{{"started_at", iso_utc(now_ms() - 100 * 60'000)}, {"reason", "客户实际来电时间"}}));
  json s = wait_sla(agent, id, [](const json& j) { return !j["response"]["warned_at"].is_null(); });
  EXPECT_FALSE(s["response"]["warned_at"].is_null()) << s.dump();
  EXPECT_EQ(s["status"], "warning");
  EXPECT_TRUE(s["response"]["breached_at"].is_null());
  EXPECT_EQ(ok(agent.get("/api/v1/service-orders/" + S(id)))["sla_status"], "warning");
  EXPECT_EQ(count_kind(agent, id, "sla.warning"), 1);

  // Five hours ago: both targets breached; the job escalates the order once.
  ok(admin.post(R, json{{"started_at", iso_utc(now_ms() - 300 * 60'000)}, {"reason", "补录"}}));
  s = wait_sla(agent, id, [](const json& j) {
    return !j["resolution"]["breached_at"].is_null() && !j["escalated_at"].is_null();
  });
  EXPECT_FALSE(s["response"]["breached_at"].is_null()) << s.dump();
  EXPECT_FALSE(s["resolution"]["breached_at"].is_null()) << s.dump();
  EXPECT_EQ(s["status"], "breached");
  EXPECT_LE(s["response"]["remaining_minutes"].get<int>(), -179);
  json got = ok(agent.get("/api/v1/service-orders/" + S(id)));
  EXPECT_EQ(got["state"], "escalated");
  EXPECT_EQ(got["sla_status"], "breached");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // several more ticks
  EXPECT_EQ(count_kind(agent, id, "sla.breach"), 2);  // response and resolution, once each
  int escalations = 0;
  for (auto& e : items(agent.get("/api/v1/service-orders/" + S(id) + "/timeline")))
    if (e["action"] == "escalate") ++escalations;
  EXPECT_EQ(escalations, 1);
  EXPECT_EQ(ok(agent.get("/api/v1/service-orders/" + S(id)))["state"], "escalated");
}

TEST_F(SlaApi, JobCatchesUpAfterRestart) {
  // A server whose job runs only at start-up and then every 10 minutes.
  setenv("SHOUHOU_SLA_TICK_MS", "600000", 1);
  ServerProcess server;
  unsetenv("SHOUHOU_SLA_TICK_MS");
  int64_t id = 0;
  {
    auto admin = as("admin", server.port());
    auto agent = as("agent", server.port());
    auto s = admin.get("/api/v1/dispatch/settings");
    if (s.status == 200 && body(s).contains("auto_dispatch"))
      admin.call("PUT", "/api/v1/dispatch/settings", json{{"auto_dispatch", false}, {"version", body(s)["version"]}}.dump());
    id = ticket(agent)["id"];
    ok(admin.post("/api/v1/service-orders/" + S(id) + "/sla/restart",
                  json{{"started_at", iso_utc(now_ms() - 110 * 60'000)}, {"reason", "补录"}}));
    json j = sla(agent, id);
    EXPECT_TRUE(j["response"]["warned_at"].is_null()) << "nobody has looked yet";
    EXPECT_EQ(j["next_check_at"].is_null(), false);
  }
  // Down before the next tick, then up again: the warning is not lost.
  server.kill9();
  server.start();
  auto agent = as("agent", server.port());
  json j = wait_sla(agent, id, [](const json& x) { return !x["response"]["warned_at"].is_null(); });
  EXPECT_FALSE(j["response"]["warned_at"].is_null()) << j.dump();
  EXPECT_EQ(count_kind(agent, id, "sla.warning"), 1);
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(SlaApi, ContractTermsWin) {
  auto admin = as("admin");
  auto agent = as("agent");
  int64_t cust = customer(agent);
  std::string tag = random_hex(3);
  int64_t line = ok(admin.post("/api/v1/product-lines", json{{"code", "PL" + tag}, {"name", "UPS" + tag}}), 201)["id"];
  int64_t model = ok(admin.post("/api/v1/models", json{{"product_line_id", line}, {"code", "UPS-" + tag}, {"name", "10kVA"}}), 201)["id"];
  std::string serial = "UPSC-" + tag;
  for (auto& ch : serial) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
  int64_t asset = ok(admin.post("/api/v1/assets", json{{"serial", serial}, {"model_id", model},
                                                       {"sale", {{"date", "2025-01-10"}, {"customer_id", cust}}}}),
                     201)["id"];
  json k = ok(admin.post("/api/v1/contracts",
                         json{{"number", "SC-" + tag}, {"name", "现场服务合约"}, {"customer_id", cust}, {"type", "full"},
                              {"status", "active"}, {"response_mode", "8x5"}, {"response_hours", 4}, {"onsite_hours", 24},
                              {"start_date", "2025-01-01"}, {"end_date", "2099-12-31"}, {"asset_ids", {asset}}}),
              201);
  // A tier + type policy that would otherwise apply.
  std::string tier = sla(agent, ticket(agent)["id"])["customer_tier"];
  json pol = ok(admin.post("/api/v1/sla/policies", json{{"name", "等级+维护"}, {"customer_tier", tier}, {"order_type", "maintenance"},
                                                         {"calendar_code", "7x24"}, {"response_minutes", 10}, {"resolve_minutes", 20}}), 201);
  json o = ok(agent.post("/api/v1/service-orders",
                         json{{"type", "maintenance"}, {"customer_id", cust}, {"serial", serial},
                              {"contact", {{"name", "王建国"}, {"phone", "139 1234 5678"}}},
                              {"site", {{"county_code", "310104"}, {"address", "漕溪北路88弄5号1201"}}},
                              {"description", "年度保养"}, {"summary", "保养"}, {"priority", "medium"}}),
              201);
  ASSERT_EQ(o["contract_id"], k["id"]) << o.dump();
  json s = sla(agent, o["id"]);
  EXPECT_EQ(s["source"], "contract");
  EXPECT_EQ(s["contract_id"], k["id"]);
  EXPECT_EQ(s["calendar"], "8x5");
  EXPECT_EQ(s["response"]["minutes"], 240);
  EXPECT_EQ(s["resolution"]["minutes"], 24 * 60);
  auto due = ok(agent.get("/api/v1/sla/calendars/8x5/due?start=" + s["started_at"].get<std::string>() + "&minutes=240"));
  EXPECT_EQ(s["response"]["due_at"], due["due_at"]);
  ok(admin.patch("/api/v1/sla/policies/" + S(pol["id"]), json{{"active", false}, {"version", pol["version"]}}));
}

TEST_F(SlaApi, TwoServersEscalateOnce) {
  // A second server process on the same database, its job racing the first's.
  setenv("SHOUHOU_SLA_TICK_MS", "100", 1);
  ServerProcess second(server_->db());
  unsetenv("SHOUHOU_SLA_TICK_MS");
  auto admin = as("admin");
  auto agent = as("agent", second.port());
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    int64_t id = ticket(agent)["id"];
    ok(admin.post("/api/v1/service-orders/" + S(id) + "/sla/restart",
                  json{{"started_at", iso_utc(now_ms() - 300 * 60'000)}, {"reason", "补录"}}));
    ids.push_back(id);
  }
  for (int64_t id : ids) {
    json s = wait_sla(agent, id, [](const json& j) { return !j["escalated_at"].is_null(); });
    EXPECT_FALSE(s["escalated_at"].is_null()) << s.dump();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  for (int64_t id : ids) {
    EXPECT_EQ(count_kind(agent, id, "sla.breach"), 2) << id;
    int escalations = 0;
    for (auto& e : items(agent.get("/api/v1/service-orders/" + S(id) + "/timeline")))
      if (e["action"] == "escalate") ++escalations;
    EXPECT_EQ(escalations, 1) << id;
  }
  EXPECT_EQ(second.stop(), 0);
}

TEST_F(SlaApi, PolicyEditsReachAnotherServer) {
  // Each server caches settings, policies and calendars; an admin's edit on
  // one server must reach the next order created on the other.
  ServerProcess second(server_->db());
  auto admin = as("admin");
  auto agent = as("agent", second.port());
  json s = sla(agent, ticket(agent, "delivery")["id"]);  // the second server has read its cache
  EXPECT_EQ(s["response"]["minutes"], 120) << s.dump();
  std::string P = "/api/v1/sla/policies";
  json pol = ok(admin.post(P, json{{"name", "送货"}, {"order_type", "delivery"}, {"calendar_code", "7x24"},
                                    {"response_minutes", 50}, {"resolve_minutes", 100}}), 201);
  s = sla(agent, ticket(agent, "delivery")["id"]);
  EXPECT_EQ(s["policy_id"], pol["id"]) << s.dump();
  EXPECT_EQ(s["response"]["minutes"], 50);
  pol = ok(admin.patch(P + "/" + S(pol["id"]), json{{"response_minutes", 40}, {"version", pol["version"]}}));
  s = sla(agent, ticket(agent, "delivery")["id"]);
  EXPECT_EQ(s["response"]["minutes"], 40) << s.dump();
  EXPECT_EQ(ms(s["response"]["due_at"]) - ms(s["started_at"]), 40 * 60'000);
  ok(admin.patch(P + "/" + S(pol["id"]), json{{"active", false}, {"version", pol["version"]}}));
  s = sla(agent, ticket(agent, "delivery")["id"]);
  EXPECT_EQ(s["response"]["minutes"], 120) << s.dump();
  EXPECT_EQ(second.stop(), 0);
}
