// Demo data for products, install base, warranty policies and contracts
// (called from app::seed_demo after the org tree, users and customers).
#include "contracts/contracts.h"
#include "core/util.h"
#include "installbase/installbase.h"
#include "products/products.h"
#include "warranty/warranty.h"

namespace shouhou::warranty {

using api::json;
using store::Conn;

namespace {

Result<std::optional<int64_t>> id_of(Conn& c, const char* sql, const std::string& key) {
  auto row = TRY(c.one(sql, {key}));
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(row->i(0));
}

Result<int64_t> policy(Conn& c, const std::string& hq, int64_t line, const char* name, int unit_months,
                       const json& key_parts, const char* basis, const char* fallback, bool invoice, int offset,
                       const json& exclusions) {
  int64_t now = now_ms();
  auto row = TRY(c.one(
      "INSERT INTO warranty_policies (org_path, name, product_line_id, model_id, valid_from, unit_months, key_parts_json, "
      "start_basis, fallback_basis, requires_invoice, production_offset_days, parts_pct, labour_pct, travel_pct, "
      "response_mode, response_hours, onsite_hours, exclusions_json, active, version, created_at, updated_at) "
      "VALUES (?,?,?,NULL,'1900-01-01',?,?,?,?,?,?,100,100,100,'8x5',24,48,?,1,1,?,?) RETURNING id",
      {hq, std::string(name), line, int64_t(unit_months), key_parts.dump(), std::string(basis), std::string(fallback),
       int64_t(invoice), int64_t(offset), exclusions.dump(), now, now}));
  return row->i(0);
}

}  // namespace

Result<void> seed_demo(Conn& c, const std::map<std::string, int64_t>& units) {
  auto unit = [&](const char* code) -> std::optional<int64_t> {
    auto it = units.find(code);
    return it == units.end() ? std::nullopt : std::optional<int64_t>(it->second);
  };
  if (!unit("HQ")) return {};
  auto hq_row = TRY(c.one("SELECT path FROM org_units WHERE id = ?", {*unit("HQ")}));
  std::string hq = hq_row->s(0);

  // Product lines and models.
  int64_t ac = TRY(products::insert_product_line(c, {"AC", "空调", std::string("Air conditioners")}, hq));
  int64_t wh = TRY(products::insert_product_line(c, {"WH", "热水器", std::string("Water heaters")}, hq));
  int64_t swh = TRY(products::insert_product_line(c, {"SWH", "太阳能热水器", std::string("Solar water heaters")}, hq));
  int64_t ups = TRY(products::insert_product_line(c, {"UPS", "UPS电源", std::string("UPS")}, hq));
  (void)wh;

  int64_t kfr35 = TRY(products::insert_model(c, {ac, "KFR-35GW/BP3", "1.5匹变频壁挂式空调", std::string("一级能效，R32冷媒")}, hq));
  int64_t kfr72 = TRY(products::insert_model(c, {ac, "KFR-72LW/BP2", "3匹变频立柜式空调", std::nullopt}, hq));
  int64_t swh18 = TRY(products::insert_model(c, {swh, "SWH-Q18", "18管紧凑式太阳能热水器", std::nullopt}, hq));
  int64_t ups10 = TRY(products::insert_model(c, {ups, "UPS-C10K", "10kVA 在线式UPS", std::nullopt}, hq));
  TRY(products::insert_batch(c, kfr35, {"B2401", std::string("2024-01-10"), 5000}, hq));
  TRY(products::insert_batch(c, kfr35, {"B2409", std::string("2024-09-05"), 8000}, hq));
  TRY(products::insert_batch(c, kfr72, {"B2401", std::string("2024-01-18"), 1200}, hq));
  TRY(products::insert_batch(c, swh18, {"B2304", std::string("2023-04-12"), 3000}, hq));
  TRY(products::insert_batch(c, ups10, {"B2311", std::string("2023-11-20"), 200}, hq));
  struct Comp { int64_t model; const char* pos; const char* name; const char* code; bool key; const char* cat; };
  const Comp comps[] = {
      {kfr35, "C1", "变频压缩机", "YSK-35BP", true, "压缩机"}, {kfr35, "PCB1", "室内主控板", "ZB-35N", true, "主板"},
      {kfr35, "PCB2", "室外变频板", "ZB-35W", true, "主板"},   {kfr35, "M1", "室内风机", "FJ-35", false, nullptr},
      {kfr35, "F1", "过滤网", "GL-35", false, nullptr},        {kfr72, "C1", "变频压缩机", "YSK-72BP", true, "压缩机"},
      {kfr72, "PCB1", "主控板", "ZB-72", true, "主板"},         {kfr72, "M1", "室外风机", "FJ-72W", false, nullptr},
      {swh18, "T1", "真空集热管", "JRG-58", true, "集热管"},    {swh18, "TK1", "保温水箱", "SX-180", true, "水箱"},
      {swh18, "CT1", "智能控制仪", "KZY-2", false, nullptr},    {ups10, "INV1", "逆变功率模块", "NB-10K", true, "功率模块"},
      {ups10, "BAT1", "蓄电池组", "BT-12V100", true, "电池"},   {ups10, "PCB1", "控制板", "KZB-10K", true, "主板"},
  };
  for (const auto& k : comps) {
    products::NewComponent nc;
    nc.position = k.pos;
    nc.name = k.name;
    nc.part_code = std::string(k.code);
    nc.key_part = k.key;
    if (k.cat) nc.key_part_category = std::string(k.cat);
    TRY(products::insert_component(c, k.model, nc, hq));
  }

  // Service items (服务料号) with prices by provider grade, in fen.
  struct Item { const char* code; const char* name; const char* unit; std::optional<int64_t> line; int64_t a, b, cc; };
  const Item items[] = {
      {"SI-DIAG", "上门检测费", "次", std::nullopt, 5000, 4000, 3500},
      {"SI-AC-INST", "壁挂空调安装", "台", ac, 15000, 13000, 12000},
      {"SI-AC-GAS", "空调加氟（R32）", "次", ac, 18000, 16000, 15000},
      {"SI-AC-COMP", "更换压缩机（工时）", "次", ac, 30000, 27000, 25000},
      {"SI-SWH-TUBE", "更换真空集热管（工时）", "支", swh, 2000, 1800, 1500},
      {"SI-UPS-PM", "UPS预防性维护", "次", ups, 80000, 70000, 65000},
  };
  for (const auto& it : items) {
    products::NewServiceItem s;
    s.code = it.code;
    s.name = it.name;
    s.unit = it.unit;
    s.product_line_id = it.line;
    s.prices = {{"A", it.a}, {"B", it.b}, {"C", it.cc}};
    TRY(products::insert_service_item(c, s, hq));
  }

  // Warranty policies (三包): terms as data.
  TRY(policy(c, hq, ac, "空调整机", 12, json::array({{{"category", "压缩机"}, {"months", 72}}, {{"category", "主板"}, {"months", 36}}}),
             "installation", "sale", false, 0, json::array({"E-MISUSE", "E-POWER"})));
  TRY(policy(c, hq, swh, "太阳能热水器整机", 36, json::array({{{"category", "集热管"}, {"months", 36}}, {{"category", "水箱"}, {"months", 60}}}),
             "installation", "sale", false, 0, json::array()));
  TRY(policy(c, hq, ups, "UPS整机", 24, json::array({{{"category", "电池"}, {"months", 12}}, {{"category", "功率模块"}, {"months", 36}}}),
             "sale", "production", true, 90, json::array()));

  // Assets: sales and installations through the same functions as the API.
  auto cust = [&](const char* code) { return id_of(c, "SELECT id FROM customers WHERE code = ?", code); };
  auto user = [&](const char* name) { return id_of(c, "SELECT id FROM users WHERE username = ?", name); };
  api::WriteTx tx(c, nullptr, "demo");
  struct A {
    const char* serial; std::optional<int64_t> model; const char* batch; const char* prod; const char* unit;
    const char* maker; const char* model_text;
    const char* customer; const char* dealer; const char* sale; const char* invoice; int64_t amount;
    const char* installer; const char* engineer; const char* install; const char* address; const char* division;
  };
  const A assets[] = {
      {"KFR35-2401-000101", kfr35, "B2401", "2024-01-10", "SP-SH-XH", nullptr, nullptr, "C-WANGJG", "DL-SH-01",
       "2024-02-20", "FP31-00012345", 329900, "SP-SH-XH", "engineer1", "2024-03-01", "上海市徐汇区漕溪北路88弄5号1201", "310104"},
      {"KFR35-2409-000777", kfr35, "B2409", "2024-09-05", "SP-JN-LX", nullptr, nullptr, "C-LINA", "DL-JN-01",
       "2024-10-01", "FP37-00088888", 299900, "SP-JN-LX", "engineer2", "2024-10-03", "济南市历下区文化东路59号3单元502", "370102"},
      {"SWH18-2304-000055", swh18, "B2304", "2023-04-12", "SP-JN-LX", nullptr, nullptr, "C-LINA", "DL-JN-01",
       "2023-05-20", nullptr, 268000, "SP-JN-LX", "engineer2", "2023-05-25", "济南市历下区文化东路59号楼顶", "370102"},
      {"UPS10K-2311-000009", ups10, "B2311", "2023-11-20", "BR-SH", nullptr, nullptr, "C-WANLI", nullptr,
       "2024-01-15", "FP31-00020001", 4580000, "SP-SH-XH", "engineer1", "2024-01-20", "上海市浦东新区金港路108号机房", "310115"},
      {"20040201-5326-A33", std::nullopt, nullptr, nullptr, "BR-SH", "上海天硕机电设备有限公司", "SY3240-6e 平衡机", "C-WANLI",
       nullptr, "2004-05-20", nullptr, 0, nullptr, nullptr, "2004-05-31", "上海市浦东新区金港路108号车间", "310115"},
      {"KFR72-2401-000010", kfr72, "B2401", "2024-01-18", "HQ", nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0,
       nullptr, nullptr, nullptr, nullptr, nullptr},
  };
  std::map<std::string, int64_t> asset_ids;
  for (const auto& a : assets) {
    auto u = unit(a.unit);
    if (!u) continue;
    installbase::NewAsset na;
    na.serial = a.serial;
    na.org_unit_id = *u;
    na.model_id = a.model;
    na.third_party = !a.model;
    if (a.maker) na.maker = std::string(a.maker);
    if (a.model_text) na.model_text = std::string(a.model_text);
    if (a.batch) na.batch = std::string(a.batch);
    if (a.prod) na.production_date = std::string(a.prod);
    int64_t id = TRY(installbase::insert_asset(c, na));
    asset_ids[a.serial] = id;
    TRY_VOID(installbase::add_event(tx, id, "created", json{{"serial", a.serial}, {"source", "demo"}}));
    std::optional<int64_t> owner = a.customer ? TRY(cust(a.customer)) : std::nullopt;
    if (a.sale) {
      installbase::Sale s;
      s.date = a.sale;
      if (a.dealer) s.dealer_unit_id = unit(a.dealer);
      if (a.invoice) s.invoice_no = std::string(a.invoice);
      if (a.amount) s.amount_fen = a.amount;
      s.customer_id = owner;
      TRY_VOID(installbase::record_sale(tx, id, s));
    }
    if (a.install) {
      installbase::Installation in;
      in.date = a.install;
      if (a.installer) in.unit_id = unit(a.installer);
      if (a.engineer) in.engineer_user_id = TRY(user(a.engineer));
      in.address = std::string(a.address);
      in.division_code = std::string(a.division);
      if (a.model == kfr35)
        in.parts = json::array({{{"part_code", "TG-6.35"}, {"name", "加长铜管 3m"}, {"quantity", 1}, {"serial", nullptr}},
                                {{"part_code", "ZJ-35"}, {"name", "外机支架"}, {"quantity", 1}, {"serial", nullptr}}});
      TRY_VOID(installbase::record_installation(tx, id, in));
      if (!a.sale && owner)
        TRY(c.exec("UPDATE assets SET owner_customer_id = ? WHERE id = ?", {*owner, id}));
    }
  }
  // Seed 001: 上海万力 numbers its balancing machine WL006 (资产#); it ran from 2004-06-02 (运行日期).
  if (asset_ids.count("20040201-5326-A33"))
    TRY(c.exec("UPDATE assets SET asset_tag = 'WL006', commissioned_on = '2004-06-02' WHERE id = ?",
               {asset_ids["20040201-5326-A33"]}));

  // Contracts: seed 001's historical on-site contract (expired) and a current
  // full-cover 7x24 contract for the same customer.
  auto wanli = TRY(cust("C-WANLI"));
  if (wanli && unit("BR-SH") && asset_ids.count("UPS10K-2311-000009")) {
    contracts::Contract old;
    old.number = "FWHYBRG0020050223001";
    old.name = "万力现场服务合约";
    old.customer_id = *wanli;
    old.org_unit_id = *unit("BR-SH");
    old.type = "on_site";
    old.status = "expired";
    old.response_mode = "8x5";
    old.response_hours = 4;
    old.onsite_hours = 24;  // 下一工作日抵达现场
    old.start_date = "2004-12-01";
    old.end_date = "2005-05-31";
    TRY(contracts::insert_contract(c, old, {asset_ids["20040201-5326-A33"]}));
    contracts::Contract cur = old;
    cur.number = "FWHY-2025-0001";
    cur.name = "万力全保服务合约（UPS与平衡机）";
    cur.type = "full";
    cur.status = "active";
    cur.response_mode = "7x24";
    cur.response_hours = 2;
    cur.onsite_hours = 4;
    cur.start_date = "2025-01-01";
    cur.end_date = "2027-12-31";
    cur.parts_discount_bp = 1000;
    cur.labour_discount_bp = 2000;
    TRY(contracts::insert_contract(c, cur, {asset_ids["UPS10K-2311-000009"], asset_ids["20040201-5326-A33"]}));
  }
  return {};
}

}  // namespace shouhou::warranty
