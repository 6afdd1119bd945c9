// M5 service network and dispatch against a real server process, on SQLite
// or (with SHOUHOU_TEST_PG) PostgreSQL: outlet and engineer admin, auto-
// dispatch (one case per hard filter and per score term), the manual queue
// with its reason, manual and bulk assignment, scope, follow-up re-dispatch,
// and (PostgreSQL only) two server processes dispatching 1,000 orders.
#include <cstdlib>
#include <functional>
#include <thread>

#include "harness.h"

using namespace shouhou;
using namespace shouhou::test;

namespace {

struct LoggedIn : Session {
  LoggedIn(uint16_t port, const std::string& user, const std::string& password = "shouhou") : Session(port) {
    auto r = login(user, password);
    EXPECT_EQ(r.status, 200) << r.body;
  }
};
std::string uniq(const std::string& p) { return p + random_hex(4); }
std::string S(int64_t v) { return std::to_string(v); }
json ok(const http::ClientResponse& r, int status = 200) {
  EXPECT_EQ(r.status, status) << r.body;
  return body(r);
}
void bad(const http::ClientResponse& r, const std::string& field, int status = 400) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(body(r)["error"]["field"], field) << r.body;
}
int64_t unit_id(Session& s, const std::string& code) {
  for (auto& u : items(s.get("/api/v1/org-units?limit=500")))
    if (u["code"] == code) return u["id"];
  return 0;
}
int64_t user_id(Session& s, const std::string& name) {
  for (auto& u : items(s.get("/api/v1/users?limit=500")))
    if (u["username"] == name) return u["id"];
  return 0;
}

constexpr const char* kPassword = "Engineer-2026";

// A small network of its own: a product line and model nobody else is
// authorised for, two outlets A and B (A created first, so it wins ties)
// under the Jinan branch serving county 370102, one engineer each, free.
struct Net {
  int64_t line = 0, model = 0, a = 0, b = 0, ea = 0, eb = 0, customer = 0;
  std::string line_name, ea_name, eb_name;
};

json baseline(const Net& n) {
  return json{{"areas", {"370102"}}, {"product_line_ids", {n.line}},
              {"capacity", {{{"order_type", "installation"}, {"per_day", 100}}, {{"order_type", "repair"}, {"per_day", 100}}}},
              {"priority", 5}, {"satisfaction", 80}, {"auto_engineer", true}, {"active", true}};
}

// PUT with the version just read.
json put_outlet(Session& admin, int64_t id, json patch, int status = 200) {
  auto cur = ok(admin.get("/api/v1/outlets/" + S(id)));
  patch["version"] = cur["version"];
  return ok(admin.call("PUT", "/api/v1/outlets/" + S(id), patch.dump()), status);
}
json put_engineer(Session& admin, int64_t id, json patch, int status = 200) {
  auto cur = ok(admin.get("/api/v1/engineers/" + S(id)));
  patch["version"] = cur["version"];
  return ok(admin.call("PUT", "/api/v1/engineers/" + S(id), patch.dump()), status);
}

Net make_net(Session& admin, json a_patch = json::object(), json b_patch = json::object(),
             const std::string& a_division = "370102") {
  Net n;
  n.line_name = uniq("测试产品线");
  n.line = ok(admin.post("/api/v1/product-lines", json{{"code", uniq("DL")}, {"name", n.line_name}}), 201)["id"];
  n.model = ok(admin.post("/api/v1/models", json{{"product_line_id", n.line}, {"code", uniq("M-")}, {"name", "测试机型"}}), 201)["id"];
  int64_t branch = unit_id(admin, "BR-JN");
  auto unit = [&](const std::string& name, const std::string& division) -> int64_t {
    return ok(admin.post("/api/v1/org-units", json{{"code", uniq("SP-")}, {"name", uniq(name)}, {"type", "provider"},
                                                   {"parent_id", branch}, {"division_code", division}, {"grade", "A"}}),
              201)["id"];
  };
  n.a = unit("网点A", a_division);
  n.b = unit("网点B", "370102");
  auto engineer = [&](int64_t u, std::string& name) -> int64_t {
    name = uniq("eng");
    return ok(admin.post("/api/v1/users", json{{"username", name}, {"display_name", "工程师" + name}, {"password", kPassword},
                                               {"org_unit_id", u}, {"roles", {"engineer"}}}),
              201)["id"];
  };
  n.ea = engineer(n.a, n.ea_name);
  n.eb = engineer(n.b, n.eb_name);
  json base = baseline(n);
  json pa = base, pb = base;
  for (auto& [k, v] : a_patch.items()) pa[k] = v;
  for (auto& [k, v] : b_patch.items()) pb[k] = v;
  ok(admin.call("PUT", "/api/v1/outlets/" + S(n.a), pa.dump()));
  ok(admin.call("PUT", "/api/v1/outlets/" + S(n.b), pb.dump()));
  for (int64_t e : {n.ea, n.eb}) {
    ok(admin.call("PUT", "/api/v1/engineers/" + S(e),
                  json{{"skills", {{{"product_line_id", n.line}, {"order_type", "*"}}}}, {"work_days", {1, 2, 3, 4, 5, 6, 7}}}.dump()));
    ok(admin.post("/api/v1/engineers/" + S(e) + "/status", json{{"status", "free"}}));
  }
  n.customer = ok(admin.post("/api/v1/customers", json{{"name", uniq("派单客户")}, {"kind", "individual"}, {"type", "direct"}}), 201)["id"];
  return n;
}

// An installation order for the net's line at the county, audited (which
// queues it for dispatch).
int64_t audited_order(Session& admin, const Net& n, const std::string& county = "370102", int64_t model = 0) {
  auto o = ok(admin.post("/api/v1/service-orders",
                         json{{"type", "installation"}, {"customer_id", n.customer}, {"model_id", model ? model : n.model},
                              {"contact", {{"name", "李娜"}, {"phone", "13800138000"}}},
                              {"site", {{"county_code", county}, {"address", "泉城路1号"}}}}),
              201);
  int64_t id = o["id"];
  ok(admin.post("/api/v1/service-orders/" + S(id) + "/actions/audit", json::object()));
  return id;
}

// Waits for the dispatch job to assign the order or send it to the manual
// queue; returns the dispatch record.
json settled(Session& s, int64_t order_id, const std::string& want = "") {
  json d;
  for (int i = 0; i < 200; ++i) {
    d = ok(s.get("/api/v1/dispatch/orders/" + S(order_id)));
    std::string st = d["queue"].is_null() ? "" : d["queue"]["state"].get<std::string>();
    if ((want.empty() && (st == "assigned" || st == "manual")) || (!want.empty() && st == want)) return d;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "order " << order_id << " not settled: " << d.dump();
  return d;
}

int64_t provider_of(Session& s, int64_t order_id) {
  auto o = ok(s.get("/api/v1/service-orders/" + S(order_id)));
  return o["provider_unit_id"].is_null() ? 0 : o["provider_unit_id"].get<int64_t>();
}

// Polls the order's dispatch record until `done` holds (the follow-up job
// runs every 100 ms); returns the last record read.
json dispatch_when(Session& s, int64_t order_id, const std::function<bool(const json&)>& done) {
  json d;
  for (int i = 0; i < 100; ++i) {
    d = ok(s.get("/api/v1/dispatch/orders/" + S(order_id)));
    if (done(d)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return d;
}
bool redispatched(const json& d) { return d["assignments"].size() >= 2; }

// Auto-dispatches one order on a fresh net and returns the winning unit.
int64_t winner(Session& admin, const Net& n) {
  int64_t id = audited_order(admin, n);
  auto d = settled(admin, id);
  EXPECT_EQ(d["queue"]["state"], "assigned") << d.dump();
  return provider_of(admin, id);
}

}  // namespace

class DispatchApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("SHOUHOU_DISPATCH_TICK_MS", "100", 1);
    server_ = new ServerProcess();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << "server must exit cleanly on SIGTERM\n" << server_->log();
    delete server_;
    server_ = nullptr;
  }
  static LoggedIn as(const std::string& user, const std::string& pw = "shouhou") { return LoggedIn(server_->port(), user, pw); }
  static ServerProcess* server_;
};
ServerProcess* DispatchApi::server_ = nullptr;

TEST_F(DispatchApi, OutletAndEngineerAdminWithValidation) {
  auto admin = as("admin");
  Net n = make_net(admin);
  auto o = ok(admin.get("/api/v1/outlets/" + S(n.a)));
  EXPECT_TRUE(o["configured"]);
  EXPECT_EQ(o["areas"][0]["code"], "370102");
  EXPECT_EQ(o["areas"][0]["name"], "历下区");
  EXPECT_EQ(o["daily_capacity"], 200);
  EXPECT_EQ(o["product_lines"][0]["name"], n.line_name);
  // Filters of the list.
  bool found = false;
  for (auto& x : items(admin.get("/api/v1/outlets?area=370102&product_line_id=" + S(n.line))))
    found = found || x["id"] == n.a;
  EXPECT_TRUE(found);
  EXPECT_TRUE(items(admin.get("/api/v1/outlets?area=110105&product_line_id=" + S(n.line))).empty());

  std::string P = "/api/v1/outlets/" + S(n.a);
  int64_t v = o["version"];
  bad(admin.call("PUT", P, json{{"areas", {"999999"}}, {"version", v}}.dump()), "areas[0]");
  bad(admin.call("PUT", P, json{{"capacity", {{{"order_type", "fly"}, {"per_day", 1}}}}, {"version", v}}.dump()), "capacity[0].order_type");
  bad(admin.call("PUT", P, json{{"capacity", {{{"order_type", "repair"}, {"per_day", -1}}}}, {"version", v}}.dump()), "capacity[0].per_day");
  bad(admin.call("PUT", P, json{{"priority", 11}, {"version", v}}.dump()), "priority");
  bad(admin.call("PUT", P, json{{"satisfaction", "high"}, {"version", v}}.dump()), "satisfaction");
  bad(admin.call("PUT", P, json{{"lat", 120}, {"lon", 117}, {"version", v}}.dump()), "lat");
  bad(admin.call("PUT", P, json{{"lat", 36.6}, {"version", v}}.dump()), "lon");
  bad(admin.call("PUT", P, json{{"product_line_ids", {99999999}}, {"version", v}}.dump()), "product_line_ids[0]");
  bad(admin.call("PUT", P, json{{"priority", 3}}.dump()), "version");
  bad(admin.call("PUT", P, "{not json"), "body");
  EXPECT_EQ(admin.call("PUT", P, json{{"priority", 3}, {"version", v + 5}}.dump()).status, 409);
  auto changed = put_outlet(admin, n.a, json{{"priority", 9}, {"satisfaction", 97}, {"lat", 36.68}, {"lon", 117.06}});
  EXPECT_EQ(changed["priority"], 9);
  EXPECT_EQ(changed["version"], v + 1);
  EXPECT_EQ(changed["location"]["lat"], 36.68);
  // Nothing is an outlet that is not a provider.
  EXPECT_EQ(admin.get("/api/v1/outlets/" + S(unit_id(admin, "BR-JN"))).status, 404);
  EXPECT_EQ(admin.get("/api/v1/outlets/99999999").status, 404);
  // Audited.
  auto audit = ok(admin.get("/api/v1/audit?entity=outlet&id=" + S(n.a) + "&limit=50"));
  EXPECT_GE(audit["items"].size(), 2u);  // create, update

  std::string E = "/api/v1/engineers/" + S(n.ea);
  auto e = ok(admin.get(E));
  EXPECT_EQ(e["status"], "free");
  EXPECT_EQ(e["skills"][0]["product_line_id"], n.line);
  int64_t ev = e["version"];
  bad(admin.call("PUT", E, json{{"skills", {{{"product_line_id", 99999999}}}}, {"version", ev}}.dump()), "skills[0].product_line_id");
  bad(admin.call("PUT", E, json{{"skills", {{{"product_line_id", n.line}, {"order_type", "fly"}}}}, {"version", ev}}.dump()), "skills[0].order_type");
  bad(admin.call("PUT", E, json{{"work_start", "25:00"}, {"version", ev}}.dump()), "work_start");
  bad(admin.call("PUT", E, json{{"work_days", {0}}, {"version", ev}}.dump()), "work_days[0]");
  bad(admin.call("PUT", E, json{{"days_off", {"2026-02-30x"}}, {"version", ev}}.dump()), "days_off[0]");
  auto e2 = put_engineer(admin, n.ea, json{{"skills", {{{"product_line_id", n.line}, {"order_type", "installation"},
                                                         {"certificate", "安装上岗证"}, {"valid_until", "2030-12-31"}}}},
                                           {"work_start", "09:00"}, {"work_end", "17:30"}, {"days_off", {"2026-12-25"}},
                                           {"home_lat", 36.67}, {"home_lon", 117.05}});
  EXPECT_EQ(e2["skills"][0]["certificate"], "安装上岗证");
  EXPECT_EQ(e2["work_end"], "17:30");
  EXPECT_EQ(e2["home"]["lat"], 36.67);
  // An engineer that is not one.
  EXPECT_EQ(admin.get("/api/v1/engineers/" + S(user_id(admin, "dispatcher"))).status, 404);
}

TEST_F(DispatchApi, EngineerStatusFromThePhoneWithHistoryAndScope) {
  auto admin = as("admin");
  Net n = make_net(admin);
  auto me = as(n.ea_name, kPassword);
  auto self = ok(me.get("/api/v1/engineers/me"));
  EXPECT_EQ(self["user_id"], n.ea);
  std::string S_ = "/api/v1/engineers/" + S(n.ea) + "/status";
  ok(me.post(S_, json{{"status", "travelling"}, {"lat", 36.66}, {"lon", 117.02}}));
  ok(me.post(S_, json{{"status", "on_site"}, {"note", "到达客户现场"}}));
  bad(me.post(S_, json{{"status", "sleeping"}}), "status");
  bad(me.post(S_, json::object()), "status");
  auto e = ok(admin.get("/api/v1/engineers/" + S(n.ea)));
  EXPECT_EQ(e["status"], "on_site");
  EXPECT_EQ(e["position"]["lat"], 36.66);
  auto hist = ok(admin.get("/api/v1/engineers/" + S(n.ea) + "/status-history"));
  ASSERT_GE(hist["items"].size(), 3u);
  EXPECT_EQ(hist["items"][0]["status"], "on_site");
  EXPECT_EQ(hist["items"][0]["previous"], "travelling");
  EXPECT_EQ(hist["items"][0]["note"], "到达客户现场");
  EXPECT_EQ(hist["items"][1]["status"], "travelling");
  // A colleague at another outlet, another provider's staff and engineers
  // elsewhere see nothing: 404 like an unknown id.
  auto other = as(n.eb_name, kPassword);
  EXPECT_EQ(other.post(S_, json{{"status", "free"}}).status, 404);
  auto provider1 = as("provider1"), engineer1 = as("engineer1");
  EXPECT_EQ(provider1.post(S_, json{{"status", "free"}}).status, 404);
  EXPECT_EQ(engineer1.post(S_, json{{"status", "free"}}).status, 404);
  EXPECT_EQ(provider1.get("/api/v1/engineers/" + S(n.ea)).status, 404);
  EXPECT_EQ(provider1.get("/api/v1/engineers/" + S(n.ea) + "/status-history").status, 404);
  EXPECT_EQ(provider1.get("/api/v1/outlets/" + S(n.a)).status, 404);
  for (auto& x : items(provider1.get("/api/v1/engineers?limit=500"))) EXPECT_NE(x["user_id"], n.ea);
  for (auto& x : items(provider1.get("/api/v1/outlets?limit=500"))) EXPECT_NE(x["id"], n.a);
  // Providers may not edit outlet settings (network.write).
  EXPECT_EQ(provider1.call("PUT", "/api/v1/outlets/" + S(unit_id(admin, "SP-SH-XH")), json{{"priority", 10}, {"version", 1}}.dump()).status, 403);
  // The provider of the outlet may set its engineer's status.
  ok(admin.post("/api/v1/users", json{{"username", uniq("pa")}, {"display_name", "网点A经理"}, {"password", kPassword},
                                      {"org_unit_id", n.a}, {"roles", {"provider"}}}), 201);
}

TEST_F(DispatchApi, AutoDispatchEachHardFilter) {
  auto admin = as("admin");
  {  // Baseline: identical outlets, the tie goes to A.
    Net n = make_net(admin);
    EXPECT_EQ(winner(admin, n), n.a);
  }
  {  // Area: A serves another county; B serves the whole city (370100 covers 370102).
    Net n = make_net(admin, json{{"areas", {"370112"}}}, json{{"areas", {"370100"}}});
    int64_t id = audited_order(admin, n);
    auto d = settled(admin, id);
    EXPECT_EQ(provider_of(admin, id), n.b);
    auto dec = d["assignments"][0]["decision"];
    EXPECT_EQ(dec["candidates"][0]["unit_id"], n.b);
    EXPECT_EQ(dec["candidates"][0]["area_match"], "city");
    for (auto& c : dec["candidates"]) EXPECT_NE(c["unit_id"], n.a) << "A does not serve 370102";
  }
  {  // Active: A is suspended.
    Net n = make_net(admin, json{{"active", false}});
    EXPECT_EQ(winner(admin, n), n.b);
  }
  {  // Authorisation for the product line.
    Net n = make_net(admin, json{{"product_line_ids", json::array()}});
    EXPECT_EQ(winner(admin, n), n.b);
  }
  {  // Authorisation for the order type.
    Net n = make_net(admin, json{{"capacity", {{{"order_type", "repair"}, {"per_day", 100}}}}});
    EXPECT_EQ(winner(admin, n), n.b);
  }
  {  // Skill: A's only engineer is certified for repairs only.
    Net n = make_net(admin);
    put_engineer(admin, n.ea, json{{"skills", {{{"product_line_id", n.line}, {"order_type", "repair"}}}}});
    EXPECT_EQ(winner(admin, n), n.b);
  }
  {  // Capacity left today: A takes one installation a day.
    Net n = make_net(admin, json{{"capacity", {{{"order_type", "installation"}, {"per_day", 1}}}}, {"priority", 10}});
    EXPECT_EQ(winner(admin, n), n.a);
    int64_t second = audited_order(admin, n);
    auto d = settled(admin, second);
    EXPECT_EQ(provider_of(admin, second), n.b);
    json ca;
    for (auto& c : d["assignments"][0]["decision"]["candidates"])
      if (c["unit_id"] == n.a) ca = c;
    EXPECT_EQ(ca["failed"], "capacity") << d.dump();
    EXPECT_EQ(ca["used_today"], 1);
    EXPECT_EQ(ca["eligible"], false);
  }
}

TEST_F(DispatchApi, AutoDispatchEachScoreTerm) {
  auto admin = as("admin");
  {  // Satisfaction.
    Net n = make_net(admin, json::object(), json{{"satisfaction", 95}});
    EXPECT_EQ(winner(admin, n), n.b);
  }
  {  // Priority.
    Net n = make_net(admin, json::object(), json{{"priority", 9}});
    EXPECT_EQ(winner(admin, n), n.b);
  }
  {  // Distance: A sits in another district (by division, the site has no coordinates).
    Net n = make_net(admin, json::object(), json::object(), "370112");
    EXPECT_EQ(winner(admin, n), n.b);
  }
  {  // Load: the first order loads A, so the second goes to B.
    Net n = make_net(admin);
    EXPECT_EQ(winner(admin, n), n.a);
    int64_t second = audited_order(admin, n);
    auto d = settled(admin, second);
    EXPECT_EQ(provider_of(admin, second), n.b);
    json ca;
    for (auto& c : d["assignments"][0]["decision"]["candidates"])
      if (c["unit_id"] == n.a) ca = c;
    EXPECT_EQ(ca["open_load"], 1) << d.dump();
    EXPECT_EQ(ca["eligible"], true);
    EXPECT_LT(ca["terms"]["load"].get<double>(), 1.0);
  }
  {  // Weights are the admin's: with priority weighted 0, B's priority no longer counts.
    auto st = ok(admin.get("/api/v1/dispatch/settings"));
    bad(admin.call("PUT", "/api/v1/dispatch/settings", json{{"weights", {{"load", 101}}}, {"version", st["version"]}}.dump()), "weights.load");
    bad(admin.call("PUT", "/api/v1/dispatch/settings", json{{"accept_action", "shout"}, {"version", st["version"]}}.dump()), "accept_action");
    EXPECT_EQ(admin.call("PUT", "/api/v1/dispatch/settings", json{{"max_redispatch", 2}, {"version", 999}}.dump()).status, 409);
    EXPECT_EQ(as("dispatcher").call("PUT", "/api/v1/dispatch/settings", json{{"version", st["version"]}}.dump()).status, 403);
    json w = st["weights"];
    w["priority"] = 0;
    auto st2 = ok(admin.call("PUT", "/api/v1/dispatch/settings", json{{"weights", w}, {"version", st["version"]}}.dump()));
    EXPECT_EQ(st2["weights"]["priority"], 0);
    Net n = make_net(admin, json::object(), json{{"priority", 9}});
    EXPECT_EQ(winner(admin, n), n.a);
    w["priority"] = 20;
    ok(admin.call("PUT", "/api/v1/dispatch/settings", json{{"weights", w}, {"version", st2["version"]}}.dump()));
  }
}

TEST_F(DispatchApi, NoCandidateGoesToTheManualQueueThenManualAndBulkDispatch) {
  auto admin = as("admin"), dispatcher = as("dispatcher");
  Net n = make_net(admin);
  // A second line nobody is authorised for.
  std::string line2 = uniq("太阳能热水器");
  int64_t l2 = ok(admin.post("/api/v1/product-lines", json{{"code", uniq("SW")}, {"name", line2}}), 201)["id"];
  int64_t m2 = ok(admin.post("/api/v1/models", json{{"product_line_id", l2}, {"code", uniq("SW-")}, {"name", "集热器"}}), 201)["id"];
  int64_t id = audited_order(admin, n, "370102", m2);
  auto d = settled(dispatcher, id, "manual");
  EXPECT_EQ(d["queue"]["reason_code"], "product_line");
  EXPECT_EQ(d["queue"]["reason"], "no outlet authorised for " + line2 + " in 山东省 济南市 历下区 (370102)");
  EXPECT_EQ(d["state"], "audited");
  bool in_queue = false;
  for (auto& q : items(dispatcher.get("/api/v1/dispatch/queue?state=manual&area=370100")))
    in_queue = in_queue || q["order_id"] == id;
  EXPECT_TRUE(in_queue);
  bad(dispatcher.get("/api/v1/dispatch/queue?state=lost"), "state");
  bad(dispatcher.get("/api/v1/dispatch/queue?area=37"), "area");
  // The timeline tells why.
  bool noted = false;
  for (auto& e : items(dispatcher.get("/api/v1/service-orders/" + S(id) + "/timeline")))
    if (e["kind"] == "dispatch.manual") noted = true;
  EXPECT_TRUE(noted);
  // Nobody serves a county at all.
  int64_t far = audited_order(admin, n, "650102");
  auto df = settled(dispatcher, far, "manual");
  EXPECT_EQ(df["queue"]["reason_code"], "area");
  EXPECT_EQ(df["queue"]["reason"], "no outlet serves 新疆维吾尔自治区 乌鲁木齐市 天山区 (650102)");

  // Every candidate with its figures.
  auto c = ok(dispatcher.get("/api/v1/dispatch/orders/" + S(id) + "/candidates"));
  json ca;
  for (auto& x : c["candidates"])
    if (x["unit_id"] == n.a) ca = x;
  ASSERT_FALSE(ca.is_null()) << c.dump();
  EXPECT_EQ(ca["area_match"], "county");
  EXPECT_EQ(ca["failed"], "product_line");
  EXPECT_EQ(ca["capacity_today"], 100);
  EXPECT_EQ(ca["satisfaction"], 80);
  EXPECT_EQ(ca["priority"], 5);
  EXPECT_TRUE(ca.contains("open_load"));
  EXPECT_TRUE(ca.contains("distance_km"));
  EXPECT_EQ(ca["skilled_engineers"], 0);  // nobody is certified for the unauthorised line

  // Manual dispatch: bad input names the field; an engineer of another outlet is refused.
  std::string A = "/api/v1/dispatch/orders/" + S(id) + "/assign";
  bad(dispatcher.post(A, json::object()), "unit_id");
  bad(dispatcher.post(A, json{{"unit_id", 99999999}}), "unit_id");
  bad(dispatcher.post(A, json{{"unit_id", n.b}, {"engineer_id", n.ea}}), "engineer_id");
  EXPECT_EQ(dispatcher.post("/api/v1/dispatch/orders/99999999/assign", json{{"unit_id", n.b}}).status, 404);
  auto o = ok(dispatcher.post(A, json{{"unit_id", n.b}, {"engineer_id", n.eb}, {"remark", "人工指定"}}));
  EXPECT_EQ(o["state"], "dispatched");
  EXPECT_EQ(o["provider_unit_id"], n.b);
  EXPECT_EQ(o["engineer_id"], n.eb);
  EXPECT_EQ(o["decision"]["mode"], "manual");
  EXPECT_EQ(o["decision"]["override"], "product_line");
  auto hist = ok(dispatcher.get("/api/v1/dispatch/orders/" + S(id)));
  EXPECT_EQ(hist["queue"]["state"], "assigned");
  ASSERT_EQ(hist["assignments"].size(), 1u);
  EXPECT_EQ(hist["assignments"][0]["mode"], "manual");
  // Reassign.
  o = ok(dispatcher.post(A, json{{"unit_id", n.a}, {"version", o["version"]}}));
  EXPECT_EQ(o["provider_unit_id"], n.a);
  EXPECT_EQ(dispatcher.post(A, json{{"unit_id", n.b}, {"version", 1}}).status, 409);
  hist = ok(dispatcher.get("/api/v1/dispatch/orders/" + S(id)));
  ASSERT_EQ(hist["assignments"].size(), 2u);
  EXPECT_EQ(hist["assignments"][0]["state"], "replaced");
  EXPECT_EQ(hist["assignments"][1]["state"], "open");

  // Bulk: all or nothing.
  int64_t x1 = audited_order(admin, n, "370102", m2), x2 = audited_order(admin, n, "370102", m2);
  settled(dispatcher, x1, "manual");
  settled(dispatcher, x2, "manual");
  bad(dispatcher.post("/api/v1/dispatch/assign-bulk", json{{"items", {{{"order_id", x1}, {"unit_id", n.a}},
                                                                       {{"order_id", x2}, {"unit_id", 99999999}}}}}),
      "items[1].unit_id");
  EXPECT_EQ(ok(dispatcher.get("/api/v1/service-orders/" + S(x1)))["state"], "audited");
  bad(dispatcher.post("/api/v1/dispatch/assign-bulk", json{{"items", json::array()}}), "items");
  bad(dispatcher.post("/api/v1/dispatch/assign-bulk", json{{"items", {{{"order_id", x1}, {"unit_id", n.a}}, {{"order_id", x1}, {"unit_id", n.b}}}}}),
      "items[1].order_id");
  auto bulk = ok(dispatcher.post("/api/v1/dispatch/assign-bulk", json{{"items", {{{"order_id", x1}, {"unit_id", n.a}},
                                                                                  {{"order_id", x2}, {"unit_id", n.b}, {"engineer_id", n.eb}}}}}));
  ASSERT_EQ(bulk["items"].size(), 2u);
  EXPECT_EQ(bulk["items"][0]["state"], "dispatched");
  EXPECT_EQ(bulk["items"][1]["engineer_id"], n.eb);

  // The board shows B's engineer with today's job; the capacity view counts the line.
  auto board = ok(dispatcher.get("/api/v1/dispatch/board?area=370102&product_line_id=" + S(n.line)));
  bool job = false;
  for (auto& e : board["engineers"])
    if (e["user_id"] == n.eb)
      for (auto& j : e["jobs"]) job = job || j["order_id"] == x2;
  EXPECT_TRUE(job) << board.dump();
  auto cap = ok(admin.get("/api/v1/dispatch/capacity?level=city&product_line_id=" + S(n.line)));
  ASSERT_EQ(cap["items"].size(), 1u) << cap.dump();
  EXPECT_EQ(cap["items"][0]["region_code"], "370100");
  EXPECT_EQ(cap["items"][0]["outlets"], 2);
  EXPECT_EQ(cap["items"][0]["capacity_per_day"], 400);
  EXPECT_EQ(cap["items"][0]["engineers"], 2);
  bad(admin.get("/api/v1/dispatch/capacity?level=street"), "level");
}

TEST_F(DispatchApi, ProvidersCannotSeeOrDispatchOthersOrders) {
  auto admin = as("admin"), provider1 = as("provider1"), dispatcher = as("dispatcher");
  Net n = make_net(admin);
  int64_t id = audited_order(admin, n);
  settled(admin, id, "assigned");
  // provider1 (Shanghai) probes an order now at outlet A in Jinan.
  EXPECT_EQ(provider1.get("/api/v1/dispatch/orders/" + S(id)).status, 404);
  EXPECT_EQ(provider1.get("/api/v1/dispatch/orders/" + S(id) + "/candidates").status, 404);
  EXPECT_EQ(provider1.post("/api/v1/dispatch/orders/" + S(id) + "/assign", json{{"unit_id", unit_id(admin, "SP-SH-XH")}}).status, 404);
  EXPECT_EQ(provider1.post("/api/v1/dispatch/assign-bulk", json{{"items", {{{"order_id", id}, {"unit_id", unit_id(admin, "SP-SH-XH")}}}}}).status, 404);
  for (auto& q : items(provider1.get("/api/v1/dispatch/queue?state=all&limit=500"))) EXPECT_NE(q["order_id"], id);
  auto board = ok(provider1.get("/api/v1/dispatch/board"));
  for (auto& e : board["engineers"]) EXPECT_NE(e["user_id"], n.ea);
  // A provider may dispatch its own orders only to itself.
  int64_t mine = audited_order(admin, n);
  settled(admin, mine, "assigned");
  int64_t holder = provider_of(admin, mine);
  auto pa = LoggedIn(server_->port(), [&] {
    std::string name = uniq("pm");
    ok(admin.post("/api/v1/users", json{{"username", name}, {"display_name", "网点经理"}, {"password", kPassword},
                                        {"org_unit_id", holder}, {"roles", {"provider"}}}), 201);
    return name;
  }(), kPassword);
  int64_t other = holder == n.a ? n.b : n.a;
  int64_t own_engineer = holder == n.a ? n.ea : n.eb;
  bad(pa.post("/api/v1/dispatch/orders/" + S(mine) + "/assign", json{{"unit_id", other}}), "unit_id");
  auto o = ok(pa.post("/api/v1/dispatch/orders/" + S(mine) + "/assign", json{{"unit_id", holder}, {"engineer_id", own_engineer}}));
  EXPECT_EQ(o["engineer_id"], own_engineer);
  // Engineers and agents lack order.dispatch.
  EXPECT_EQ(as("agent").get("/api/v1/dispatch/queue").status, 403);
  EXPECT_EQ(as("engineer1").get("/api/v1/dispatch/board").status, 403);
}

// The live board's WebSocket is scoped like the API (issue 5): a provider's
// socket hears of the orders and engineers of its own outlet only, HQ of all.
// Each board's events arrive in publish order, so "B's next event is B's own
// sentinel" proves B never got A's event.
TEST_F(DispatchApi, LiveEventsReachOnlyTheBoardsWhoseScopeHoldsTheOrder) {
  auto admin = as("admin");
  Net n = make_net(admin);
  auto manager = [&](int64_t unit) {
    std::string name = uniq("pm");
    ok(admin.post("/api/v1/users", json{{"username", name}, {"display_name", "网点经理"}, {"password", kPassword},
                                        {"org_unit_id", unit}, {"roles", {"provider"}}}), 201);
    return LoggedIn(server_->port(), name, kPassword);
  };
  auto pa = manager(n.a), pb = manager(n.b);
  auto hq = as("dispatcher");
  // The next event on the dispatch topic (none within the wait: null).
  auto next = [](LiveSocket& b, std::chrono::milliseconds wait = std::chrono::milliseconds(10000)) {
    json j = b.next(wait);
    if (j.is_null()) return j;
    EXPECT_EQ(j["topic"], "dispatch") << j.dump();
    return j["data"];
  };
  LiveSocket board_a(server_->port(), pa), board_b(server_->port(), pb), board_hq(server_->port(), hq);
  auto status = [&](int64_t engineer, const std::string& st) {
    ok(admin.post("/api/v1/engineers/" + S(engineer) + "/status", json{{"status", st}}));
  };
  auto is_status = [](const json& e, int64_t user) { return e.is_object() && e["kind"] == "engineer.status" && e["user_id"] == user; };
  auto is_order = [](const json& e, const std::string& kind, int64_t id) {
    return e.is_object() && e["kind"] == kind && e["order_id"] == id;
  };

  // Auto-dispatch to A (A wins ties): A and HQ hear of it, B does not.
  int64_t id = audited_order(admin, n);
  settled(admin, id, "assigned");
  ASSERT_EQ(provider_of(admin, id), n.a);
  EXPECT_TRUE(is_order(next(board_a), "assignment", id));
  EXPECT_TRUE(is_order(next(board_hq), "assignment", id));
  status(n.eb, "travelling");  // B's sentinel
  json e = next(board_b);
  EXPECT_TRUE(is_status(e, n.eb)) << "B's board got " << e.dump();
  EXPECT_TRUE(is_status(next(board_hq), n.eb));

  // A's engineer: A and HQ, not B.
  status(n.ea, "on_site");
  EXPECT_TRUE(is_status(next(board_a), n.ea));
  EXPECT_TRUE(is_status(next(board_hq), n.ea));
  status(n.eb, "free");
  e = next(board_b);
  EXPECT_TRUE(is_status(e, n.eb)) << "B's board got " << e.dump();
  EXPECT_TRUE(is_status(next(board_hq), n.eb));
  // B's engineer does not reach A.
  status(n.ea, "free");
  e = next(board_a);
  EXPECT_TRUE(is_status(e, n.ea)) << "A's board got " << e.dump();
  EXPECT_TRUE(is_status(next(board_hq), n.ea));

  // Reassigned A -> B by HQ: both outlets hear of it (A loses it, B gets it).
  ok(hq.post("/api/v1/dispatch/orders/" + S(id) + "/assign", json{{"unit_id", n.b}}));
  EXPECT_TRUE(is_order(next(board_a), "assignment", id));
  EXPECT_TRUE(is_order(next(board_b), "assignment", id));
  EXPECT_TRUE(is_order(next(board_hq), "assignment", id));
  // Nothing else is pending for anyone.
  for (auto* b : {&board_a, &board_b, &board_hq}) {
    json extra = next(*b, std::chrono::milliseconds(300));
    EXPECT_TRUE(extra.is_null()) << extra.dump();
  }
  // Refused without a session.
  http::WsClient anon;
  EXPECT_FALSE(anon.connect("127.0.0.1", server_->port(), "/api/v1/ws").ok());
}

// Satisfaction is the outlet's own figure until revisits exist; then it is
// the average revisit score of the orders it served, and dispatch uses it.
TEST_F(DispatchApi, SatisfactionFollowsRevisits) {
  auto admin = as("admin");
  Net n = make_net(admin);
  auto a0 = ok(admin.get("/api/v1/outlets/" + S(n.a)));
  EXPECT_EQ(a0["satisfaction_source"], "manual");
  EXPECT_EQ(a0["satisfaction_revisits"], 0);
  int64_t first = audited_order(admin, n);
  settled(admin, first, "assigned");
  ASSERT_EQ(provider_of(admin, first), n.a);
  auto revisit = [&](int64_t order, int score, int max) {
    auto o = ok(admin.get("/api/v1/service-orders/" + S(order)));
    ok(admin.call("PUT", "/api/v1/service-orders/" + S(order) + "/satisfaction",
                  json{{"score", score}, {"max_score", max}, {"feedback", "回访"}, {"version", o["version"]}}.dump()));
  };
  revisit(first, 2, 5);  // 40 %
  auto a1 = ok(admin.get("/api/v1/outlets/" + S(n.a)));
  EXPECT_EQ(a1["satisfaction"], 40);
  EXPECT_EQ(a1["satisfaction_source"], "revisits");
  EXPECT_EQ(a1["satisfaction_revisits"], 1);
  EXPECT_EQ(a1["version"], a0["version"].get<int64_t>() + 1);
  // No longer set by hand; sending the current value back (a form) is fine.
  bad(admin.call("PUT", "/api/v1/outlets/" + S(n.a), json{{"satisfaction", 90}, {"version", a1["version"]}}.dump()),
      "satisfaction", 409);
  auto a2 = put_outlet(admin, n.a, json{{"satisfaction", 40}, {"priority", 5}});
  EXPECT_EQ(a2["satisfaction"], 40);
  // A revisit recorded again with another score replaces the first.
  revisit(first, 3, 5);  // 60 %
  EXPECT_EQ(ok(admin.get("/api/v1/outlets/" + S(n.a)))["satisfaction"], 60);
  // B (80, by hand) now beats A (60, from revisits) on satisfaction.
  int64_t second = audited_order(admin, n);
  auto d = settled(admin, second, "assigned");
  EXPECT_EQ(provider_of(admin, second), n.b) << d.dump();
  json ca;
  for (auto& c : d["assignments"][0]["decision"]["candidates"])
    if (c["unit_id"] == n.a) ca = c;
  EXPECT_EQ(ca["satisfaction"], 60) << d.dump();
  // B's first revisit replaces its hand-set figure; the change is audited.
  revisit(second, 10, 10);
  auto b = ok(admin.get("/api/v1/outlets/" + S(n.b)));
  EXPECT_EQ(b["satisfaction"], 100);
  EXPECT_EQ(b["satisfaction_source"], "revisits");
  bool audited = false;
  for (auto& e : items(admin.get("/api/v1/audit?entity=outlet&id=" + S(n.b) + "&limit=50")))
    audited = audited || e["action"] == "satisfaction";
  EXPECT_TRUE(audited);
}

// Follow-up with a fast acceptance timeout: its own server so the setting
// does not reach other tests' orders.
class DispatchFollowUpApi : public DispatchApi {
 protected:
  static void SetUpTestSuite() {
    setenv("SHOUHOU_DISPATCH_TICK_MS", "100", 1);
    server_ = new ServerProcess();
  }
};

TEST_F(DispatchFollowUpApi, AcceptanceTimeoutRedispatchesToTheNextCandidate) {
  auto admin = as("admin");
  Net n = make_net(admin);
  auto st = ok(admin.get("/api/v1/dispatch/settings"));
  ok(admin.call("PUT", "/api/v1/dispatch/settings",
                json{{"accept_seconds", 1}, {"accept_action", "redispatch"}, {"version", st["version"]}}.dump()));
  int64_t id = audited_order(admin, n);
  settled(admin, id, "assigned");
  EXPECT_EQ(provider_of(admin, id), n.a);
  // Not accepted within a second: B gets it.
  json hist = dispatch_when(admin, id, redispatched);
  ASSERT_GE(hist["assignments"].size(), 2u) << hist.dump();
  EXPECT_EQ(hist["assignments"][0]["outlet_unit_id"], n.a);
  EXPECT_EQ(hist["assignments"][0]["state"], "replaced");
  EXPECT_EQ(hist["assignments"][1]["outlet_unit_id"], n.b);
  EXPECT_EQ(hist["assignments"][1]["mode"], "redispatch");
  auto o = ok(admin.get("/api/v1/service-orders/" + S(id)));
  EXPECT_EQ(o["provider_unit_id"], n.b);
  EXPECT_EQ(o["state"], "dispatched");
  EXPECT_EQ(o["decision"]["mode"], "redispatch");
  EXPECT_EQ(o["decision"]["previous_unit_id"], n.a);
  // The timeline records the rule and the reassignment.
  bool redispatch = false, reassign = false;
  for (auto& e : items(admin.get("/api/v1/service-orders/" + S(id) + "/timeline"))) {
    if (e["kind"] == "dispatch.redispatch") {
      redispatch = true;
      auto detail = e.contains("detail") ? e["detail"] : json();
      EXPECT_EQ(detail["outlet_unit_id"], n.a) << e.dump();
      EXPECT_EQ(detail["rule"], "accept_timeout") << e.dump();
    }
    if (e["kind"] == "reassign") reassign = true;
  }
  EXPECT_TRUE(redispatch);
  EXPECT_TRUE(reassign);
  // B does not accept either and nobody is left: a person decides.
  json q = dispatch_when(admin, id, [](const json& d) { return d["queue"]["state"] == "manual"; });
  EXPECT_EQ(q["queue"]["state"], "manual") << q.dump();
  EXPECT_EQ(q["queue"]["reason_code"], "excluded");
  // An order accepted in time stays.
  int64_t kept = audited_order(admin, n);
  settled(admin, kept, "assigned");
  ok(admin.post("/api/v1/service-orders/" + S(kept) + "/actions/accept", json::object()));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto k = ok(admin.get("/api/v1/dispatch/orders/" + S(kept)));
  ASSERT_EQ(k["assignments"].size(), 1u) << k.dump();
  EXPECT_EQ(k["assignments"][0]["state"], "accepted");
}

// Not started by the planned time: escalated (timeline, at-risk board); a
// new planned time ahead is watched again.
TEST_F(DispatchFollowUpApi, StartTimeoutEscalatesAndFollowsTheNewPlannedTime) {
  auto admin = as("admin");
  Net n = make_net(admin);
  auto st = ok(admin.get("/api/v1/dispatch/settings"));
  ok(admin.call("PUT", "/api/v1/dispatch/settings",
                json{{"accept_action", "none"}, {"start_grace_seconds", 0}, {"start_action", "escalate"},
                     {"version", st["version"]}}.dump()));
  auto o = ok(admin.post("/api/v1/service-orders",
                         json{{"type", "installation"}, {"customer_id", n.customer}, {"model_id", n.model},
                              {"contact", {{"name", "李娜"}, {"phone", "13800138000"}}},
                              {"site", {{"county_code", "370102"}, {"address", "泉城路1号"}}},
                              {"expected_at", iso_utc(now_ms() + 1500)}}),
              201);
  int64_t id = o["id"];
  ok(admin.post("/api/v1/service-orders/" + S(id) + "/actions/audit", json::object()));
  settled(admin, id, "assigned");
  ok(admin.post("/api/v1/service-orders/" + S(id) + "/actions/accept", json::object()));
  json hist = dispatch_when(admin, id, [](const json& d) { return d["assignments"][0]["escalated"] == true; });
  ASSERT_EQ(hist["assignments"][0]["escalated"], true) << hist.dump();
  EXPECT_EQ(hist["assignments"].size(), 1u);  // escalated, not re-dispatched
  bool escalated = false;
  for (auto& e : items(admin.get("/api/v1/service-orders/" + S(id) + "/timeline")))
    if (e["kind"] == "dispatch.escalated") {
      escalated = true;
      EXPECT_EQ(e["detail"]["rule"], "start_timeout") << e.dump();
    }
  EXPECT_TRUE(escalated);
  bool at_risk = false;
  auto board = ok(admin.get("/api/v1/dispatch/board"));
  for (auto& a : board["at_risk"]) at_risk = at_risk || a["order_id"] == id;
  EXPECT_TRUE(at_risk) << board.dump();
  // The customer agrees a new time tomorrow: no longer overdue.
  auto cur = ok(admin.get("/api/v1/service-orders/" + S(id)));
  ok(admin.call("PATCH", "/api/v1/service-orders/" + S(id),
                json{{"expected_at", iso_utc(now_ms() + 86'400'000)}, {"version", cur["version"]}}.dump()));
  hist = ok(admin.get("/api/v1/dispatch/orders/" + S(id)));
  EXPECT_EQ(hist["assignments"][0]["escalated"], false) << hist.dump();
  EXPECT_EQ(hist["assignments"][0]["planned_start_at"], ok(admin.get("/api/v1/service-orders/" + S(id)))["expected_at"]);
}

// The follow-up rules live in the database: an acceptance deadline that
// passes while no server runs is acted on after the restart.
TEST_F(DispatchFollowUpApi, AcceptanceTimeoutFiresAfterARestart) {
  Net n;
  int64_t id = 0;
  {
    auto admin = as("admin");
    n = make_net(admin);
    auto st = ok(admin.get("/api/v1/dispatch/settings"));
    ok(admin.call("PUT", "/api/v1/dispatch/settings",
                  json{{"accept_seconds", 2}, {"accept_action", "redispatch"}, {"start_action", "none"},
                       {"version", st["version"]}}.dump()));
    id = audited_order(admin, n);
    settled(admin, id, "assigned");
    EXPECT_EQ(provider_of(admin, id), n.a);
    EXPECT_EQ(server_->stop(), 0) << server_->log();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  server_->start();
  auto admin = as("admin");
  json hist = dispatch_when(admin, id, redispatched);
  ASSERT_GE(hist["assignments"].size(), 2u) << hist.dump();
  EXPECT_EQ(hist["assignments"][1]["outlet_unit_id"], n.b);
  EXPECT_EQ(hist["assignments"][1]["mode"], "redispatch");
  bool redispatch = false;
  for (auto& e : items(admin.get("/api/v1/service-orders/" + S(id) + "/timeline")))
    redispatch = redispatch || e["kind"] == "dispatch.redispatch";
  EXPECT_TRUE(redispatch);
}

// Two server processes on one PostgreSQL database dispatch 1,000 orders
// from the same queue: each order is assigned exactly once. The orders are
// queued first (auto-dispatch off), then both servers race for the queue.
TEST(DispatchTwoServers, ThousandOrdersEachAssignedExactlyOnce) {
  if (!on_postgres()) GTEST_SKIP() << "PostgreSQL only (set SHOUHOU_TEST_PG)";
  setenv("SHOUHOU_DISPATCH_TICK_MS", "200", 1);
  std::string db = fresh_database();
  ServerProcess s1(db);
  ServerProcess s2(db);
  LoggedIn admin(s1.port(), "admin");
  auto st = ok(admin.get("/api/v1/dispatch/settings"));
  st = ok(admin.call("PUT", "/api/v1/dispatch/settings", json{{"auto_dispatch", false}, {"version", st["version"]}}.dump()));
  Net n = make_net(admin, json{{"capacity", {{{"order_type", "installation"}, {"per_day", 5000}}}}},
                   json{{"capacity", {{{"order_type", "installation"}, {"per_day", 5000}}}}});
  constexpr int kOrders = 1000;
  std::vector<int64_t> ids1, ids2;
  auto feed = [&](uint16_t port, std::vector<int64_t>& ids) {
    LoggedIn s(port, "admin");
    for (int i = 0; i < kOrders / 2; ++i) ids.push_back(audited_order(s, n));
  };
  std::thread t1(feed, s1.port(), std::ref(ids1)), t2(feed, s2.port(), std::ref(ids2));
  t1.join();
  t2.join();
  ASSERT_EQ(ids1.size() + ids2.size(), size_t(kOrders));
  auto pending = [&] {
    size_t k = 0;
    std::string cursor;
    for (int page = 0; page < 20; ++page) {
      auto r = ok(admin.get("/api/v1/dispatch/queue?state=pending&limit=500&product_line_id=" + S(n.line) +
                            (cursor.empty() ? "" : "&cursor=" + cursor)));
      k += r["items"].size();
      if (!r["next_cursor"].is_string()) break;
      cursor = r["next_cursor"].get<std::string>();
    }
    return k;
  };
  ASSERT_EQ(pending(), size_t(kOrders)) << "all queued, none dispatched yet";
  // Both servers take from the same queue now.
  ok(admin.call("PUT", "/api/v1/dispatch/settings", json{{"auto_dispatch", true}, {"version", st["version"]}}.dump()));
  // Wait until neither server has pending work.
  for (int i = 0; i < 1200; ++i) {
    if (items(admin.get("/api/v1/dispatch/queue?state=pending&limit=10")).empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  PGconn* c = PQconnectdb(db.c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  auto scalar = [&](const std::string& sql) -> std::string {
    PGresult* r = PQexec(c, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(c) << sql;
    std::string v = PQntuples(r) ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return v;
  };
  std::string line = S(n.line);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dispatch_queue WHERE product_line_id = " + line + " AND state = 'assigned'"), "1000");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dispatch_assignments WHERE product_line_id = " + line), "1000");
  EXPECT_EQ(scalar("SELECT COUNT(DISTINCT order_id) FROM dispatch_assignments WHERE product_line_id = " + line), "1000");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM service_orders WHERE product_line_id = " + line + " AND state = 'dispatched'"), "1000");
  // One dispatch transition per order in the timeline.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM order_timeline t JOIN service_orders o ON o.id = t.order_id WHERE o.product_line_id = " +
                   line + " AND t.kind = 'transition' AND t.action = 'dispatch'"), "1000");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM (SELECT t.order_id FROM order_timeline t JOIN service_orders o ON o.id = t.order_id "
                   "WHERE o.product_line_id = " + line + " AND t.kind = 'assign' GROUP BY t.order_id HAVING COUNT(*) <> 1) x"), "0");
  // Both processes took part.
  EXPECT_EQ(scalar("SELECT COUNT(DISTINCT node) FROM dispatch_assignments WHERE product_line_id = " + line), "2");
  PQfinish(c);
  EXPECT_EQ(s1.stop(), 0) << s1.log();
  EXPECT_EQ(s2.stop(), 0) << s2.log();
}
