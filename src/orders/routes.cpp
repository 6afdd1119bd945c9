// HTTP routes of the orders module: /api/v1/service-orders and friends.
#include <sodium.h>

#include <algorithm>
#include <set>

#include "core/input.h"
#include "core/util.h"
#include "customers/customers.h"
#include "installbase/installbase.h"
#include "org/org.h"
#include "orders/internal.h"
#include "products/products.h"

namespace shouhou::orders::detail {

using http::Request;
using http::Response;
using store::Conn;

namespace {

store::Value opt_s(const std::optional<std::string>& s) { return s && !s->empty() ? store::Value(*s) : store::Value(); }
json jopt_s(const store::Row& r, size_t i) { return r.null(i) ? json(nullptr) : json(r.s(i)); }
json jtime(const store::Row& r, size_t i) { return r.null(i) || r.i(i) == 0 ? json(nullptr) : json(iso_utc(r.i(i))); }

// Adds a list to an error body (missing_fields, allowed_actions).
Response with_list(Response resp, const char* key, const std::vector<std::string>& list) {
  if (list.empty()) return resp;
  json j = json::parse(resp.body, nullptr, false);
  if (!j.is_object()) return resp;
  j[key] = list;
  return Response::make_json(j, resp.status);
}

Result<std::optional<int64_t>> opt_time(const Input& in, const char* name) {
  auto s = TRY(in.opt_str(name, 40));
  if (!s || s->empty()) return std::optional<int64_t>();
  auto t = parse_iso(*s);
  if (!t) return Error::invalid(in.field(name) + " must be an ISO-8601 time", in.field(name));
  return std::optional<int64_t>(*t);
}

bool valid_date(const std::string& s) { return s.size() == 10 && s[4] == '-' && s[7] == '-' && parse_iso(s).has_value(); }

// The actions the caller may take now, for the order page's buttons.
Result<json> actions_json(Conn& c, const http::Principal& who, const json& order) {
  auto def = TRY(workflow_by_id(c, order["workflow_id"].get<int64_t>()));
  json out = json::array();
  for (const auto* t : wf::allowed(*def, order["state"].get<std::string>())) {
    const wf::State* to = wf::find_state(*def, t->to);
    out.push_back(json{{"action", t->action}, {"name", t->name}, {"name_en", t->name_en}, {"to", t->to},
                       {"permission", t->permission}, {"permitted", who.can(t->permission)},
                       {"required_fields", to ? json(to->required_fields) : json::array()}});
  }
  return out;
}

Result<json> states_json(Conn& c, int64_t workflow_id) {
  auto def = TRY(workflow_by_id(c, workflow_id));
  json out = json::array();
  for (const auto& s : def->states)
    out.push_back(json{{"code", s.code}, {"name", s.name}, {"name_en", s.name_en}, {"final", s.final}});
  return json{{"id", workflow_id}, {"code", def->code}, {"version", def->version}, {"states", out}};
}

Result<json> timeline_json(Conn& c, int64_t order_id) {
  auto rows = TRY(c.query("SELECT id, at, kind, action, from_state, to_state, user_id, username, result, remark, detail_json "
                          "FROM order_timeline WHERE order_id = ? ORDER BY id", {order_id}));
  json out = json::array();
  for (const auto& r : rows)
    out.push_back(json{{"id", r.i(0)}, {"at", iso_utc(r.i(1))}, {"kind", r.s(2)}, {"action", jopt_s(r, 3)},
                       {"from", jopt_s(r, 4)}, {"to", jopt_s(r, 5)}, {"user_id", r.null(6) ? json(nullptr) : json(r.i(6))},
                       {"username", r.s(7)}, {"result", r.s(8)}, {"remark", jopt_s(r, 9)},
                       {"detail", r.null(10) ? json(nullptr) : json::parse(r.s(10), nullptr, false)}});
  return out;
}

json task_json(const store::Row& r) {  // id, subject, mode, assignee_id, name, planned, actual_start, actual_end, status, remarks, version
  return json{{"id", r.i(0)}, {"subject", r.s(1)}, {"mode", r.s(2)},
              {"assignee_id", r.null(3) ? json(nullptr) : json(r.i(3))}, {"assignee_name", jopt_s(r, 4)},
              {"planned_start", jtime(r, 5)}, {"actual_start", jtime(r, 6)}, {"actual_end", jtime(r, 7)},
              {"status", r.s(8)}, {"remarks", jopt_s(r, 9)}, {"version", r.i(10)}};
}
constexpr const char* kTaskSelect =
    "SELECT t.id, t.subject, t.mode, t.assignee_id, u.display_name, t.planned_start, t.actual_start, t.actual_end, "
    "t.status, t.remarks, t.version FROM order_tasks t LEFT JOIN users u ON u.id = t.assignee_id";

Result<json> tasks_json(Conn& c, int64_t order_id) {
  auto rows = TRY(c.query(std::string(kTaskSelect) + " WHERE t.order_id = ? ORDER BY t.id", {order_id}));
  json out = json::array();
  for (const auto& r : rows) out.push_back(task_json(r));
  return out;
}

Result<json> notes_json(Conn& c, int64_t order_id) {
  auto rows = TRY(c.query("SELECT id, kind, body, author_name, created_at FROM order_notes WHERE order_id = ? ORDER BY id DESC",
                          {order_id}));
  json out = json::array();
  for (const auto& r : rows)
    out.push_back(json{{"id", r.i(0)}, {"kind", r.s(1)}, {"body", r.s(2)}, {"author", r.s(3)}, {"created_at", iso_utc(r.i(4))}});
  return out;
}

Result<json> attachments_json(Conn& c, int64_t order_id) {
  auto rows = TRY(c.query("SELECT id, name, kind, content_type, size, created_at FROM order_attachments WHERE order_id = ? "
                          "ORDER BY id", {order_id}));
  json out = json::array();
  for (const auto& r : rows)
    out.push_back(json{{"id", r.i(0)}, {"name", r.s(1)}, {"kind", r.s(2)}, {"content_type", r.s(3)}, {"size", r.i(4)},
                       {"created_at", iso_utc(r.i(5))}});
  return out;
}

Result<json> maintenance_json(Conn& c, int64_t order_id) {
  auto rows = TRY(c.query("SELECT id, performed_on, type, summary, quantity, performed_by FROM order_maintenance "
                          "WHERE order_id = ? ORDER BY performed_on DESC, id DESC", {order_id}));
  json out = json::array();
  for (const auto& r : rows)
    out.push_back(json{{"id", r.i(0)}, {"date", r.s(1)}, {"type", r.s(2)}, {"summary", r.s(3)}, {"quantity", r.i(4)},
                       {"performed_by", r.s(5)}});
  return out;
}

// Attachments: the type is what the bytes are, not what the client says.
std::optional<std::string> sniff(const std::string& b) {
  auto starts = [&](std::string_view m) { return b.size() >= m.size() && std::string_view(b).substr(0, m.size()) == m; };
  if (starts("\xFF\xD8\xFF")) return "image/jpeg";
  if (starts("\x89PNG\r\n\x1A\n")) return "image/png";
  if (starts("%PDF-")) return "application/pdf";
  if (b.size() >= 12 && starts("RIFF") && b.compare(8, 4, "WEBP") == 0) return "image/webp";
  return std::nullopt;
}
constexpr size_t kMaxAttachment = 5 * 1024 * 1024;

Result<json> body_of(const Request& req) { return req.json_body(); }

bool can_edit_order(const http::Principal& who) {
  return who.can("order.create") || who.can("order.audit") || who.can("order.work") || who.can("order.dispatch");
}

}  // namespace

Result<Rounding> rounding(Conn& c) {
  auto row = TRY(c.one("SELECT rounding FROM order_settings WHERE id = 1"));
  if (!row) return Rounding::yuan_down;
  return parse_rounding(row->s(0)).value_or(Rounding::yuan_down);
}

Result<json> charges_json(Conn& c, const json& order) {
  int64_t id = order["id"];
  auto rows = TRY(c.query("SELECT id, kind, code, name, unit, quantity, unit_price_fen, amount_fen, remark, grade, "
                          "service_item_id FROM order_charges WHERE order_id = ? ORDER BY sort_order, id", {id}));
  json lines = json::array();
  std::vector<ChargeLine> cl;
  int64_t n = 0;
  for (const auto& r : rows) {
    lines.push_back(json{{"id", r.i(0)}, {"no", ++n}, {"kind", r.s(1)}, {"code", r.s(2)}, {"name", r.s(3)},
                         {"unit", jopt_s(r, 4)}, {"quantity", r.i(5)}, {"unit_price_fen", r.i(6)}, {"amount_fen", r.i(7)},
                         {"remark", jopt_s(r, 8)}, {"grade", jopt_s(r, 9)},
                         {"service_item_id", r.null(10) ? json(nullptr) : json(r.i(10))}});
    cl.push_back(ChargeLine{r.s(1), r.i(5), r.i(6)});
  }
  int64_t parts_bp = 0, labour_bp = 0;
  json contract = nullptr;
  if (order["contract_id"].is_number_integer()) {
    auto k = TRY(c.one("SELECT number, parts_discount_bp, labour_discount_bp FROM service_contracts WHERE id = ?",
                       {order["contract_id"].get<int64_t>()}));
    if (k) {
      parts_bp = k->i(1);
      labour_bp = k->i(2);
      contract = json{{"number", k->s(0)}, {"parts_discount_bp", parts_bp}, {"labour_discount_bp", labour_bp}};
    }
  }
  Rounding rnd = TRY(rounding(c));
  Totals t = totals(cl, parts_bp, labour_bp, rnd);
  json tj = to_json(t);
  tj["rounding"] = rounding_name(rnd);
  tj["subtotal"] = format_yuan(t.subtotal_fen);
  tj["rounding_amount"] = format_yuan(t.rounding_fen);
  tj["total"] = format_yuan(t.total_fen);
  return json{{"lines", lines}, {"totals", tj}, {"contract", contract},
              {"in_warranty", order["warranty"] == "in"},
              {"payer", order["warranty"] == "in" ? "warranty" : "customer"}};
}

void routes(http::Router& r, api::Platform& p) {
  const std::string base = "/api/v1/service-orders";

  r.get(base, [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      const auto& who = *req.principal;
      auto pg = TRY(api::page(req));
      std::string sql = order_select() + " WHERE ";
      store::Params ps;
      append_scope(who, sql, ps);
      if (pg.after_id > 0) {
        sql += " AND o.id < ?";  // newest first: the cursor is the last id seen
        ps.push_back(pg.after_id);
      }
      struct Enum { const char* name; const std::vector<std::string>* allowed; };
      static const std::vector<std::string> kSla = {"ok", "warning", "breached", "paused", "met"};
      static const std::vector<std::string> kClaim = {"none", "passed", "flagged", "approved", "rejected"};
      for (Enum e : {Enum{"type", &kTypes}, Enum{"channel", &kChannels}, Enum{"priority", &kPriorities},
                     Enum{"sla_status", &kSla}, Enum{"claim_status", &kClaim}}) {
        if (auto v = req.q(e.name); v && !v->empty()) {
          if (std::find(e.allowed->begin(), e.allowed->end(), *v) == e.allowed->end())
            return Error::invalid(std::string(e.name) + " is not one of the allowed values", e.name);
          sql += std::string(" AND o.") + e.name + " = ?";
          ps.push_back(*v);
        }
      }
      if (auto v = req.q("state"); v && !v->empty()) {
        if (v->size() > 40) return Error::invalid("state is too long", "state");
        sql += " AND o.state = ?";
        ps.push_back(*v);
      }
      for (const char* idf : {"customer_id", "provider_unit_id", "engineer_id"}) {
        if (auto v = req.q(idf); v && !v->empty()) {
          int64_t x = std::atoll(v->c_str());
          if (x <= 0) return Error::invalid(std::string(idf) + " must be a positive integer", idf);
          sql += std::string(" AND o.") + idf + " = ?";
          ps.push_back(x);
        }
      }
      if (auto v = req.q("open"); v && (*v == "1" || *v == "true")) sql += " AND o.closed_at IS NULL";
      if (auto v = req.q("mine"); v && (*v == "1" || *v == "true")) {
        sql += " AND o.engineer_id = ?";
        ps.push_back(who.user_id);
      }
      for (const char* tf : {"created_from", "created_to"}) {
        if (auto v = req.q(tf); v && !v->empty()) {
          auto t = parse_iso(*v);
          if (!t) return Error::invalid(std::string(tf) + " must be a date or ISO time", tf);
          sql += std::string(" AND o.created_at ") + (tf[8] == 'f' ? ">= ?" : "< ?");
          ps.push_back(*t);
        }
      }
      if (auto q = req.q("q"); q && !q->empty()) {
        if (q->size() > 100) return Error::invalid("q is too long", "q");
        sql += " AND (o.number = ? OR o.serial = ? OR instr(c.name, ?) > 0 OR instr(o.contact_json, ?) > 0)";
        ps.push_back(*q);
        ps.push_back(installbase::normalize_serial(*q));
        ps.push_back(*q);
        ps.push_back(*q);
      }
      sql += " ORDER BY o.id DESC LIMIT ?";
      ps.push_back(pg.limit + 1);
      auto rows = TRY(c.query(sql, ps));
      json items = json::array();
      for (const auto& row : rows) {
        json o = order_row_json(row);
        // Lists stay light: completion details are on the order page.
        o.erase("fields");
        o.erase("completion");
        o.erase("decision");
        items.push_back(std::move(o));
      }
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "List service orders in the caller's scope, newest first (engineers: their own). Filters: state, "
                 "type, channel, priority, sla_status, claim_status, customer_id, provider_unit_id, engineer_id, "
                 "open, mine, created_from, created_to, q (number, serial, customer or contact)",
      .tag = "orders", .permission = "order.read",
      .query_params = {"limit", "cursor", "state", "type", "channel", "priority", "sla_status", "claim_status",
                       "customer_id", "provider_unit_id", "engineer_id", "open", "mine", "created_from", "created_to", "q"}});

  r.post(base, [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    std::vector<std::string> missing;
    Response resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      auto o = create(tx, *body);
      if (!o) {
        missing = g_missing_fields;
        return std::move(o).error();
      }
      return Response::make_json(*o, 201);
    });
    return with_list(std::move(resp), "missing_fields", missing);
  }, {.summary = "Create a service order. Required fields depend on the type (GET /api/v1/order-types); a 400 lists "
                 "every missing one in missing_fields. The serial fills asset, model, contract and warranty status.",
      .tag = "orders", .permission = "order.create",
      .request_schema = api::schema_object({{"type", "string"}, {"channel", "string"}, {"customer_id", "integer"},
                                            {"contact", "object"}, {"site", "object"}, {"serial", "string"},
                                            {"model_id", "integer"}, {"priority", "string"}, {"severity", "string"},
                                            {"reproducibility", "string"}, {"problem_area", "string"},
                                            {"problem_subarea", "string"}, {"description", "string"},
                                            {"summary", "string"}, {"expected_at", "string"}, {"org_unit_id", "integer"}},
                                           {"type"})});

  r.get(base + "/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json o = TRY(load_visible(c, *req.principal, id));
      o["actions"] = TRY(actions_json(c, *req.principal, o));
      o["workflow"] = TRY(states_json(c, o["workflow_id"].get<int64_t>()));
      return Response::make_json(o);
    });
  }, {.summary = "A service order with the actions the caller may take and its workflow's states", .tag = "orders",
      .permission = "order.read"});

  r.patch(base + "/{id}", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json before = TRY(load_for_update(tx.db, *tx.who(), id));
      int64_t version = TRY(api::expected_version(req, *body));
      if (!before["closed_at"].is_null()) return Error::conflict("a closed order cannot be edited", "state");
      Input in(*body);
      std::vector<std::string> sets;
      store::Params ps;
      auto set_str = [&](const char* name, size_t max) -> Result<void> {
        if (!body->contains(name)) return {};
        auto v = TRY(in.opt_str(name, max));
        sets.push_back(std::string(name) + " = ?");
        ps.push_back(opt_s(v));
        return {};
      };
      TRY_VOID(set_str("problem_area", 60));
      TRY_VOID(set_str("problem_subarea", 60));
      TRY_VOID(set_str("description", 4000));
      TRY_VOID(set_str("summary", 200));
      if (in.has("priority")) { sets.push_back("priority = ?"); ps.push_back(TRY(in.one_of("priority", kPriorities))); }
      if (in.has("severity")) { sets.push_back("severity = ?"); ps.push_back(TRY(in.one_of("severity", kSeverities))); }
      if (in.has("reproducibility")) {
        sets.push_back("reproducibility = ?");
        ps.push_back(TRY(in.one_of("reproducibility", kReproducibility)));
      }
      if (body->contains("expected_at")) {
        auto t = TRY(opt_time(in, "expected_at"));
        sets.push_back("expected_at = ?");
        ps.push_back(t ? store::Value(*t) : store::Value());
      }
      if (in.has("contact")) {
        if (!(*body)["contact"].is_object()) return Error::invalid("contact must be an object", "contact");
        Input ci((*body)["contact"], "contact");
        json ct = json::object();
        if (auto n = TRY(ci.opt_str("name", 60)); n && !n->empty()) ct["name"] = *n;
        if (auto ph = TRY(ci.opt_str("phone", 40)); ph && !ph->empty()) {
          auto norm = customers::normalize_phone(*ph);
          if (!norm) return Error::invalid("contact.phone is not a telephone number", "contact.phone");
          ct["phone"] = *ph;
          ct["phone_normalized"] = *norm;
        }
        sets.push_back("contact_json = ?");
        ps.push_back(ct.dump());
      }
      for (const char* fixed : {"type", "state", "number", "customer_id", "serial", "warranty", "org_path"})
        if (in.has(fixed)) return Error::invalid(std::string(fixed) + " cannot be changed on an existing order", fixed);
      if (sets.empty()) return Error::invalid("nothing to change", "body");
      std::string sql = "UPDATE service_orders SET ";
      for (size_t i = 0; i < sets.size(); ++i) sql += (i ? ", " : "") + sets[i];
      sql += " WHERE id = ?";
      ps.push_back(id);
      TRY(tx.db.exec(sql, ps));
      return Response::make_json(TRY(touch(tx, id, version, before, "update")));
    });
  }, {.summary = "Edit an order's problem, contact, priority and expected time (send the version you read)",
      .tag = "orders", .permission = "order.create"});

  r.post(base + "/{id}/actions/{action}", [&p](Request& req) {
    auto body = req.body.empty() ? Result<json>(json::object()) : body_of(req);
    if (!body) return Response::error(body.error());
    std::vector<std::string> allowed;
    Response resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json before = TRY(load_for_update(tx.db, *tx.who(), id));
      Input in(*body);
      auto v = TRY(in.opt_integer("version", 1));
      if (v && *v != before["version"].get<int64_t>())
        return Error::conflict("service order " + std::to_string(id) + " was changed by someone else (version " +
                                   before["version"].dump() + ")", "version");
      auto remark = TRY(in.opt_str("remark", 1000));
      json fields = body->contains("fields") && !(*body)["fields"].is_null() ? (*body)["fields"] : json::object();
      std::string action = req.params["action"];
      if (action.empty() || action.size() > 40) return Error::invalid("action is not valid", "action");
      HoldOrder held(id, before);  // transition starts from it instead of reading the order again
      auto o = transition(tx, id, action, fields, remark.value_or(""));
      if (!o) {
        allowed = g_allowed_actions;
        return std::move(o).error();
      }
      json out = *o;
      out["actions"] = TRY(actions_json(tx.db, *tx.who(), out));
      return Response::make_json(out);
    });
    return with_list(std::move(resp), "allowed_actions", allowed);
  }, {.summary = "Apply a workflow action (audit, accept, arrive, complete, revisit, close, cancel, escalate, reopen, "
                 "...). Body: {fields, remark, version}. 409 with allowed_actions when the action is illegal in the "
                 "order's state; 400 naming fields.<name> when the target state needs a field.",
      .tag = "orders", .permission = "order.read",
      .request_schema = api::schema_object({{"fields", "object"}, {"remark", "string"}, {"version", "integer"}})});

  r.post(base + "/{id}/assign", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    std::vector<std::string> allowed;
    Response resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      int64_t id = TRY(api::path_id(req));
      json before = TRY(load_for_update(tx.db, who, id));
      Input in(*body);
      auto v = TRY(in.opt_integer("version", 1));
      if (v && *v != before["version"].get<int64_t>())
        return Error::conflict("service order " + std::to_string(id) + " was changed by someone else", "version");
      int64_t unit_id = TRY(in.integer("provider_unit_id", 1));
      int64_t engineer = TRY(in.opt_integer("engineer_id", 1)).value_or(0);
      auto reason = TRY(in.opt_str("reason", 500));
      if (!org::unit_in_scope(tx.db, who, unit_id))
        return Error::invalid("provider_unit_id " + std::to_string(unit_id) + " is not a provider you can dispatch to",
                              "provider_unit_id");
      json decision{{"mode", "manual"}, {"by", who.username}};
      if (reason) decision["reason"] = *reason;
      HoldOrder held(id, before);
      auto o = assign(tx, id, unit_id, engineer, decision);
      if (!o) {
        allowed = g_allowed_actions;
        return std::move(o).error();
      }
      return Response::make_json(*o);
    });
    return with_list(std::move(resp), "allowed_actions", allowed);
  }, {.summary = "Manual dispatch: assign the order to a provider (and optionally one of its engineers); applies the "
                 "dispatch action when the order is not yet dispatched",
      .tag = "orders", .permission = "order.dispatch",
      .request_schema = api::schema_object({{"provider_unit_id", "integer"}, {"engineer_id", "integer"},
                                            {"reason", "string"}, {"version", "integer"}}, {"provider_unit_id"})});

  r.get("/api/v1/service-orders-assignees", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      const auto& who = *req.principal;
      auto units = TRY(c.query("SELECT id, code, name, grade, division_code FROM org_units WHERE type = 'provider' AND "
                               "active = 1 AND path LIKE ? ORDER BY code", {who.org_path + "%"}));
      auto engs = TRY(c.query("SELECT u.id, u.display_name, u.org_unit_id FROM users u JOIN user_roles r ON r.user_id = "
                              "u.id AND r.role_code = 'engineer' JOIN org_units o ON o.id = u.org_unit_id WHERE u.active = 1 "
                              "AND o.path LIKE ? ORDER BY u.id", {who.org_path + "%"}));
      json items = json::array();
      for (const auto& u : units) {
        json e = json::array();
        for (const auto& x : engs)
          if (x.i(2) == u.i(0)) e.push_back(json{{"id", x.i(0)}, {"name", x.s(1)}});
        items.push_back(json{{"id", u.i(0)}, {"code", u.s(1)}, {"name", u.s(2)}, {"grade", jopt_s(u, 3)},
                             {"division_code", jopt_s(u, 4)}, {"engineers", e}});
      }
      return Response::make_json(json{{"items", items}});
    });
  }, {.summary = "Providers in the caller's scope with their engineers, for manual dispatch", .tag = "orders",
      .permission = "order.dispatch"});

  // GET /{id}/<child>: the order in the caller's scope (else 404), then its
  // child rows (timeline, tasks, notes, attachments, maintenance).
  auto child_list = [&r, &p, &base](const std::string& child, Result<json> (*rows)(Conn&, int64_t), http::RouteDoc doc) {
    r.get(base + "/{id}/" + child, [&p, rows](Request& req) {
      return api::read(p, [&](Conn& c) -> Result<Response> {
        int64_t id = TRY(api::path_id(req));
        TRY(load_visible(c, *req.principal, id));
        auto items = TRY(rows(c, id));
        return Response::make_json(json{{"items", std::move(items)}});
      });
    }, std::move(doc));
  };
  child_list("timeline", timeline_json, {.summary = "The order's timeline: every transition with executor, time and result, and other events",
      .tag = "orders", .permission = "order.read"});

  // ---- tasks --------------------------------------------------------------------
  child_list("tasks", tasks_json, {.summary = "Tasks (visits) of an order", .tag = "orders", .permission = "order.read"});

  auto read_task = [](const json& body, bool partial) -> Result<json> {
    Input in(body);
    json t = json::object();
    if (!partial || in.has("subject")) t["subject"] = TRY(in.str("subject", 200));
    if (!partial || in.has("mode")) t["mode"] = in.has("mode") ? TRY(in.one_of("mode", {"on_site", "depot"})) : "on_site";
    if (in.has("status")) t["status"] = TRY(in.one_of("status", {"planned", "in_progress", "done", "cancelled"}));
    if (body.contains("assignee_id")) {
      auto a = TRY(in.opt_integer("assignee_id", 1));
      t["assignee_id"] = a ? json(*a) : json(nullptr);
    }
    for (const char* tf : {"planned_start", "actual_start", "actual_end"})
      if (body.contains(tf)) {
        auto v = TRY(opt_time(in, tf));
        t[tf] = v ? json(*v) : json(nullptr);
      }
    if (body.contains("remarks")) {
      auto v = TRY(in.opt_str("remarks", 1000));
      t["remarks"] = v ? json(*v) : json(nullptr);
    }
    if (t.contains("actual_start") && t.contains("actual_end") && t["actual_start"].is_number() &&
        t["actual_end"].is_number() && t["actual_end"].get<int64_t>() < t["actual_start"].get<int64_t>())
      return Error::invalid("actual_end is before actual_start", "actual_end");
    return t;
  };
  auto check_assignee = [](Conn& c, const json& order, const json& t) -> Result<void> {
    if (!t.contains("assignee_id") || t["assignee_id"].is_null()) return {};
    auto u = TRY(c.one("SELECT u.id, o.path FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE u.id = ?",
                       {t["assignee_id"].get<int64_t>()}));
    std::string op = order["org_path"];
    // The assignee works for the order's unit (or a unit above it).
    if (!u || op.rfind(u->s(1), 0) != 0)
      return Error::invalid("assignee_id is not a user of the order's unit", "assignee_id");
    return {};
  };

  r.post(base + "/{id}/tasks", [&p, read_task, check_assignee](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json order = TRY(load_for_update(tx.db, *tx.who(), id));
      if (!can_edit_order(*tx.who())) return Error::forbidden("permission order.work or order.dispatch required");
      json t = TRY(read_task(*body, false));
      TRY_VOID(check_assignee(tx.db, order, t));
      int64_t now = now_ms();
      auto nv = [&](const char* k) { return t.contains(k) && t[k].is_number() ? store::Value(t[k].get<int64_t>()) : store::Value(); };
      auto row = TRY(tx.db.one(
          "INSERT INTO order_tasks (order_id, org_path, subject, mode, assignee_id, planned_start, actual_start, actual_end, "
          "status, remarks, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,1,?,?) RETURNING id",
          {id, order["org_path"].get<std::string>(), t["subject"].get<std::string>(), t["mode"].get<std::string>(),
           nv("assignee_id"), nv("planned_start"), nv("actual_start"), nv("actual_end"), t.value("status", "planned"),
           t.contains("remarks") && t["remarks"].is_string() ? store::Value(t["remarks"].get<std::string>()) : store::Value(),
           now, now}));
      int64_t tid = row->i(0);
      auto tr = TRY(tx.db.one(std::string(kTaskSelect) + " WHERE t.id = ?", {tid}));
      json out = task_json(*tr);
      TRY_VOID(tx.audit("order_task", tid, "create", nullptr, out, order["org_path"].get<std::string>()));
      TRY_VOID(add_timeline(tx, id, "task.created", json{{"task_id", tid}, {"subject", out["subject"]}}));
      return Response::make_json(out, 201);
    });
  }, {.summary = "Add a task (visit): subject, mode (on_site / depot), assignee_id, planned_start, actual_start, "
                 "actual_end, status, remarks",
      .tag = "orders", .permission = "order.read"});

  r.patch(base + "/{id}/tasks/{tid}", [&p, read_task, check_assignee](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      int64_t tid = TRY(api::path_id(req, "tid"));
      json order = TRY(load_for_update(tx.db, *tx.who(), id));
      if (!can_edit_order(*tx.who())) return Error::forbidden("permission order.work or order.dispatch required");
      auto br = TRY(tx.db.one(std::string(kTaskSelect) + " WHERE t.id = ? AND t.order_id = ?", {tid, id}));
      if (!br) return api::not_found("task", tid);
      json before = task_json(*br);
      int64_t version = TRY(api::expected_version(req, *body));
      json t = TRY(read_task(*body, true));
      TRY_VOID(check_assignee(tx.db, order, t));
      std::string sql = "UPDATE order_tasks SET version = version + 1, updated_at = ?";
      store::Params ps{now_ms()};
      for (auto& [k, v] : t.items()) {
        sql += ", " + k + " = ?";
        ps.push_back(v.is_null() ? store::Value() : v.is_number() ? store::Value(v.get<int64_t>()) : store::Value(v.get<std::string>()));
      }
      sql += " WHERE id = ? AND version = ?";
      ps.push_back(tid);
      ps.push_back(version);
      if (TRY(tx.db.exec(sql, ps)) == 0) return Error::conflict("task " + std::to_string(tid) + " was changed by someone else", "version");
      auto ar = TRY(tx.db.one(std::string(kTaskSelect) + " WHERE t.id = ?", {tid}));
      json after = task_json(*ar);
      TRY_VOID(tx.audit("order_task", tid, "update", before, after, order["org_path"].get<std::string>()));
      return Response::make_json(after);
    });
  }, {.summary = "Update a task (send the version you read)", .tag = "orders", .permission = "order.read"});

  // ---- notes ----------------------------------------------------------------------
  child_list("notes", notes_json, {.summary = "Notes of an order (general, special warning), newest first", .tag = "orders", .permission = "order.read"});

  r.post(base + "/{id}/notes", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      int64_t id = TRY(api::path_id(req));
      json order = TRY(load_for_update(tx.db, who, id));
      Input in(*body);
      std::string kind = in.has("kind") ? TRY(in.one_of("kind", {"general", "warning"})) : std::string("general");
      std::string text = TRY(in.str("body", 4000));
      int64_t now = now_ms();
      auto row = TRY(tx.db.one("INSERT INTO order_notes (order_id, org_path, kind, body, author_id, author_name, version, "
                               "created_at, updated_at) VALUES (?,?,?,?,?,?,1,?,?) RETURNING id",
                               {id, order["org_path"].get<std::string>(), kind, text, who.user_id, who.username, now, now}));
      json out{{"id", row->i(0)}, {"kind", kind}, {"body", text}, {"author", who.username}, {"created_at", iso_utc(now)}};
      TRY_VOID(tx.audit("order_note", row->i(0), "create", nullptr, out, order["org_path"].get<std::string>()));
      return Response::make_json(out, 201);
    });
  }, {.summary = "Add a note: kind general or warning (特殊提示), body", .tag = "orders", .permission = "order.read",
      .request_schema = api::schema_object({{"kind", "string"}, {"body", "string"}}, {"body"})});

  // ---- attachments ------------------------------------------------------------------
  child_list("attachments", attachments_json, {.summary = "Attachments of an order (metadata)", .tag = "orders", .permission = "order.read"});

  r.get(base + "/{id}/attachments/{aid}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      int64_t aid = TRY(api::path_id(req, "aid"));
      TRY(load_visible(c, *req.principal, id));
      auto row = TRY(c.one("SELECT content_type, data, name FROM order_attachments WHERE id = ? AND order_id = ?", {aid, id}));
      if (!row) return api::not_found("attachment", aid);
      Response resp;
      resp.content_type = row->s(0);
      resp.body = row->s(1);
      resp.headers.set("x-content-type-options", "nosniff");
      resp.headers.set("content-disposition", "inline; filename=\"attachment-" + std::to_string(aid) + "\"");
      return resp;
    });
  }, {.summary = "Download an attachment", .tag = "orders", .permission = "order.read"});

  r.post(base + "/{id}/attachments", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      int64_t id = TRY(api::path_id(req));
      json order = TRY(load_for_update(tx.db, who, id));
      Input in(*body);
      std::string name = TRY(in.str("name", 120));
      std::string kind = in.has("kind") ? TRY(in.one_of("kind", {"photo", "signed_report", "other"})) : std::string("photo");
      std::string b64 = TRY(in.str("content_base64", 8 * 1024 * 1024));
      std::string bytes(b64.size() * 3 / 4 + 3, '\0');
      size_t len = 0;
      if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), b64.data(), b64.size(),
                            " \r\n", &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
        return Error::invalid("content_base64 is not base64", "content_base64");
      bytes.resize(len);
      if (bytes.empty()) return Error::invalid("content_base64 is empty", "content_base64");
      if (bytes.size() > kMaxAttachment)
        return Error::invalid("the file is larger than 5 MiB", "content_base64");
      auto type = sniff(bytes);
      if (!type) return Error::invalid("only JPEG, PNG, WebP images and PDF files are accepted", "content_base64");
      int64_t now = now_ms();
      auto row = TRY(tx.db.one("INSERT INTO order_attachments (order_id, org_path, name, kind, content_type, size, data, "
                               "uploaded_by, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,1,?,?) RETURNING id",
                               {id, order["org_path"].get<std::string>(), name, kind, *type, int64_t(bytes.size()), bytes,
                                who.user_id, now, now}));
      json out{{"id", row->i(0)}, {"name", name}, {"kind", kind}, {"content_type", *type},
               {"size", int64_t(bytes.size())}, {"created_at", iso_utc(now)}};
      TRY_VOID(tx.audit("order_attachment", row->i(0), "create", nullptr, out, order["org_path"].get<std::string>()));
      TRY_VOID(add_timeline(tx, id, "attachment", json{{"attachment_id", row->i(0)}, {"name", name}, {"kind", kind}}));
      return Response::make_json(out, 201);
    });
  }, {.summary = "Attach a photo or signed service report: {name, kind (photo / signed_report / other), "
                 "content_base64}; JPEG, PNG, WebP or PDF by content, at most 5 MiB",
      .tag = "orders", .permission = "order.read",
      .request_schema = api::schema_object({{"name", "string"}, {"kind", "string"}, {"content_base64", "string"}},
                                           {"name", "content_base64"})});

  // ---- completion -------------------------------------------------------------------
  r.put(base + "/{id}/completion", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json before = TRY(load_for_update(tx.db, *tx.who(), id));
      int64_t version = TRY(api::expected_version(req, *body));
      if (!before["closed_at"].is_null()) return Error::conflict("the order is closed", "state");
      Input in(*body);
      json comp = before["completion"].is_object() ? before["completion"] : json::object();
      if (body->contains("fault_code_id")) {
        auto fid = TRY(in.opt_integer("fault_code_id", 1));
        if (!fid) {
          for (const char* k : {"fault_code_id", "fault_code", "fault_code_name", "symptom_code", "symptom_name"}) comp.erase(k);
        } else {
          auto f = TRY(tx.db.one("SELECT f.id, f.code, f.name, f.level, f.product_line_id, s.code, s.name FROM fault_codes f "
                                 "LEFT JOIN fault_codes s ON s.id = f.parent_id WHERE f.id = ? AND f.active = 1", {*fid}));
          if (!f) return Error::invalid("fault_code_id " + std::to_string(*fid) + " is not a fault code", "fault_code_id");
          if (f->s(3) != "cause")
            return Error::invalid("fault_code_id must be a cause (the last level: product line → symptom → cause)",
                                  "fault_code_id");
          if (before["product_line_id"].is_number_integer() && before["product_line_id"].get<int64_t>() != f->i(4))
            return Error::invalid("fault_code_id belongs to another product line than the order's", "fault_code_id");
          comp["fault_code_id"] = f->i(0);
          comp["fault_code"] = f->s(1);
          comp["fault_code_name"] = f->s(2);
          comp["symptom_code"] = f->s(5);
          comp["symptom_name"] = f->s(6);
        }
      }
      if (body->contains("failed_component")) {
        const json& fc = (*body)["failed_component"];
        if (fc.is_null()) {
          comp.erase("failed_component");
        } else {
          if (!fc.is_object()) return Error::invalid("failed_component must be {position, name}", "failed_component");
          Input ci(fc, "failed_component");
          std::string pos = TRY(ci.str("position", 40));
          auto name = TRY(ci.opt_str("name", 100));
          json out{{"position", pos}, {"name", name ? json(*name) : json(nullptr)}, {"key_part", false}};
          if (before["model_id"].is_number_integer()) {
            auto mi = TRY(products::model_info(tx.db, before["model_id"].get<int64_t>()));
            bool found = false;
            if (mi)
              for (const auto& k : mi->components)
                if (k.position == pos) {
                  found = true;
                  out["name"] = k.name;
                  out["part_code"] = k.part_code;
                  out["key_part"] = k.key_part;
                }
            if (!found)
              return Error::invalid("failed_component.position " + pos + " is not a position (位号) of the model",
                                    "failed_component.position");
          }
          comp["failed_component"] = out;
        }
      }
      if (body->contains("resolution")) {
        auto v = TRY(in.opt_str("resolution", 4000));
        comp["resolution"] = v ? json(*v) : json(nullptr);
      }
      if (body->contains("first_time_fix")) comp["first_time_fix"] = TRY(in.boolean("first_time_fix"));
      TRY(tx.db.exec("UPDATE service_orders SET completion_json = ? WHERE id = ?", {comp.dump(), id}));
      return Response::make_json(TRY(touch(tx, id, version, before, "completion")));
    });
  }, {.summary = "Record the fault (fault_code_id: a cause of the order's product line), the failed component "
                 "(position 位号 of the model), resolution and first_time_fix (send the version you read)",
      .tag = "orders", .permission = "order.complete"});

  child_list("maintenance", maintenance_json, {.summary = "Maintenance records of an order", .tag = "orders", .permission = "order.read"});

  r.post(base + "/{id}/maintenance", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      int64_t id = TRY(api::path_id(req));
      json order = TRY(load_for_update(tx.db, who, id));
      if (!order["closed_at"].is_null()) return Error::conflict("the order is closed", "state");
      Input in(*body);
      std::string date = TRY(in.str("date", 10));
      if (!valid_date(date)) return Error::invalid("date must be YYYY-MM-DD", "date");
      std::string type = TRY(in.str("type", 40));
      std::string summary = TRY(in.str("summary", 500));
      int64_t qty = TRY(in.opt_integer("quantity", 1, 10000)).value_or(1);
      std::string by = TRY(in.opt_str("performed_by", 60)).value_or(who.username);
      int64_t now = now_ms();
      std::optional<int64_t> asset;
      if (order["asset_id"].is_number_integer()) asset = order["asset_id"].get<int64_t>();
      auto row = TRY(tx.db.one("INSERT INTO order_maintenance (order_id, org_path, asset_id, performed_on, type, summary, "
                               "quantity, performed_by, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,1,?,?) "
                               "RETURNING id",
                               {id, order["org_path"].get<std::string>(), asset ? store::Value(*asset) : store::Value(),
                                date, type, summary, qty, by, now, now}));
      json out{{"id", row->i(0)}, {"date", date}, {"type", type}, {"summary", summary}, {"quantity", qty},
               {"performed_by", by}};
      // The asset's own history shows the work (install base timeline).
      if (asset)
        TRY_VOID(installbase::add_event(tx, *asset, "maintenance",
                                        json{{"order_id", id}, {"order_number", order["number"]}, {"date", date},
                                             {"type", type}, {"summary", summary}, {"quantity", qty}, {"performed_by", by}}));
      TRY_VOID(tx.audit("order_maintenance", row->i(0), "create", nullptr, out, order["org_path"].get<std::string>()));
      return Response::make_json(out, 201);
    });
  }, {.summary = "Add a maintenance record (date, type, summary, quantity, performed_by); also recorded on the asset",
      .tag = "orders", .permission = "order.complete",
      .request_schema = api::schema_object({{"date", "string"}, {"type", "string"}, {"summary", "string"},
                                            {"quantity", "integer"}, {"performed_by", "string"}},
                                           {"date", "type", "summary"})});

  r.get(base + "/{id}/charges", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json o = TRY(load_visible(c, *req.principal, id));
      return Response::make_json(TRY(charges_json(c, o)));
    });
  }, {.summary = "Parts and labour with totals, contract discount and rounding", .tag = "orders", .permission = "order.read"});

  r.put(base + "/{id}/charges", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json before = TRY(load_for_update(tx.db, *tx.who(), id));
      int64_t version = TRY(api::expected_version(req, *body));
      if (!before["closed_at"].is_null()) return Error::conflict("the order is closed", "state");
      struct Line { std::string kind, code, name; std::optional<std::string> unit, remark, grade; std::optional<int64_t> item;
                    int64_t qty, price; };
      std::vector<Line> lines;
      auto arr = [&](const char* name) -> Result<const json*> {
        if (!body->contains(name) || (*body)[name].is_null()) return static_cast<const json*>(nullptr);
        if (!(*body)[name].is_array()) return Error::invalid(std::string(name) + " must be an array", name);
        if ((*body)[name].size() > 200) return Error::invalid(std::string(name) + " has more than 200 lines", name);
        return &(*body)[name];
      };
      if (const json* parts = TRY(arr("parts"))) {
        for (size_t i = 0; i < parts->size(); ++i) {
          std::string f = "parts[" + std::to_string(i) + "]";
          if (!(*parts)[i].is_object()) return Error::invalid(f + " must be an object", f);
          Input pi((*parts)[i], f);
          // Fields first: an early return from TRY inside a braced initializer leaks what it already built.
          auto code = TRY(pi.str("part_code", 40));
          auto name = TRY(pi.str("name", 100));
          auto unit = TRY(pi.opt_str("unit", 20));
          auto remark = TRY(pi.opt_str("remark", 200));
          int64_t qty = TRY(pi.integer("quantity", 1, 10000));
          int64_t price = TRY(pi.integer("unit_price_fen", 0, 100'000'000));
          Line l{"part", std::move(code), std::move(name), std::move(unit), std::move(remark), std::nullopt, std::nullopt,
                 qty, price};
          lines.push_back(std::move(l));
        }
      }
      if (const json* charges = TRY(arr("charges"))) {
        // Out-of-warranty work is charged only as priced service items
        // (服务料号) at the central price for the provider's grade.
        std::string grade;
        if (charges->size()) {
          std::optional<int64_t> unit;
          if (before["provider_unit_id"].is_number_integer()) unit = before["provider_unit_id"].get<int64_t>();
          else if (tx.who()->org_type == "provider") unit = tx.who()->org_unit_id;
          if (!unit) return Error::invalid("the order has no provider yet: assign it before recording charges", "charges");
          auto g = TRY(tx.db.one("SELECT grade FROM org_units WHERE id = ?", {*unit}));
          grade = g ? g->s(0) : "";
          if (grade.empty()) return Error::invalid("the provider has no grade, so no central price applies", "charges");
        }
        for (size_t i = 0; i < charges->size(); ++i) {
          std::string f = "charges[" + std::to_string(i) + "]";
          const json& e = (*charges)[i];
          if (!e.is_object()) return Error::invalid(f + " must be an object", f);
          Input ci(e, f);
          if (!ci.has("service_item_code"))
            return Error::invalid(f + ": free-text charges are refused; choose a priced service item (服务料号) by "
                                      "service_item_code", f + ".service_item_code");
          std::string code = TRY(ci.str("service_item_code", 40));
          auto price = TRY(products::service_item_price_by_code(tx.db, code, grade));
          if (!price)
            return Error::invalid(f + ".service_item_code " + code + " is not an active service item with a price for grade " +
                                      grade, f + ".service_item_code");
          if (auto given = TRY(ci.opt_integer("unit_price_fen")); given && *given != price->price_fen)
            return Error::invalid(f + ".unit_price_fen must be the central price " + std::to_string(price->price_fen) +
                                      " fen for grade " + grade, f + ".unit_price_fen");
          for (const char* freeform : {"amount_fen", "name"})
            if (ci.has(freeform))
              return Error::invalid(f + "." + freeform + " comes from the service item and cannot be set", f + "." + freeform);
          auto remark = TRY(ci.opt_str("remark", 200));
          int64_t qty = TRY(ci.integer("quantity", 1, 10000));
          Line l{"service", price->code, price->name, price->unit, std::move(remark), grade, price->service_item_id, qty,
                 price->price_fen};
          lines.push_back(std::move(l));
        }
      }
      std::string org_path = before["org_path"];
      TRY(tx.db.exec("DELETE FROM order_charges WHERE order_id = ?", {id}));
      int64_t now = now_ms(), pos = 0;
      for (const auto& l : lines)
        TRY(tx.db.exec("INSERT INTO order_charges (order_id, org_path, kind, code, name, unit, service_item_id, grade, "
                       "quantity, unit_price_fen, amount_fen, remark, sort_order, version, created_at, updated_at) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?)",
                       {id, org_path, l.kind, l.code, l.name, opt_s(l.unit), l.item ? store::Value(*l.item) : store::Value(),
                        opt_s(l.grade), l.qty, l.price, l.qty * l.price, opt_s(l.remark), pos++, now, now}));
      json after = TRY(touch(tx, id, version, before, "charges"));
      json out = TRY(charges_json(tx.db, after));
      out["version"] = after["version"];
      return Response::make_json(out);
    });
  }, {.summary = "Replace the parts used ({part_code, name, unit, quantity, unit_price_fen, remark}) and charges "
                 "({service_item_code, quantity, remark}: priced at the central price for the provider's grade; "
                 "free-text charges are refused). Returns lines and totals.",
      .tag = "orders", .permission = "order.complete",
      .request_schema = api::schema_object({{"parts", "array"}, {"charges", "array"}, {"version", "integer"}}, {"version"})});

  r.put(base + "/{id}/satisfaction", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      int64_t id = TRY(api::path_id(req));
      json before = TRY(load_for_update(tx.db, who, id));
      int64_t version = TRY(api::expected_version(req, *body));
      Input in(*body);
      int64_t max = TRY(in.opt_integer("max_score", 1, 1000)).value_or(100);
      int64_t score = TRY(in.integer("score", 0, 1000));
      if (score > max) return Error::invalid("score is above max_score", "score");
      std::string date = TRY(in.opt_str("date", 10)).value_or(iso_utc(now_ms() + 8 * 3600 * 1000).substr(0, 10));
      if (!valid_date(date)) return Error::invalid("date must be YYYY-MM-DD", "date");
      std::string feedback = TRY(in.opt_str("feedback", 2000)).value_or("");
      std::string contact_name = TRY(in.opt_str("contact_name", 60)).value_or("");
      json s{{"score", score}, {"max_score", max}, {"percent", (score * 100 + max / 2) / max}, {"date", date},
             {"feedback", feedback}, {"contact_name", contact_name}, {"evaluated_by", who.username}};
      if (in.has("fee_as_standard")) s["fee_as_standard"] = TRY(in.boolean("fee_as_standard"));
      if (in.has("fixed_first_time")) s["fixed_first_time"] = TRY(in.boolean("fixed_first_time"));
      TRY(tx.db.exec("UPDATE service_orders SET satisfaction_json = ? WHERE id = ?", {s.dump(), id}));
      return Response::make_json(TRY(touch(tx, id, version, before, "satisfaction")));
    });
  }, {.summary = "Record the revisit's satisfaction: score of max_score (percent computed), feedback, contact_name, "
                 "date, fee_as_standard, fixed_first_time (send the version you read)",
      .tag = "orders", .permission = "order.revisit"});

  r.get(base + "/{id}/report", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json o = TRY(load_visible(c, *req.principal, id));
      return Response::make_json(TRY(report(c, o)));
    });
  }, {.summary = "The service request report (服务请求明细): customer, asset and warranty, problem, contract, notes, "
                 "tasks, maintenance, satisfaction, parts and labour with totals and rounding",
      .tag = "orders", .permission = "order.read"});

  r.get(base + "/{id}/report.pdf", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json o = TRY(load_visible(c, *req.principal, id));
      Response resp;
      resp.body = report_pdf(TRY(report(c, o)));
      resp.content_type = "application/pdf";
      resp.headers.set("content-disposition", "inline; filename=\"" + o["number"].get<std::string>() + ".pdf\"");
      return resp;
    });
  }, {.summary = "The service request report as a printable PDF (A4, STSong-Light; the same blocks as /report)",
      .tag = "orders", .permission = "order.read"});

  // ---- sales leads ------------------------------------------------------------------
  r.post(base + "/{id}/leads", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      int64_t id = TRY(api::path_id(req));
      json order = TRY(load_for_update(tx.db, who, id));
      Input in(*body);
      std::string interest = TRY(in.str("product_interest", 200));
      auto note = TRY(in.opt_str("note", 2000));
      int64_t now = now_ms();
      auto row = TRY(tx.db.one("INSERT INTO sales_leads (org_path, order_id, customer_id, product_interest, note, status, "
                               "created_by, created_by_name, version, created_at, updated_at) VALUES (?,?,?,?,?,'new',?,?,1,?,?) "
                               "RETURNING id",
                               {order["org_path"].get<std::string>(), id,
                                order["customer_id"].is_number_integer() ? store::Value(order["customer_id"].get<int64_t>()) : store::Value(),
                                interest, opt_s(note), who.user_id, who.username, now, now}));
      json out{{"id", row->i(0)}, {"order_id", id}, {"order_number", order["number"]}, {"customer_id", order["customer_id"]},
               {"customer_name", order["customer_name"]}, {"product_interest", interest},
               {"note", note ? json(*note) : json(nullptr)}, {"status", "new"}, {"created_by", who.username},
               {"created_at", iso_utc(now)}};
      TRY_VOID(tx.audit("sales_lead", row->i(0), "create", nullptr, out, order["org_path"].get<std::string>()));
      TRY_VOID(add_timeline(tx, id, "lead", json{{"lead_id", row->i(0)}, {"product_interest", interest}}));
      return Response::make_json(out, 201);
    });
  }, {.summary = "Forward a sales lead noticed during service (product_interest, note)", .tag = "orders",
      .permission = "lead.write",
      .request_schema = api::schema_object({{"product_interest", "string"}, {"note", "string"}}, {"product_interest"})});

  r.get("/api/v1/sales-leads", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req));
      auto rows = TRY(c.query("SELECT l.id, l.order_id, o.number, l.customer_id, cu.name, l.product_interest, l.note, "
                              "l.status, l.created_by_name, l.created_at FROM sales_leads l LEFT JOIN service_orders o ON "
                              "o.id = l.order_id LEFT JOIN customers cu ON cu.id = l.customer_id WHERE l.org_path LIKE ? "
                              "AND l.id > ? ORDER BY l.id LIMIT ?",
                              {req.principal->org_path + "%", pg.after_id, pg.limit + 1}));
      json items = json::array();
      for (const auto& r : rows)
        items.push_back(json{{"id", r.i(0)}, {"order_id", r.null(1) ? json(nullptr) : json(r.i(1))},
                             {"order_number", jopt_s(r, 2)}, {"customer_id", r.null(3) ? json(nullptr) : json(r.i(3))},
                             {"customer_name", jopt_s(r, 4)}, {"product_interest", r.s(5)}, {"note", jopt_s(r, 6)},
                             {"status", r.s(7)}, {"created_by", r.s(8)}, {"created_at", iso_utc(r.i(9))}});
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "Sales leads forwarded from service orders, in the caller's scope", .tag = "orders",
      .permission = "lead.read", .query_params = {"limit", "cursor"}});

  // ---- fault codes ------------------------------------------------------------------
  r.get("/api/v1/fault-codes", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      std::string sql = "SELECT id, product_line_id, parent_id, level, code, name FROM fault_codes WHERE active = 1";
      store::Params ps;
      for (const char* f : {"product_line_id", "parent_id"}) {
        if (auto v = req.q(f); v && !v->empty()) {
          int64_t x = std::atoll(v->c_str());
          if (x <= 0) return Error::invalid(std::string(f) + " must be a positive integer", f);
          sql += std::string(" AND ") + f + " = ?";
          ps.push_back(x);
        }
      }
      sql += " ORDER BY product_line_id, level DESC, code LIMIT 2000";
      auto rows = TRY(c.query(sql, ps));
      json items = json::array();
      for (const auto& r : rows)
        items.push_back(json{{"id", r.i(0)}, {"product_line_id", r.i(1)}, {"parent_id", r.null(2) ? json(nullptr) : json(r.i(2))},
                             {"level", r.s(3)}, {"code", r.s(4)}, {"name", r.s(5)}});
      return Response::make_json(json{{"items", items}});
    });
  }, {.summary = "The fault-code dictionary: product line → symptom → cause", .tag = "orders", .permission = "order.read",
      .query_params = {"product_line_id", "parent_id"}});

  r.post("/api/v1/fault-codes", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      Input in(*body);
      std::string code = TRY(in.str("code", 40));
      std::string name = TRY(in.str("name", 100));
      auto parent = TRY(in.opt_integer("parent_id", 1));
      int64_t line = 0;
      std::string level = "symptom";
      if (parent) {
        auto pr = TRY(tx.db.one("SELECT product_line_id, level FROM fault_codes WHERE id = ?", {*parent}));
        if (!pr) return Error::invalid("parent_id is not a fault code", "parent_id");
        if (pr->s(1) != "symptom") return Error::invalid("a cause sits under a symptom; the dictionary has two levels", "parent_id");
        line = pr->i(0);
        level = "cause";
      } else {
        line = TRY(in.integer("product_line_id", 1));
        auto pl = TRY(tx.db.one("SELECT id FROM product_lines WHERE id = ?", {line}));
        if (!pl) return Error::invalid("product_line_id is not a product line", "product_line_id");
      }
      auto dup = TRY(tx.db.one("SELECT id FROM fault_codes WHERE product_line_id = ? AND code = ?", {line, code}));
      if (dup) return Error::conflict("fault code " + code + " exists for this product line", "code");
      int64_t now = now_ms();
      auto row = TRY(tx.db.one("INSERT INTO fault_codes (org_path, product_line_id, parent_id, level, code, name, active, "
                               "version, created_at, updated_at) VALUES (?,?,?,?,?,?,1,1,?,?) RETURNING id",
                               {tx.who()->org_path, line, parent ? store::Value(*parent) : store::Value(), level, code,
                                name, now, now}));
      json out{{"id", row->i(0)}, {"product_line_id", line}, {"parent_id", parent ? json(*parent) : json(nullptr)},
               {"level", level}, {"code", code}, {"name", name}};
      TRY_VOID(tx.audit("fault_code", row->i(0), "create", nullptr, out, tx.who()->org_path));
      return Response::make_json(out, 201);
    });
  }, {.summary = "Add a fault code: a symptom (product_line_id) or a cause (parent_id = a symptom)", .tag = "orders",
      .permission = "product.write",
      .request_schema = api::schema_object({{"code", "string"}, {"name", "string"}, {"product_line_id", "integer"},
                                            {"parent_id", "integer"}}, {"code", "name"})});

  // ---- order types and settings ----------------------------------------------------
  r.get("/api/v1/order-types", [&p](Request&) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto rows = TRY(c.query("SELECT t.code, t.name, t.name_en, t.required_fields_json, t.version, b.workflow_id, w.code, "
                              "w.wf_version FROM order_types t LEFT JOIN workflow_bindings b ON b.order_type = t.code "
                              "LEFT JOIN workflows w ON w.id = b.workflow_id"));
      json items = json::array();
      for (const auto& code : kTypes)
        for (const auto& r : rows)
          if (r.s(0) == code)
            items.push_back(json{{"code", r.s(0)}, {"name", r.s(1)}, {"name_en", r.s(2)},
                                 {"required_fields", json::parse(r.s(3))}, {"version", r.i(4)},
                                 {"workflow", {{"id", r.i(5)}, {"code", r.s(6)}, {"version", r.i(7)}}}});
      return Response::make_json(json{{"items", items}, {"requirable_fields", kRequirable}, {"channels", kChannels},
                                      {"priorities", kPriorities}, {"severities", kSeverities},
                                      {"reproducibility", kReproducibility}});
    });
  }, {.summary = "Order types with their required fields and workflow", .tag = "orders", .permission = "order.read"});

  r.put("/api/v1/order-types/{code}", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      std::string code = req.params["code"];
      if (std::find(kTypes.begin(), kTypes.end(), code) == kTypes.end()) return Error::not_found("no order type " + code);
      int64_t version = TRY(api::expected_version(req, *body));
      Input in(*body);
      auto fields = TRY(in.str_list("required_fields", 20, 40));
      for (size_t i = 0; i < fields.size(); ++i)
        if (std::find(kRequirable.begin(), kRequirable.end(), fields[i]) == kRequirable.end())
          return Error::invalid("required_fields[" + std::to_string(i) + "] " + fields[i] + " is not an order field",
                                "required_fields[" + std::to_string(i) + "]");
      auto b = TRY(tx.db.one("SELECT required_fields_json FROM order_types WHERE code = ?", {code}));
      auto n = TRY(tx.db.exec("UPDATE order_types SET required_fields_json = ?, version = version + 1, updated_at = ? "
                              "WHERE code = ? AND version = ?", {json(fields).dump(), now_ms(), code, version}));
      if (n == 0) return Error::conflict("order type " + code + " was changed by someone else", "version");
      TRY_VOID(tx.audit("order_type", 0, "update:" + code, json{{"required_fields", json::parse(b->s(0))}},
                        json{{"required_fields", fields}}, "/"));
      return Response::make_json(json{{"code", code}, {"required_fields", fields}, {"version", version + 1}});
    });
  }, {.summary = "Set the fields an order type requires on create (send the version you read)", .tag = "orders",
      .permission = "workflow.write",
      .request_schema = api::schema_object({{"required_fields", "array"}, {"version", "integer"}}, {"required_fields", "version"})});

  r.get("/api/v1/order-settings", [&p](Request&) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto row = TRY(c.one("SELECT rounding, version FROM order_settings WHERE id = 1"));
      return Response::make_json(json{{"rounding", row->s(0)}, {"version", row->i(1)},
                                      {"rounding_modes", {"none", "jiao_down", "yuan_down", "yuan_half_up"}}});
    });
  }, {.summary = "Order settings: rounding of amounts due", .tag = "orders", .permission = "order.read"});

  r.put("/api/v1/order-settings", [&p](Request& req) {
    auto body = body_of(req);
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t version = TRY(api::expected_version(req, *body));
      Input in(*body);
      std::string mode = TRY(in.one_of("rounding", {"none", "jiao_down", "yuan_down", "yuan_half_up"}));
      auto b = TRY(tx.db.one("SELECT rounding FROM order_settings WHERE id = 1"));
      auto n = TRY(tx.db.exec("UPDATE order_settings SET rounding = ?, version = version + 1, updated_at = ? WHERE id = 1 "
                              "AND version = ?", {mode, now_ms(), version}));
      if (n == 0) return Error::conflict("order settings were changed by someone else", "version");
      TRY_VOID(tx.audit("order_settings", 1, "update", json{{"rounding", b->s(0)}}, json{{"rounding", mode}}, "/"));
      return Response::make_json(json{{"rounding", mode}, {"version", version + 1}});
    });
  }, {.summary = "Set the rounding of amounts due (none, jiao_down, yuan_down 去零, yuan_half_up)", .tag = "orders",
      .permission = "workflow.write",
      .request_schema = api::schema_object({{"rounding", "string"}, {"version", "integer"}}, {"rounding", "version"})});
}

}  // namespace shouhou::orders::detail
