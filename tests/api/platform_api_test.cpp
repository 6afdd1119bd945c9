// The platform's API contract, against a real server process, on SQLite or
// (with SHOUHOU_TEST_PG) PostgreSQL.
#include <atomic>
#include <mutex>
#include <set>

#include "harness.h"

using namespace shouhou;
using namespace shouhou::test;

class PlatformApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServerProcess(); }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << "server must exit cleanly on SIGTERM\n" << server_->log();
    delete server_;
    server_ = nullptr;
  }
  static uint16_t port() { return server_->port(); }
  static Session as(const std::string& user) {
    Session s(port());
    auto r = s.login(user);
    EXPECT_EQ(r.status, 200) << r.body;
    return s;
  }
  static int64_t unit_id(Session& s, const std::string& code) {
    auto r = s.get("/api/v1/org-units?limit=500");
    for (auto& u : items(r))
      if (u["code"] == code) return u["id"];
    return 0;
  }
  static std::string uniq(const std::string& p) { return p + random_hex(4); }
  static ServerProcess* server_;
};
ServerProcess* PlatformApi::server_ = nullptr;

TEST_F(PlatformApi, HealthzAndMetrics) {
  Session s(port());
  auto h = s.get("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(body(h)["db"]["ok"], true);
  EXPECT_EQ(body(h)["db"]["backend"], on_postgres() ? "postgres" : "sqlite");
  auto m = s.get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("shouhou_http_requests_total"), std::string::npos) << m.body.substr(0, 500);
  EXPECT_NE(m.body.find("shouhou_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(m.body.find("shouhou_db_stat"), std::string::npos);
}

TEST_F(PlatformApi, LoginMeLogout) {
  Session anon(port());
  EXPECT_EQ(anon.get("/api/v1/me").status, 401);
  EXPECT_EQ(anon.login("admin", "wrong-password").status, 401);
  EXPECT_EQ(anon.login("nosuchuser", "whatever").status, 401);
  auto s = as("admin");
  auto me = s.get("/api/v1/me");
  ASSERT_EQ(me.status, 200);
  auto j = body(me);
  EXPECT_EQ(j["username"], "admin");
  EXPECT_EQ(j["org_unit"]["type"], "hq");
  EXPECT_NE(j["permissions"].size(), 0u);
  EXPECT_EQ(s.call("POST", "/api/v1/auth/logout").status, 204);
  EXPECT_EQ(s.get("/api/v1/me").status, 401);
}

TEST_F(PlatformApi, SessionCookieIsHttpOnlySameSite) {
  Session s(port());
  auto r = s.login("agent");
  auto c = r.headers.get("set-cookie");
  ASSERT_TRUE(c);
  EXPECT_NE(c->find("HttpOnly"), std::string::npos);
  EXPECT_NE(c->find("SameSite=Lax"), std::string::npos);
  EXPECT_EQ(r.body.find("shouhou_session"), std::string::npos) << "the session token never appears in a body";
}

TEST_F(PlatformApi, LoginIsRateLimited) {
  Session s(port());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s.login("quality", "bad-" + std::to_string(i)).status, 401);
  auto r = s.login("quality");  // even the right password, while locked
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(body(r)["error"]["code"], "rate_limited");
}

TEST_F(PlatformApi, CsrfRequiredForCookieWrites) {
  auto s = as("admin");
  s.drop_csrf();
  auto r = s.post("/api/v1/org-units", json{{"code", uniq("X")}, {"name", "x"}, {"type", "region"}, {"parent_id", 1}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(body(r)["error"]["field"], "X-CSRF-Token");
}

TEST_F(PlatformApi, PermissionsPerAction) {
  auto agent = as("agent");
  auto r = agent.post("/api/v1/org-units", json{{"code", uniq("A")}, {"name", "x"}, {"type", "region"}, {"parent_id", 1}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(agent.get("/api/v1/users").status, 403);
  EXPECT_EQ(agent.get("/api/v1/audit").status, 403);
  EXPECT_EQ(agent.get("/api/v1/org-units").status, 403);
  EXPECT_EQ(agent.get("/api/v1/me").status, 200);
}

TEST_F(PlatformApi, ProviderCannotReachAnotherProvidersRecords) {
  auto admin = as("admin");
  int64_t sh = unit_id(admin, "SP-SH-XH"), jn = unit_id(admin, "SP-JN-LX"), hq = unit_id(admin, "HQ");
  ASSERT_GT(sh, 0);
  ASSERT_GT(jn, 0);
  auto p1 = as("provider1");
  EXPECT_EQ(p1.get("/api/v1/org-units/" + std::to_string(sh)).status, 200);
  // Another provider's unit, a parent unit, and ids that do not exist all look the same: 404.
  for (int64_t id : {jn, hq, int64_t(999999)}) {
    auto r = p1.get("/api/v1/org-units/" + std::to_string(id));
    EXPECT_EQ(r.status, 404) << id << " " << r.body;
  }
  auto list = body(p1.get("/api/v1/org-units?limit=500"));
  for (auto& u : list["items"]) EXPECT_EQ(u["id"], sh) << "provider1 listed " << u["code"];
  // Users of the other provider: invisible in lists and by id.
  auto users = body(p1.get("/api/v1/users?limit=500"));
  std::set<std::string> names;
  for (auto& u : users["items"]) names.insert(u["username"]);
  EXPECT_TRUE(names.count("engineer1"));
  EXPECT_FALSE(names.count("engineer2"));
  auto all = body(admin.get("/api/v1/users?q=engineer2"));
  ASSERT_EQ(all["items"].size(), 1u);
  int64_t e2 = all["items"][0]["id"];
  EXPECT_EQ(p1.get("/api/v1/users/" + std::to_string(e2)).status, 404);
}

TEST_F(PlatformApi, BadInputGetsA4xxNamingTheProblem) {
  auto s = as("admin");
  auto r = s.call("POST", "/api/v1/org-units", "{\"code\": \"X1\", \"name\": ");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["code"], "invalid");
  EXPECT_EQ(body(r)["error"]["field"], "body");

  r = s.call("POST", "/api/v1/org-units", "[1,2]");
  EXPECT_EQ(r.status, 400);

  r = s.post("/api/v1/org-units", json{{"code", 12}, {"name", "x"}, {"type", "region"}, {"parent_id", 1}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "code");

  r = s.post("/api/v1/org-units", json{{"code", uniq("B")}, {"name", "x"}, {"type", "region"}, {"parent_id", "1"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "parent_id");

  r = s.post("/api/v1/org-units", json{{"code", uniq("C")}, {"type", "region"}, {"parent_id", 1}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "name");

  r = s.post("/api/v1/org-units", json{{"code", uniq("D")}, {"name", "x"}, {"type", "planet"}, {"parent_id", 1}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "type");

  r = s.post("/api/v1/users", json{{"username", uniq("u")}, {"display_name", "x"}, {"password", "123"},
                                   {"org_unit_id", 1}, {"roles", {"agent"}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "password");

  std::string bad_utf8 = std::string("{\"code\":\"") + uniq("E") + "\",\"name\":\"\xff\xfe\",\"type\":\"region\",\"parent_id\":1}";
  r = s.call("POST", "/api/v1/org-units", bad_utf8);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(body(r)["error"]["message"].get<std::string>().find("UTF-8"), std::string::npos) << r.body;

  std::string huge = "{\"name\":\"" + std::string(9 * 1024 * 1024, 'x') + "\"}";
  Session big(port());
  auto rb = big.call("POST", "/api/v1/auth/login", huge);
  EXPECT_EQ(rb.status, 413);

  // Unknown ids and non-numeric ids.
  EXPECT_EQ(s.get("/api/v1/org-units/123456789").status, 404);
  EXPECT_EQ(s.get("/api/v1/org-units/abc").status, 404);
  EXPECT_EQ(s.get("/api/v1/org-units?limit=0").status, 400);
  EXPECT_EQ(s.get("/api/v1/no-such-thing").status, 404);
  EXPECT_EQ(s.call("DELETE", "/api/v1/me").status, 405);
  // And the server is still fine.
  EXPECT_EQ(s.get("/healthz").status, 200);
}

TEST_F(PlatformApi, IdempotentRetryWritesOnce) {
  auto s = as("admin");
  std::string code = uniq("IDEM");
  json req{{"code", code}, {"name", "幂等测试"}, {"type", "region"}, {"parent_id", 1}};
  http::Headers h;
  h.set("idempotency-key", "k-" + code);
  auto a = s.post("/api/v1/org-units", req, h);
  ASSERT_EQ(a.status, 201) << a.body;
  auto b = s.post("/api/v1/org-units", req, h);
  EXPECT_EQ(b.status, 201);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(b.headers.get("idempotent-replayed").value_or(""), "true");
  auto list = body(s.get("/api/v1/org-units?limit=500&q=" + code));
  EXPECT_EQ(list["items"].size(), 1u);
  int64_t id = body(a)["id"];
  auto audit = body(s.get("/api/v1/audit?entity=org_unit&id=" + std::to_string(id)));
  EXPECT_EQ(audit["items"].size(), 1u) << "one create, one audit row";
  // The same key with another body is refused.
  req["name"] = "不同";
  auto c = s.post("/api/v1/org-units", req, h);
  EXPECT_EQ(c.status, 409);
}

TEST_F(PlatformApi, StaleVersionGets409) {
  auto s = as("admin");
  auto created = s.post("/api/v1/org-units", json{{"code", uniq("V")}, {"name", "版本"}, {"type", "region"}, {"parent_id", 1}});
  ASSERT_EQ(created.status, 201);
  int64_t id = body(created)["id"];
  std::string path = "/api/v1/org-units/" + std::to_string(id);
  auto u1 = s.patch(path, json{{"version", 1}, {"name", "版本二"}});
  ASSERT_EQ(u1.status, 200) << u1.body;
  EXPECT_EQ(body(u1)["version"], 2);
  auto u2 = s.patch(path, json{{"version", 1}, {"name", "过期"}});
  EXPECT_EQ(u2.status, 409);
  EXPECT_EQ(body(u2)["error"]["field"], "version");
  EXPECT_EQ(body(s.get(path))["name"], "版本二");
  EXPECT_EQ(s.patch(path, json{{"name", "无版本"}}).status, 400);
}

TEST_F(PlatformApi, EveryWriteLeavesAnAuditRow) {
  auto s = as("admin");
  auto created = s.post("/api/v1/org-units", json{{"code", uniq("AU")}, {"name", "审计"}, {"type", "region"}, {"parent_id", 1}});
  ASSERT_EQ(created.status, 201);
  int64_t id = body(created)["id"];
  ASSERT_EQ(s.patch("/api/v1/org-units/" + std::to_string(id), json{{"version", 1}, {"phone", "021-5030-1234"}}).status, 200);
  auto u = s.post("/api/v1/users", json{{"username", uniq("aud")}, {"display_name", "审计用户"}, {"password", "secret-pw"},
                                        {"org_unit_id", id}, {"roles", {"agent"}}});
  ASSERT_EQ(u.status, 201) << u.body;
  auto audit = body(s.get("/api/v1/audit?entity=org_unit&id=" + std::to_string(id)));
  ASSERT_EQ(audit["items"].size(), 2u);
  auto upd = audit["items"][0];  // newest first
  EXPECT_EQ(upd["action"], "update");
  EXPECT_EQ(upd["username"], "admin");
  EXPECT_EQ(upd["before"]["phone"], nullptr);
  EXPECT_EQ(upd["after"]["phone"], "021-5030-1234");
  EXPECT_FALSE(upd["client_addr"].get<std::string>().empty());
  auto ua = body(s.get("/api/v1/audit?entity=user&id=" + std::to_string(body(u)["id"].get<int64_t>())));
  ASSERT_EQ(ua["items"].size(), 1u);
  EXPECT_EQ(ua["items"][0]["after"].dump().find("password"), std::string::npos) << "no password hash in the audit";
  // The audit log has no write API.
  EXPECT_EQ(s.call("DELETE", "/api/v1/audit").status, 405);
  EXPECT_EQ(s.post("/api/v1/audit", json::object()).status, 405);
}

TEST_F(PlatformApi, UserLifecycleAndPrivilegeEscalation) {
  auto admin = as("admin");
  std::string name = uniq("newagent");
  auto u = admin.post("/api/v1/users", json{{"username", name}, {"display_name", "新坐席"}, {"password", "pass-1234"},
                                            {"org_unit_id", 1}, {"roles", {"agent"}}});
  ASSERT_EQ(u.status, 201) << u.body;
  EXPECT_EQ(admin.post("/api/v1/users", json{{"username", name}, {"display_name", "dup"}, {"password", "pass-1234"},
                                             {"org_unit_id", 1}, {"roles", {"agent"}}}).status, 409);
  Session s(port());
  ASSERT_EQ(s.login(name, "pass-1234").status, 200);
  EXPECT_EQ(body(s.get("/api/v1/me"))["roles"], json({"agent"}));
  // Disable: the session ends.
  int64_t id = body(u)["id"];
  ASSERT_EQ(admin.patch("/api/v1/users/" + std::to_string(id), json{{"version", 1}, {"active", false}}).status, 200);
  EXPECT_EQ(s.get("/api/v1/me").status, 401);
  EXPECT_EQ(s.login(name, "pass-1234").status, 401);
  // A manager with user.write but not admin rights cannot create an admin.
  auto mgr_role = body(admin.get("/api/v1/roles"));
  (void)mgr_role;
  auto p1 = as("provider1");
  EXPECT_EQ(p1.post("/api/v1/users", json{{"username", uniq("x")}, {"display_name", "x"}, {"password", "pass-1234"},
                                          {"org_unit_id", 1}, {"roles", {"admin"}}}).status, 403);
}

TEST_F(PlatformApi, ApiTokens) {
  auto admin = as("admin");
  auto t = admin.post("/api/v1/api-tokens", json{{"name", "finance system"}});
  ASSERT_EQ(t.status, 201) << t.body;
  std::string token = body(t)["token"];
  Session sys(port());
  sys.use_bearer(token);
  EXPECT_EQ(sys.get("/api/v1/me").status, 200);
  // Bearer requests need no CSRF token.
  auto w = sys.post("/api/v1/org-units", json{{"code", uniq("TK")}, {"name", "令牌"}, {"type", "region"}, {"parent_id", 1}});
  EXPECT_EQ(w.status, 201) << w.body;
  ASSERT_EQ(admin.call("DELETE", "/api/v1/api-tokens/" + std::to_string(body(t)["id"].get<int64_t>())).status, 204);
  EXPECT_EQ(sys.get("/api/v1/me").status, 401);
  Session bad(port());
  bad.use_bearer("shk_not_a_token");
  EXPECT_EQ(bad.get("/api/v1/me").status, 401);
}

TEST_F(PlatformApi, OpenApiDocumentsEveryServedRoute) {
  Session s(port());
  auto doc = body(s.get("/api/openapi.json"));
  ASSERT_TRUE(doc.contains("paths"));
  auto admin = as("admin");
  int checked = 0;
  for (auto& [path, ops] : doc["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      EXPECT_TRUE(op.contains("summary") && !op["summary"].get<std::string>().empty()) << method << " " << path;
      std::string m = method;
      for (auto& ch : m) ch = static_cast<char>(std::toupper(ch));
      std::string target = path;
      for (size_t b; (b = target.find('{')) != std::string::npos;) target.replace(b, target.find('}') - b + 1, "1");
      // Documented routes are served: never a 404-for-unknown-path or 405.
      auto r = admin.call(m, target, m == "GET" ? "" : "{}");
      EXPECT_NE(r.status, 405) << m << " " << target;
      if (r.status == 404) EXPECT_EQ(body(r)["error"]["message"].get<std::string>().find("no such endpoint"), std::string::npos) << m << " " << target;
      ++checked;
    }
  }
  EXPECT_GT(checked, 15);
  // And an undocumented path is not served.
  EXPECT_EQ(admin.get("/api/v1/undocumented").status, 404);
}

// kill -9 during a stream of writes: every acknowledged write survives and
// the database passes its integrity check.
TEST(KillTest, AcknowledgedWritesSurviveKill9) {
  std::string db = fresh_database();
  auto server = std::make_unique<ServerProcess>(db);
  std::mutex mu;
  std::vector<std::string> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      Session s(server->port());
      s.tolerate_transport_errors();
      if (s.login("admin").status != 200) return;
      for (int i = 0; !stop; ++i) {
        std::string code = "K" + std::to_string(w) + "-" + std::to_string(i);
        auto r = s.post("/api/v1/org-units", json{{"code", code}, {"name", "压力" + code}, {"type", "region"}, {"parent_id", 1}});
        if (r.status == 0) return;  // connection died with the server
        if (r.status == 201) {
          std::lock_guard lk(mu);
          acked.push_back(code);
        }
      }
    });
  }
  // Kill once the stream is well under way (not after a fixed time: on a loaded machine the logins alone
  // can take seconds), or after 60 s at the latest so a stuck server still fails the test below.
  for (int waited = 0; waited < 600; ++waited) {
    {
      std::lock_guard lk(mu);
      if (acked.size() >= 40) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // mid-stream, not at a batch boundary
  server->kill9();
  stop = true;
  for (auto& t : writers) t.join();
  ASSERT_GT(acked.size(), 10u) << "the stream made progress before the kill";

  server = std::make_unique<ServerProcess>(db);
  Session s(server->port());
  ASSERT_EQ(s.login("admin").status, 200);
  std::set<std::string> present;
  std::string cursor;
  for (;;) {
    auto page = body(s.get("/api/v1/org-units?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor)));
    for (auto& u : page["items"]) present.insert(u["code"]);
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"];
  }
  size_t lost = 0;
  for (auto& c : acked) lost += !present.count(c);
  EXPECT_EQ(lost, 0u) << "of " << acked.size() << " acknowledged writes";
  EXPECT_EQ(server->stop(), 0);
  // Integrity check through the CLI on the same database.
  std::string bin = env("SHOUHOU_BINARY", SHOUHOU_BINARY);
  std::string cmd = bin + " --db '" + db + "' check > /dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::cout << "[kill test] " << acked.size() << " acknowledged writes, all present after kill -9\n";
}
