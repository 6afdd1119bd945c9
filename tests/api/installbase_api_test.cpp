// M2/M3: products, install base, warranty/entitlement and service contracts,
// against a real server process, on SQLite or (with SHOUHOU_TEST_PG)
// PostgreSQL.
#include "harness.h"

using namespace shouhou;
using namespace shouhou::test;

class InstallBaseApi : public ::testing::Test {
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
  static std::string uniq(const std::string& p) { return p + random_hex(4); }
  static std::string S(int64_t v) { return std::to_string(v); }
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
  static json ok(const http::ClientResponse& r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    return body(r);
  }
  // 400 naming `field`.
  static void bad(const http::ClientResponse& r, const std::string& field) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(body(r)["error"]["field"], field) << r.body;
  }
  static int64_t customer(Session& s, const std::string& name, std::optional<int64_t> unit = std::nullopt) {
    json b{{"name", uniq(name)}, {"kind", "individual"}, {"type", "direct"}};
    if (unit) b["org_unit_id"] = *unit;
    return ok(s.post("/api/v1/customers", b), 201)["id"];
  }

  // A product line with a model (compressor and mainboard key parts, a fan)
  // and a policy: whole unit 12 months from installation (fallback sale),
  // compressor 36 months.
  struct Catalogue {
    int64_t line = 0, model = 0;
  };
  static Catalogue catalogue(Session& admin) {
    Catalogue c;
    c.line = ok(admin.post("/api/v1/product-lines", json{{"code", uniq("PL")}, {"name", uniq("空调")}}), 201)["id"];
    c.model = ok(admin.post("/api/v1/models", json{{"product_line_id", c.line}, {"code", uniq("KFR-")}, {"name", "壁挂机"}}), 201)["id"];
    std::string comps = "/api/v1/models/" + S(c.model) + "/components";
    ok(admin.post(comps, json{{"position", "C1"}, {"name", "压缩机"}, {"key_part", true}, {"key_part_category", "压缩机"}}), 201);
    ok(admin.post(comps, json{{"position", "PCB1"}, {"name", "主控板"}, {"key_part", true}, {"key_part_category", "主板"}}), 201);
    ok(admin.post(comps, json{{"position", "M1"}, {"name", "风机"}}), 201);
    ok(admin.post("/api/v1/warranty-policies",
                  json{{"name", "空调整机"}, {"product_line_id", c.line}, {"unit_months", 12},
                       {"key_parts", {{{"category", "压缩机"}, {"months", 36}}, {{"category", "主板"}, {"months", 24}}}},
                       {"start_basis", "installation"}, {"fallback_basis", "sale"}}),
       201);
    return c;
  }
  static ServerProcess* server_;
};
ServerProcess* InstallBaseApi::server_ = nullptr;

TEST_F(InstallBaseApi, CatalogueWithGradePrices) {
  auto admin = as("admin");
  auto line = ok(admin.post("/api/v1/product-lines", json{{"code", uniq("UPS")}, {"name", "UPS电源"}, {"name_en", "UPS"}}), 201);
  int64_t lid = line["id"];
  EXPECT_EQ(line["active"], true);
  EXPECT_EQ(admin.post("/api/v1/product-lines", json{{"code", line["code"]}, {"name", "again"}}).status, 409);
  auto model = ok(admin.post("/api/v1/models", json{{"product_line_id", lid}, {"code", uniq("UPS-")}, {"name", "10kVA 在线式"}}), 201);
  int64_t mid = model["id"];
  ok(admin.post("/api/v1/models/" + S(mid) + "/batches", json{{"batch_code", "B2311"}, {"production_date", "2023-11-20"}, {"quantity", 200}}), 201);
  bad(admin.post("/api/v1/models/" + S(mid) + "/batches", json{{"batch_code", "B1"}, {"production_date", "2023-02-30"}}), "production_date");
  ok(admin.post("/api/v1/models/" + S(mid) + "/components",
                json{{"position", "BAT1"}, {"name", "蓄电池组"}, {"key_part", true}, {"key_part_category", "电池"}}), 201);
  bad(admin.post("/api/v1/models/" + S(mid) + "/components", json{{"position", "PCB1"}, {"name", "控制板"}, {"key_part", true}}),
      "key_part_category");
  EXPECT_EQ(admin.post("/api/v1/models/" + S(mid) + "/components", json{{"position", "BAT1"}, {"name", "dup"}}).status, 409);
  auto full = ok(admin.get("/api/v1/models/" + S(mid)));
  ASSERT_EQ(full["components"].size(), 1u);
  EXPECT_EQ(full["components"][0]["key_part"], true);
  EXPECT_EQ(full["components"][0]["key_part_category"], "电池");
  EXPECT_EQ(full["batches"][0]["batch_code"], "B2311");
  EXPECT_EQ(full["product_line_id"], lid);

  // Service item with prices per provider grade.
  std::string code = uniq("SI-UPS-");
  auto item = ok(admin.post("/api/v1/service-items",
                            json{{"code", code}, {"name", "UPS预防性维护"}, {"unit", "次"}, {"product_line_id", lid},
                                 {"prices", {{{"grade", "A"}, {"price_fen", 80000}}, {{"grade", "B"}, {"price_fen", 70000}}}}}),
                 201);
  int64_t iid = item["id"];
  ASSERT_EQ(item["prices"].size(), 2u);
  EXPECT_EQ(item["prices"][0], (json{{"grade", "A"}, {"price_fen", 80000}}));
  bad(admin.post("/api/v1/service-items", json{{"code", uniq("SI-")}, {"name", "x"}, {"unit", "次"},
                                               {"prices", {{{"grade", "A"}, {"price_fen", 1}}, {{"grade", "B"}, {"price_fen", -5}}}}}),
      "prices[1].price_fen");
  bad(admin.post("/api/v1/service-items", json{{"code", uniq("SI-")}, {"name", "x"}, {"unit", "次"},
                                               {"prices", {{{"grade", "a b"}, {"price_fen", 1}}}}}),
      "prices[0].grade");
  // The settlement clerk maintains prices (pricelist.write) but not the catalogue.
  auto clerk = as("settlement");
  EXPECT_EQ(clerk.post("/api/v1/product-lines", json{{"code", uniq("X")}, {"name", "x"}}).status, 403);
  auto priced = ok(clerk.call("PUT", "/api/v1/service-items/" + S(iid) + "/prices",
                              json{{"version", 1}, {"prices", {{{"grade", "A"}, {"price_fen", 82000}}, {{"grade", "B"}, {"price_fen", 72000}},
                                                               {{"grade", "C"}, {"price_fen", 65000}}}}}.dump()));
  EXPECT_EQ(priced["prices"].size(), 3u);
  EXPECT_EQ(priced["version"], 2);
  EXPECT_EQ(clerk.call("PUT", "/api/v1/service-items/" + S(iid) + "/prices",
                       json{{"version", 1}, {"prices", json::array()}}.dump()).status, 409);
  auto agent = as("agent");
  EXPECT_EQ(agent.call("PUT", "/api/v1/service-items/" + S(iid) + "/prices", json{{"version", 2}, {"prices", json::array()}}.dump()).status, 403);
  auto got = ok(agent.get("/api/v1/service-items/" + S(iid)));
  EXPECT_EQ(got["prices"][2], (json{{"grade", "C"}, {"price_fen", 65000}}));
  auto audit = ok(admin.get("/api/v1/audit?entity=service_item&id=" + S(iid)));
  ASSERT_EQ(audit["items"].size(), 2u);
  EXPECT_EQ(audit["items"][0]["action"], "prices");
  EXPECT_EQ(audit["items"][0]["username"], "settlement");
  // Lists filter by product line.
  auto list = ok(agent.get("/api/v1/models?product_line_id=" + S(lid)));
  ASSERT_EQ(list["items"].size(), 1u);
  bad(agent.get("/api/v1/models?product_line_id=abc"), "product_line_id");
}

TEST_F(InstallBaseApi, SaleInstallationHistoryAndAudit) {
  auto admin = as("admin");
  auto cat = catalogue(admin);
  int64_t cust = customer(admin, "王先生");
  int64_t dealer = unit_id(admin, "DL-SH-01"), sp = unit_id(admin, "SP-SH-XH"), eng = user_id(admin, "engineer1");
  ASSERT_GT(dealer, 0);
  std::string serial = uniq("kfr35-");
  auto a = ok(admin.post("/api/v1/assets", json{{"serial", "  " + serial + " "}, {"model_id", cat.model}, {"batch", "B1"},
                                                {"production_date", "2024-01-10"}, {"org_unit_id", sp}}),
              201);
  int64_t id = a["id"];
  std::string SER = a["serial"];
  for (auto& ch : serial) ch = static_cast<char>(toupper(ch));
  EXPECT_EQ(SER, serial) << "serials are trimmed and upper-cased";
  EXPECT_EQ(a["status"], "in_stock");
  EXPECT_EQ(admin.post("/api/v1/assets", json{{"serial", SER}, {"model_id", cat.model}}).status, 409);

  int64_t before_total = ok(admin.get("/api/v1/customers/" + S(cust)))["purchase_total_fen"];
  auto sold = ok(admin.post("/api/v1/assets/" + S(id) + "/sale",
                            json{{"date", "2024-02-20"}, {"dealer_unit_id", dealer}, {"invoice_no", "FP31-0001"},
                                 {"amount_fen", 329900}, {"customer_id", cust}}));
  EXPECT_EQ(sold["status"], "sold");
  EXPECT_EQ(sold["owner_customer_id"], cust);
  EXPECT_EQ(sold["sale"]["invoice_no"], "FP31-0001");
  EXPECT_EQ(sold["sale"]["dealer_name"], "上海浦东家电城");
  int64_t after_total = ok(admin.get("/api/v1/customers/" + S(cust)))["purchase_total_fen"];
  EXPECT_EQ(after_total - before_total, 329900) << "the sale is in the customer's purchase history";
  EXPECT_EQ(admin.post("/api/v1/assets/" + S(id) + "/sale", json{{"date", "2024-02-21"}}).status, 409);

  auto inst = ok(admin.post("/api/v1/assets/" + S(id) + "/installation",
                            json{{"date", "2024-03-01"}, {"unit_id", sp}, {"engineer_user_id", eng},
                                 {"address", "漕溪北路88弄5号1201"}, {"division_code", "310104"},
                                 {"parts", {{{"part_code", "TG-6.35"}, {"name", "加长铜管"}, {"quantity", 1}}}}}));
  EXPECT_EQ(inst["status"], "installed");
  EXPECT_EQ(inst["installation"]["engineer_name"], "工程师 陈明");
  EXPECT_EQ(inst["installation"]["parts"][0]["name"], "加长铜管");
  EXPECT_EQ(inst["version"], 3);

  auto patched = ok(admin.patch("/api/v1/assets/" + S(id), json{{"version", 3}, {"notes", "客户要求周末上门"}}));
  EXPECT_EQ(patched["notes"], "客户要求周末上门");
  EXPECT_EQ(admin.patch("/api/v1/assets/" + S(id), json{{"version", 3}, {"notes", "stale"}}).status, 409);
  bad(admin.patch("/api/v1/assets/" + S(id), json{{"version", 4}, {"status", "sold"}}), "status");

  auto hist = ok(admin.get("/api/v1/assets/" + S(id) + "/history"));
  std::vector<std::string> kinds;
  for (auto& e : hist["items"]) kinds.push_back(e["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"created", "sale", "installation", "updated"}));
  EXPECT_EQ(hist["items"][1]["detail"]["invoice_no"], "FP31-0001");
  EXPECT_EQ(hist["items"][1]["username"], "admin");
  EXPECT_EQ(hist["items"][3]["detail"]["notes"]["to"], "客户要求周末上门");

  auto audit = ok(admin.get("/api/v1/audit?entity=asset&id=" + S(id)));
  std::vector<std::string> actions;
  for (auto& e : audit["items"]) actions.push_back(e["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"update", "installation", "sale", "create"}));  // newest first
  EXPECT_EQ(audit["items"][2]["before"]["status"], "in_stock");
  EXPECT_EQ(audit["items"][2]["after"]["status"], "sold");

  // Lookups.
  auto by_serial = ok(admin.get("/api/v1/assets/by-serial/" + serial));
  EXPECT_EQ(by_serial["id"], id);
  auto lower = serial;
  for (auto& ch : lower) ch = static_cast<char>(tolower(ch));
  EXPECT_EQ(ok(admin.get("/api/v1/assets/by-serial/" + lower))["id"], id);
  auto mine = ok(admin.get("/api/v1/assets?customer_id=" + S(cust)));
  ASSERT_EQ(mine["items"].size(), 1u);
  EXPECT_EQ(mine["items"][0]["serial"], SER);
  EXPECT_EQ(ok(admin.get("/api/v1/assets?serial=" + lower))["items"].size(), 1u);
  EXPECT_EQ(admin.get("/api/v1/assets/by-serial/NOPE-" + random_hex(3)).status, 404);

  // Sale and installation in one create; third-party asset.
  auto both = ok(admin.post("/api/v1/assets",
                            json{{"serial", uniq("TP-")}, {"third_party", true}, {"maker", "上海天硕机电"}, {"model_text", "SY3240 平衡机"},
                                 {"owner_customer_id", cust},
                                 {"sale", {{"date", "2004-05-20"}}},
                                 {"installation", {{"date", "2004-05-31"}, {"division_code", "310115"}}}}),
                 201);
  EXPECT_EQ(both["status"], "installed");
  EXPECT_EQ(both["third_party"], true);
  EXPECT_TRUE(both["model_id"].is_null());
  EXPECT_EQ(ok(admin.get("/api/v1/assets/" + S(both["id"].get<int64_t>()) + "/history"))["items"].size(), 3u);
}

TEST_F(InstallBaseApi, WarrantyEndpoint) {
  auto admin = as("admin");
  auto cat = catalogue(admin);
  int64_t cust = customer(admin, "李女士");
  std::string serial = uniq("W-");
  for (auto& ch : serial) ch = static_cast<char>(toupper(ch));
  auto a = ok(admin.post("/api/v1/assets", json{{"serial", serial}, {"model_id", cat.model},
                                                {"sale", {{"date", "2024-02-20"}, {"customer_id", cust}, {"invoice_no", "FP-1"}}},
                                                {"installation", {{"date", "2024-03-01"}}}}),
              201);
  std::string w = "/api/v1/warranty/" + serial;
  auto last_in = ok(admin.get(w + "?date=2025-02-28"));
  EXPECT_EQ(last_in["status"], "in_warranty");
  EXPECT_EQ(last_in["known"], true);
  EXPECT_EQ(last_in["source"], "policy");
  EXPECT_EQ(last_in["basis"], "installation");
  EXPECT_EQ(last_in["start_date"], "2024-03-01");
  EXPECT_EQ(last_in["unit"]["end_date"], "2025-02-28");
  EXPECT_EQ(last_in["owner"]["customer_id"], cust);
  EXPECT_EQ(last_in["policy"]["name"], "空调整机");
  EXPECT_EQ(last_in["why"].back(), "policy 空调整机 whole unit 12 months from installation 2024-03-01 → until 2025-02-28");
  EXPECT_EQ(last_in["response"]["mode"], "8x5");
  ASSERT_EQ(last_in["key_parts"].size(), 2u);
  EXPECT_EQ(last_in["key_parts"][0]["category"], "压缩机");
  EXPECT_EQ(last_in["key_parts"][0]["end_date"], "2027-02-28");

  auto first_out = ok(admin.get(w + "?date=2025-03-01"));
  EXPECT_EQ(first_out["status"], "out_of_warranty");
  EXPECT_EQ(first_out["entitled"], false);
  // The compressor outlives the unit; asked by category (URL-encoded) or by position.
  auto comp = ok(admin.get(w + "?date=2026-06-01&component=%E5%8E%8B%E7%BC%A9%E6%9C%BA"));
  EXPECT_EQ(comp["component"]["category"], "压缩机");
  EXPECT_EQ(comp["component"]["in_warranty"], true);
  EXPECT_EQ(ok(admin.get(w + "?date=2026-06-01&component=PCB1"))["component"]["in_warranty"], false);  // 主板 24 months
  EXPECT_EQ(ok(admin.get(w + "?date=2026-06-01&component=M1"))["component"]["in_warranty"], false);
  // Before the sale: not sold on that date.
  EXPECT_EQ(ok(admin.get(w + "?date=2024-02-19"))["status"], "not_sold");

  // Unknown and unsold serials are answers, not errors.
  auto unknown = ok(admin.get("/api/v1/warranty/NO-SUCH-" + random_hex(4)));
  EXPECT_EQ(unknown["status"], "unknown_serial");
  EXPECT_EQ(unknown["known"], false);
  std::string stock = uniq("STOCK-");
  ok(admin.post("/api/v1/assets", json{{"serial", stock}, {"model_id", cat.model}}), 201);
  EXPECT_EQ(ok(admin.get("/api/v1/warranty/" + stock))["status"], "not_sold");
  bad(admin.get(w + "?date=2025-02-30"), "date");

  // A policy with the sale date as the start and an invoice requirement.
  auto pol = ok(admin.get("/api/v1/warranty-policies?product_line_id=" + S(cat.line)));
  ASSERT_EQ(pol["items"].size(), 1u);
  int64_t pid = pol["items"][0]["id"];
  ok(admin.patch("/api/v1/warranty-policies/" + S(pid), json{{"version", 1}, {"start_basis", "sale"}}));
  auto by_sale = ok(admin.get(w + "?date=2025-02-19"));
  EXPECT_EQ(by_sale["basis"], "sale");
  EXPECT_EQ(by_sale["unit"]["end_date"], "2025-02-19");
  EXPECT_EQ(by_sale["status"], "in_warranty");
  EXPECT_EQ(ok(admin.get(w + "?date=2025-02-20"))["status"], "out_of_warranty");
  bad(admin.patch("/api/v1/warranty-policies/" + S(pid), json{{"version", 2}, {"start_basis", "whenever"}}), "start_basis");
  bad(admin.post("/api/v1/warranty-policies", json{{"name", "x"}, {"product_line_id", cat.line},
                                                   {"key_parts", {{{"category", "压缩机"}, {"months", -1}}}}}),
      "key_parts[0].months");
}

TEST_F(InstallBaseApi, ContractsOverrideThePolicy) {
  auto admin = as("admin");
  auto cat = catalogue(admin);
  int64_t cust = customer(admin, "万力机械");
  int64_t other = customer(admin, "别人");
  std::string serial = uniq("C-");
  for (auto& ch : serial) ch = static_cast<char>(toupper(ch));
  int64_t aid = ok(admin.post("/api/v1/assets", json{{"serial", serial}, {"model_id", cat.model},
                                                     {"sale", {{"date", "2022-03-01"}, {"customer_id", cust}}},
                                                     {"installation", {{"date", "2022-03-01"}}}}),
                   201)["id"];
  int64_t foreign = ok(admin.post("/api/v1/assets", json{{"serial", uniq("F-")}, {"model_id", cat.model},
                                                         {"sale", {{"date", "2022-03-01"}, {"customer_id", other}}}}),
                       201)["id"];
  std::string number = uniq("FWHY-");
  json k{{"number", number}, {"name", "万力现场服务合约"}, {"customer_id", cust}, {"type", "full"}, {"status", "active"},
         {"response_mode", "7x24"}, {"response_hours", 2}, {"onsite_hours", 4}, {"start_date", "2024-12-01"},
         {"end_date", "2025-05-31"}, {"parts_discount_bp", 1000}, {"labour_discount_bp", 2000}, {"asset_ids", {aid}}};
  auto c = ok(admin.post("/api/v1/contracts", k), 201);
  int64_t cid = c["id"];
  ASSERT_EQ(c["assets"].size(), 1u);
  EXPECT_EQ(c["assets"][0]["serial"], serial);
  EXPECT_EQ(admin.post("/api/v1/contracts", k).status, 409);
  json k2 = k;
  k2["number"] = uniq("FWHY-");
  k2["asset_ids"] = {foreign};
  bad(admin.post("/api/v1/contracts", k2), "asset_ids[0]");
  k2["asset_ids"] = json::array();
  k2["end_date"] = "2024-11-30";
  bad(admin.post("/api/v1/contracts", k2), "end_date");
  k2["end_date"] = "2025-05-31";
  k2["type"] = "gold";
  bad(admin.post("/api/v1/contracts", k2), "type");

  std::string w = "/api/v1/warranty/" + serial;
  auto on = ok(admin.get(w + "?date=2025-05-31"));
  EXPECT_EQ(on["status"], "under_contract");
  EXPECT_EQ(on["source"], "contract");
  EXPECT_EQ(on["unit"]["in_warranty"], false);  // the policy alone ended 2023-02-28
  EXPECT_EQ(on["contract"]["number"], number);
  EXPECT_EQ(on["response"]["mode"], "7x24");
  EXPECT_EQ(on["response"]["response_hours"], 2);
  EXPECT_EQ(on["response"]["onsite_hours"], 4);
  EXPECT_EQ(on["labour_discount_bp"], 2000);
  auto off = ok(admin.get(w + "?date=2025-06-01"));
  EXPECT_EQ(off["status"], "out_of_warranty");
  EXPECT_EQ(off["contracts_not_applied"][0], number + ": expired on 2025-05-31");

  // The contract list, by asset; the asset's timeline shows the contract.
  auto by_asset = ok(admin.get("/api/v1/contracts?asset_id=" + S(aid)));
  ASSERT_EQ(by_asset["items"].size(), 1u);
  EXPECT_EQ(by_asset["items"][0]["asset_count"], 1);
  auto hist = ok(admin.get("/api/v1/assets/" + S(aid) + "/history"));
  EXPECT_EQ(hist["items"].back()["kind"], "contract_added");

  // Cancelled: back to the policy; cancelled is final.
  auto cancelled = ok(admin.patch("/api/v1/contracts/" + S(cid), json{{"version", 1}, {"status", "cancelled"}}));
  EXPECT_EQ(cancelled["status"], "cancelled");
  EXPECT_EQ(ok(admin.get(w + "?date=2025-05-31"))["status"], "out_of_warranty");
  EXPECT_EQ(admin.patch("/api/v1/contracts/" + S(cid), json{{"version", 2}, {"status", "active"}}).status, 409);
  auto audit = ok(admin.get("/api/v1/audit?entity=contract&id=" + S(cid)));
  EXPECT_EQ(audit["items"].size(), 2u);

  // Permissions: the engineer has no contract.read, the agent no contract.write.
  EXPECT_EQ(as("engineer1").get("/api/v1/contracts").status, 403);
  k2["type"] = "full";
  EXPECT_EQ(as("agent").post("/api/v1/contracts", k2).status, 403);
}

TEST_F(InstallBaseApi, ProviderScope) {
  auto admin = as("admin");
  auto cat = catalogue(admin);
  int64_t sp1 = unit_id(admin, "SP-SH-XH");
  int64_t cust = customer(admin, "徐汇客户", sp1);
  auto p1 = as("provider1");
  std::string serial = uniq("P1-");
  for (auto& ch : serial) ch = static_cast<char>(toupper(ch));
  auto a = ok(p1.post("/api/v1/assets", json{{"serial", serial}, {"model_id", cat.model},
                                             {"sale", {{"date", "2024-05-01"}, {"customer_id", cust}}}}),
              201);
  int64_t id = a["id"];
  EXPECT_EQ(a["org_unit_id"], sp1) << "the creator's unit by default";

  auto p2 = as("provider2");
  // Another provider's asset looks exactly like one that does not exist.
  auto r = p2.get("/api/v1/assets/" + S(id));
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(p2.get("/api/v1/assets/999999999").status, 404);
  EXPECT_EQ(p2.get("/api/v1/assets/by-serial/" + serial).status, 404);
  EXPECT_EQ(p2.get("/api/v1/assets/" + S(id) + "/history").status, 404);
  EXPECT_EQ(p2.post("/api/v1/assets/" + S(id) + "/installation", json{{"date", "2024-05-02"}}).status, 404);
  EXPECT_EQ(p2.patch("/api/v1/assets/" + S(id), json{{"version", 1}, {"status", "scrapped"}}).status, 404);
  json listed = ok(p2.get("/api/v1/assets?limit=500"));
  for (auto& x : listed["items"]) EXPECT_NE(x["id"], id);
  EXPECT_EQ(ok(p2.get("/api/v1/assets?serial=" + serial))["items"].size(), 0u);
  // The warranty of the unit in front of them is answered, without the owner.
  auto wy = ok(p2.get("/api/v1/warranty/" + serial + "?date=2024-06-01"));
  EXPECT_EQ(wy["status"], "in_warranty");
  EXPECT_EQ(wy["in_scope"], false);
  EXPECT_TRUE(wy["owner"].is_null());
  EXPECT_FALSE(wy["asset"].contains("id"));
  // Nor can provider2 give its asset to provider1's customer.
  bad(p2.post("/api/v1/assets", json{{"serial", uniq("P2-")}, {"model_id", cat.model}, {"owner_customer_id", cust}}),
      "owner_customer_id");
  // Provider1 and the HQ see it.
  EXPECT_EQ(p1.get("/api/v1/assets/" + S(id)).status, 200);
  EXPECT_EQ(ok(p1.get("/api/v1/warranty/" + serial + "?date=2024-06-01"))["owner"]["customer_id"], cust);
  EXPECT_EQ(admin.get("/api/v1/assets/" + S(id)).status, 200);
  // Provider1 cannot re-home the asset to another provider's unit.
  bad(p1.patch("/api/v1/assets/" + S(id), json{{"version", a["version"]}, {"org_unit_id", unit_id(admin, "SP-JN-LX")}}),
      "org_unit_id");
}

TEST_F(InstallBaseApi, BadInputNamesTheField) {
  auto admin = as("admin");
  auto cat = catalogue(admin);
  bad(admin.post("/api/v1/assets", json{{"model_id", cat.model}}), "serial");
  bad(admin.post("/api/v1/assets", json{{"serial", "白色 空调"}, {"model_id", cat.model}}), "serial");
  bad(admin.post("/api/v1/assets", json{{"serial", uniq("X-")}}), "model_id");
  bad(admin.post("/api/v1/assets", json{{"serial", uniq("X-")}, {"model_id", 99999999}}), "model_id");
  bad(admin.post("/api/v1/assets", json{{"serial", uniq("X-")}, {"model_id", "12"}}), "model_id");
  bad(admin.post("/api/v1/assets", json{{"serial", uniq("X-")}, {"third_party", true}, {"model_text", "x"}}), "maker");
  bad(admin.post("/api/v1/assets", json{{"serial", uniq("X-")}, {"model_id", cat.model}, {"sale", {{"date", "2024-13-01"}}}}),
      "sale.date");
  bad(admin.post("/api/v1/assets", json{{"serial", uniq("X-")}, {"model_id", cat.model}, {"sale", {{"date", "2999-01-01"}}}}),
      "sale.date");
  bad(admin.post("/api/v1/assets", json{{"serial", uniq("X-")}, {"model_id", cat.model},
                                        {"installation", {{"date", "2024-01-01"}, {"division_code", "12"}}}}),
      "installation.division_code");
  bad(admin.post("/api/v1/assets", json{{"serial", uniq("X-")}, {"model_id", cat.model},
                                        {"installation", {{"date", "2024-01-01"}, {"parts", {{{"quantity", 1}}}}}}}),
      "installation.parts[0].name");
  auto a = ok(admin.post("/api/v1/assets", json{{"serial", uniq("X-")}, {"model_id", cat.model}}), 201);
  std::string base = "/api/v1/assets/" + S(a["id"].get<int64_t>());
  bad(admin.post(base + "/sale", json{{"invoice_no", "x"}}), "date");
  bad(admin.post(base + "/sale", json{{"date", "2024-01-01"}, {"amount_fen", -1}}), "amount_fen");
  bad(admin.post(base + "/sale", json{{"date", "2024-01-01"}, {"customer_id", 99999999}}), "customer_id");
  bad(admin.post(base + "/installation", json{{"date", "2024-01-01"}, {"engineer_user_id", 99999999}}), "engineer_user_id");
  bad(admin.call("POST", base + "/sale", "not json"), "body");
  bad(admin.get("/api/v1/assets?customer_id=x"), "customer_id");
  // Id filters in the query: a number followed by junk is not that number.
  for (const char* q : {"/api/v1/models?product_line_id=12abc", "/api/v1/service-items?product_line_id=12abc",
                        "/api/v1/warranty-policies?product_line_id=12abc", "/api/v1/warranty-policies?product_line_id=-3",
                        "/api/v1/assets?model_id=1.5", "/api/v1/contracts?customer_id=7x", "/api/v1/contracts?asset_id=0",
                        "/api/v1/customers?parent_id=12abc", "/api/v1/org-units?parent_id=1e3", "/api/v1/users?org_unit_id=3x",
                        "/api/v1/audit?user_id=2abc"}) {
    std::string u = q;
    SCOPED_TRACE(u);
    bad(admin.get(u), u.substr(u.find('?') + 1, u.find('=') - u.find('?') - 1));
  }
  bad(admin.post("/api/v1/product-lines", json{{"code", "有空格 x"}, {"name", "x"}}), "code");
  bad(admin.post("/api/v1/models", json{{"product_line_id", 99999999}, {"code", uniq("M")}, {"name", "x"}}), "product_line_id");
}

TEST_F(InstallBaseApi, DemoDataAnswersTheSampleQuestions) {
  auto agent = as("agent");
  // Installed 2024-03-01 under 空调整机 (12 months from installation).
  auto w = ok(agent.get("/api/v1/warranty/KFR35-2401-000101?date=2025-02-28"));
  EXPECT_EQ(w["status"], "in_warranty");
  EXPECT_EQ(w["unit"]["end_date"], "2025-02-28");
  // Seed 001's balancer: third party, covered by the current full contract.
  auto b = ok(agent.get("/api/v1/warranty/20040201-5326-A33?date=2025-06-01"));
  EXPECT_EQ(b["status"], "under_contract");
  EXPECT_EQ(b["response"]["mode"], "7x24");
  auto items = ok(agent.get("/api/v1/service-items?q=SI-AC-INST"));
  ASSERT_EQ(items["items"].size(), 1u);
  EXPECT_EQ(items["items"][0]["prices"].size(), 3u);
}

// Seed 001's asset block: 资产# WL006 (the customer's own number, unique per
// owner) and 运行日期 2004-06-02 (two days after the installation).
TEST_F(InstallBaseApi, AssetTagAndCommissioningDate) {
  auto admin = as("admin");
  auto cat = catalogue(admin);
  int64_t cust = customer(admin, "万力"), other = customer(admin, "别家");
  auto upper = [](std::string s) {
    for (auto& ch : s) ch = static_cast<char>(toupper(ch));
    return s;
  };
  std::string tag = uniq("wl"), TAG = upper(tag);
  auto asset = [&](json extra) {
    json b{{"serial", uniq("SY-")}, {"model_id", cat.model}};
    b.update(extra);
    return admin.post("/api/v1/assets", b);
  };
  bad(asset(json{{"asset_tag", "WL 006"}}), "asset_tag");
  bad(asset(json{{"asset_tag", std::string(33, 'A')}}), "asset_tag");
  bad(asset(json{{"asset_tag", 6}}), "asset_tag");
  bad(asset(json{{"commissioned_on", "2004-13-01"}}), "commissioned_on");
  bad(asset(json{{"commissioned_on", "2999-01-01"}}), "commissioned_on");
  bad(asset(json{{"commissioned_on", "2004-05-30"}, {"installation", {{"date", "2004-05-31"}}}}), "commissioned_on");

  auto a = ok(asset(json{{"owner_customer_id", cust}, {"asset_tag", " " + tag + " "}, {"commissioned_on", "2004-06-02"},
                         {"installation", {{"date", "2004-05-31"}}}}),
              201);
  int64_t id = a["id"];
  EXPECT_EQ(a["asset_tag"], TAG) << "tags are trimmed and upper-cased like serials";
  EXPECT_EQ(a["commissioned_on"], "2004-06-02");
  EXPECT_EQ(ok(admin.get("/api/v1/assets/" + S(id)))["asset_tag"], TAG);
  auto hist = ok(admin.get("/api/v1/assets/" + S(id) + "/history"));
  EXPECT_EQ(hist["items"][0]["detail"]["asset_tag"], TAG);
  EXPECT_EQ(hist["items"][0]["detail"]["commissioned_on"], "2004-06-02");

  // Unique per owner: the same customer cannot number two units alike;
  // another customer may use the same number.
  auto dup = asset(json{{"owner_customer_id", cust}, {"asset_tag", tag}});
  EXPECT_EQ(dup.status, 409) << dup.body;
  EXPECT_EQ(body(dup)["error"]["field"], "asset_tag");
  auto b = ok(asset(json{{"owner_customer_id", other}, {"asset_tag", tag}}), 201);
  auto give = admin.patch("/api/v1/assets/" + S(b["id"].get<int64_t>()),
                          json{{"version", b["version"]}, {"owner_customer_id", cust}});
  EXPECT_EQ(give.status, 409) << give.body;
  EXPECT_EQ(body(give)["error"]["field"], "asset_tag");
  auto sell = admin.post("/api/v1/assets/" + S(b["id"].get<int64_t>()) + "/sale",
                         json{{"date", "2024-01-02"}, {"customer_id", cust}});
  EXPECT_EQ(sell.status, 409) << "the sale would make two of the customer's units " << TAG << ": " << sell.body;

  // PATCH: the commissioning date is not before the installation; changes
  // are in the timeline and the audit log.
  int64_t v = a["version"];
  bad(admin.patch("/api/v1/assets/" + S(id), json{{"version", v}, {"commissioned_on", "2004-05-30"}}), "commissioned_on");
  bad(admin.patch("/api/v1/assets/" + S(id), json{{"version", v}, {"asset_tag", "中文"}}), "asset_tag");
  std::string tag2 = uniq("WL-");
  auto p = ok(admin.patch("/api/v1/assets/" + S(id), json{{"version", v}, {"asset_tag", tag2}, {"commissioned_on", "2004-06-03"}}));
  EXPECT_EQ(p["asset_tag"], upper(tag2));
  EXPECT_EQ(p["commissioned_on"], "2004-06-03");
  EXPECT_EQ(admin.patch("/api/v1/assets/" + S(id), json{{"version", v}, {"asset_tag", "X1"}}).status, 409) << "stale version";
  hist = ok(admin.get("/api/v1/assets/" + S(id) + "/history"));
  const json& last = hist["items"].back();
  EXPECT_EQ(last["kind"], "updated");
  EXPECT_EQ(last["detail"]["asset_tag"]["from"], TAG);
  EXPECT_EQ(last["detail"]["asset_tag"]["to"], upper(tag2));
  EXPECT_EQ(last["detail"]["commissioned_on"]["to"], "2004-06-03");
  auto audit = ok(admin.get("/api/v1/audit?entity=asset&id=" + S(id)));
  EXPECT_EQ(audit["items"][0]["after"]["asset_tag"], upper(tag2));
  // The old number is free again for this customer.
  ok(asset(json{{"owner_customer_id", cust}, {"asset_tag", tag}}), 201);

  // Search by tag: the list's q (substring) and asset_tag (exact, any case).
  auto found = ok(admin.get("/api/v1/assets?q=" + tag2.substr(3)));
  ASSERT_EQ(found["items"].size(), 1u) << found.dump();
  EXPECT_EQ(found["items"][0]["id"], id);
  EXPECT_EQ(ok(admin.get("/api/v1/assets?asset_tag=" + tag2))["items"].size(), 1u);
  EXPECT_EQ(ok(admin.get("/api/v1/assets?asset_tag=NOPE" + random_hex(3)))["items"].size(), 0u);

  // A unit commissioned first cannot be installed after that day.
  auto c = ok(asset(json{{"commissioned_on", "2024-03-05"}}), 201);
  std::string C = "/api/v1/assets/" + S(c["id"].get<int64_t>()) + "/installation";
  bad(admin.post(C, json{{"date", "2024-03-06"}}), "date");
  EXPECT_EQ(ok(admin.post(C, json{{"date", "2024-03-05"}}))["status"], "installed");

  // Scope: another provider does not find the unit by its tag.
  auto p2 = as("provider2");
  EXPECT_EQ(ok(p2.get("/api/v1/assets?asset_tag=" + tag2))["items"].size(), 0u);
}
