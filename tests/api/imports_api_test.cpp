// Bulk import (issue 3 item 6) against a real server process, on SQLite or
// (with SHOUHOU_TEST_PG) PostgreSQL: good rows commit, bad rows are reported
// with row, column and reason, a re-import changes nothing, XLSX works, and
// scope holds for what was imported.
#include <zlib.h>

#include <thread>

#include "harness.h"
#include "imports/tabular.h"

using namespace shouhou;
using namespace shouhou::test;

namespace {

std::string enc(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string o;
  for (unsigned char ch : s) {
    if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.') o += static_cast<char>(ch);
    else o += std::string("%") + hex[ch >> 4] + hex[ch & 15];
  }
  return o;
}

// A minimal XLSX: shared strings + sheet1, deflated with zlib.
std::string xlsx(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::string> strings;
  std::string sheet = R"(<?xml version="1.0" encoding="UTF-8"?><worksheet><sheetData>)";
  auto esc = [](const std::string& s) {
    std::string o;
    for (char ch : s) o += ch == '&' ? "&amp;" : ch == '<' ? "&lt;" : std::string(1, ch);
    return o;
  };
  for (size_t r = 0; r < rows.size(); ++r) {
    sheet += "<row r=\"" + std::to_string(r + 1) + "\">";
    for (size_t c = 0; c < rows[r].size(); ++c) {
      if (rows[r][c].empty()) continue;
      std::string ref = std::string(1, char('A' + c)) + std::to_string(r + 1);
      strings.push_back(rows[r][c]);
      sheet += "<c r=\"" + ref + "\" t=\"s\"><v>" + std::to_string(strings.size() - 1) + "</v></c>";
    }
    sheet += "</row>";
  }
  sheet += "</sheetData></worksheet>";
  std::string sst = R"(<?xml version="1.0" encoding="UTF-8"?><sst>)";
  for (auto& s : strings) sst += "<si><t>" + esc(s) + "</t></si>";
  sst += "</sst>";
  std::vector<std::pair<std::string, std::string>> files = {{"xl/sharedStrings.xml", sst},
                                                            {"xl/worksheets/sheet1.xml", sheet}};
  std::string out, central;
  auto u16 = [](std::string& s, uint32_t v) { s += char(v & 0xff); s += char((v >> 8) & 0xff); };
  auto u32 = [&](std::string& s, uint32_t v) { u16(s, v & 0xffff); u16(s, v >> 16); };
  for (const auto& [name, data] : files) {
    std::string comp = imports::deflate_raw(data);
    uint32_t crc = crc32(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
    uint32_t off = out.size();
    u32(out, 0x04034b50); u16(out, 20); u16(out, 0); u16(out, 8); u16(out, 0); u16(out, 0);
    u32(out, crc); u32(out, comp.size()); u32(out, data.size()); u16(out, name.size()); u16(out, 0);
    out += name + comp;
    u32(central, 0x02014b50); u16(central, 20); u16(central, 20); u16(central, 0); u16(central, 8);
    u16(central, 0); u16(central, 0); u32(central, crc); u32(central, comp.size()); u32(central, data.size());
    u16(central, name.size()); u16(central, 0); u16(central, 0); u16(central, 0); u16(central, 0); u32(central, 0);
    u32(central, off);
    central += name;
  }
  uint32_t cd = out.size();
  out += central;
  u32(out, 0x06054b50); u16(out, 0); u16(out, 0); u16(out, files.size()); u16(out, files.size());
  u32(out, central.size()); u32(out, cd); u16(out, 0);
  return out;
}

}  // namespace

class ImportsApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServerProcess(); }
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

  static http::ClientResponse upload(Session& s, const std::string& kind, const std::string& filename,
                                     const std::string& data) {
    http::Headers h;
    h.set("content-type", filename.size() > 5 && filename.substr(filename.size() - 5) == ".xlsx"
                              ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                              : "text/csv");
    return s.call("POST", "/api/v1/imports?kind=" + enc(kind) + "&filename=" + enc(filename), data, h);
  }
  // Polls until the import has finished (done or failed).
  static json wait(Session& s, int64_t id) {
    json j;
    for (int i = 0; i < 1200; ++i) {
      auto r = s.get("/api/v1/imports/" + std::to_string(id));
      EXPECT_EQ(r.status, 200) << r.body;
      j = body(r);
      if (j["status"] == "done" || j["status"] == "failed") return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "import " << id << " did not finish: " << j.dump();
    return j;
  }
  static json run(Session& s, const std::string& kind, const std::string& filename, const std::string& data) {
    auto r = upload(s, kind, filename, data);
    EXPECT_EQ(r.status, 202) << r.body;
    json j = wait(s, body(r)["id"].get<int64_t>());
    EXPECT_EQ(j["status"], "done") << j.dump();
    return j;
  }
  static json errors(Session& s, int64_t id) { return items(s.get("/api/v1/imports/" + std::to_string(id) + "/errors")); }
  // The error reported for `row`, or null.
  static json error_at(const json& errs, int64_t row) {
    for (const auto& e : errs)
      if (e["row"] == row) return e;
    return nullptr;
  }
  static json customer_by_name(Session& s, const std::string& name) {
    auto list = items(s.get("/api/v1/customers?name=" + enc(name)));
    return list.empty() ? json(nullptr) : list[0];
  }

  static ServerProcess* server_;
};
ServerProcess* ImportsApi::server_ = nullptr;

TEST_F(ImportsApi, CustomersGoodRowsCommitBadRowsAreReportedAndReimportChangesNothing) {
  auto admin = as("admin");
  std::string tag = random_hex(3);
  std::string code = "IMPC-" + tag;
  std::string a = "导入甲" + tag, b = "导入乙" + tag, c = "导入丙" + tag;
  std::string csv = "\xEF\xBB\xBF客户编码,客户名称,客户性质,客户类型,所属单位,电话,联系人,联系人电话,区县代码,地址,备注\r\n"
                    // row 2: good, organisation with a contact and an address (quoted, with a comma)
                    + code + "," + a + ",单位,经销商,SP-SH-XH,021-5" + std::to_string(100 + std::stoi(tag, nullptr, 16) % 899) + "-1234" +
                    ",王经理,13900" + std::to_string(100000 + (std::stoi(tag.substr(0, 4), nullptr, 16) % 899999)) +
                    ",310104,\"漕溪北路1号, 3楼\",\"多行\r\n备注\"\r\n"
                    // row 3: good, phone only (key = phone + name), importer's unit
                    "," + b + ",,,,138" + std::to_string(10000000 + std::stoi(tag, nullptr, 16) % 89999999) + ",,,,,\r\n"
                    // row 4: bad phone
                    ",坏电话" + tag + ",,,,12345,,,,,\r\n"
                    // row 5: bad kind
                    ",坏性质" + tag + ",公司???,,,13700137000,,,,,\r\n"
                    // row 6: no name
                    ",,,,,13700137001,,,,,\r\n"
                    // row 7: unknown org unit
                    "," + c + ",,,NO-SUCH-UNIT,13700137002,,,,,\r\n"
                    // row 8: blank
                    ",,,,,,,,,,\r\n"
                    // row 9: unknown county
                    ",坏地址" + tag + ",,,,13700137003,,,999999,某路1号,\r\n";
  json j = run(admin, "customers", "customers.csv", csv);
  EXPECT_EQ(j["total_rows"], 8);
  EXPECT_EQ(j["done_rows"], 8);
  EXPECT_EQ(j["percent"], 100);
  EXPECT_EQ(j["created"], 2);
  EXPECT_EQ(j["bad"], 5);
  EXPECT_EQ(j["skipped"], 1);
  EXPECT_EQ(j["unchanged"], 0);
  json errs = errors(admin, j["id"]);
  ASSERT_EQ(errs.size(), 5u) << errs.dump();
  EXPECT_EQ(error_at(errs, 4)["column"], "phone") << errs.dump();
  EXPECT_EQ(error_at(errs, 5)["column"], "kind");
  EXPECT_EQ(error_at(errs, 6)["column"], "name");
  EXPECT_EQ(error_at(errs, 7)["column"], "org_unit");
  EXPECT_EQ(error_at(errs, 9)["column"], "county_code");
  for (const auto& e : errs) EXPECT_FALSE(e["reason"].get<std::string>().empty());

  // Exactly the good rows exist, whole (contact, address).
  json ca = customer_by_name(admin, a);
  ASSERT_TRUE(ca.is_object());
  auto full = body(admin.get("/api/v1/customers/" + std::to_string(ca["id"].get<int64_t>())));
  EXPECT_EQ(full["code"], code);
  EXPECT_EQ(full["kind"], "organisation");
  EXPECT_EQ(full["type"], "dealer");
  EXPECT_EQ(full["contacts"].size(), 1u);
  ASSERT_EQ(full["addresses"].size(), 1u);
  EXPECT_EQ(full["addresses"][0]["county_code"], "310104");
  EXPECT_EQ(full["addresses"][0]["detail"], "漕溪北路1号, 3楼");
  EXPECT_EQ(full["notes"], "多行\n备注");
  EXPECT_TRUE(customer_by_name(admin, b).is_object());
  EXPECT_TRUE(customer_by_name(admin, c).is_null());
  EXPECT_TRUE(customer_by_name(admin, "坏电话" + tag).is_null());
  EXPECT_TRUE(customer_by_name(admin, "坏地址" + tag).is_null());

  // The same file again: nothing changes, the good rows count as unchanged.
  json again = run(admin, "customers", "customers.csv", csv);
  EXPECT_EQ(again["created"], 0);
  EXPECT_EQ(again["updated"], 0);
  EXPECT_EQ(again["unchanged"], 2);
  EXPECT_EQ(again["bad"], 5);
  EXPECT_EQ(items(admin.get("/api/v1/customers?name=" + enc(a))).size(), 1u);
  EXPECT_EQ(items(admin.get("/api/v1/customers?name=" + enc(b))).size(), 1u);
  auto after = body(admin.get("/api/v1/customers/" + std::to_string(ca["id"].get<int64_t>())));
  EXPECT_EQ(after["version"], full["version"]);

  // The batch is in the audit trail with the created ids.
  bool audited = false;
  for (auto& e : items(admin.get("/api/v1/audit?entity=import&entity_id=" + std::to_string(j["id"].get<int64_t>()))))
    if (e["action"] == "batch") audited = true;
  EXPECT_TRUE(audited);
}

TEST_F(ImportsApi, InstallBaseRowsCarrySaleInstallationAndOwnerAndAreIdempotentOnSerial) {
  auto admin = as("admin");
  std::string tag = random_hex(4);
  std::string s1 = "IB-" + tag + "-1", s2 = "IB-" + tag + "-2", s3 = "IB-" + tag + "-3";
  std::string phone = "139" + std::to_string(10000000 + std::stoul(tag, nullptr, 16) % 89999999);
  std::string csv = "serial,model_code,production_date,org_unit,dealer,sale_date,invoice_no,sale_amount,customer_name,"
                    "customer_phone,install_date,installer,engineer,install_address,division_code\n" +
                    // row 2: sale + installation, new owner
                    s1 + ",KFR-35GW/BP3,2024-01-05,SP-SH-XH,DL-SH-01,2024/2/1,INV-" + tag + ",\"3,999.50\",买家" + tag +
                    "," + phone + ",2024-02-03,SP-SH-XH,engineer1,漕溪北路8号,310104\n" +
                    // row 3: unknown model
                    s2 + ",NO-SUCH,,,,,,,,,,,,,\n" +
                    // row 4: sale before production
                    s3 + ",KFR-35GW/BP3,2024-05-01,,,2024-04-01,,,,,,,,,\n" +
                    // row 5: same owner again (found by phone + name), in stock otherwise
                    "ib-" + tag + "-4,SWH-Q18,,,,2024-03-01,,100,买家" + tag + "," + phone + ",,,,,\n" +
                    // row 6: bad serial
                    "bad serial!,SWH-Q18,,,,,,,,,,,,,\n" +
                    // row 7: engineer of another unit's scope is fine for admin, but the date is invalid
                    "IB-" + tag + "-5,SWH-Q18,,,,2024-02-30,,,,,,,,,\n";
  json j = run(admin, "install_base", "sales.csv", csv);
  EXPECT_EQ(j["created"], 2) << j.dump();
  EXPECT_EQ(j["bad"], 4);
  json errs = errors(admin, j["id"]);
  EXPECT_EQ(error_at(errs, 3)["column"], "model_code") << errs.dump();
  EXPECT_EQ(error_at(errs, 4)["column"], "sale_date");
  EXPECT_EQ(error_at(errs, 6)["column"], "serial");
  EXPECT_EQ(error_at(errs, 7)["column"], "sale_date");

  auto a1 = body(admin.get("/api/v1/assets/by-serial/" + s1));
  EXPECT_EQ(a1["status"], "installed") << a1.dump();
  EXPECT_EQ(a1["sale"]["date"], "2024-02-01");
  EXPECT_EQ(a1["sale"]["amount_fen"], 399950);
  EXPECT_EQ(a1["installation"]["division_code"], "310104");
  EXPECT_EQ(a1["installation"]["engineer_name"].is_string(), true);
  auto a4 = body(admin.get("/api/v1/assets/by-serial/IB-" + tag + "-4"));  // serial normalised
  EXPECT_EQ(a4["status"], "sold");
  EXPECT_EQ(a4["owner_customer_id"], a1["owner_customer_id"]);  // one customer, found again
  EXPECT_EQ(admin.get("/api/v1/assets/by-serial/" + s2).status, 404);
  auto hist = items(admin.get("/api/v1/assets/" + std::to_string(a1["id"].get<int64_t>()) + "/history"));
  EXPECT_GE(hist.size(), 3u);  // created, sale, installation
  auto owner = body(admin.get("/api/v1/customers/" + std::to_string(a1["owner_customer_id"].get<int64_t>())));
  EXPECT_EQ(owner["purchase_total_fen"], 399950 + 10000);

  json again = run(admin, "install_base", "sales.csv", csv);
  EXPECT_EQ(again["created"], 0);
  EXPECT_EQ(again["updated"], 0);
  EXPECT_EQ(again["unchanged"], 2);
  EXPECT_EQ(again["bad"], 4);
  auto a1b = body(admin.get("/api/v1/assets/by-serial/" + s1));
  EXPECT_EQ(a1b["version"], a1["version"]);
  auto owner2 = body(admin.get("/api/v1/customers/" + std::to_string(a1["owner_customer_id"].get<int64_t>())));
  EXPECT_EQ(owner2["purchase_total_fen"], owner["purchase_total_fen"]);

  // A later file with the installation of a sold unit updates it.
  std::string later = "序列号,型号,安装日期,安装单位\nIB-" + tag + "-4,SWH-Q18,2024-03-05,SP-SH-XH\n";
  json upd = run(admin, "install_base", "installs.csv", later);
  EXPECT_EQ(upd["updated"], 1) << upd.dump();
  EXPECT_EQ(body(admin.get("/api/v1/assets/by-serial/IB-" + tag + "-4"))["status"], "installed");
}

TEST_F(ImportsApi, XlsxProductsImportByMultipartUpload) {
  auto admin = as("admin");
  std::string t = random_hex(3);
  std::string line = "PLX" + t, model = "MX-" + t;
  std::string file = xlsx({{"产品线编码", "产品线", "型号", "型号名称", "位号", "部件名称", "关键件", "关键件类别"},
                           {line, "导入产品线" + t, model, "导入型号" + t, "U1", "压缩机", "是", "compressor"},
                           {line, "", model, "", "U2", "风扇电机", "否", ""},
                           {line, "", model, "", "U3", "", "是", ""},  // no component name
                           {line, "", "", "", "", "", "", ""}});        // just the line: unchanged
  std::string boundary = "----shouhou" + t;
  std::string body_s = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nproducts\r\n--" +
                       boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"products.xlsx\"\r\n" +
                       "Content-Type: application/octet-stream\r\n\r\n" + file + "\r\n--" + boundary + "--\r\n";
  http::Headers h;
  h.set("content-type", "multipart/form-data; boundary=" + boundary);
  auto r = admin.call("POST", "/api/v1/imports", body_s, h);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(body(r)["format"], "xlsx");
  EXPECT_EQ(body(r)["filename"], "products.xlsx");
  json j = wait(admin, body(r)["id"]);
  EXPECT_EQ(j["status"], "done");
  EXPECT_EQ(j["created"], 2) << j.dump();
  EXPECT_EQ(j["unchanged"], 1);
  EXPECT_EQ(j["bad"], 1);
  json errs = errors(admin, j["id"]);
  EXPECT_EQ(error_at(errs, 4)["column"], "component_name") << errs.dump();
  int64_t model_id = 0;
  for (auto& m : items(admin.get("/api/v1/models?limit=500")))
    if (m["code"] == model) model_id = m["id"];
  ASSERT_GT(model_id, 0);
  auto comps = items(admin.get("/api/v1/models/" + std::to_string(model_id) + "/components"));
  ASSERT_EQ(comps.size(), 2u) << comps.dump();
  // Re-import: unchanged.
  auto r2 = upload(admin, "products", "products.xlsx", file);
  ASSERT_EQ(r2.status, 202) << r2.body;
  json j2 = wait(admin, body(r2)["id"]);
  EXPECT_EQ(j2["created"], 0);
  EXPECT_EQ(j2["unchanged"], 3);
}

TEST_F(ImportsApi, ImportedRecordsStayInScope) {
  // dealer1 (上海浦东家电城, under 上海分公司) imports into its own unit;
  // a row naming another branch's provider is a bad row, not a leak.
  auto dealer = as("dealer1");
  std::string t = random_hex(3);
  std::string mine = "经销商客户" + t, other = "越权客户" + t;
  std::string csv = "name,org_unit,phone\n" + mine + ",DL-SH-01,13600136" + std::to_string(100 + std::stoi(t, nullptr, 16) % 899) +
                    "\n" + other + ",SP-JN-LX,13600136001\n";
  json j = run(dealer, "customers", "c.csv", csv);
  EXPECT_EQ(j["created"], 1);
  EXPECT_EQ(j["bad"], 1);
  EXPECT_EQ(error_at(errors(dealer, j["id"]), 3)["column"], "org_unit");
  auto admin = as("admin");
  EXPECT_TRUE(customer_by_name(admin, other).is_null());
  json c = customer_by_name(dealer, mine);
  ASSERT_TRUE(c.is_object());
  std::string path = "/api/v1/customers/" + std::to_string(c["id"].get<int64_t>());
  EXPECT_EQ(dealer.get(path).status, 200);
  // Providers elsewhere cannot read it, by id or by search: 404 like an unknown id.
  for (const char* who : {"provider1", "provider2"}) {
    auto p = as(who);
    EXPECT_EQ(p.get(path).status, 404) << who;
    EXPECT_TRUE(items(p.get("/api/v1/customers?name=" + enc(mine))).empty()) << who;
  }
  // Nor can they read the import (no import.run), and another importer's
  // import is 404 for the dealer.
  auto p2 = as("provider2");
  EXPECT_EQ(p2.get("/api/v1/imports/" + std::to_string(j["id"].get<int64_t>())).status, 403);
  json admins = run(admin, "customers", "a.csv", "name,phone\n管理员导入" + t + ",13500135" + std::to_string(100 + std::stoi(t, nullptr, 16) % 899) + "\n");
  EXPECT_EQ(dealer.get("/api/v1/imports/" + std::to_string(admins["id"].get<int64_t>())).status, 404);
  EXPECT_EQ(dealer.get("/api/v1/imports/" + std::to_string(admins["id"].get<int64_t>()) + "/errors").status, 404);
  bool listed = false;
  for (auto& i : items(dealer.get("/api/v1/imports"))) listed = listed || i["id"] == admins["id"];
  EXPECT_FALSE(listed);
  // A dealer may not import products (product.write).
  EXPECT_EQ(upload(dealer, "products", "p.csv", "product_line_code\nX\n").status, 403);
}

TEST_F(ImportsApi, BadUploadsAre4xxNamingTheField) {
  auto admin = as("admin");
  auto bad = [](const http::ClientResponse& r, int status, const std::string& field) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(body(r)["error"]["field"], field) << r.body;
  };
  bad(upload(admin, "gadgets", "x.csv", "name\nA\n"), 400, "kind");
  bad(admin.call("POST", "/api/v1/imports?filename=x.csv", "name\nA\n", {}), 400, "kind");
  bad(upload(admin, "customers", "x.csv", ""), 400, "file");
  bad(upload(admin, "customers", "x.csv", "name,phone\n"), 400, "file");  // header only
  bad(upload(admin, "customers", "x.csv", "phone,email\n13800138000,a@b.c\n"), 400, "name");  // missing column
  auto gbk = upload(admin, "customers", "x.csv", "name,phone\n\xD5\xC5\xC8\xFD,13800138000\n");
  bad(gbk, 400, "file");
  EXPECT_NE(gbk.body.find("GBK"), std::string::npos) << gbk.body;
  bad(upload(admin, "customers", "x.xlsx", "PK\3\4 this is not really a zip file at all......"), 400, "file");
  EXPECT_EQ(upload(admin, "customers", "x.xls", "whatever").status, 415);
  // Uploads may exceed the server's 8 MiB default (the route allows 64 MiB), not the route's own limit.
  // (Its header lacks the name column, so it is refused at once, after the whole body was read.)
  std::string rows = "phone,email\n";
  for (int i = 0; rows.size() < 9u * 1024 * 1024; ++i) rows += "1380013" + std::to_string(1000 + i % 9000) + ",\n";
  bad(upload(admin, "customers", "x.csv", rows), 400, "name");
  auto big = upload(admin, "customers", "x.csv", "name\n" + std::string(65 * 1024 * 1024, 'a'));
  EXPECT_EQ(big.status, 413) << big.body.substr(0, 200);
  auto agent = as("agent");
  EXPECT_EQ(upload(agent, "customers", "x.csv", "name\nA\n").status, 403);
  EXPECT_EQ(admin.get("/api/v1/imports/999999999").status, 404);
  EXPECT_EQ(admin.get("/api/v1/imports/abc").status, 404);
  EXPECT_EQ(admin.get("/api/v1/imports/999999999/errors").status, 404);
  // The server is still healthy.
  EXPECT_EQ(admin.get("/healthz").status, 200);
}

// The asset tag (资产#) and commissioning date (运行日期) as optional columns:
// validated like the API, set on known serials, idempotent.
TEST_F(ImportsApi, InstallBaseAssetTagAndCommissioningDateColumns) {
  auto admin = as("admin");
  std::string tag = random_hex(4);
  std::string s1 = "IT-" + tag + "-1", s2 = "IT-" + tag + "-2", s3 = "IT-" + tag + "-3", s4 = "IT-" + tag + "-4";
  std::string csv = "序列号,型号,安装日期,资产#,运行日期\n" +
                    s1 + ",KFR-35GW/BP3,2024-02-03,wl" + tag + ",2024-02-05\n" +  // row 2: good
                    s2 + ",KFR-35GW/BP3,2024-02-03,WL " + tag + ",\n" +           // row 3: bad tag
                    s3 + ",KFR-35GW/BP3,2024-02-03,,2024-02-01\n" +               // row 4: commissioned before installed
                    s4 + ",KFR-35GW/BP3,,,2024-02-31\n";                           // row 5: no such date
  json j = run(admin, "install_base", "tags.csv", csv);
  EXPECT_EQ(j["created"], 1) << j.dump();
  EXPECT_EQ(j["bad"], 3);
  json errs = errors(admin, j["id"]);
  EXPECT_EQ(error_at(errs, 3)["column"], "asset_tag") << errs.dump();
  EXPECT_EQ(error_at(errs, 4)["column"], "commissioned_on") << errs.dump();
  EXPECT_EQ(error_at(errs, 5)["column"], "commissioned_on") << errs.dump();
  auto a1 = body(admin.get("/api/v1/assets/by-serial/" + s1));
  std::string TAG = "WL" + tag;
  for (auto& ch : TAG) ch = static_cast<char>(toupper(ch));
  EXPECT_EQ(a1["asset_tag"], TAG) << a1.dump();
  EXPECT_EQ(a1["commissioned_on"], "2024-02-05");

  json again = run(admin, "install_base", "tags.csv", csv);
  EXPECT_EQ(again["unchanged"], 1) << again.dump();
  EXPECT_EQ(again["updated"], 0);

  // A later file numbers a known unit: updated, in its timeline.
  std::string later = "serial,model_code,asset_tag,commissioned_on\n" + s1 + ",KFR-35GW/BP3,WL-" + tag + ",2024-02-06\n";
  json upd = run(admin, "install_base", "renumber.csv", later);
  EXPECT_EQ(upd["updated"], 1) << upd.dump();
  auto a1b = body(admin.get("/api/v1/assets/by-serial/" + s1));
  EXPECT_EQ(a1b["commissioned_on"], "2024-02-06");
  auto hist = items(admin.get("/api/v1/assets/" + std::to_string(a1b["id"].get<int64_t>()) + "/history"));
  EXPECT_EQ(hist.back()["kind"], "updated");
  EXPECT_EQ(hist.back()["detail"]["asset_tag"]["from"], TAG);
  // The template lists the new columns.
  auto tpl = admin.get("/api/v1/imports/template?kind=install_base");
  EXPECT_EQ(tpl.status, 200);
  EXPECT_NE(tpl.body.find("asset_tag"), std::string::npos) << tpl.body;
  EXPECT_NE(tpl.body.find("commissioned_on"), std::string::npos) << tpl.body;
}

// The batch fast path (multi-row INSERTs in chunks of 64, 32, ... rows): 151
// rows with owners shared between rows, one serial twice (its second row a
// conflicting sale), one serial already stored, and a bad row in between;
// every created asset has its owner, timeline and purchase as row by row.
TEST_F(ImportsApi, InstallBaseBatchOfManyRowsMatchesTheRowByRowRules) {
  auto admin = as("admin");
  std::string tag = random_hex(4);
  for (auto& ch : tag) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));  // serials are stored so
  std::string phone_base = "137" + std::to_string(1000 + std::stoul(tag, nullptr, 16) % 8999);
  auto serial = [&](int i) { return "FB-" + tag + "-" + std::to_string(i); };
  // Stored before: the later file's row for it is "unchanged".
  std::string head = "serial,model_code,sale_date,sale_amount,customer_name,customer_phone,install_date,installer\n";
  json first = run(admin, "install_base", "pre.csv",
                   head + serial(10) + ",SWH-Q18,2024-03-01,100,甲" + tag + "," + phone_base + "0000,,\n");
  EXPECT_EQ(first["created"], 1) << first.dump();
  std::string csv = head;
  for (int i = 0; i < 150; ++i) {
    int owner = i % 5;  // five owners, 30 assets each (owner 0: the customer stored above)
    std::string name = owner == 0 ? "甲" + tag : "乙" + tag + std::to_string(owner);
    csv += serial(i) + ",SWH-Q18,2024-03-01,100," + name + "," + phone_base + std::to_string(owner) + "000," +
           (i % 2 ? "2024-03-02,SP-SH-XH" : ",") + "\n";
    if (i == 40) csv += serial(3) + ",SWH-Q18,2024-03-09,200,丙" + tag + ",13600000000,,\n";  // row 43: serial 3 again
  }
  // Rows: header 1, serial i at row i + 2 (+1 after row 42); row 43 conflicts with serial 3's sale.
  json j = run(admin, "install_base", "many.csv", csv);
  EXPECT_EQ(j["created"], 149) << j.dump();
  EXPECT_EQ(j["unchanged"], 1);
  EXPECT_EQ(j["bad"], 1);
  json errs = errors(admin, j["id"]);
  ASSERT_EQ(errs.size(), 1u) << errs.dump();
  EXPECT_EQ(errs[0]["row"], 43);
  EXPECT_EQ(errs[0]["column"], "sale_date");
  // Owner 0 is the customer stored before; the others were created once each.
  auto a0 = body(admin.get("/api/v1/assets/by-serial/" + serial(0)));
  auto a10 = body(admin.get("/api/v1/assets/by-serial/" + serial(10)));
  EXPECT_EQ(a0["owner_customer_id"], a10["owner_customer_id"]);
  auto o0 = body(admin.get("/api/v1/customers/" + std::to_string(a0["owner_customer_id"].get<int64_t>())));
  EXPECT_EQ(o0["purchase_total_fen"], 30 * 10000) << o0.dump();  // 29 new + the one imported before
  for (int i : {1, 6, 64, 127, 128, 149}) {
    auto a = body(admin.get("/api/v1/assets/by-serial/" + serial(i)));
    EXPECT_EQ(a["serial"], serial(i)) << a.dump();
    EXPECT_EQ(a["status"], i % 2 ? "installed" : "sold");
    auto same = body(admin.get("/api/v1/assets/by-serial/" + serial(i % 5)));  // the same owner's first asset
    EXPECT_EQ(a["owner_customer_id"], same["owner_customer_id"]);
    auto hist = items(admin.get("/api/v1/assets/" + std::to_string(a["id"].get<int64_t>()) + "/history"));
    EXPECT_EQ(hist.size(), i % 2 ? 3u : 2u) << hist.dump();  // created, sale (, installation)
  }
  auto o1 = body(admin.get("/api/v1/customers/" + std::to_string(
                               body(admin.get("/api/v1/assets/by-serial/" + serial(1)))["owner_customer_id"].get<int64_t>())));
  EXPECT_EQ(o1["purchase_total_fen"], 30 * 10000) << o1.dump();
  EXPECT_EQ(o1["phones"].size(), 1u);
  // Again: nothing changes.
  json again = run(admin, "install_base", "many.csv", csv);
  EXPECT_EQ(again["created"], 0) << again.dump();
  EXPECT_EQ(again["unchanged"], 150);
  EXPECT_EQ(again["bad"], 1);
  EXPECT_EQ(body(admin.get("/api/v1/customers/" + std::to_string(o1["id"].get<int64_t>())))["purchase_total_fen"],
            30 * 10000);
}

// Issue 3: every bad row's reason is a stable code with arguments, the English
// text (as before, for scripts) and the Chinese text the import page shows.
TEST_F(ImportsApi, BadRowReasonsHaveCodesArgumentsAndChineseText) {
  auto admin = as("admin");
  std::string tag = random_hex(4);
  for (auto& ch : tag) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));  // serials are stored upper-case
  std::string s = "RC-" + tag + "-";
  std::string phone = "137" + std::to_string(10000000 + std::stoul(tag, nullptr, 16) % 89999999);
  std::string head = "serial,model_code,production_date,org_unit,sale_date,sale_amount,customer_name,customer_phone\n";
  std::string csv = head +
                    s + "1,KFR-35GW/BP3,2024-01-05,,2024-02-01,100,买家" + tag + "," + phone + "\n" +  // 2: good
                    s + "2,NO-SUCH-" + tag + ",,,,,,\n" +                                              // 3
                    s + "3,KFR-35GW/BP3,2024-05-01,,2024-04-01,,,\n" +                                 // 4
                    "bad serial!,SWH-Q18,,,,,,\n" +                                                      // 5
                    s + "5,SWH-Q18,,,2024-02-30,,,\n" +                                                // 6
                    s + "6,SWH-Q18,,NO-UNIT-" + tag + ",,,,\n" +                                       // 7
                    s + "7,SWH-Q18,,,2024-02-01,12.345,,\n" +                                          // 8
                    s + "8,SWH-Q18,,,2024-02-01,,某人,\n";                                             // 9
  json j = run(admin, "install_base", "codes.csv", csv);
  EXPECT_EQ(j["created"], 1) << j.dump();
  EXPECT_EQ(j["bad"], 7);
  json errs = errors(admin, j["id"]);
  struct Want {
    int64_t row;
    const char* column;
    const char* code;
    std::vector<std::pair<const char*, std::string>> args;
    const char* en;  // a part of the English reason
    const char* zh;  // a part of the Chinese text
  };
  std::vector<Want> want = {
      {3, "model_code", "unknown_model", {{"column", "model_code"}, {"value", "NO-SUCH-" + tag}}, "is not a known model", "不是已知型号"},
      {4, "sale_date", "sale_before_production", {{"date", "2024-05-01"}}, "before the production date", "销售日期早于生产日期 2024-05-01"},
      {5, "serial", "serial_chars", {{"value", "bad serial!"}}, "may hold letters, digits", "序列号“bad serial!”只能包含"},
      {6, "sale_date", "bad_date", {{"value", "2024-02-30"}}, "must be a date YYYY-MM-DD", "销售日期“2024-02-30”须为"},
      {7, "org_unit", "unit_out_of_scope", {{"value", "NO-UNIT-" + tag}}, "is not an org unit within your scope", "不是您权限范围内的组织单位"},
      {8, "sale_amount", "bad_amount", {{"value", "12.345"}}, "at most 2 decimals", "销售金额“12.345”须为以元计"},
      {9, "customer_phone", "phone_needs_name", {}, "customer_phone is required with customer_name", "客户电话为必填项"},
  };
  for (const auto& w : want) {
    json e = error_at(errs, w.row);
    ASSERT_TRUE(e.is_object()) << "row " << w.row << ": " << errs.dump();
    EXPECT_EQ(e["column"], w.column) << e.dump();
    EXPECT_EQ(e["code"], w.code) << e.dump();
    for (const auto& [k, v] : w.args) EXPECT_EQ(e["args"][k], v) << e.dump();
    EXPECT_NE(e["reason"].get<std::string>().find(w.en), std::string::npos) << e.dump();
    EXPECT_EQ(e["text"]["en"], e["reason"]) << e.dump();
    EXPECT_NE(e["text"]["zh-CN"].get<std::string>().find(w.zh), std::string::npos) << e.dump();
  }

  // A rule of the install base (a different sale of a stored serial, a 409
  // there) is recognised from its English text and translated too.
  std::string other = head + s + "1,KFR-35GW/BP3,2024-01-05,,2024-03-01,100,买家" + tag + "," + phone + "\n";
  json k = run(admin, "install_base", "codes2.csv", other);
  EXPECT_EQ(k["bad"], 1) << k.dump();
  json e = error_at(errors(admin, k["id"]), 2);
  EXPECT_EQ(e["code"], "serial_other_sale") << e.dump();
  EXPECT_EQ(e["args"]["serial"], s + "1");
  EXPECT_EQ(e["args"]["date"], "2024-02-01");
  EXPECT_EQ(e["text"]["zh-CN"], "序列号 " + s + "1 已登记了不同的销售（2024-02-01）");
}
