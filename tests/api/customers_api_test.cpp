// M1 Customers and the CTI screen pop, against a real server process, on
// SQLite or (with SHOUHOU_TEST_PG) PostgreSQL.
#include "harness.h"

using namespace shouhou;
using namespace shouhou::test;

class CustomersApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServerProcess(); }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << "server must exit cleanly on SIGTERM\n" << server_->log();
    delete server_;
    server_ = nullptr;
  }
  // A logged-in session, returned as a prvalue (Session need not be movable).
  struct LoggedIn : Session {
    LoggedIn(uint16_t port, const std::string& user) : Session(port) {
      auto r = login(user);
      EXPECT_EQ(r.status, 200) << r.body;
    }
  };
  static LoggedIn as(const std::string& user) { return LoggedIn(server_->port(), user); }
  // A random mobile number, so tests do not collide with each other or the demo.
  static std::string mobile() {
    std::string digits;
    for (char c : random_hex(4)) digits.push_back(static_cast<char>('0' + (c % 10)));
    return "139" + digits;  // 3 + 8 digits
  }
  static std::string uniq(const std::string& p) { return p + random_hex(4); }
  static std::string enc(const std::string& raw) {
    std::string e;
    for (unsigned char ch : raw) {
      if (isalnum(ch)) {
        e.push_back(static_cast<char>(ch));
      } else {
        char b[4];
        snprintf(b, sizeof b, "%%%02X", ch);
        e += b;
      }
    }
    return e;
  }
  static json create(Session& s, json body, int expect = 201) {
    auto r = s.post("/api/v1/customers", body);
    EXPECT_EQ(r.status, expect) << r.body;
    return json::parse(r.body, nullptr, false);
  }
  static ServerProcess* server_;
};
ServerProcess* CustomersApi::server_ = nullptr;

TEST_F(CustomersApi, CreateAndThe360View) {
  auto s = as("agent");
  std::string name = uniq("青岛海岸机电有限公司");
  std::string m1 = mobile();
  auto c = create(s, {{"name", name},
                      {"kind", "organisation"},
                      {"type", "direct"},
                      {"code", uniq("C-")},
                      {"phones", {"0532-8588-1234"}},
                      {"contacts", {{{"name", "张工"}, {"title", "设备科长"}, {"email", "zhang@example.cn"},
                                     {"is_primary", true},
                                     {"phones", {{{"number", m1}, {"label", "mobile"}}, "0532-8588-1234 转 21"}}}}},
                      {"addresses", {{{"province_code", "370000"}, {"city_code", "370200"}, {"county_code", "370202"},
                                      {"detail", "香港中路 10 号"}, {"postcode", "266071"}}}}});
  ASSERT_TRUE(c.is_object());
  int64_t id = c["id"];
  EXPECT_EQ(c["name"], name);
  EXPECT_EQ(c["tier"], "small");
  EXPECT_EQ(c["purchase_total_fen"], 0);
  EXPECT_EQ(c["org_unit"]["name"], "总部");  // the agent's unit (HQ) by default
  ASSERT_EQ(c["phones"].size(), 1u);
  EXPECT_EQ(c["phones"][0]["normalized"], "053285881234");
  ASSERT_EQ(c["contacts"].size(), 1u);
  EXPECT_EQ(c["contacts"][0]["phones"].size(), 2u);
  EXPECT_EQ(c["contacts"][0]["phones"][1]["ext"], "21");
  ASSERT_EQ(c["addresses"].size(), 1u);
  EXPECT_EQ(c["addresses"][0]["division_name"], "山东省 青岛市 市南区");
  EXPECT_EQ(c["addresses"][0]["is_default"], true);

  auto v = s.get("/api/v1/customers/" + std::to_string(id) + "/360");
  ASSERT_EQ(v.status, 200) << v.body;
  auto j = body(v);
  EXPECT_EQ(j["customer"]["id"], id);
  for (const char* k : {"assets", "contracts", "orders", "sites", "purchases", "history"}) EXPECT_TRUE(j[k].is_array()) << k;
  ASSERT_GE(j["history"].size(), 1u);
  EXPECT_EQ(j["history"][0]["action"], "create");
  EXPECT_EQ(j["history"][0]["username"], "agent");

  auto g = s.get("/api/v1/customers/" + std::to_string(id));
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(body(g)["contacts"][0]["name"], "张工");
}

TEST_F(CustomersApi, ScreenPopResolvesEveryWayOfWritingTheNumber) {
  auto s = as("agent");
  auto c = create(s, {{"name", uniq("上海测试精工")},
                      {"kind", "organisation"},
                      {"type", "indirect"},
                      {"phones", {"021-6688-4321"}},
                      {"contacts", {{{"name", "王经理"}, {"phones", {"+86 137 0000 4321"}}}}}});
  int64_t id = c["id"];
  auto lookup = [&](const std::string& raw, const std::string& extra = "") {
    return s.get("/api/v1/cti/lookup?phone=" + enc(raw) + extra);
  };
  for (const char* raw : {"+86 137 0000 4321", "0086-13700004321", "137-0000-4321", "13700004321", "8613700004321"}) {
    auto r = lookup(raw);
    ASSERT_EQ(r.status, 200) << raw << " " << r.body;
    auto j = body(r);
    EXPECT_EQ(j["phone"]["normalized"], "13700004321") << raw;
    ASSERT_EQ(j["count"], 1) << raw << " " << r.body;
    EXPECT_EQ(j["matches"][0]["customer"]["id"], id);
    EXPECT_EQ(j["matches"][0]["matched_contact"]["name"], "王经理");
    EXPECT_TRUE(j["matches"][0]["open_orders"].is_array());
    EXPECT_TRUE(j["matches"][0]["assets"].is_array());
    EXPECT_GE(j["matches"][0]["last_contacts"].size(), 1u);
  }
  for (const char* raw : {"(021) 6688 4321", "021-6688-4321", "021-6688-4321 ext. 8", "021-66884321转8", "+86 21 6688 4321"}) {
    auto r = lookup(raw);
    ASSERT_EQ(r.status, 200) << raw << " " << r.body;
    auto j = body(r);
    EXPECT_EQ(j["phone"]["normalized"], "02166884321") << raw;
    ASSERT_EQ(j["count"], 1) << raw;
    EXPECT_EQ(j["matches"][0]["customer"]["id"], id);
    EXPECT_TRUE(j["matches"][0]["matched_contact"].is_null());
  }
  auto ext = body(lookup("021-6688-4321 ext. 8"));
  EXPECT_EQ(ext["phone"]["ext"], "8");
  auto local = lookup("6688-4321", "&area=021");
  ASSERT_EQ(local.status, 200) << local.body;
  EXPECT_EQ(body(local)["count"], 1);
  EXPECT_EQ(body(lookup("6688-4321")).value("error", json::object())["field"], "phone");  // no area code: invalid

  auto none = lookup("13700009999");
  ASSERT_EQ(none.status, 200);
  EXPECT_EQ(body(none)["count"], 0);
  EXPECT_TRUE(body(none)["matches"].empty());
  auto bad = lookup("not-a-number");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body(bad)["error"]["field"], "phone");
  EXPECT_EQ(s.get("/api/v1/cti/lookup").status, 400);

  // The demo customer of seed 003: main line and the contact's mobile.
  auto wanli = body(lookup("021 5030 1234"));
  ASSERT_GE(wanli["count"].get<int>(), 1);
  EXPECT_EQ(wanli["matches"][0]["customer"]["name"], "上海万力机械有限公司");
}

TEST_F(CustomersApi, DuplicateWarningUnlessConfirmed) {
  auto s = as("agent");
  std::string m = mobile();
  std::string name = uniq("赵先生");
  json base{{"name", name}, {"kind", "individual"}, {"type", "direct"}, {"phones", {m}},
            {"addresses", {{{"county_code", "370102"}, {"detail", "泉城路 100 号"}}}}};
  auto first = create(s, base);
  int64_t first_id = first["id"];

  // Same number written differently.
  json again{{"name", "别人"}, {"kind", "individual"}, {"type", "direct"},
             {"phones", {"+86 " + m.substr(0, 3) + " " + m.substr(3, 4) + " " + m.substr(7)}}};
  auto r = s.post("/api/v1/customers", again);
  ASSERT_EQ(r.status, 409) << r.body;
  auto j = body(r);
  EXPECT_EQ(j["error"]["code"], "conflict");
  EXPECT_EQ(j["error"]["field"], "confirm_duplicate");
  ASSERT_EQ(j["duplicates"].size(), 1u);
  EXPECT_EQ(j["duplicates"][0]["id"], first_id);
  EXPECT_EQ(j["duplicates"][0]["reasons"], json::array({"phone"}));
  // Nothing was created by the refused attempt.
  auto search = body(s.get("/api/v1/customers?phone=" + m));
  EXPECT_EQ(search["items"].size(), 1u);

  // Same name and address, other phone.
  json same_addr{{"name", name + " "}, {"kind", "individual"}, {"type", "direct"}, {"phones", {mobile()}},
                 {"addresses", {{{"province_code", "370000"}, {"city_code", "370100"}, {"detail", "泉城路100号"}}}}};
  auto r2 = s.post("/api/v1/customers", same_addr);
  ASSERT_EQ(r2.status, 409) << r2.body;
  EXPECT_EQ(body(r2)["duplicates"][0]["reasons"], json::array({"name_address"}));

  again["confirm_duplicate"] = true;
  auto ok = s.post("/api/v1/customers", again);
  EXPECT_EQ(ok.status, 201) << ok.body;
  auto both = body(s.get("/api/v1/customers?phone=" + m));
  EXPECT_EQ(both["items"].size(), 2u);
}

TEST_F(CustomersApi, TierRecomputedOnPurchasesAndThresholdChanges) {
  auto admin = as("admin");
  auto t = admin.get("/api/v1/customer-tiers");
  ASSERT_EQ(t.status, 200) << t.body;
  auto th = body(t);
  int64_t vip = th["vip_min_fen"], key = th["key_min_fen"];
  ASSERT_GT(vip, key);

  auto c = create(admin, {{"name", uniq("等级测试公司")}, {"kind", "organisation"}, {"type", "direct"}, {"phones", {mobile()}}});
  std::string id = std::to_string(c["id"].get<int64_t>());
  auto buy = [&](int64_t fen) { return admin.post("/api/v1/customers/" + id + "/purchases", {{"amount_fen", fen}}); };
  auto r = buy(key - 1);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body(r)["tier"], "small");
  r = buy(1);  // exactly at the key threshold
  EXPECT_EQ(body(r)["tier"], "key");
  EXPECT_EQ(body(r)["previous_tier"], "small");
  EXPECT_EQ(body(r)["purchase_total_fen"], key);
  r = buy(vip - key);
  EXPECT_EQ(body(r)["tier"], "vip");
  r = buy(-1);  // a return below the VIP line
  EXPECT_EQ(body(r)["tier"], "key");
  EXPECT_EQ(buy(-vip * 10).status, 400);
  EXPECT_EQ(body(buy(0))["error"]["field"], "amount_fen");
  auto hist = body(admin.get("/api/v1/customers/" + id + "/360"));
  EXPECT_EQ(hist["purchases"].size(), 4u);
  EXPECT_EQ(hist["history"][0]["action"], "purchase");

  // Lower thresholds: the customer (total vip-1) becomes VIP without a new purchase.
  int64_t version = th["version"];
  auto put = admin.call("PUT", "/api/v1/customer-tiers",
                        json{{"vip_min_fen", vip - 1}, {"key_min_fen", key}, {"version", version}}.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_GE(body(put)["customers_retiered"].get<int64_t>(), 1);
  EXPECT_EQ(body(admin.get("/api/v1/customers/" + id))["tier"], "vip");
  // Stale version, bad thresholds, no permission.
  auto stale = admin.call("PUT", "/api/v1/customer-tiers", json{{"vip_min_fen", vip}, {"key_min_fen", key}, {"version", version}}.dump());
  EXPECT_EQ(stale.status, 409);
  auto bad = admin.call("PUT", "/api/v1/customer-tiers", json{{"vip_min_fen", 5}, {"key_min_fen", 5}, {"version", version + 1}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body(bad)["error"]["field"], "vip_min_fen");
  auto agent = as("agent");
  EXPECT_EQ(agent.call("PUT", "/api/v1/customer-tiers", json{{"vip_min_fen", 9}, {"key_min_fen", 1}, {"version", version + 1}}.dump()).status, 403);
  // Restore.
  auto back = admin.call("PUT", "/api/v1/customer-tiers", json{{"vip_min_fen", vip}, {"key_min_fen", key}, {"version", version + 1}}.dump());
  EXPECT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(body(admin.get("/api/v1/customers/" + id))["tier"], "key");
  // The tier is not writable directly.
  auto direct = admin.patch("/api/v1/customers/" + id, {{"tier", "vip"}, {"version", 1}});
  EXPECT_EQ(direct.status, 400);
  EXPECT_EQ(body(direct)["error"]["field"], "tier");
}

TEST_F(CustomersApi, ProviderScope) {
  auto p1 = as("provider1");
  auto p2 = as("provider2");
  std::string m = mobile();
  auto c2 = create(p2, {{"name", uniq("历下用户")}, {"kind", "individual"}, {"type", "direct"}, {"phones", {m}},
                        {"addresses", {{{"county_code", "370102"}, {"detail", "历山路 1 号"}}}}});
  std::string id2 = std::to_string(c2["id"].get<int64_t>());
  EXPECT_EQ(p2.get("/api/v1/customers/" + id2).status, 200);
  // provider1 cannot read it by id, 360, purchases, or find it by search or phone.
  EXPECT_EQ(p1.get("/api/v1/customers/" + id2).status, 404);
  EXPECT_EQ(p1.get("/api/v1/customers/" + id2 + "/360").status, 404);
  EXPECT_EQ(p1.get("/api/v1/customers/" + id2 + "/purchases").status, 404);
  EXPECT_EQ(body(p1.get("/api/v1/customers/999999999"))["error"]["code"],
            body(p1.get("/api/v1/customers/" + id2))["error"]["code"]);
  EXPECT_TRUE(body(p1.get("/api/v1/customers?phone=" + m))["items"].empty());
  EXPECT_TRUE(body(p1.get("/api/v1/customers?q=" + m))["items"].empty());
  EXPECT_TRUE(body(p1.get("/api/v1/customers?q=" + m.substr(3)))["items"].empty());
  auto pop = body(p1.get("/api/v1/cti/lookup?phone=" + m));
  EXPECT_EQ(pop["count"], 0);
  // ... nor change it or record purchases on it, nor hang a site under it, nor learn it exists via duplicates.
  EXPECT_EQ(p1.patch("/api/v1/customers/" + id2, {{"name", "x"}, {"version", 1}}).status, 404);
  EXPECT_EQ(p1.post("/api/v1/customers/" + id2 + "/purchases", {{"amount_fen", 100}}).status, 404);
  auto dup = p1.post("/api/v1/customers", {{"name", "同号客户"}, {"kind", "individual"}, {"type", "direct"}, {"phones", {m}}});
  EXPECT_EQ(dup.status, 201) << "another provider's customer must not leak through the duplicate check: " << dup.body;
  // provider1 cannot place a customer in provider2's unit.
  auto units = body(as("admin").get("/api/v1/org-units?limit=500"));
  int64_t p2_unit = 0;
  for (auto& u : units["items"])
    if (u["code"] == "SP-JN-LX") p2_unit = u["id"];
  auto foreign_unit = p1.post("/api/v1/customers", {{"name", "x"}, {"kind", "individual"}, {"type", "direct"},
                                                    {"org_unit_id", p2_unit}, {"confirm_duplicate", true}});
  EXPECT_EQ(foreign_unit.status, 400);
  EXPECT_EQ(body(foreign_unit)["error"]["field"], "org_unit_id");
  // HQ (the call centre) sees both.
  auto agent = as("agent");
  EXPECT_EQ(agent.get("/api/v1/customers/" + id2).status, 200);
  EXPECT_EQ(body(agent.get("/api/v1/cti/lookup?phone=" + m))["count"], 2);
  // provider2 does not see provider1's copy.
  EXPECT_EQ(body(p2.get("/api/v1/cti/lookup?phone=" + m))["count"], 1);
}

TEST_F(CustomersApi, TwoLevelAccounts) {
  auto s = as("agent");
  auto national = create(s, {{"name", uniq("全国连锁")}, {"kind", "organisation"}, {"type", "direct"}, {"phones", {mobile()}}});
  int64_t nid = national["id"];
  auto site = create(s, {{"name", uniq("全国连锁 济南店")}, {"kind", "organisation"}, {"type", "direct"},
                         {"parent_id", nid}, {"phones", {mobile()}}});
  int64_t sid = site["id"];
  auto v = body(s.get("/api/v1/customers/" + std::to_string(nid) + "/360"));
  ASSERT_EQ(v["sites"].size(), 1u);
  EXPECT_EQ(v["sites"][0]["id"], sid);
  auto sv = body(s.get("/api/v1/customers/" + std::to_string(sid) + "/360"));
  EXPECT_EQ(sv["parent"]["id"], nid);
  // Only two levels; an individual cannot be a national account.
  auto third = s.post("/api/v1/customers", {{"name", "三级"}, {"kind", "organisation"}, {"type", "direct"}, {"parent_id", sid}});
  EXPECT_EQ(third.status, 400);
  EXPECT_EQ(body(third)["error"]["field"], "parent_id");
  auto person = create(s, {{"name", uniq("个人")}, {"kind", "individual"}, {"type", "direct"}, {"phones", {mobile()}}});
  auto under_person = s.post("/api/v1/customers", {{"name", "x"}, {"kind", "organisation"}, {"type", "direct"},
                                                   {"parent_id", person["id"]}});
  EXPECT_EQ(under_person.status, 400);
  // A national account with sites cannot itself become a site.
  auto other = create(s, {{"name", uniq("另一总部")}, {"kind", "organisation"}, {"type", "direct"}, {"phones", {mobile()}}});
  auto demote = s.patch("/api/v1/customers/" + std::to_string(nid), {{"parent_id", other["id"]}, {"version", national["version"]}});
  EXPECT_EQ(demote.status, 400);
  auto list = body(s.get("/api/v1/customers?parent_id=" + std::to_string(nid)));
  EXPECT_EQ(list["items"].size(), 1u);
}

TEST_F(CustomersApi, UpdateKeepsContactIdsAndChecksVersion) {
  auto s = as("agent");
  auto c = create(s, {{"name", uniq("更新测试")}, {"kind", "organisation"}, {"type", "agent"},
                      {"contacts", {{{"name", "甲"}, {"phones", {mobile()}}}, {{"name", "乙"}, {"phones", {mobile()}}}}}});
  std::string id = std::to_string(c["id"].get<int64_t>());
  int64_t keep_id = c["contacts"][0]["id"];
  std::string newm = mobile();
  auto u = s.patch("/api/v1/customers/" + id,
                   {{"version", c["version"]}, {"type", "dealer"},
                    {"contacts", {{{"id", keep_id}, {"name", "甲改"}, {"phones", {newm}}}, {{"name", "丙"}}}}});
  ASSERT_EQ(u.status, 200) << u.body;
  auto j = body(u);
  EXPECT_EQ(j["type"], "dealer");
  ASSERT_EQ(j["contacts"].size(), 2u);
  EXPECT_EQ(j["contacts"][0]["id"], keep_id);
  EXPECT_EQ(j["contacts"][0]["name"], "甲改");
  EXPECT_EQ(j["contacts"][1]["name"], "丙");
  EXPECT_EQ(body(s.get("/api/v1/cti/lookup?phone=" + newm))["count"], 1);
  EXPECT_EQ(j["version"], c["version"].get<int64_t>() + 1);
  auto stale = s.patch("/api/v1/customers/" + id, {{"version", c["version"]}, {"name", "x"}});
  EXPECT_EQ(stale.status, 409);
  auto foreign_contact = s.patch("/api/v1/customers/" + id, {{"version", j["version"]}, {"contacts", {{{"id", 1}, {"name", "x"}}}}});
  EXPECT_EQ(foreign_contact.status, 400) << foreign_contact.body;
  EXPECT_EQ(body(foreign_contact)["error"]["field"], "contacts[0].id");
  auto hist = body(s.get("/api/v1/customers/" + id + "/360"))["history"];
  EXPECT_EQ(hist[0]["action"], "update");
  EXPECT_EQ(hist[0]["before"]["type"], "agent");
  EXPECT_EQ(hist[0]["after"]["type"], "dealer");
}

TEST_F(CustomersApi, SearchByNameAddressPhone) {
  auto s = as("agent");
  std::string tag = random_hex(4);
  std::string m = mobile();
  auto c = create(s, {{"name", "搜索测试" + tag}, {"kind", "individual"}, {"type", "direct"}, {"phones", {m}},
                      {"addresses", {{{"county_code", "310104"}, {"detail", "天钥桥路" + tag + "号"}}}}});
  int64_t id = c["id"];
  auto found = [&](const std::string& query) {
    auto r = s.get("/api/v1/customers?" + query);
    EXPECT_EQ(r.status, 200) << query << r.body;
    for (auto& it : items(r))
      if (it["id"] == id) return true;
    return false;
  };
  EXPECT_TRUE(found("q=" + tag));  // hex tag: ASCII
  EXPECT_TRUE(found("name=" + tag));
  EXPECT_TRUE(found("q=" + m));
  EXPECT_TRUE(found("phone=%2B86%20" + m));
  EXPECT_TRUE(found("q=" + m.substr(5)));  // partial number
  EXPECT_TRUE(found("address=" + enc("天钥桥路" + tag)));
  EXPECT_TRUE(found("tier=small&q=" + tag));
  EXPECT_FALSE(found("tier=vip&q=" + tag));
  EXPECT_FALSE(found("q=nothing-like-it"));
  EXPECT_EQ(s.get("/api/v1/customers?tier=gold").status, 400);
  EXPECT_EQ(s.get("/api/v1/customers?serial=NO-SUCH-SERIAL").status, 200);
}

TEST_F(CustomersApi, BadInputIs400WithTheField) {
  auto s = as("agent");
  struct Case { json body; const char* field; };
  std::vector<Case> cases = {
      {{{"kind", "individual"}, {"type", "direct"}}, "name"},
      {{{"name", 5}, {"kind", "individual"}, {"type", "direct"}}, "name"},
      {{{"name", "x"}, {"type", "direct"}}, "kind"},
      {{{"name", "x"}, {"kind", "robot"}, {"type", "direct"}}, "kind"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "reseller"}}, "type"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"phones", "13800138000"}}, "phones"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"phones", {"12345"}}}, "phones[0]"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"phones", {42}}}, "phones[0]"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"phones", {{{"number", "abc"}}}}}, "phones[0].number"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"contacts", {{{"title", "t"}}}}}, "contacts[0].name"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"contacts", {{{"name", "a"}, {"phones", {"1"}}}}}},
       "contacts[0].phones[0]"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"contacts", {{{"name", "a"}, {"email", "nope"}}}}},
       "contacts[0].email"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"addresses", {{{"county_code", "370102"}}}}},
       "addresses[0].detail"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"addresses", {{{"county_code", "999999"}, {"detail", "d"}}}}},
       "addresses[0].county_code"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"},
        {"addresses", {{{"city_code", "310100"}, {"county_code", "370102"}, {"detail", "d"}}}}}, "addresses[0].county_code"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"},
        {"addresses", {{{"province_code", "370100"}, {"detail", "d"}}}}}, "addresses[0].province_code"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"addresses", {{{"detail", "d"}, {"postcode", "12"}}}}},
       "addresses[0].postcode"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"parent_id", "1"}}, "parent_id"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"parent_id", 999999999}}, "parent_id"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"code", "bad code!"}}, "code"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"confirm_duplicate", "yes"}}, "confirm_duplicate"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"default_area_code", "99"}}, "default_area_code"},
      {{{"name", std::string(101, 'x')}, {"kind", "individual"}, {"type", "direct"}}, "name"},
      {{{"name", "x"}, {"kind", "individual"}, {"type", "direct"}, {"purchase_total_fen", 1}}, "purchase_total_fen"},
  };
  for (auto& c : cases) {
    auto r = s.post("/api/v1/customers", c.body);
    EXPECT_EQ(r.status, 400) << c.body.dump() << " -> " << r.body;
    EXPECT_EQ(body(r)["error"]["field"], c.field) << c.body.dump() << " -> " << r.body;
  }
  auto notjson = s.call("POST", "/api/v1/customers", "{not json");
  EXPECT_EQ(notjson.status, 400);
  auto arr = s.call("POST", "/api/v1/customers", "[1,2]");
  EXPECT_EQ(arr.status, 400);
  // A local number with a default area code is fine.
  auto local = s.post("/api/v1/customers", {{"name", uniq("本地号码")}, {"kind", "individual"}, {"type", "direct"},
                                            {"default_area_code", "0531"}, {"phones", {"8" + mobile().substr(4)}}});
  EXPECT_EQ(local.status, 201) << local.body;
  // Code collisions are a conflict on "code".
  std::string code = uniq("C-DUP-");
  create(s, {{"name", uniq("甲")}, {"kind", "individual"}, {"type", "direct"}, {"code", code}});
  auto dupcode = s.post("/api/v1/customers", {{"name", uniq("乙")}, {"kind", "individual"}, {"type", "direct"}, {"code", code}});
  EXPECT_EQ(dupcode.status, 409);
  EXPECT_EQ(body(dupcode)["error"]["field"], "code");
  // Permissions: the quality engineer cannot read customers, the dispatcher cannot write them.
  EXPECT_EQ(as("quality").get("/api/v1/customers").status, 403);
  EXPECT_EQ(as("dispatcher").post("/api/v1/customers", {{"name", "x"}, {"kind", "individual"}, {"type", "direct"}}).status, 403);
  Session anon(server_->port());
  EXPECT_EQ(anon.get("/api/v1/cti/lookup?phone=13800138000").status, 401);
}

TEST_F(CustomersApi, Divisions) {
  auto s = as("provider1");
  auto prov = s.get("/api/v1/divisions");
  ASSERT_EQ(prov.status, 200) << prov.body;
  EXPECT_EQ(body(prov)["items"].size(), 31u);
  auto jinan = s.get("/api/v1/divisions?parent=370100");
  ASSERT_EQ(jinan.status, 200);
  bool lixia = false;
  for (auto& d : items(jinan)) {
    EXPECT_EQ(d["level"], 3);
    EXPECT_EQ(d["parent_code"], "370100");
    if (d["code"] == "370102") lixia = d["name"] == "历下区";
  }
  EXPECT_TRUE(lixia);
  auto sd = body(s.get("/api/v1/divisions?parent=370000"));
  ASSERT_FALSE(sd["items"].empty());
  EXPECT_EQ(sd["items"][0]["has_children"], true);
  auto one = s.get("/api/v1/divisions/370102");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(body(one)["path"].size(), 3u);
  EXPECT_EQ(body(one)["path"][0]["name"], "山东省");
  EXPECT_EQ(s.get("/api/v1/divisions/999999").status, 404);
  EXPECT_EQ(s.get("/api/v1/divisions?parent=abc").status, 400);
  EXPECT_EQ(body(s.get("/api/v1/divisions?parent=abc"))["error"]["field"], "parent");
}
