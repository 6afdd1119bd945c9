// The service request report (seed 001's 服务请求明细) and the workflow admin API.
#include "contracts/contracts.h"
#include "core/input.h"
#include "core/util.h"
#include "customers/customers.h"
#include "installbase/installbase.h"
#include "orders/internal.h"
#include "orders/sales_order.h"
#include "warranty/warranty.h"

namespace shouhou::orders::detail {

using http::Request;
using http::Response;
using store::Conn;

namespace {
json jopt_s(const store::Row& r, size_t i) { return r.null(i) ? json(nullptr) : json(r.s(i)); }
json jtime(const store::Row& r, size_t i) { return r.null(i) || r.i(i) == 0 ? json(nullptr) : json(iso_utc(r.i(i))); }
template <typename T>
json oj(const std::optional<T>& v) { return v ? json(*v) : json(nullptr); }
}  // namespace

Result<json> report(Conn& c, const json& o) {
  int64_t id = o["id"];
  json rep{{"number", o["number"]}, {"order_id", id}, {"type", o["type"]}, {"generated_at", iso_utc(now_ms())}};

  // 客户信息
  json customer = nullptr;
  if (o["customer_id"].is_number_integer()) {
    int64_t cid = o["customer_id"];
    auto row = TRY(c.one("SELECT name, type, email, kind FROM customers WHERE id = ?", {cid}));
    if (row) {
      customer = json{{"id", cid}, {"name", row->s(0)}, {"type", row->s(1)}, {"kind", row->s(3)},
                      {"email", jopt_s(*row, 2)}, {"address", nullptr}, {"postcode", nullptr},
                      {"contact", nullptr}, {"phones", json::array()}};
      auto addr = TRY(c.one("SELECT division_name, detail, postcode FROM customer_addresses WHERE customer_id = ? "
                            "ORDER BY is_default DESC, sort_order LIMIT 1", {cid}));
      if (addr) {
        customer["address"] = addr->s(0).empty() ? addr->s(1) : addr->s(0) + " " + addr->s(1);
        customer["postcode"] = jopt_s(*addr, 2);
      }
      auto ct = TRY(c.one("SELECT id, name, email FROM customer_contacts WHERE customer_id = ? ORDER BY is_primary DESC, "
                          "sort_order LIMIT 1", {cid}));
      if (ct) {
        customer["contact"] = ct->s(1);
        if (!ct->null(2)) customer["email"] = ct->s(2);
      }
      // Seed 001 lists 商务电话 / 商务传真 / 移动电话 / 家庭电话: the kind says
      // mobile or landline, the label (e.g. "传真") says more.
      auto phones = TRY(c.query("SELECT raw, kind, label, contact_id FROM customer_phones WHERE customer_id = ? ORDER BY "
                                "contact_id IS NOT NULL, sort_order LIMIT 10", {cid}));
      for (const auto& p : phones)
        customer["phones"].push_back(json{{"number", p.s(0)}, {"kind", p.s(1)}, {"label", jopt_s(p, 2)},
                                          {"of_contact", !p.null(3)}});
    }
  }
  rep["customer"] = customer;
  rep["contact"] = o["contact"];
  rep["site"] = o["site"];

  // 客户资产 + 保修
  json asset = nullptr;
  if (o["asset_id"].is_number_integer()) {
    auto a = TRY(installbase::find_by_id(c, o["asset_id"].get<int64_t>()));
    if (a) {
      std::string date = iso_utc(parse_iso(o["created_at"].get<std::string>()).value_or(0) + 8 * 3600 * 1000).substr(0, 10);
      auto d = warranty::parse_date(date);
      auto ck = TRY(warranty::check(c, a->serial, d ? *d : warranty::today_cn()));
      const auto& dec = ck.decision;
      asset = json{{"id", a->id},
                   {"reference", oj(a->sale_invoice_no)},  // 参考#
                   {"name", a->third_party ? oj(a->model_text) : json(a->model_name)},
                   {"model", a->third_party ? oj(a->model_text) : json(a->model_code)},
                   {"serial", a->serial},
                   {"supplier", a->third_party ? oj(a->maker) : json(nullptr)},
                   {"status", a->status},
                   {"sale_date", oj(a->sale_date)},
                   {"install_date", oj(a->install_date)},
                   {"install_address", oj(a->install_address)},
                   {"asset_tag", oj(a->asset_tag)},              // 资产#
                   {"commissioned_on", oj(a->commissioned_on)},  // 运行日期
                   {"warranty", {{"status", dec.status},
                                 {"in_warranty", o["warranty"] == "in"},
                                 {"source", dec.source},
                                 {"start", dec.start ? json(dec.start->str()) : json(nullptr)},
                                 {"end", dec.unit_end ? json(dec.unit_end->str()) : json(nullptr)},
                                 {"policy", dec.policy_name},  // 保期类型
                                 {"contract", dec.contract ? json(dec.contract->number) : json(nullptr)}}}};
    }
  } else if (o["serial"].is_string()) {
    asset = json{{"serial", o["serial"]}, {"known", false}};
  }
  rep["asset"] = asset;

  // 问题范围、严重程度、现象及受理状态
  // 子状态: what the last step said (e.g. "结案/解决问题").
  auto last = TRY(c.one("SELECT remark FROM order_timeline WHERE order_id = ? AND kind = 'transition' AND remark IS NOT NULL "
                        "AND remark <> '' ORDER BY id DESC LIMIT 1", {id}));
  auto def = TRY(workflow_by_id(c, o["workflow_id"].get<int64_t>()));
  const wf::State* st = wf::find_state(*def, o["state"].get<std::string>());
  rep["problem"] = json{{"state_name", st ? st->name : o["state"].get<std::string>()},
                        {"sub_state", last ? json(last->s(0)) : json(nullptr)},
                        {"area", o["problem_area"]},       {"subarea", o["problem_subarea"]},
                        {"reproducibility", o["reproducibility"]}, {"severity", o["severity"]},
                        {"priority", o["priority"]},       {"description", o["description"]},
                        {"summary", o["summary"]},         {"accepted_at", o["created_at"]},
                        {"closed_at", o["closed_at"]},     {"completed_at", o["completed_at"]},
                        {"state", o["state"]},             {"service_group", o["provider_name"]},
                        {"engineer", o["engineer_name"]},  {"channel", o["channel"]},
                        {"expected_at", o["expected_at"]}, {"completion", o["completion"]}};

  // 服务合约
  json contract = nullptr;
  if (o["contract_id"].is_number_integer() && o["customer_id"].is_number_integer()) {
    for (const auto& k : TRY(contracts::contracts_of_customers(c, {o["customer_id"].get<int64_t>()})))
      if (k.id == o["contract_id"].get<int64_t>()) contract = contracts::to_json(k);
  }
  if (contract.is_object()) {
    // 响应时间, as the seed writes it ("8*5 下一工作日抵达现场" is mode + this).
    std::string rt;
    if (contract.value("response_hours", 0) > 0) rt += std::to_string(contract["response_hours"].get<int64_t>()) + "小时响应";
    if (contract.value("onsite_hours", 0) > 0)
      rt += (rt.empty() ? "" : "，") + std::to_string(contract["onsite_hours"].get<int64_t>()) + "小时内到场";
    contract["response_time"] = rt;
  }
  rep["contract"] = contract;

  // 服务便笺
  auto notes = TRY(c.query("SELECT kind, body, created_at, author_name FROM order_notes WHERE order_id = ? ORDER BY "
                           "created_at DESC, id DESC", {id}));
  json nj = json::array();
  for (const auto& r : notes)
    nj.push_back(json{{"kind", r.s(0)}, {"body", r.s(1)}, {"created_at", iso_utc(r.i(2))}, {"author", r.s(3)}});
  rep["notes"] = nj;

  // 任务安排
  auto tasks = TRY(c.query("SELECT t.subject, t.mode, t.planned_start, t.actual_start, t.actual_end, t.status, "
                           "COALESCE(u.username, ''), t.remarks FROM order_tasks t LEFT JOIN users u ON u.id = "
                           "t.assignee_id WHERE t.order_id = ? ORDER BY COALESCE(t.planned_start, 0) DESC, t.id DESC", {id}));
  json tj = json::array();
  for (const auto& r : tasks)
    tj.push_back(json{{"subject", r.s(0)}, {"mode", r.s(1)}, {"planned_start", jtime(r, 2)}, {"actual_start", jtime(r, 3)},
                      {"actual_end", jtime(r, 4)}, {"status", r.s(5)}, {"assignee", r.s(6)}, {"remarks", jopt_s(r, 7)}});
  rep["tasks"] = tj;

  // 维护处理
  auto maint = TRY(c.query("SELECT performed_on, type, summary, quantity, performed_by FROM order_maintenance WHERE "
                           "order_id = ? ORDER BY performed_on DESC, id DESC", {id}));
  json mj = json::array();
  for (const auto& r : maint)
    mj.push_back(json{{"date", r.s(0)}, {"type", r.s(1)}, {"summary", r.s(2)}, {"quantity", r.i(3)},
                      {"performed_by", r.s(4)},
                      {"asset_name", asset.is_object() ? asset.value("name", json(nullptr)) : json(nullptr)},
                      {"serial", o["serial"]}});
  rep["maintenance"] = mj;

  // 客户满意度
  json sat = json::array();
  if (o["satisfaction"].is_object()) sat.push_back(o["satisfaction"]);
  rep["satisfaction"] = sat;

  // 零部件及工时
  rep["charges"] = TRY(charges_json(c, o));
  // Its sales contract header (合同#, 签定日期, 审核状态, 付款方式 ...), or null.
  rep["sales_order"] = TRY(sales_order_of(c, id));

  // The sheet's foot: the company (the organisation's root unit), the SR
  // owner (engineer, else the service group) and the report date (Beijing).
  auto root = TRY(c.one("SELECT name FROM org_units WHERE parent_id IS NULL ORDER BY id LIMIT 1"));
  rep["footer"] = json{{"company", root ? json(root->s(0)) : json(nullptr)},
                       {"owner", o["engineer_name"].is_string() ? o["engineer_name"] : o["provider_name"]},
                       {"report_date", iso_utc(now_ms() + 8 * 3600 * 1000).substr(0, 10)}};
  rep["timeline"] = json::array();
  auto tl = TRY(c.query("SELECT at, action, from_state, to_state, username, result FROM order_timeline WHERE order_id = ? "
                        "AND kind = 'transition' ORDER BY id", {id}));
  for (const auto& r : tl)
    rep["timeline"].push_back(json{{"at", iso_utc(r.i(0))}, {"action", jopt_s(r, 1)}, {"from", jopt_s(r, 2)},
                                   {"to", jopt_s(r, 3)}, {"username", r.s(4)}, {"result", r.s(5)}});
  return rep;
}

// ---- workflow admin ------------------------------------------------------------

namespace {
Result<json> workflow_json(Conn& c, int64_t id) {
  auto def = TRY(workflow_by_id(c, id));
  json j = wf::to_json(*def);
  auto row = TRY(c.one("SELECT source, created_at, created_by FROM workflows WHERE id = ?", {id}));
  j["id"] = id;
  j["source"] = row->s(0);
  j["created_at"] = iso_utc(row->i(1));
  auto bound = TRY(c.query("SELECT order_type FROM workflow_bindings WHERE workflow_id = ?", {id}));
  j["bound_order_types"] = json::array();
  for (const auto& b : bound) j["bound_order_types"].push_back(b.s(0));
  auto n = TRY(c.one("SELECT COUNT(*) FROM service_orders WHERE workflow_id = ? AND closed_at IS NULL", {id}));
  j["open_orders"] = n->i(0);
  return j;
}
}  // namespace

void workflow_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/workflows", [&p](Request&) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto rows = TRY(c.query("SELECT w.id FROM workflows w WHERE w.wf_version = (SELECT MAX(x.wf_version) FROM workflows x "
                              "WHERE x.code = w.code) ORDER BY w.code"));
      json items = json::array();
      for (const auto& row : rows) items.push_back(TRY(workflow_json(c, row.i(0))));
      return Response::make_json(json{{"items", items}, {"order_types", kTypes}});
    });
  }, {.summary = "Workflows (latest version of each) with states, transitions and bound order types", .tag = "workflows",
      .permission = "order.read"});

  r.get("/api/v1/workflows/{code}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      std::string code = req.params["code"];
      auto rows = TRY(c.query("SELECT id, wf_version, created_at, source FROM workflows WHERE code = ? ORDER BY wf_version DESC",
                              {code}));
      if (rows.empty()) return Error::not_found("no workflow " + code);
      json j = TRY(workflow_json(c, rows[0].i(0)));
      j["versions"] = json::array();
      for (const auto& row : rows) {
        auto n = TRY(c.one("SELECT COUNT(*) FROM service_orders WHERE workflow_id = ? AND closed_at IS NULL", {row.i(0)}));
        j["versions"].push_back(json{{"id", row.i(0)}, {"version", row.i(1)}, {"created_at", iso_utc(row.i(2))},
                                     {"source", row.s(3)}, {"open_orders", n->i(0)}});
      }
      return Response::make_json(j);
    });
  }, {.summary = "A workflow's latest version and its version history", .tag = "workflows", .permission = "order.read"});

  r.put("/api/v1/workflows/{code}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      std::string code = req.params["code"];
      json def = *body;
      if (!def.is_object()) return Error::invalid("body must be a workflow object", "body");
      if (def.contains("code") && def["code"] != code) return Error::invalid("code must match the path", "code");
      def["code"] = code;
      // base_version: the version the editor started from (optimistic check).
      Input in(*body);
      auto base = TRY(in.opt_integer("base_version", 0));
      auto latest = TRY(tx.db.one("SELECT MAX(wf_version) FROM workflows WHERE code = ?", {code}));
      int64_t cur = latest && !latest->null(0) ? latest->i(0) : 0;
      if (cur > 0 && !base) return Error::invalid("base_version is required (the version you edited)", "base_version");
      if (base && *base != cur)
        return Error::conflict("workflow " + code + " is at version " + std::to_string(cur) + ", not " +
                                   std::to_string(*base), "base_version");
      def["version"] = cur + 1;
      def.erase("base_version");
      wf::Definition d = TRY(wf::parse(def, kTypes));
      int64_t id = TRY(store_workflow(tx.db, d, "admin", tx.who()->org_path, tx.who()->user_id));
      json after = TRY(workflow_json(tx.db, id));
      TRY_VOID(tx.audit("workflow", id, cur ? "update" : "create", nullptr, after, tx.who()->org_path));
      return Response::make_json(after, cur ? 200 : 201);
    });
  }, {.summary = "Save a new version of a workflow (states, transitions, permissions, required fields, timers) and "
                 "bind its order types to it. New orders use it; orders in flight keep the version they started on.",
      .tag = "workflows", .permission = "workflow.write",
      .request_schema = api::schema_object({{"base_version", "integer"}, {"name", "string"}, {"order_types", "array"},
                                            {"initial", "string"}, {"states", "array"}, {"transitions", "array"}},
                                           {"order_types", "initial", "states", "transitions"})});
}

}  // namespace shouhou::orders::detail
