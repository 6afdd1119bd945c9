// The order and timeline rows every path writes (create, transition, assign,
// add_timeline and the history writer), and the history writer itself.
#include "orders/history.h"

#include <algorithm>
#include <map>

#include "orders/internal.h"

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

Result<int64_t> detail::insert_order_row(Conn& c, const OrderRow& r) {
  auto row = TRY(c.one(
      "INSERT INTO service_orders (number, type, channel, state, workflow_id, state_entered_at, customer_id, "
      "contact_json, site_json, county_code, asset_id, serial, model_id, product_line_id, contract_id, warranty, "
      "priority, severity, reproducibility, problem_area, problem_subarea, description, summary, expected_at, "
      "org_unit_id, org_path, provider_unit_id, engineer_id, claim_status, response_due_at, resolve_due_at, sla_status, "
      "decision_json, fields_json, completion_json, satisfaction_json, completed_at, closed_at, created_by, version, "
      "created_at, updated_at) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
      {r.number, r.type, r.channel, r.state, r.workflow_id, r.state_entered_at, oi(r.customer_id), r.contact_json,
       r.site_json, os(r.county_code), oi(r.asset_id), os(r.serial), oi(r.model_id), oi(r.product_line_id),
       oi(r.contract_id), r.warranty, r.priority, r.severity, os(r.reproducibility), os(r.problem_area),
       os(r.problem_subarea), os(r.description), os(r.summary), oi(r.expected_at), r.org_unit_id, r.org_path,
       oi(r.provider_unit_id), oi(r.engineer_id), r.claim_status, r.response_due_at, r.resolve_due_at, r.sla_status,
       os(r.decision_json), r.fields_json, os(r.completion_json), os(r.satisfaction_json), oi(r.completed_at),
       oi(r.closed_at), oi(r.created_by), r.version, r.created_at, r.updated_at}));
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

Result<void> detail::insert_timeline_row(Conn& c, const TimelineRow& r) {
  TRY(c.exec("INSERT INTO order_timeline (order_id, org_path, at, kind, action, from_state, to_state, user_id, username, "
             "result, remark, detail_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
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
    int64_t id = TRY(insert_order_row(c, row));
    // Children follow the order's final scope, as assign() moves them.
    for (auto& tl : timeline) {
      tl.order_id = id;
      tl.org_path = row.org_path;
      TRY_VOID(insert_timeline_row(c, tl));
    }
    ids.push_back(id);
  }
  if (!ids.empty())
    TRY_VOID(tx.audit("service_order", ids.front(), "history", nullptr,
                      json{{"orders", ids.size()}, {"first_id", ids.front()}, {"last_id", ids.back()}}));
  return ids;
}

}  // namespace shouhou::orders
