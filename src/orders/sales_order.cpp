// The parts sales order (配件销售单) of a service order: table, rules, routes.
#include "orders/sales_order.h"

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "core/input.h"
#include "core/util.h"
#include "orders/internal.h"

namespace shouhou::orders::detail {

using http::Request;
using http::Response;
using store::Conn;

namespace {

// Fixed codes with their names as the report prints them (the web has the
// English names in its messages).
struct Label {
  const char* code;
  const char* zh;
};
const std::vector<Label> kSoTypes = {{"service", "服务"}, {"parts", "零部件"}, {"product", "产品"}};
const std::vector<Label> kSoStatuses = {
    {"draft", "草稿"}, {"executing", "执行中"}, {"completed", "已完成"}, {"cancelled", "已取消"}};
const std::vector<Label> kApprovals = {{"pending", "待审核"}, {"approved", "已核准"}, {"rejected", "已驳回"}};
const std::vector<std::string> kOptionKinds = {"payment_method", "sales_method", "delivery_method"};

std::vector<std::string> codes(const std::vector<Label>& labels) {
  std::vector<std::string> out;
  for (const auto& l : labels) out.push_back(l.code);
  return out;
}
json zh(const std::vector<Label>& labels, const std::string& code) {
  for (const auto& l : labels)
    if (code == l.code) return l.zh;
  return nullptr;
}

store::Value ov(const std::optional<std::string>& v) { return v ? store::Value(*v) : store::Value(); }
json jopt(const store::Row& r, size_t i) { return r.null(i) ? json(nullptr) : json(r.s(i)); }

std::string today_cn() { return iso_utc(now_ms() + 8 * 3600 * 1000).substr(0, 10); }
bool valid_day(const std::string& s) { return s.size() == 10 && s[4] == '-' && s[7] == '-' && parse_iso(s).has_value(); }

// The header's fields as the client sets them.
struct Header {
  std::string number, signed_on, type = "service", status = "draft";
  std::optional<std::string> summary, contact_name, payment_method, sales_method, delivery_method, ship_date, sales_team;
  // The terms an approval covers: changing them asks for a new approval
  // (the status and the ship date follow the delivery and do not).
  auto terms() const {
    return std::tie(number, signed_on, type, summary, contact_name, payment_method, sales_method, delivery_method,
                    sales_team);
  }
};

Header header_of(const json& j) {
  auto os = [&](const char* k) { return j[k].is_string() ? std::optional<std::string>(j[k].get<std::string>()) : std::nullopt; };
  Header h;
  h.number = j["number"];
  h.signed_on = j["signed_on"];
  h.type = j["type"];
  h.status = j["status"];
  h.summary = os("summary");
  h.contact_name = os("contact_name");
  h.payment_method = os("payment_method");
  h.sales_method = os("sales_method");
  h.delivery_method = os("delivery_method");
  h.ship_date = os("ship_date");
  h.sales_team = os("sales_team");
  return h;
}

Result<std::optional<std::string>> opt_text(const Input& in, const char* name, size_t max) {
  auto s = TRY(in.opt_str(name, max));
  if (s && s->empty()) s.reset();
  return s;
}

Result<std::string> date_field(const Input& in, const char* name) {
  auto s = TRY(in.str(name, 10));
  if (!valid_day(s)) return Error::invalid(in.field(name) + " must be a date YYYY-MM-DD", in.field(name));
  return s;
}

// A sales contract number as stored: trimmed and upper-cased, 4-40 of A-Z 0-9 - _ /.
Result<std::string> number_field(const Input& in) {
  std::string raw = TRY(in.str("number", 60));
  size_t b = raw.find_first_not_of(" \t"), e = raw.find_last_not_of(" \t");
  std::string n = b == std::string::npos ? "" : raw.substr(b, e - b + 1);
  for (auto& ch : n)
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  bool ok = n.size() >= 4 && n.size() <= 40 && std::all_of(n.begin(), n.end(), [](char ch) {
              return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '/';
            });
  if (!ok) return Error::invalid("number must be 4 to 40 letters, digits and - _ / (like CTRNBRG0020050223001)", "number");
  return n;
}

Result<std::optional<std::string>> option_field(Conn& c, const Input& in, const std::string& kind) {
  auto code = TRY(opt_text(in, kind.c_str(), 40));
  if (!code) return code;
  auto row = TRY(c.one("SELECT active FROM sales_order_options WHERE kind = ? AND code = ?", {kind, *code}));
  if (!row || row->i(0) == 0)
    return Error::invalid(in.field(kind.c_str()) + " " + *code + " is not an active " + kind +
                              " (GET /api/v1/sales-order-options lists them)",
                          in.field(kind.c_str()));
  return code;
}

// Overlays the body's fields on `h` (all of them on create); errors name the field.
Result<void> read_header(Conn& c, const json& body, Header& h) {
  Input in(body);
  auto given = [&](const char* k) { return body.contains(k); };
  if (given("approval_status"))
    return Error::invalid("approval_status is decided with POST /api/v1/service-orders/{id}/sales-order/approval",
                          "approval_status");
  if (given("number")) h.number = TRY(number_field(in));
  if (given("signed_on")) h.signed_on = TRY(date_field(in, "signed_on"));
  if (h.signed_on > iso_utc(now_ms() + (8 + 24) * 3600 * 1000LL).substr(0, 10))
    return Error::invalid("signed_on cannot be in the future", "signed_on");
  if (given("type")) h.type = TRY(in.one_of("type", codes(kSoTypes)));
  if (given("status")) h.status = TRY(in.one_of("status", codes(kSoStatuses)));
  if (given("summary")) h.summary = TRY(opt_text(in, "summary", 200));
  if (given("contact_name")) h.contact_name = TRY(opt_text(in, "contact_name", 60));
  for (auto [k, field] : {std::pair{"payment_method", &h.payment_method}, std::pair{"sales_method", &h.sales_method},
                          std::pair{"delivery_method", &h.delivery_method}})
    if (given(k)) *field = TRY(option_field(c, in, k));
  if (given("ship_date")) {
    auto d = TRY(opt_text(in, "ship_date", 10));
    if (d && !valid_day(*d)) return Error::invalid("ship_date must be a date YYYY-MM-DD", "ship_date");
    h.ship_date = d;
  }
  if (h.ship_date && *h.ship_date < h.signed_on)
    return Error::invalid("ship_date " + *h.ship_date + " is before signed_on " + h.signed_on, "ship_date");
  if (given("sales_team")) h.sales_team = TRY(opt_text(in, "sales_team", 40));
  return {};
}

Result<void> number_free(Conn& c, const std::string& number, int64_t except_id) {
  auto dup = TRY(c.one("SELECT id FROM order_sales_orders WHERE number = ? AND id <> ?", {number, except_id}));
  if (dup) return Error::conflict("sales order number " + number + " is already taken", "number");
  return {};
}

// "CTRN" + the China date + the day's sequence (001, 002 ...); numbers given
// by hand may already hold one, so taken ones are skipped.
Result<std::string> next_so_number(Conn& c) {
  std::string day = today_cn();
  day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
  for (int tries = 0; tries < 1000; ++tries) {
    auto row = TRY(c.one("INSERT INTO sales_order_number_seq (day, n) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET "
                         "n = sales_order_number_seq.n + 1 RETURNING n", {day}));
    char seq[24];
    std::snprintf(seq, sizeof seq, "%03lld", static_cast<long long>(row->i(0)));
    std::string n = "CTRN" + day + seq;
    auto dup = TRY(c.one("SELECT id FROM order_sales_orders WHERE number = ?", {n}));
    if (!dup) return n;
  }
  return Error::conflict("no free sales order number today", "number");
}

constexpr const char* kSelect =
    "SELECT s.id, s.order_id, o.number, s.number, s.signed_on, s.approval_status, s.approved_by, s.approved_at, "
    "s.summary, s.type, s.status, s.customer_id, cu.name, s.contact_name, s.payment_method, pm.name, pm.name_en, "
    "s.sales_method, sm.name, sm.name_en, s.delivery_method, dm.name, dm.name_en, s.ship_date, s.sales_team, "
    "s.org_path, s.version, s.created_at, s.updated_at "
    "FROM order_sales_orders s JOIN service_orders o ON o.id = s.order_id "
    "LEFT JOIN customers cu ON cu.id = s.customer_id "
    "LEFT JOIN sales_order_options pm ON pm.kind = 'payment_method' AND pm.code = s.payment_method "
    "LEFT JOIN sales_order_options sm ON sm.kind = 'sales_method' AND sm.code = s.sales_method "
    "LEFT JOIN sales_order_options dm ON dm.kind = 'delivery_method' AND dm.code = s.delivery_method "
    "WHERE s.order_id = ?";

json row_json(const store::Row& r) {
  return json{{"id", r.i(0)},
              {"order_id", r.i(1)},
              {"order_number", r.s(2)},
              {"number", r.s(3)},
              {"signed_on", r.s(4)},
              {"approval_status", r.s(5)},
              {"approval_status_name", zh(kApprovals, r.s(5))},
              {"approved_by", jopt(r, 6)},
              {"approved_at", r.null(7) ? json(nullptr) : json(iso_utc(r.i(7)))},
              {"summary", jopt(r, 8)},
              {"type", r.s(9)},
              {"type_name", zh(kSoTypes, r.s(9))},
              {"status", r.s(10)},
              {"status_name", zh(kSoStatuses, r.s(10))},
              {"customer_id", r.null(11) ? json(nullptr) : json(r.i(11))},
              {"customer_name", jopt(r, 12)},
              {"contact_name", jopt(r, 13)},
              {"payment_method", jopt(r, 14)},
              {"payment_method_name", jopt(r, 15)},
              {"payment_method_name_en", jopt(r, 16)},
              {"sales_method", jopt(r, 17)},
              {"sales_method_name", jopt(r, 18)},
              {"sales_method_name_en", jopt(r, 19)},
              {"delivery_method", jopt(r, 20)},
              {"delivery_method_name", jopt(r, 21)},
              {"delivery_method_name_en", jopt(r, 22)},
              {"ship_date", jopt(r, 23)},
              {"sales_team", jopt(r, 24)},
              {"org_path", r.s(25)},
              {"version", r.i(26)},
              {"created_at", iso_utc(r.i(27))},
              {"updated_at", iso_utc(r.i(28))}};
}

Error stale(int64_t current) {
  return Error::conflict("the sales order was changed by someone else (version " + std::to_string(current) + ")",
                         "version");
}

// The order (in the caller's scope, locked) and its sales order, else 404.
Result<json> sales_order_for_update(api::WriteTx& tx, int64_t order_id) {
  TRY(load_for_update(tx.db, *tx.who(), order_id));
  json so = TRY(sales_order_of(tx.db, order_id));
  if (so.is_null()) return Error::not_found("service order " + std::to_string(order_id) + " has no sales order");
  return so;
}

}  // namespace

Result<json> sales_order_of(Conn& c, int64_t order_id) {
  auto row = TRY(c.one(kSelect, {order_id}));
  if (!row) return json(nullptr);
  return row_json(*row);
}

Result<json> create_sales_order(api::WriteTx& tx, const json& order, const json& body) {
  if (!body.is_object()) return Error::invalid("body must be an object", "body");
  int64_t order_id = order["id"];
  auto has = TRY(tx.db.one("SELECT number FROM order_sales_orders WHERE order_id = ?", {order_id}));
  if (has) return Error::conflict("the order already has sales order " + has->s(0) + " (PATCH it)", "order_id");
  Header h;
  h.signed_on = today_cn();
  if (order["contact"].is_object() && order["contact"]["name"].is_string() && !order["contact"]["name"].empty())
    h.contact_name = order["contact"]["name"].get<std::string>();
  TRY_VOID(read_header(tx.db, body, h));
  if (h.number.empty()) h.number = TRY(next_so_number(tx.db));
  TRY_VOID(number_free(tx.db, h.number, 0));
  int64_t now = now_ms();
  std::string org_path = order["org_path"];
  auto row = TRY(tx.db.one(
      "INSERT INTO order_sales_orders (order_id, org_path, number, signed_on, approval_status, summary, type, status, "
      "customer_id, contact_name, payment_method, sales_method, delivery_method, ship_date, sales_team, created_by, "
      "version, created_at, updated_at) VALUES (?,?,?,?,'pending',?,?,?,?,?,?,?,?,?,?,?,1,?,?) RETURNING id",
      {order_id, org_path, h.number, h.signed_on, ov(h.summary), h.type, h.status,
       order["customer_id"].is_number_integer() ? store::Value(order["customer_id"].get<int64_t>()) : store::Value(),
       ov(h.contact_name), ov(h.payment_method), ov(h.sales_method), ov(h.delivery_method), ov(h.ship_date),
       ov(h.sales_team), tx.who() ? store::Value(tx.who()->user_id) : store::Value(), now, now}));
  json after = TRY(sales_order_of(tx.db, order_id));
  TRY_VOID(tx.audit("sales_order", row->i(0), "create", nullptr, after, org_path));
  return after;
}

Result<json> decide_sales_order(api::WriteTx& tx, int64_t order_id, const std::string& decision, const std::string& by) {
  json before = TRY(sales_order_of(tx.db, order_id));
  if (before.is_null()) return Error::not_found("service order " + std::to_string(order_id) + " has no sales order");
  TRY(tx.db.exec("UPDATE order_sales_orders SET approval_status = ?, approved_by = ?, approved_at = ?, "
                 "version = version + 1, updated_at = ? WHERE id = ?",
                 {decision, by, now_ms(), now_ms(), before["id"].get<int64_t>()}));
  json after = TRY(sales_order_of(tx.db, order_id));
  TRY_VOID(tx.audit("sales_order", before["id"].get<int64_t>(), decision == "approved" ? "approve" : "reject", before,
                    after, before["org_path"].get<std::string>()));
  return after;
}

void sales_order_routes(http::Router& r, api::Platform& p) {
  const std::string base = "/api/v1/service-orders/{id}/sales-order";

  r.get(base, [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      TRY(load_visible(c, *req.principal, id));
      json so = TRY(sales_order_of(c, id));
      if (so.is_null()) return Error::not_found("service order " + std::to_string(id) + " has no sales order");
      return Response::make_json(so);
    });
  }, {.summary = "The order's parts sales order (配件销售单): number, dates, approval, methods, team", .tag = "orders",
      .permission = "order.read"});

  r.post(base, [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json order = TRY(load_for_update(tx.db, *tx.who(), id));
      return Response::make_json(TRY(create_sales_order(tx, order, *body)), 201);
    });
  }, {.summary = "Open the order's parts sales order (number generated unless given; approval starts pending)",
      .tag = "orders", .permission = "order.complete",
      .request_schema = api::schema_object({{"number", "string"}, {"signed_on", "string"}, {"summary", "string"},
                                            {"type", "string"}, {"status", "string"}, {"contact_name", "string"},
                                            {"payment_method", "string"}, {"sales_method", "string"},
                                            {"delivery_method", "string"}, {"ship_date", "string"},
                                            {"sales_team", "string"}},
                                           {})});

  r.patch(base, [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json before = TRY(sales_order_for_update(tx, id));
      int64_t version = TRY(api::expected_version(req, *body));
      if (version != before["version"].get<int64_t>()) return stale(before["version"]);
      Header cur = header_of(before), h = cur;
      TRY_VOID(read_header(tx.db, *body, h));
      TRY_VOID(number_free(tx.db, h.number, before["id"]));
      // New terms need a new approval.
      bool reapprove = h.terms() != cur.terms() && before["approval_status"] != "pending";
      int64_t sid = before["id"];
      auto n = TRY(tx.db.exec(
          std::string("UPDATE order_sales_orders SET number = ?, signed_on = ?, summary = ?, type = ?, status = ?, "
                      "contact_name = ?, payment_method = ?, sales_method = ?, delivery_method = ?, ship_date = ?, "
                      "sales_team = ?, ") +
              (reapprove ? "approval_status = 'pending', approved_by = NULL, approved_at = NULL, " : "") +
              "version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
          {h.number, h.signed_on, ov(h.summary), h.type, h.status, ov(h.contact_name), ov(h.payment_method),
           ov(h.sales_method), ov(h.delivery_method), ov(h.ship_date), ov(h.sales_team), now_ms(), sid, version}));
      if (n == 0) return stale(before["version"]);
      json after = TRY(sales_order_of(tx.db, id));
      TRY_VOID(tx.audit("sales_order", sid, "update", before, after, before["org_path"].get<std::string>()));
      return Response::make_json(after);
    });
  }, {.summary = "Change the order's parts sales order (send the version you read; changing the terms of an approved "
                 "one sends it back to pending)",
      .tag = "orders", .permission = "order.complete"});

  r.post(base + "/approval", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json before = TRY(sales_order_for_update(tx, id));
      int64_t version = TRY(api::expected_version(req, *body));
      if (version != before["version"].get<int64_t>()) return stale(before["version"]);
      Input in(*body);
      std::string decision = TRY(in.one_of("decision", {"approved", "rejected"}));
      return Response::make_json(TRY(decide_sales_order(tx, id, decision, tx.who()->username)));
    });
  }, {.summary = "Approve or reject the order's parts sales order (审核: decision approved / rejected, version)",
      .tag = "orders", .permission = "order.audit",
      .request_schema = api::schema_object({{"decision", "string"}, {"version", "integer"}}, {"decision", "version"})});

  r.get("/api/v1/sales-order-options", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      std::string sql = "SELECT kind, code, name, name_en, active, sort_order, version FROM sales_order_options";
      store::Params ps;
      if (auto k = req.q("kind"); k && !k->empty()) {
        if (std::find(kOptionKinds.begin(), kOptionKinds.end(), *k) == kOptionKinds.end())
          return Error::invalid("kind must be payment_method, sales_method or delivery_method", "kind");
        sql += " WHERE kind = ?";
        ps.push_back(*k);
      }
      sql += " ORDER BY kind, sort_order, code";
      json items = json::array();
      for (const auto& row : TRY(c.query(sql, ps)))
        items.push_back(json{{"kind", row.s(0)}, {"code", row.s(1)}, {"name", row.s(2)}, {"name_en", row.s(3)},
                             {"active", row.i(4) != 0}, {"sort_order", row.i(5)}, {"version", row.i(6)}});
      return Response::make_json(json{{"items", items}});
    });
  }, {.summary = "The dictionaries of sales orders: payment, sales and delivery methods (zh and en names)",
      .tag = "orders", .permission = "order.read", .query_params = {"kind"}});

  r.put("/api/v1/sales-order-options/{kind}/{code}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      std::string kind = req.params["kind"], code = req.params["code"];
      if (std::find(kOptionKinds.begin(), kOptionKinds.end(), kind) == kOptionKinds.end())
        return Error::invalid("kind must be payment_method, sales_method or delivery_method", "kind");
      if (code.empty() || code.size() > 40 || !std::all_of(code.begin(), code.end(), [](char ch) {
            return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
          }))
        return Error::invalid("code must be 1 to 40 of a-z 0-9 _", "code");
      Input in(*body);
      std::string name = TRY(in.str("name", 40));
      std::string name_en = TRY(in.str("name_en", 60));
      bool active = TRY(in.opt_boolean("active")).value_or(true);
      int64_t sort = TRY(in.opt_integer("sort_order", 0, 10000)).value_or(0);
      auto cur = TRY(tx.db.one("SELECT id, name, name_en, active, sort_order, version FROM sales_order_options "
                               "WHERE kind = ? AND code = ?", {kind, code}));
      int64_t now = now_ms();
      json before = nullptr;
      int64_t oid = 0;
      if (cur) {
        int64_t version = TRY(api::expected_version(req, *body));
        if (version != cur->i(5)) return stale(cur->i(5));
        before = json{{"name", cur->s(1)}, {"name_en", cur->s(2)}, {"active", cur->i(3) != 0}, {"sort_order", cur->i(4)}};
        oid = cur->i(0);
        TRY(tx.db.exec("UPDATE sales_order_options SET name = ?, name_en = ?, active = ?, sort_order = ?, "
                       "version = version + 1, updated_at = ? WHERE id = ?",
                       {name, name_en, int64_t(active), sort, now, oid}));
      } else {
        auto row = TRY(tx.db.one("INSERT INTO sales_order_options (kind, code, name, name_en, active, sort_order, version, "
                                 "created_at, updated_at) VALUES (?,?,?,?,?,?,1,?,?) RETURNING id",
                                 {kind, code, name, name_en, int64_t(active), sort, now, now}));
        oid = row->i(0);
      }
      auto v = TRY(tx.db.one("SELECT version FROM sales_order_options WHERE id = ?", {oid}));
      json after{{"kind", kind}, {"code", code}, {"name", name}, {"name_en", name_en}, {"active", active},
                 {"sort_order", sort}, {"version", v->i(0)}};
      TRY_VOID(tx.audit("sales_order_option", oid, cur ? "update" : "create", before, after, "/"));
      return Response::make_json(after, cur ? 200 : 201);
    });
  }, {.summary = "Add or change a sales order dictionary entry (name, name_en, active, sort_order; version to change)",
      .tag = "orders", .permission = "workflow.write"});
}

store::Migration sales_order_migration() {
  // Its own migration key: other changes to the orders schema number theirs
  // independently.
  return {"orders.sales", 1, "parts sales orders (配件销售单) and their dictionaries", R"sql(
CREATE TABLE sales_order_options (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('payment_method','sales_method','delivery_method')),
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  name_en TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  sort_order INTEGER NOT NULL DEFAULT 0,
  org_path TEXT NOT NULL DEFAULT '/',
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE (kind, code)
) STRICT;
INSERT INTO sales_order_options (kind, code, name, name_en, sort_order) VALUES
  ('payment_method', 'cash', '现金', 'Cash', 1),
  ('payment_method', 'cheque', '支票', 'Cheque', 2),
  ('payment_method', 'bank_transfer', '银行转账', 'Bank transfer', 3),
  ('payment_method', 'monthly', '月结', 'Monthly account', 4),
  ('sales_method', 'after_sales_parts', '售后零部件', 'After-sales parts', 1),
  ('sales_method', 'contract_parts', '合约备件', 'Parts under a service contract', 2),
  ('sales_method', 'retail', '零售', 'Retail', 3),
  ('delivery_method', 'door_delivery', '上门送货', 'Delivered to the site', 1),
  ('delivery_method', 'pickup', '客户自提', 'Customer pickup', 2),
  ('delivery_method', 'express', '快递', 'Express', 3),
  ('delivery_method', 'freight', '物流托运', 'Freight', 4);
CREATE TABLE sales_order_number_seq (
  day TEXT PRIMARY KEY,
  n INTEGER NOT NULL
) STRICT;
CREATE TABLE order_sales_orders (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL UNIQUE REFERENCES service_orders(id),
  org_path TEXT NOT NULL,
  number TEXT NOT NULL UNIQUE,
  signed_on TEXT NOT NULL,
  approval_status TEXT NOT NULL DEFAULT 'pending' CHECK (approval_status IN ('pending','approved','rejected')),
  approved_by TEXT,
  approved_at INTEGER,
  summary TEXT,
  type TEXT NOT NULL CHECK (type IN ('service','parts','product')),
  status TEXT NOT NULL CHECK (status IN ('draft','executing','completed','cancelled')),
  customer_id INTEGER REFERENCES customers(id),
  contact_name TEXT,
  payment_method TEXT,
  sales_method TEXT,
  delivery_method TEXT,
  ship_date TEXT,
  sales_team TEXT,
  created_by INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX order_sales_orders_org_path ON order_sales_orders(org_path);
)sql"};
}

}  // namespace shouhou::orders::detail
