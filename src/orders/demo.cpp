// Demo orders: seed 001's sample 服务请求明细 (FWQQBRG0020050222006) rebuilt
// as data with its historic times, and a few open orders in other states.
#include "core/util.h"
#include "orders/internal.h"
#include "orders/sales_order.h"
#include "products/products.h"

namespace shouhou::orders {

using api::json;
using store::Conn;

namespace {

Result<std::optional<int64_t>> id_of(Conn& c, const char* sql, const std::string& key) {
  auto row = TRY(c.one(sql, {key}));
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(row->i(0));
}
int64_t at(const char* iso) { return parse_iso(iso).value_or(0); }

}  // namespace

Result<void> seed_demo(api::WriteTx& tx, const std::map<std::string, int64_t>& unit_ids) {
  Conn& c = tx.db;
  auto unit = [&](const char* code) -> int64_t {
    auto it = unit_ids.find(code);
    return it == unit_ids.end() ? 0 : it->second;
  };
  int64_t sp_sh = unit("SP-SH-XH"), sp_jn = unit("SP-JN-LX");
  if (!sp_sh || !sp_jn) return {};
  auto cust = [&](const char* code) { return id_of(c, "SELECT id FROM customers WHERE code = ?", code); };
  auto user = [&](const char* name) { return id_of(c, "SELECT id FROM users WHERE username = ?", name); };
  auto wanli = TRY(cust("C-WANLI"));
  auto wang = TRY(cust("C-WANGJG"));
  auto lina = TRY(cust("C-LINA"));
  auto eng1 = TRY(user("engineer1"));
  auto eng2 = TRY(user("engineer2"));
  auto hq_row = TRY(c.one("SELECT path FROM org_units WHERE id = ?", {unit("HQ")}));
  std::string hq = hq_row ? hq_row->s(0) : "/";

  // Labour (工时费, 100103) as a priced service item, as in the seed.
  products::NewServiceItem labour;
  labour.code = "100103";
  labour.name = "工时费";
  labour.unit = "小时";
  labour.prices = {{"A", 12500}, {"B", 11000}, {"C", 10000}};
  TRY(products::insert_service_item(c, labour, hq));

  // Fault codes: product line → symptom → cause.
  int64_t now = now_ms();
  auto line = TRY(id_of(c, "SELECT id FROM product_lines WHERE code = ?", "AC"));
  std::optional<int64_t> ac_leak;
  if (line) {
    struct F { const char* sym; const char* sym_name; std::vector<std::pair<const char*, const char*>> causes; };
    const F faults[] = {{"AC-S01", "不制冷", {{"AC-C011", "冷媒泄漏"}, {"AC-C012", "压缩机不启动"}, {"AC-C013", "室外风机故障"}}},
                        {"AC-S02", "噪音大", {{"AC-C021", "风机叶轮松动"}, {"AC-C022", "安装支架不稳"}}},
                        {"AC-S03", "显示故障代码", {{"AC-C031", "主控板故障"}, {"AC-C032", "传感器故障"}}}};
    for (const auto& f : faults) {
      auto s = TRY(c.one("INSERT INTO fault_codes (org_path, product_line_id, parent_id, level, code, name, active, version, "
                         "created_at, updated_at) VALUES (?,?,NULL,'symptom',?,?,1,1,?,?) RETURNING id",
                         {hq, *line, std::string(f.sym), std::string(f.sym_name), now, now}));
      for (const auto& [code, name] : f.causes) {
        auto r = TRY(c.one("INSERT INTO fault_codes (org_path, product_line_id, parent_id, level, code, name, active, version, "
                           "created_at, updated_at) VALUES (?,?,?,'cause',?,?,1,1,?,?) RETURNING id",
                           {hq, *line, s->i(0), std::string(code), std::string(name), now, now}));
        if (std::string(code) == "AC-C011") ac_leak = r->i(0);
      }
    }
  }

  // ---- seed 001 ------------------------------------------------------------------
  if (wanli) {
    ScopedClock clock(at("2005-02-22T10:05:00+08:00"));
    json o = TRY(create(tx, json{{"type", "repair"}, {"channel", "call_centre"}, {"customer_id", *wanli},
                                 {"contact", {{"name", "张云峰"}, {"phone", "13901888888"}}},
                                 {"site", {{"county_code", "310115"}, {"address", "金港路108号"}, {"postcode", "201206"}}},
                                 {"serial", "20040201-5326-A33"}, {"problem_area", "运行故障"}, {"problem_subarea", "硬件"},
                                 {"reproducibility", "always"}, {"severity", "serious"}, {"priority", "high"},
                                 {"description", "1、立式平衡主轴转速不稳，可能是法兰连接皮带老化松动。2、主轴夹具不牢固，可能是螺栓滑扣。"},
                                 {"summary", "立式平衡主轴转速不稳，主轴夹具不牢固"}}));
    int64_t id = o["id"];
    // The report's contract is the on-site contract of the time (no discount);
    // the unit was in its warranty (2004-05-31 .. 2005-05-31).
    auto old = TRY(id_of(c, "SELECT id FROM service_contracts WHERE number = ?", "FWHYBRG0020050223001"));
    TRY(c.exec("UPDATE service_orders SET contract_id = ?, warranty = 'in' WHERE id = ?",
               {old ? store::Value(*old) : store::Value(), id}));
    std::string path = "";
    auto add_note = [&](const char* kind, const char* body, const char* when) -> Result<void> {
      auto p = TRY(c.one("SELECT org_path FROM service_orders WHERE id = ?", {id}));
      TRY(c.exec("INSERT INTO order_notes (order_id, org_path, kind, body, author_id, author_name, version, created_at, "
                 "updated_at) VALUES (?,?,?,?,NULL,'dm',1,?,?)",
                 {id, p->s(0), std::string(kind), std::string(body), at(when), at(when)}));
      return {};
    };
    TRY(transition(tx, id, "audit", json::object(), "信息完整"));
    TRY_VOID(add_note("general", "建议客户更换法兰连接皮带，易损件应每三个月检查一次", "2005-02-22T10:45:00+08:00"));
    clock.set(at("2005-02-22T11:00:00+08:00"));
    TRY(assign(tx, id, sp_sh, eng1.value_or(0), json{{"mode", "manual"}, {"by", "dm"}}));
    clock.set(at("2005-02-22T11:20:00+08:00"));
    TRY(transition(tx, id, "accept"));
    auto p = TRY(c.one("SELECT org_path FROM service_orders WHERE id = ?", {id}));
    path = p->s(0);
    auto task = [&](const char* subject, const char* planned, const char* start, const char* end, const char* remark) -> Result<void> {
      TRY(c.exec("INSERT INTO order_tasks (order_id, org_path, subject, mode, assignee_id, planned_start, actual_start, "
                 "actual_end, status, remarks, version, created_at, updated_at) VALUES (?,?,?,'on_site',?,?,?,?,'done',?,1,?,?)",
                 {id, path, std::string(subject), eng1 ? store::Value(*eng1) : store::Value(), at(planned), at(start),
                  at(end), std::string(remark), now_ms(), now_ms()}));
      return {};
    };
    TRY_VOID(task("诊断SY3240平衡机故障，携带零部件：法兰连接皮带和主轴夹具螺栓", "2005-02-22T15:30:00+08:00",
                  "2005-02-22T16:00:00+08:00", "2005-02-22T18:00:00+08:00",
                  "主轴夹具螺栓已更换，但主轴转速不稳不是连接皮带松动，而是由于驱动电机电刷磨损导致接触不好。"));
    clock.set(at("2005-02-22T16:00:00+08:00"));
    TRY(transition(tx, id, "arrive"));
    TRY(c.exec("INSERT INTO order_maintenance (order_id, org_path, asset_id, performed_on, type, summary, quantity, "
               "performed_by, version, created_at, updated_at) VALUES (?,?,?,?,?,?,1,?,1,?,?)",
               {id, path, o["asset_id"].is_number() ? store::Value(o["asset_id"].get<int64_t>()) : store::Value(),
                std::string("2005-02-22"), std::string("更换"), std::string("更换主轴夹具螺栓，重新校正了偏距"),
                std::string("elitor"), now_ms(), now_ms()}));
    clock.set(at("2005-02-23T11:30:00+08:00"));
    TRY_VOID(task("更换SY3240电机电刷", "2005-02-23T09:00:00+08:00", "2005-02-23T09:00:00+08:00",
                  "2005-02-23T11:30:00+08:00", "更换后设备正常运行，问题解决"));
    TRY(c.exec("INSERT INTO order_maintenance (order_id, org_path, asset_id, performed_on, type, summary, quantity, "
               "performed_by, version, created_at, updated_at) VALUES (?,?,?,?,?,?,1,?,1,?,?)",
               {id, path, o["asset_id"].is_number() ? store::Value(o["asset_id"].get<int64_t>()) : store::Value(),
                std::string("2005-02-23"), std::string("更换/升级"),
                std::string("更换电机电刷，同时升级平衡机控制软件V3.01"), std::string("lxb"), now_ms(), now_ms()}));
    struct L { const char* kind; const char* code; const char* name; const char* unit; int64_t q, price; const char* remark; };
    const L lines[] = {{"part", "600102", "SY3240-AK03", nullptr, 1, 32432, nullptr},
                       {"part", "100201", "SY3240-AF01", nullptr, 2, 21000, "交货推迟至3月1日"},
                       {"part", "100202", "SY3240-AF02", nullptr, 1, 7813, nullptr},
                       {"service", "100103", "工时费", "小时", 4, 12500, nullptr}};
    int64_t pos = 0;
    auto labour_id = TRY(id_of(c, "SELECT id FROM service_items WHERE code = ?", "100103"));
    for (const auto& l : lines) {
      bool service = std::string(l.kind) == "service";
      TRY(c.exec("INSERT INTO order_charges (order_id, org_path, kind, code, name, unit, service_item_id, grade, quantity, "
                 "unit_price_fen, amount_fen, remark, sort_order, version, created_at, updated_at) VALUES "
                 "(?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?)",
                 {id, path, std::string(l.kind), std::string(l.code), std::string(l.name),
                  l.unit ? store::Value(std::string(l.unit)) : store::Value(),
                  service && labour_id ? store::Value(*labour_id) : store::Value(),
                  service ? store::Value(std::string("A")) : store::Value(), l.q, l.price,
                  l.q * l.price, l.remark ? store::Value(std::string(l.remark)) : store::Value(), pos++, now_ms(), now_ms()}));
    }
    // The sales contract the parts and labour hang under (零部件及工时), approved by dm.
    {
      ScopedClock signed_at(at("2005-02-23T09:30:00+08:00"));
      auto so_order = TRY(find(c, id));
      TRY(detail::create_sales_order(tx, *so_order,
                                     json{{"number", "CTRNBRG0020050223001"}, {"signed_on", "2005-02-23"}, {"summary", "维修"},
                                          {"type", "service"}, {"status", "executing"}, {"contact_name", "张云峰"},
                                          {"payment_method", "cheque"}, {"sales_method", "after_sales_parts"},
                                          {"delivery_method", "door_delivery"}, {"ship_date", "2005-02-23"},
                                          {"sales_team", "dm"}}));
      TRY(detail::decide_sales_order(tx, id, "approved", "dm"));
    }
    json comp{{"resolution", "更换主轴夹具螺栓与电机电刷，升级控制软件V3.01"},
              {"fault_code", "BAL-C01"}, {"fault_code_name", "驱动电机电刷磨损"}, {"symptom_name", "主轴转速不稳"},
              {"failed_component", {{"position", "电刷"}, {"name", "驱动电机电刷"}, {"key_part", false}}}};
    TRY(c.exec("UPDATE service_orders SET completion_json = ? WHERE id = ?", {comp.dump(), id}));
    TRY(transition(tx, id, "complete", json::object(), "更换后设备正常运行，问题解决"));
    clock.set(at("2005-02-23T14:20:00+08:00"));
    json sat{{"score", 45}, {"max_score", 60}, {"percent", 75}, {"date", "2005-02-23"}, {"contact_name", "张云峰"},
             {"feedback", "客户建议今后现场服务人员多准备一些备品部件，尽可能一次上门就解决问题。对我方服务比较满意。"},
             {"evaluated_by", "dm"}};
    TRY(c.exec("UPDATE service_orders SET satisfaction_json = ? WHERE id = ?", {sat.dump(), id}));
    TRY(transition(tx, id, "revisit"));
    clock.set(at("2005-02-23T14:26:00+08:00"));
    TRY(transition(tx, id, "close", json::object(), "结案/解决问题"));
    clock.set(at("2005-02-23T14:47:00+08:00"));
    TRY_VOID(add_note("warning", "升级平衡机控制软件", "2005-02-23T14:47:00+08:00"));
  }

  // ---- open orders for the pages ----------------------------------------------------
  if (wang) {
    // 王建国's air conditioner: dispatched to the Xuhui provider, engineer1 to accept.
    json o = TRY(create(tx, json{{"type", "repair"}, {"customer_id", *wang},
                                 {"contact", {{"name", "王建国"}, {"phone", "139 1234 5678"}}},
                                 {"site", {{"county_code", "310104"}, {"address", "漕溪北路88弄5号1201"}}},
                                 {"serial", "KFR35-2401-000101"}, {"problem_area", "制冷"}, {"problem_subarea", "外机"},
                                 {"severity", "serious"}, {"priority", "high"}, {"reproducibility", "always"},
                                 {"description", "开机半小时后不制冷，外机风扇不转"}, {"summary", "不制冷"}}));
    TRY(transition(tx, o["id"], "audit"));
    TRY(assign(tx, o["id"], sp_sh, eng1.value_or(0), json{{"mode", "manual"}, {"by", "dispatcher"}}));
    if (ac_leak) (void)ac_leak;
    // An installation just taken.
    TRY(create(tx, json{{"type", "installation"}, {"customer_id", *wang},
                        {"contact", {{"name", "王建国"}, {"phone", "139 1234 5678"}}},
                        {"site", {{"county_code", "310104"}, {"address", "漕溪北路88弄5号1201"}}},
                        {"description", "新购立柜式空调安装"}, {"priority", "medium"}}));
  }
  if (lina) {
    json o = TRY(create(tx, json{{"type", "repair"}, {"customer_id", *lina}, {"contact", {{"name", "李娜"}, {"phone", "13800138000"}}},
                                 {"site", {{"county_code", "370102"}, {"address", "文化东路59号楼顶"}}},
                                 {"serial", "SWH18-2304-000055"}, {"problem_area", "漏水"}, {"description", "集热管破裂漏水"},
                                 {"severity", "normal"}, {"priority", "medium"}}));
    TRY(transition(tx, o["id"], "audit"));
    TRY(assign(tx, o["id"], sp_jn, eng2.value_or(0), json{{"mode", "manual"}, {"by", "dispatcher"}}));
    TRY(transition(tx, o["id"], "accept"));
    TRY(transition(tx, o["id"], "arrive"));
  }
  return {};
}

}  // namespace shouhou::orders
