// The order and timeline rows every path writes (create, transition, assign,
// add_timeline and the history writer), and the history writer itself.
#include "orders/history.h"

#include <algorithm>
#include <map>

#include "orders/internal.h"
#include "store/bulk.h"

namespace shouhou::orders {

using api::json;
using store::Conn;
using namespace detail;

namespace {

store::Value os(const std::optional<std::string>& s) { return s && !s->empty() ? store::Value(*s) : store::Value(); }
store::Value oi(const std::optional<int64_t>& v) { return v ? store::Value(*v) : store::Value(); }

bool one_of(const std::string& v, const std::vector<std::string>& list) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

// ---- the rows ---------------------------------------------------------------

namespace {
constexpr const char* kOrderInsert =
    "INSERT INTO service_orders (number, type, channel, state, workflow_id, state_entered_at, customer_id, "
    "contact_json, site_json, county_code, asset_id, serial, model_id, product_line_id, contract_id, warranty, "
    "priority, severity, reproducibility, problem_area, problem_subarea, description, summary, expected_at, "
    "org_unit_id, org_path, provider_unit_id, engineer_id, claim_status, response_due_at, resolve_due_at, sla_status, "
    "decision_json, fields_json, completion_json, satisfaction_json, completed_at, closed_at, created_by, version, "
    "created_at, updated_at)";
constexpr size_t kOrderCols = 42;
constexpr const char* kOrderTypes =
    "text,text,text,text,int8,int8,int8,text,text,text,int8,text,int8,int8,int8,text,text,text,text,text,text,text,"
    "text,int8,int8,text,int8,int8,text,int8,int8,text,text,text,text,text,int8,int8,int8,int8,int8,int8";

store::Value os(std::optional<std::string>&& s) { return s && !s->empty() ? store::Value(std::move(*s)) : store::Value(); }

// The row's parameters in kOrderInsert's column order (strings moved).
void order_values(OrderRow&& r, store::Params& ps) {
  ps.emplace_back(std::move(r.number));
  ps.emplace_back(std::move(r.type));
  ps.emplace_back(std::move(r.channel));
  ps.emplace_back(std::move(r.state));
  ps.emplace_back(r.workflow_id);
  ps.emplace_back(r.state_entered_at);
  ps.push_back(oi(r.customer_id));
  ps.emplace_back(std::move(r.contact_json));
  ps.emplace_back(std::move(r.site_json));
  ps.push_back(os(std::move(r.county_code)));
  ps.push_back(oi(r.asset_id));
  ps.push_back(os(std::move(r.serial)));
  ps.push_back(oi(r.model_id));
  ps.push_back(oi(r.product_line_id));
  ps.push_back(oi(r.contract_id));
  ps.emplace_back(std::move(r.warranty));
  ps.emplace_back(std::move(r.priority));
  ps.emplace_back(std::move(r.severity));
  ps.push_back(os(std::move(r.reproducibility)));
  ps.push_back(os(std::move(r.problem_area)));
  ps.push_back(os(std::move(r.problem_subarea)));
  ps.push_back(os(std::move(r.description)));
  ps.push_back(os(std::move(r.summary)));
  ps.push_back(oi(r.expected_at));
  ps.emplace_back(r.org_unit_id);
  ps.emplace_back(std::move(r.org_path));
  ps.push_back(oi(r.provider_unit_id));
  ps.push_back(oi(r.engineer_id));
  ps.emplace_back(std::move(r.claim_status));
  ps.emplace_back(r.response_due_at);
  ps.emplace_back(r.resolve_due_at);
  ps.emplace_back(std::move(r.sla_status));
  ps.push_back(os(std::move(r.decision_json)));
  ps.emplace_back(std::move(r.fields_json));
  ps.push_back(os(std::move(r.completion_json)));
  ps.push_back(os(std::move(r.satisfaction_json)));
  ps.push_back(oi(r.completed_at));
  ps.push_back(oi(r.closed_at));
  ps.push_back(oi(r.created_by));
  ps.emplace_back(r.version);
  ps.emplace_back(r.created_at);
  ps.emplace_back(r.updated_at);
}
}  // namespace

Result<int64_t> detail::insert_order_row(Conn& c, const OrderRow& r) {
  store::Params ps;
  ps.reserve(kOrderCols);
  order_values(OrderRow(r), ps);
  std::string sql = kOrderInsert;
  sql += " VALUES (?";
  for (size_t i = 1; i < kOrderCols; ++i) sql += ",?";
  sql += ") RETURNING id";
  auto row = TRY(c.one(sql, ps));
  if (!row) return Error::internal("service order insert returned no id");
  return row->i(0);
}

TimelineRow& TimelineRow::by(const http::Principal* who) {
  if (who) {
    user_id = who->user_id;
    username = who->username;
  } else {
    user_id.reset();
    username = "system";
  }
  return *this;
}

namespace {
constexpr const char* kTimelineInsert =
    "INSERT INTO order_timeline (order_id, org_path, at, kind, action, from_state, to_state, user_id, username, "
    "result, remark, detail_json)";
constexpr size_t kTimelineCols = 12;
constexpr const char* kTimelineTypes = "int8,text,int8,text,text,text,text,int8,text,text,text,text";

void timeline_values(TimelineRow&& r, store::Params& ps) {
  ps.emplace_back(r.order_id);
  ps.emplace_back(std::move(r.org_path));
  ps.emplace_back(r.at);
  ps.emplace_back(std::move(r.kind));
  ps.push_back(os(r.action));
  ps.push_back(os(r.from_state));
  ps.push_back(os(r.to_state));
  ps.push_back(oi(r.user_id));
  ps.emplace_back(std::move(r.username));
  ps.emplace_back(std::move(r.result));
  ps.push_back(os(r.remark));
  ps.push_back(os(r.detail_json));
}
}  // namespace

Result<void> detail::insert_timeline_row(Conn& c, const TimelineRow& r) {
  TRY(c.exec(std::string(kTimelineInsert) + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
             {r.order_id, r.org_path, r.at, r.kind, os(r.action), os(r.from_state), os(r.to_state), oi(r.user_id),
              r.username, r.result, os(r.remark), os(r.detail_json)}));
  return {};
}

// ---- history ------------------------------------------------------------------

namespace {

struct Unit {
  bool ok = false;
  std::string path;
};

// What the API's facts() would show for a required field: the revisit
// record, the completion, the workflow fields, then the order itself.
json fact(const HistoricOrder& o, const OrderRow& row, const json& fields, const std::string& name) {
  if (name == "satisfaction") return o.satisfaction;
  if (o.completion.is_object() && o.completion.contains(name)) return o.completion[name];
  if (fields.is_object() && fields.contains(name)) return fields[name];
  auto i = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
  auto s = [](const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); };
  if (name == "provider_unit_id") return i(row.provider_unit_id);
  if (name == "engineer_id") return i(row.engineer_id);
  if (name == "customer_id") return i(row.customer_id);
  if (name == "asset_id") return i(row.asset_id);
  if (name == "model_id") return i(row.model_id);
  if (name == "product_line_id") return i(row.product_line_id);
  if (name == "contract_id") return i(row.contract_id);
  if (name == "serial") return s(row.serial);
  if (name == "problem_area") return s(row.problem_area);
  if (name == "problem_subarea") return s(row.problem_subarea);
  if (name == "description") return s(row.description);
  if (name == "summary") return s(row.summary);
  if (name == "reproducibility") return s(row.reproducibility);
  if (name == "contact") return o.contact;
  if (name == "site") return o.site;
  if (name == "completion") return o.completion;
  if (name == "type") return row.type;
  if (name == "priority") return row.priority;
  if (name == "severity") return row.severity;
  if (name == "warranty") return row.warranty;
  if (name == "claim_status") return row.claim_status;
  if (name == "org_unit_id") return row.org_unit_id;
  return nullptr;
}

}  // namespace

Result<std::vector<int64_t>> record_history(api::WriteTx& tx, const std::vector<HistoricOrder>& orders) {
  Conn& c = tx.db;
  std::vector<int64_t> ids;
  ids.reserve(orders.size());
  // Looked up once per call: workflows by type, units, engineers.
  std::map<std::string, std::pair<int64_t, std::shared_ptr<const wf::Definition>>> flows;
  std::map<int64_t, Unit> units;
  std::map<int64_t, std::optional<std::string>> paths;
  std::map<std::pair<int64_t, int64_t>, bool> engineers;
  static const std::vector<std::string> kWarranty = {"in", "out", "unknown"};
  static const std::vector<std::string> kClaim = {"none", "passed", "flagged", "approved", "rejected"};
  static const std::vector<std::string> kSla = {"ok", "warning", "breached", "paused", "met"};
  std::vector<TimelineRow> timeline;
  std::vector<std::pair<size_t, TimelineRow>> steps;  // (order index, row)
  store::Params order_params;
  order_params.reserve(orders.size() * kOrderCols);

  for (size_t n = 0; n < orders.size(); ++n) {
    const HistoricOrder& o = orders[n];
    const std::string at = "orders[" + std::to_string(n) + "].";
    if (!one_of(o.type, kTypes)) return Error::invalid("type " + o.type + " is not an order type", at + "type");
    if (!one_of(o.channel, kChannels)) return Error::invalid("channel " + o.channel + " is not valid", at + "channel");
    if (!one_of(o.priority, kPriorities)) return Error::invalid("priority " + o.priority + " is not valid", at + "priority");
    if (!one_of(o.severity, kSeverities)) return Error::invalid("severity " + o.severity + " is not valid", at + "severity");
    if (o.reproducibility && !one_of(*o.reproducibility, kReproducibility))
      return Error::invalid("reproducibility is not valid", at + "reproducibility");
    if (!one_of(o.warranty, kWarranty)) return Error::invalid("warranty is in, out or unknown", at + "warranty");
    if (!one_of(o.claim_status, kClaim)) return Error::invalid("claim_status is not valid", at + "claim_status");
    if (!one_of(o.sla.status, kSla)) return Error::invalid("sla status is not valid", at + "sla.status");
    if (!o.contact.is_object() || !o.site.is_object()) return Error::invalid("contact and site are objects", at + "contact");
    if (o.created_at <= 0) return Error::invalid("created_at is required", at + "created_at");

    auto& flow = flows[o.type];
    if (!flow.second) {
      flow.first = TRY(workflow_for_type(c, o.type));
      flow.second = TRY(workflow_by_id(c, flow.first));
    }
    const wf::Definition& def = *flow.second;
    auto unit_of = [&](int64_t id) -> Result<const Unit*> {
      auto it = units.find(id);
      if (it == units.end()) {
        auto row = TRY(c.one("SELECT path, type, active FROM org_units WHERE id = ?", {id}));
        Unit u;
        if (row) u.path = row->s(0), u.ok = row->i(2) != 0;
        u.ok = u.ok && (row->s(1) == "provider" || row->s(1) == "branch");
        it = units.emplace(id, std::move(u)).first;
      }
      return &it->second;
    };

    OrderRow row;
    row.type = o.type, row.channel = o.channel, row.state = def.initial, row.workflow_id = flow.first;
    row.customer_id = o.customer_id, row.contact_json = o.contact.dump(), row.site_json = o.site.dump();
    row.county_code = o.county_code, row.asset_id = o.asset_id, row.serial = o.serial, row.model_id = o.model_id;
    row.product_line_id = o.product_line_id, row.contract_id = o.contract_id, row.warranty = o.warranty;
    row.priority = o.priority, row.severity = o.severity, row.reproducibility = o.reproducibility;
    row.problem_area = o.problem_area, row.problem_subarea = o.problem_subarea, row.description = o.description;
    row.summary = o.summary, row.org_unit_id = o.org_unit_id;
    if (!o.warranty_decision.is_null()) row.decision_json = o.warranty_decision.dump();
    if (o.creator) row.created_by = o.creator->user_id;
    row.created_at = o.created_at;
    row.claim_status = o.claim_status;
    row.response_due_at = o.sla.response_due_at, row.resolve_due_at = o.sla.resolve_due_at, row.sla_status = o.sla.status;
    if (!o.completion.is_null()) row.completion_json = o.completion.dump();
    if (!o.satisfaction.is_null()) row.satisfaction_json = o.satisfaction.dump();
    {
      auto it = paths.find(o.org_unit_id);
      if (it == paths.end()) {
        auto r = TRY(c.one("SELECT path FROM org_units WHERE id = ?", {o.org_unit_id}));
        it = paths.emplace(o.org_unit_id, r ? std::optional<std::string>(r->s(0)) : std::nullopt).first;
      }
      if (!it->second)
        return Error::invalid("org_unit_id " + std::to_string(o.org_unit_id) + " is not an org unit", at + "org_unit_id");
      row.org_path = *it->second;
    }

    timeline.clear();
    TimelineRow created;
    created.at = o.created_at, created.action = "create", created.to_state = def.initial;
    timeline.push_back(created.by(o.creator));
    json fields = json::object();
    int64_t last = o.created_at;
    for (size_t k = 0; k < o.steps.size(); ++k) {
      const HistoricStep& s = o.steps[k];
      const std::string sat = at + "steps[" + std::to_string(k) + "].";
      if (s.at < last) return Error::invalid("steps must not go back in time", sat + "at");
      last = s.at;
      if (s.provider_unit_id) {
        // assign(): the unit and engineer checked, the order moves to the provider's scope.
        const Unit* u = TRY(unit_of(s.provider_unit_id));
        if (!u->ok)
          return Error::invalid("provider_unit_id " + std::to_string(s.provider_unit_id) + " is not an active provider",
                                sat + "provider_unit_id");
        if (s.engineer_id) {
          auto key = std::make_pair(s.engineer_id, s.provider_unit_id);
          auto it = engineers.find(key);
          if (it == engineers.end()) {
            auto e = TRY(c.one("SELECT id FROM users WHERE id = ? AND org_unit_id = ? AND active = 1",
                               {s.engineer_id, s.provider_unit_id}));
            it = engineers.emplace(key, bool(e)).first;
          }
          if (!it->second)
            return Error::invalid("engineer_id " + std::to_string(s.engineer_id) + " is not an engineer of the provider",
                                  sat + "engineer_id");
        }
        const wf::State* st = wf::find_state(def, row.state);
        if (st && st->final) return Error::conflict("a " + row.state + " order cannot be assigned", sat + "provider_unit_id");
        TimelineRow tl;
        tl.at = s.at, tl.kind = row.provider_unit_id ? "reassign" : "assign";
        json detail{{"provider_unit_id", s.provider_unit_id},
                    {"engineer_id", s.engineer_id ? json(s.engineer_id) : json(nullptr)},
                    {"previous_provider_unit_id", row.provider_unit_id ? json(*row.provider_unit_id) : json(nullptr)},
                    {"decision", s.decision}};
        tl.detail_json = detail.dump();
        timeline.push_back(tl.by(s.who));
        row.provider_unit_id = s.provider_unit_id;
        row.engineer_id = s.engineer_id ? std::optional<int64_t>(s.engineer_id) : std::nullopt;
        row.org_unit_id = s.provider_unit_id;
        row.org_path = u->path;
        if (!s.decision.is_null()) row.decision_json = s.decision.dump();
        ++row.version;
      }
      const wf::Transition* t = wf::find_transition(def, row.state, s.action);
      if (!t)
        return Error::conflict("action " + s.action + " is not allowed in state " + row.state, sat + "action");
      if (s.who && !s.who->can(t->permission))
        return Error::forbidden("permission " + t->permission + " required for " + t->action);
      if (!s.fields.is_null()) {
        if (!s.fields.is_object() || s.fields.size() > 50) return Error::invalid("fields must be an object", sat + "fields");
        for (auto& [key, v] : s.fields.items()) fields[key] = v;
      }
      const wf::State* to = wf::find_state(def, t->to);
      if (to && !to->required_fields.empty()) {
        json f = json::object();
        for (const auto& name : to->required_fields) f[name] = fact(o, row, fields, name);
        auto missing = wf::missing_fields(*to, f);
        if (!missing.empty())
          return Error::invalid("state " + t->to + " needs: " + missing.front(), sat + "fields." + missing.front());
      }
      TimelineRow tl;
      tl.at = s.at, tl.action = t->action, tl.from_state = row.state, tl.to_state = t->to;
      if (s.fields.is_object() && !s.fields.empty()) tl.detail_json = s.fields.dump();
      timeline.push_back(tl.by(s.who));
      if (t->to == "completed") row.completed_at = s.at;
      if (to && to->final) row.closed_at = s.at;
      if (t->to == "reopened") row.closed_at.reset(), row.completed_at.reset();
      row.state = t->to;
      row.state_entered_at = s.at;
      ++row.version;
    }
    if (o.steps.empty()) row.state_entered_at = o.created_at;
    row.updated_at = last;
    row.fields_json = fields.dump();
    row.number = TRY(next_number(c, o.created_at));
    // Children follow the order's final scope, as assign() moves them.
    for (auto& tl : timeline) {
      tl.org_path = row.org_path;
      steps.emplace_back(n, std::move(tl));
    }
    order_values(std::move(row), order_params);
  }
  // Every order checked: the rows of the whole call go in multi-row INSERTs
  // (store/bulk.h) of the same columns as insert_order_row and
  // insert_timeline_row, the orders first (ids in input order), then their
  // timelines in order.
  ids = TRY(store::insert_rows(c, kOrderInsert, kOrderCols, std::move(order_params), true, kOrderTypes));
  if (ids.size() != orders.size()) return Error::internal("service order insert returned another number of ids");
  store::Params timeline_params;
  timeline_params.reserve(steps.size() * kTimelineCols);
  for (auto& [n, tl] : steps) {
    tl.order_id = ids[n];
    timeline_values(std::move(tl), timeline_params);
  }
  TRY(store::insert_rows(c, kTimelineInsert, kTimelineCols, std::move(timeline_params), false, kTimelineTypes));
  if (!ids.empty())
    TRY_VOID(tx.audit("service_order", ids.front(), "history", nullptr,
                      json{{"orders", ids.size()}, {"first_id", ids.front()}, {"last_id", ids.back()}}));
  return ids;
}

}  // namespace shouhou::orders
