// Service orders: the record, numbering, workflow transitions, assignment,
// and the functions other modules call (see orders.h).
#include "orders/orders.h"

#include <algorithm>
#include <mutex>
#include <map>

#include <spdlog/spdlog.h>

#include "core/input.h"
#include "core/util.h"
#include "customers/customers.h"
#include "customers/phone.h"
#include "divisions/divisions.h"
#include "installbase/installbase.h"
#include "orders/internal.h"
#include "orders/sales_order.h"
#include "org/org.h"
#include "products/products.h"
#include "store/lock.h"
#include "warranty/warranty.h"

namespace shouhou::orders {

using api::json;
using store::Conn;
using namespace detail;

namespace {

// Set by wire(): create()/transition() run inside other modules' and tools'
// transactions without a Platform at hand.
api::DomainBus* g_bus = nullptr;


store::Value opt_s(const std::optional<std::string>& s) { return s && !s->empty() ? store::Value(*s) : store::Value(); }
store::Value opt_i(std::optional<int64_t> v) { return v ? store::Value(*v) : store::Value(); }
json jopt_s(const store::Row& r, size_t i) { return r.null(i) ? json(nullptr) : json(r.s(i)); }
json jopt_i(const store::Row& r, size_t i) { return r.null(i) ? json(nullptr) : json(r.i(i)); }
json jtime(const store::Row& r, size_t i) { return r.null(i) || r.i(i) == 0 ? json(nullptr) : json(iso_utc(r.i(i))); }
json jparse(const store::Row& r, size_t i, json def = nullptr) {
  if (r.null(i)) return def;
  json j = json::parse(r.s(i), nullptr, false);
  return j.is_discarded() ? def : j;
}

constexpr const char* kCols =
    "o.id, o.number, o.type, o.channel, o.state, o.workflow_id, o.state_entered_at, o.customer_id, c.name, "
    "o.contact_json, o.site_json, o.county_code, o.asset_id, o.serial, o.model_id, o.product_line_id, o.contract_id, "
    "o.warranty, o.priority, o.severity, o.reproducibility, o.problem_area, o.problem_subarea, o.description, "
    "o.summary, o.expected_at, o.org_unit_id, o.org_path, o.provider_unit_id, pu.name, o.engineer_id, eu.display_name, "
    "o.claim_status, o.response_due_at, o.resolve_due_at, o.sla_status, o.decision_json, o.fields_json, "
    "o.completion_json, o.satisfaction_json, o.completed_at, o.closed_at, o.created_by, o.version, o.created_at, "
    "o.updated_at, ou.name";
constexpr const char* kFrom =
    " FROM service_orders o LEFT JOIN customers c ON c.id = o.customer_id LEFT JOIN org_units pu ON pu.id = "
    "o.provider_unit_id LEFT JOIN users eu ON eu.id = o.engineer_id LEFT JOIN org_units ou ON ou.id = o.org_unit_id";

}  // namespace

// ---- held orders (internal.h) ---------------------------------------------------

namespace detail {

namespace {
thread_local HoldOrder* g_holds = nullptr;  // innermost first
}  // namespace

// The writes below keep every held copy of their order current. A copy is
// marked stale before a write starts and made current again when it ends,
// so a write that fails half-way (and whose error a reaction swallows)
// leaves it stale and its holder reads the order again.
struct Holds {
  // The innermost held copy of order id when it is current, else nullptr.
  static json* current(int64_t id) {
    for (HoldOrder* h = g_holds; h; h = h->prev_)
      if (h->id_ == id) return h->stale_ ? nullptr : h->order_;
    return nullptr;
  }
  template <class F>
  static void patch(int64_t id, F&& f) {
    for (HoldOrder* h = g_holds; h; h = h->prev_)
      if (h->id_ == id && !h->stale_) f(*h->order_);
  }
  static void stale(int64_t id) {
    for (HoldOrder* h = g_holds; h; h = h->prev_)
      if (h->id_ == id) h->stale_ = true;
  }
  static void replace(int64_t id, const json& order) {
    for (HoldOrder* h = g_holds; h; h = h->prev_)
      if (h->id_ == id) {
        if (h->order_ != &order) *h->order_ = order;
        h->stale_ = false;
      }
  }
};

HoldOrder::HoldOrder(int64_t id, json& order) : id_(id), order_(&order), prev_(g_holds) { g_holds = this; }
HoldOrder::~HoldOrder() { g_holds = prev_; }

}  // namespace detail

namespace {

// The order as find() would return it: the held copy when there is one.
Result<json> current_order(Conn& c, int64_t id) {
  if (const json* h = Holds::current(id)) return *h;
  auto found = TRY(find(c, id));
  if (!found) return api::not_found("service order", id);
  return std::move(*found);
}

// Emits `data` (a copy of `order` plus the event's own keys: reactions may
// write the order while they read the event) with `order` held, so the
// reactions' writes keep it current; reads it again only when one of them
// failed half-way.
Result<void> emit_holding(api::WriteTx& tx, std::string_view type, int64_t id, const json& data, json& order) {
  if (!g_bus) return {};
  HoldOrder h(id, order);
  TRY_VOID(g_bus->emit(tx, type, id, data));
  if (!h.current()) order = TRY(current_order(tx.db, id));
  return {};
}

}  // namespace

namespace detail {

const std::vector<std::string> kTypes = {"installation", "delivery", "repair", "return_exchange", "maintenance",
                                         "inspection", "startup", "complaint", "consultation"};
const std::vector<std::string> kChannels = {"call_centre", "provider_portal", "dealer", "consumer", "api"};
const std::vector<std::string> kPriorities = {"low", "medium", "high", "urgent"};
const std::vector<std::string> kSeverities = {"critical", "serious", "normal", "minor"};
const std::vector<std::string> kReproducibility = {"always", "sometimes", "never"};
const std::vector<std::string> kRequirable = {
    "customer_id",  "contact",     "contact.name",  "contact.phone", "site",        "site.address",
    "site.county_code", "serial",  "model_id",      "problem_area",  "problem_subarea", "description",
    "summary",      "expected_at", "reproducibility"};

json order_row_json(const store::Row& r) {
  // Built member by member: an initializer list builds every pair as a
  // two-element array first and then converts it (2-3x the allocations, and
  // this runs for every order page, list row and transition).
  json j(json::value_t::object);
  auto& o = j.get_ref<json::object_t&>();
  o.emplace("id", r.i(0));
  o.emplace("number", r.s(1));
  o.emplace("type", r.s(2));
  o.emplace("channel", r.s(3));
  o.emplace("state", r.s(4));
  o.emplace("workflow_id", r.i(5));
  o.emplace("state_entered_at", jtime(r, 6));
  o.emplace("customer_id", jopt_i(r, 7));
  o.emplace("customer_name", jopt_s(r, 8));
  o.emplace("contact", jparse(r, 9, json::object()));
  o.emplace("site", jparse(r, 10, json::object()));
  o.emplace("asset_id", jopt_i(r, 12));
  o.emplace("serial", jopt_s(r, 13));
  o.emplace("model_id", jopt_i(r, 14));
  o.emplace("product_line_id", jopt_i(r, 15));
  o.emplace("contract_id", jopt_i(r, 16));
  o.emplace("warranty", r.s(17));
  o.emplace("priority", r.s(18));
  o.emplace("severity", r.s(19));
  o.emplace("reproducibility", jopt_s(r, 20));
  o.emplace("problem_area", jopt_s(r, 21));
  o.emplace("problem_subarea", jopt_s(r, 22));
  o.emplace("description", jopt_s(r, 23));
  o.emplace("summary", jopt_s(r, 24));
  o.emplace("expected_at", jtime(r, 25));
  o.emplace("org_unit_id", r.i(26));
  o.emplace("org_unit_name", jopt_s(r, 46));
  o.emplace("org_path", r.s(27));
  o.emplace("provider_unit_id", jopt_i(r, 28));
  o.emplace("provider_name", jopt_s(r, 29));
  o.emplace("engineer_id", jopt_i(r, 30));
  o.emplace("engineer_name", jopt_s(r, 31));
  o.emplace("claim_status", r.s(32));
  o.emplace("response_due_at", jtime(r, 33));
  o.emplace("resolve_due_at", jtime(r, 34));
  o.emplace("sla_status", r.s(35));
  o.emplace("decision", jparse(r, 36));
  o.emplace("fields", jparse(r, 37, json::object()));
  o.emplace("completion", jparse(r, 38));
  o.emplace("satisfaction", jparse(r, 39));
  o.emplace("completed_at", jtime(r, 40));
  o.emplace("closed_at", jtime(r, 41));
  o.emplace("created_by", jopt_i(r, 42));
  o.emplace("version", r.i(43));
  o.emplace("created_at", iso_utc(r.i(44)));
  o.emplace("updated_at", iso_utc(r.i(45)));
  return j;
}

thread_local std::vector<std::string> g_missing_fields;
thread_local std::vector<std::string> g_allowed_actions;

std::string order_select() { return std::string("SELECT ") + kCols + kFrom; }

namespace {
// Engineers see the orders assigned to them, not their provider's whole book.
bool engineer_only(const http::Principal& who) {
  return who.has_role("engineer") && !who.can("order.dispatch") && !who.can("order.audit");
}
}  // namespace

bool visible(const http::Principal& who, const json& order) {
  if (order["engineer_id"].is_number_integer() && order["engineer_id"].get<int64_t>() == who.user_id) return true;
  if (!who.reaches(order["org_path"].get<std::string>())) return false;
  return !engineer_only(who);
}

void append_scope(const http::Principal& who, std::string& sql, store::Params& ps) {
  if (engineer_only(who)) {
    sql += "o.engineer_id = ?";
    ps.push_back(who.user_id);
  } else {
    sql += "(o.org_path LIKE ? OR o.engineer_id = ?)";
    ps.push_back(who.org_path + "%");
    ps.push_back(who.user_id);
  }
}

Result<void> lock_order(Conn& c, int64_t id) {
  // Before reading, so a check-then-update sees the latest committed order.
  return store::lock_rows(c, "SELECT id FROM service_orders WHERE id = ?", {id});
}

Result<json> load_for_update(Conn& c, const http::Principal& who, int64_t id) {
  TRY_VOID(lock_order(c, id));
  return load_visible(c, who, id);
}

Result<json> load_visible(Conn& c, const http::Principal& who, int64_t id) {
  auto o = TRY(find(c, id));
  if (!o || !visible(who, *o)) return api::not_found("service order", id);
  return std::move(*o);
}

json facts(const json& order) {
  json f = order;
  if (order["fields"].is_object())
    for (auto& [k, v] : order["fields"].items()) f[k] = v;
  if (order["completion"].is_object())
    for (auto& [k, v] : order["completion"].items()) f[k] = v;
  f["satisfaction"] = order["satisfaction"];
  return f;
}

// ---- workflows -------------------------------------------------------------

namespace {
std::mutex g_wf_mu;
std::map<std::string, std::shared_ptr<const wf::Definition>> g_wf_cache;  // key: db describe + id
}  // namespace

Result<std::shared_ptr<const wf::Definition>> workflow_by_id(Conn& c, int64_t id) {
  // Ids are per database; tests run several databases in one process only
  // through separate server processes, but tools may open two: key by dialect too.
  std::string key = std::to_string(static_cast<int>(c.dialect())) + ":" + std::to_string(id);
  {
    std::lock_guard lk(g_wf_mu);
    auto it = g_wf_cache.find(key);
    if (it != g_wf_cache.end()) return it->second;
  }
  auto w = TRY(c.one("SELECT code, wf_version, name, order_types_json, initial_state FROM workflows WHERE id = ?", {id}));
  if (!w) return Error::internal("workflow " + std::to_string(id) + " is missing");
  auto d = std::make_shared<wf::Definition>();
  d->code = w->s(0);
  d->version = w->i(1);
  d->name = w->s(2);
  d->order_types = json::parse(w->s(3)).get<std::vector<std::string>>();
  d->initial = w->s(4);
  auto states = TRY(c.query("SELECT code, name, name_en, final, paused, required_fields_json, timer_minutes, timer_action "
                            "FROM workflow_states WHERE workflow_id = ? ORDER BY sort_order", {id}));
  for (const auto& r : states) {
    wf::State s;
    s.code = r.s(0);
    s.name = r.s(1);
    s.name_en = r.s(2);
    s.final = r.i(3) != 0;
    s.paused = r.i(4) != 0;
    s.required_fields = json::parse(r.s(5)).get<std::vector<std::string>>();
    s.timer_minutes = r.i(6);
    s.timer_action = r.s(7);
    d->states.push_back(std::move(s));
  }
  auto trans = TRY(c.query("SELECT action, from_state, to_state, permission, name, name_en FROM workflow_transitions "
                           "WHERE workflow_id = ? ORDER BY sort_order, id", {id}));
  for (const auto& r : trans) {
    auto it = std::find_if(d->transitions.begin(), d->transitions.end(), [&](const wf::Transition& t) {
      return t.action == r.s(0) && t.to == r.s(2) && t.permission == r.s(3);
    });
    if (it != d->transitions.end()) {
      it->from.push_back(r.s(1));
      continue;
    }
    d->transitions.push_back(wf::Transition{r.s(0), r.s(4), r.s(5), {r.s(1)}, r.s(2), r.s(3)});
  }
  std::shared_ptr<const wf::Definition> out = d;
  std::lock_guard lk(g_wf_mu);
  g_wf_cache[key] = out;
  return out;
}

}  // namespace detail

Result<bool> state_paused(Conn& c, int64_t workflow_id, const std::string& state) {
  auto def = TRY(workflow_by_id(c, workflow_id));
  const wf::State* st = wf::find_state(*def, state);
  return st && st->paused;
}

namespace detail {

Result<int64_t> workflow_for_type(Conn& c, const std::string& type) {
  auto row = TRY(c.one("SELECT workflow_id FROM workflow_bindings WHERE order_type = ?", {type}));
  if (!row) return Error::invalid("no workflow is configured for order type " + type, "type");
  return row->i(0);
}

Result<int64_t> store_workflow(Conn& c, const wf::Definition& d, const std::string& source, const std::string& org_path,
                               std::optional<int64_t> created_by) {
  int64_t now = now_ms();
  auto row = TRY(c.one("INSERT INTO workflows (code, wf_version, name, order_types_json, initial_state, source, org_path, "
                       "created_by, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,1,?,?) RETURNING id",
                       {d.code, d.version, d.name, json(d.order_types).dump(), d.initial, source, org_path,
                        opt_i(created_by), now, now}));
  int64_t id = row->i(0);
  int64_t pos = 0;
  for (const auto& s : d.states)
    TRY(c.exec("INSERT INTO workflow_states (workflow_id, code, name, name_en, final, paused, required_fields_json, "
               "timer_minutes, timer_action, sort_order) VALUES (?,?,?,?,?,?,?,?,?,?)",
               {id, s.code, s.name, s.name_en, int64_t(s.final), int64_t(s.paused), json(s.required_fields).dump(),
                s.timer_minutes, opt_s(s.timer_action), pos++}));
  pos = 0;
  for (const auto& t : d.transitions) {
    for (const auto& f : t.from)
      TRY(c.exec("INSERT INTO workflow_transitions (workflow_id, action, from_state, to_state, permission, name, "
                 "name_en, sort_order) VALUES (?,?,?,?,?,?,?,?)",
                 {id, t.action, f, t.to, t.permission, t.name, t.name_en, pos}));
    ++pos;
  }
  for (const auto& type : d.order_types) {
    auto n = TRY(c.exec("UPDATE workflow_bindings SET workflow_id = ?, updated_at = ? WHERE order_type = ?", {id, now, type}));
    if (n == 0) TRY(c.exec("INSERT INTO workflow_bindings (order_type, workflow_id, updated_at) VALUES (?,?,?)", {type, id, now}));
  }
  return id;
}

Result<void> ensure_default_workflows(store::Database& db) {
  return db.write([&](Conn& c) -> Result<void> {
    for (const auto& j : wf::default_definitions()) {
      wf::Definition d = TRY(wf::parse(j, kTypes));
      auto have = TRY(c.one("SELECT id FROM workflows WHERE code = ? AND wf_version >= ?", {d.code, d.version}));
      if (have) continue;
      // A newer default replaces the bindings only where the older default
      // (not an admin's flow) is bound.
      auto bound = TRY(c.query("SELECT b.order_type, w.code, w.source FROM workflow_bindings b JOIN workflows w ON w.id = "
                               "b.workflow_id"));
      std::vector<std::string> keep_types;
      for (const auto& t : d.order_types) {
        bool admin_owned = false;
        for (const auto& r : bound)
          if (r.s(0) == t && r.s(2) != "default") admin_owned = true;
        if (!admin_owned) keep_types.push_back(t);
      }
      d.order_types = keep_types;
      TRY(store_workflow(c, d, "default", "/", std::nullopt));
      spdlog::info("loaded default workflow {} v{}", d.code, d.version);
    }
    return {};
  });
}

// ---- versioned touch ------------------------------------------------------------

Result<json> touch(api::WriteTx& tx, int64_t id, int64_t expected_version, const json& before, std::string_view what) {
  int64_t v = expected_version > 0 ? expected_version : before["version"].get<int64_t>();
  Holds::stale(id);
  auto n = TRY(tx.db.exec("UPDATE service_orders SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
                          {now_ms(), id, v}));
  if (n == 0)
    return Error::conflict("service order " + std::to_string(id) + " was changed by someone else (version " +
                               std::to_string(before["version"].get<int64_t>()) + ")", "version");
  json after = TRY(current_order(tx.db, id));  // the caller changed columns before: read
  TRY_VOID(tx.audit("service_order", id, what, before, after, after["org_path"].get<std::string>()));
  json ev = after;
  TRY_VOID(emit_holding(tx, "order.updated", id, ev, after));
  Holds::replace(id, after);
  return after;
}

}  // namespace detail

// ---- create ---------------------------------------------------------------------

// "FW" + the China date + the day's sequence (FW20050222006), unique across
// servers sharing one database (the UNIQUE number index is the backstop).
// SQLite has one writer: an UPSERT on a per-day counter row. On PostgreSQL
// that row would stay locked from the UPSERT to the COMMIT, so every create
// of the day would wait for the one before it (98 orders/s, BENCHMARKS.md).
// There the day keeps the first value drawn from a sequence (a row written
// once per day; later reads take no lock) and an order's sequence is its
// distance from it: nextval never waits and never repeats, so numbers stay
// unique (with gaps where a create rolled back or servers interleave).
Result<std::string> detail::next_number(Conn& c, int64_t at) {
  int64_t cn = at + 8 * 3600 * 1000;
  std::string day = iso_utc(cn).substr(0, 10);
  day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
  std::optional<store::Row> row;
  if (c.dialect() == store::Dialect::postgres) {
    static const std::string kNext = "nextval(pg_get_serial_sequence('order_number_base', 'id'))";
    static const std::string kTake = "SELECT " + kNext + " - base + 1 FROM order_number_base WHERE day = ?";
    row = TRY(c.one(kTake, {day}));
    if (!row) {
      // The day's first order; the base skips numbers the counter row gave
      // out that day (a database numbered before this scheme).
      row = TRY(c.one("INSERT INTO order_number_base (day, base) VALUES (?, " + kNext +
                          " - COALESCE((SELECT n FROM order_number_seq WHERE day = ?), 0)) ON CONFLICT (day) DO NOTHING "
                          "RETURNING COALESCE((SELECT n FROM order_number_seq WHERE day = ?), 0) + 1",
                      {day, day, day}));
      // Another server inserted it first (ON CONFLICT waited for its COMMIT).
      if (!row) row = TRY(c.one(kTake, {day}));
      if (!row) return Error::unavailable("order numbering for " + day + " is not available; try again");
    }
  } else {
    row = TRY(c.one("INSERT INTO order_number_seq (day, n) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET "
                    "n = order_number_seq.n + 1 RETURNING n", {day}));
  }
  char seq[24];
  std::snprintf(seq, sizeof seq, "%03lld", static_cast<long long>(row->i(0)));
  return "FW" + day + seq;
}

namespace {

// The responsible unit: a provider's or dealer's own unit for their orders;
// otherwise the branch for the site's region (within the creator's scope),
// else the creator's unit.
Result<std::pair<int64_t, std::string>> responsible_unit(Conn& c, const http::Principal* who,
                                                         const std::optional<std::string>& county) {
  if (!who) {
    auto hq = TRY(c.one("SELECT id, path FROM org_units WHERE parent_id IS NULL ORDER BY id LIMIT 1"));
    if (!hq) return Error::invalid("no org unit exists", "org_unit_id");
    return std::make_pair(hq->i(0), hq->s(1));
  }
  if (who->org_type == "provider" || who->org_type == "dealer" || !county || county->size() != 6)
    return std::make_pair(who->org_unit_id, who->org_path);
  std::string city = county->substr(0, 4) + "00", province = county->substr(0, 2) + "0000";
  auto rows = TRY(c.query("SELECT id, path, division_code FROM org_units WHERE type = 'branch' AND active = 1 AND "
                          "division_code IN (?,?,?)", {*county, city, province}));
  std::optional<std::pair<int64_t, std::string>> best;
  int best_rank = 0;
  for (const auto& r : rows) {
    if (!who->reaches(r.s(1))) continue;
    int rank = r.s(2) == *county ? 3 : r.s(2) == city ? 2 : 1;
    if (rank > best_rank) best = std::make_pair(r.i(0), r.s(1)), best_rank = rank;
  }
  if (best) return *best;
  return std::make_pair(who->org_unit_id, who->org_path);
}

std::string default_channel(const http::Principal* who) {
  if (!who) return "api";
  if (who->via == http::Principal::Via::token) return "api";
  if (who->org_type == "provider") return "provider_portal";
  if (who->org_type == "dealer") return "dealer";
  if (who->has_role("consumer")) return "consumer";
  return "call_centre";
}

}  // namespace


namespace {

// create() in two steps: prepare_create checks the body and looks up what
// the order is made of, writing nothing; insert_created numbers and inserts
// it and runs the reactions.
struct NewOrder {
  OrderRow row;  // everything but number and times
  std::shared_ptr<const wf::Definition> def;
  std::optional<std::string> customer_name, unit_name;  // for the response
};

// The order just inserted as find() would read it back (the row in kCols
// order through order_row_json, NULL where insert_order_row stores NULL),
// without the read: one statement less in the serialised write.
// ClaimsApi.EveryResponseIsTheOrderAsStored compares the two.
json created_json(int64_t id, const NewOrder& n) {
  const OrderRow& o = n.row;
  auto s = [](const std::optional<std::string>& v) { return v && !v->empty() ? store::Value(*v) : store::Value(); };
  auto i = [](const std::optional<int64_t>& v) { return v ? store::Value(*v) : store::Value(); };
  auto name = [](const std::optional<std::string>& v) { return v ? store::Value(*v) : store::Value(); };
  store::Row r;
  r.cols = {id, o.number, o.type, o.channel, o.state, o.workflow_id, o.state_entered_at, i(o.customer_id),
            name(n.customer_name), o.contact_json, o.site_json, s(o.county_code), i(o.asset_id), s(o.serial),
            i(o.model_id), i(o.product_line_id), i(o.contract_id), o.warranty, o.priority, o.severity,
            s(o.reproducibility), s(o.problem_area), s(o.problem_subarea), s(o.description), s(o.summary),
            i(o.expected_at), o.org_unit_id, o.org_path, i(o.provider_unit_id), store::Value(), i(o.engineer_id),
            store::Value(), o.claim_status, o.response_due_at, o.resolve_due_at, o.sla_status, s(o.decision_json),
            o.fields_json, s(o.completion_json), s(o.satisfaction_json), i(o.completed_at), i(o.closed_at),
            i(o.created_by), o.version, o.created_at, o.updated_at, name(n.unit_name)};
  return order_row_json(r);
}

Result<NewOrder> prepare_create(Conn& c, const http::Principal* who, const json& body) {
  g_missing_fields.clear();
  if (!body.is_object()) return Error::invalid("body must be a JSON object", "body");
  Input in(body);
  std::string type = TRY(in.one_of("type", kTypes));
  std::string channel = in.has("channel") ? TRY(in.one_of("channel", kChannels)) : default_channel(who);
  std::string priority = in.has("priority") ? TRY(in.one_of("priority", kPriorities)) : std::string("medium");
  std::string severity = in.has("severity") ? TRY(in.one_of("severity", kSeverities)) : std::string("normal");
  std::optional<std::string> repro;
  if (in.has("reproducibility")) repro = TRY(in.one_of("reproducibility", kReproducibility));
  auto customer_id = TRY(in.opt_integer("customer_id", 1));
  auto serial_raw = TRY(in.opt_str("serial", 64));
  auto model_id = TRY(in.opt_integer("model_id", 1));
  auto problem_area = TRY(in.opt_str("problem_area", 60));
  auto problem_subarea = TRY(in.opt_str("problem_subarea", 60));
  auto description = TRY(in.opt_str("description", 4000));
  auto summary = TRY(in.opt_str("summary", 200));
  auto unit_override = TRY(in.opt_integer("org_unit_id", 1));
  std::optional<int64_t> expected_at;
  if (auto e = TRY(in.opt_str("expected_at", 40)); e && !e->empty()) {
    auto t = parse_iso(*e);
    if (!t) return Error::invalid("expected_at must be an ISO-8601 time", "expected_at");
    expected_at = *t;
  }
  for (const char* computed : {"state", "number", "warranty", "claim_status", "sla_status", "org_path"})
    if (in.has(computed)) return Error::invalid(std::string(computed) + " is set by the system", computed);

  json contact = json::object();
  if (in.has("contact")) {
    if (!body["contact"].is_object()) return Error::invalid("contact must be an object {name, phone}", "contact");
    Input ci(body["contact"], "contact");
    if (auto n = TRY(ci.opt_str("name", 60)); n && !n->empty()) contact["name"] = *n;
    if (auto ph = TRY(ci.opt_str("phone", 40)); ph && !ph->empty()) {
      auto norm = customers::normalize_phone(*ph);
      if (!norm) return Error::invalid("contact.phone is not a telephone number", "contact.phone");
      contact["phone"] = *ph;
      contact["phone_normalized"] = *norm;
    }
  }
  json site = json::object();
  std::optional<std::string> county;
  if (in.has("site")) {
    if (!body["site"].is_object()) return Error::invalid("site must be an object {county_code, address}", "site");
    Input si(body["site"], "site");
    if (auto a = TRY(si.opt_str("address", 200)); a && !a->empty()) site["address"] = *a;
    if (auto p = TRY(si.opt_str("postcode", 6)); p && !p->empty()) site["postcode"] = *p;
    if (auto k = TRY(si.opt_str("county_code", 6)); k && !k->empty()) {
      auto div = TRY(divisions::resolve(c, std::nullopt, std::nullopt, *k, "site"));
      county = div.county ? div.county : div.city ? div.city : div.province;
      site["county_code"] = *k;
      site["division_name"] = div.full_name;
    }
  }

  // The install base and warranty decide asset, model, contract and warranty.
  std::optional<int64_t> asset_id, product_line_id, contract_id;
  std::optional<std::string> serial;
  bool customer_checked = false;
  std::optional<std::string> customer_name;
  std::string warranty_status = "unknown";
  json decision = nullptr;
  if (serial_raw && !serial_raw->empty()) {
    serial = installbase::normalize_serial(*serial_raw);
    auto ck = TRY(warranty::check(c, *serial, warranty::today_cn()));
    if (ck.facts.known) {
      auto a = TRY(installbase::find_by_id(c, ck.facts.asset_id));
      if (a) {
        asset_id = a->id;
        if (a->model_id) model_id = a->model_id;
        product_line_id = a->product_line_id;
        if (!customer_id && a->owner_customer_id && who) {
          auto owner = customers::customer_in_scope(c, *who, *a->owner_customer_id);
          if (owner) customer_id = a->owner_customer_id, customer_checked = true, customer_name = owner->name;
        }
      }
      const auto& d = ck.decision;
      warranty_status = d.entitled ? "in" : d.status == "out_of_warranty" ? "out" : "unknown";
      if (d.contract) contract_id = d.contract->id;
      decision = json{{"status", d.status}, {"entitled", d.entitled}, {"source", d.source},
                      {"unit_end", d.unit_end ? json(d.unit_end->str()) : json(nullptr)}};
    }
  }
  if (model_id && !product_line_id) {
    auto mi = TRY(products::model_info(c, *model_id));
    if (!mi) return Error::invalid("model_id " + std::to_string(*model_id) + " is not a model", "model_id");
    product_line_id = mi->product_line_id;
  }
  if (customer_id && !customer_checked) {
    if (who) {
      auto cust = customers::customer_in_scope(c, *who, *customer_id);
      if (!cust) return Error::invalid("customer_id " + std::to_string(*customer_id) + " is not a customer you can see",
                                       "customer_id");
      customer_name = cust->name;
    } else {
      auto row = TRY(c.one("SELECT id, name FROM customers WHERE id = ?", {*customer_id}));
      if (!row) return Error::invalid("customer_id is not a customer", "customer_id");
      customer_name = row->os(1);
    }
  }

  // Required fields of the type, all named at once.
  // With the type's workflow binding in the same statement (used below).
  auto req_row = TRY(c.one("SELECT (SELECT required_fields_json FROM order_types WHERE code = ?), "
                           "(SELECT workflow_id FROM workflow_bindings WHERE order_type = ?)", {type, type}));
  std::vector<std::string> required = req_row && !req_row->null(0)
                                          ? json::parse(req_row->s(0)).get<std::vector<std::string>>()
                                          : std::vector<std::string>{};
  json have{{"customer_id", customer_id ? json(*customer_id) : json(nullptr)},
            {"contact", contact.empty() ? json(nullptr) : contact},
            {"contact.name", contact.value("name", "")},
            {"contact.phone", contact.value("phone", "")},
            {"site", site.empty() ? json(nullptr) : site},
            {"site.address", site.value("address", "")},
            {"site.county_code", site.value("county_code", "")},
            {"serial", serial.value_or("")},
            {"model_id", model_id ? json(*model_id) : json(nullptr)},
            {"problem_area", problem_area.value_or("")},
            {"problem_subarea", problem_subarea.value_or("")},
            {"description", description.value_or("")},
            {"summary", summary.value_or("")},
            {"expected_at", expected_at ? json(*expected_at) : json(nullptr)},
            {"reproducibility", repro.value_or("")}};
  std::vector<std::string> missing;
  for (const auto& f : required) {
    const json& v = have.contains(f) ? have[f] : json(nullptr);
    if (v.is_null() || (v.is_string() && v.get<std::string>().empty())) missing.push_back(f);
  }
  if (!missing.empty()) {
    g_missing_fields = missing;
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return Error::invalid("a " + type + " order needs: " + list, missing.front());
  }

  std::pair<int64_t, std::string> unit;
  if (unit_override) {
    if (!who) return Error::invalid("org_unit_id needs a user", "org_unit_id");
    auto u = org::unit_in_scope(c, *who, *unit_override);
    if (!u) return Error::invalid("org_unit_id " + std::to_string(*unit_override) + " is not an org unit you manage",
                                  "org_unit_id");
    unit = {u->id, u->path};
  } else {
    unit = TRY(responsible_unit(c, who, county));
  }

  if (!req_row || req_row->null(1)) return Error::invalid("no workflow is configured for order type " + type, "type");
  int64_t wf_id = req_row->i(1);
  NewOrder n;
  n.def = TRY(workflow_by_id(c, wf_id));
  n.customer_name = std::move(customer_name);
  if (auto u = TRY(c.one("SELECT name FROM org_units WHERE id = ?", {unit.first}))) n.unit_name = u->os(0);
  OrderRow& o = n.row;
  o.type = type, o.channel = channel, o.state = n.def->initial, o.workflow_id = wf_id;
  o.customer_id = customer_id, o.contact_json = contact.dump(), o.site_json = site.dump(), o.county_code = county;
  o.asset_id = asset_id, o.serial = serial, o.model_id = model_id, o.product_line_id = product_line_id;
  o.contract_id = contract_id, o.warranty = warranty_status, o.priority = priority, o.severity = severity;
  o.reproducibility = repro, o.problem_area = problem_area, o.problem_subarea = problem_subarea;
  o.description = description, o.summary = summary, o.expected_at = expected_at;
  o.org_unit_id = unit.first, o.org_path = unit.second;
  if (!decision.is_null()) o.decision_json = decision.dump();
  if (who) o.created_by = who->user_id;
  return n;
}

Result<json> insert_created(api::WriteTx& tx, NewOrder n) {
  Conn& c = tx.db;
  OrderRow& o = n.row;
  int64_t now = now_ms();
  o.number = TRY(next_number(c, now));
  o.state_entered_at = o.created_at = o.updated_at = now;
  int64_t id = TRY(insert_order_row(c, o));
  TimelineRow tl;
  tl.order_id = id, tl.org_path = o.org_path, tl.at = now, tl.action = "create", tl.to_state = n.def->initial;
  TRY_VOID(insert_timeline_row(c, tl.by(tx.who())));
  json order = created_json(id, n);
  TRY_VOID(tx.audit("service_order", id, "create", nullptr, order, o.org_path));
  // Handlers (SLA, claims) fill fields: they keep `order` current.
  json ev = order;
  TRY_VOID(emit_holding(tx, "order.created", id, ev, order));
  return order;
}

}  // namespace

Result<json> create(api::WriteTx& tx, const json& body) {
  auto n = TRY(prepare_create(tx.db, tx.who(), body));
  return insert_created(tx, std::move(n));
}

Result<std::optional<json>> find(Conn& c, int64_t order_id) {
  auto row = TRY(c.one(order_select() + " WHERE o.id = ?", {order_id}));
  if (!row) return std::optional<json>();
  return std::optional<json>(order_row_json(*row));
}

// ---- transitions ------------------------------------------------------------------

Result<json> transition(api::WriteTx& tx, int64_t order_id, std::string_view action, const json& fields,
                        std::string_view remark) {
  g_allowed_actions.clear();
  Conn& c = tx.db;
  const http::Principal* who = tx.who();
  TRY_VOID(lock_order(c, order_id));
  json before = TRY(current_order(c, order_id));
  auto def = TRY(workflow_by_id(c, before["workflow_id"].get<int64_t>()));
  std::string from = before["state"];
  const wf::Transition* t = wf::find_transition(*def, from, action);
  if (!t) {
    std::string list;
    for (const auto* a : wf::allowed(*def, from)) {
      g_allowed_actions.push_back(a->action);
      list += (list.empty() ? "" : ", ") + a->action;
    }
    return Error::conflict("action " + std::string(action) + " is not allowed in state " + from +
                               (list.empty() ? std::string("; no action is possible") : "; allowed: " + list),
                           "action");
  }
  if (who && !who->can(t->permission))
    return Error::forbidden("permission " + t->permission + " required for " + t->action);
  if (!fields.is_object()) return Error::invalid("fields must be an object", "fields");
  if (fields.size() > 50) return Error::invalid("fields has more than 50 entries", "fields");
  json merged = before["fields"].is_object() ? before["fields"] : json::object();
  for (auto& [k, v] : fields.items()) {
    if (k.empty() || k.size() > 40) return Error::invalid("fields names are 1..40 characters", "fields");
    // Workflow fields are free data; they cannot stand in for what the order,
    // its completion or its revisit record (e.g. a provider_unit_id without
    // an assignment, a fault code without the dictionary).
    static const std::vector<std::string> kOwn = {"fault_code", "fault_code_id", "fault_code_name", "symptom_code",
                                                  "symptom_name", "resolution", "failed_component", "first_time_fix",
                                                  "satisfaction"};
    if (before.contains(k) || std::find(kOwn.begin(), kOwn.end(), k) != kOwn.end())
      return Error::invalid("fields." + k + " is recorded by its own endpoint, not as a workflow field", "fields." + k);
    if (v.is_string() && v.get<std::string>().size() > 2000)
      return Error::invalid("fields." + k + " is longer than 2000 characters", "fields." + k);
    if (v.is_structured() && v.dump().size() > 4000) return Error::invalid("fields." + k + " is too large", "fields." + k);
    merged[k] = v;
  }
  json f = facts(before);
  for (auto& [k, v] : merged.items()) f[k] = v;
  const wf::State* to = wf::find_state(*def, t->to);
  if (to) {
    auto missing = wf::missing_fields(*to, f);
    if (!missing.empty()) {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      return Error::invalid("state " + t->to + " needs: " + list, "fields." + missing.front());
    }
  }
  int64_t now = now_ms();
  Holds::stale(order_id);
  std::string sql = "UPDATE service_orders SET state = ?, state_entered_at = ?, fields_json = ?, version = version + 1, "
                    "updated_at = ?";
  if (t->to == "completed") sql += ", completed_at = " + std::to_string(now);
  if (to && to->final) sql += ", closed_at = " + std::to_string(now);
  if (t->to == "reopened") sql += ", closed_at = NULL, completed_at = NULL";
  sql += " WHERE id = ? AND version = ?";
  auto n = TRY(c.exec(sql, {t->to, now, merged.dump(), now, order_id, before["version"].get<int64_t>()}));
  if (n == 0) return Error::conflict("service order " + std::to_string(order_id) + " was changed meanwhile", "version");
  TimelineRow tl;
  tl.order_id = order_id, tl.org_path = before["org_path"].get<std::string>(), tl.at = now, tl.action = t->action;
  tl.from_state = from, tl.to_state = t->to;
  if (!remark.empty()) tl.remark = std::string(remark);
  if (!fields.empty()) tl.detail_json = fields.dump();
  TRY_VOID(insert_timeline_row(c, tl.by(who)));
  // The order after the UPDATE above, without reading it again.
  json after = before;
  after["state"] = t->to;
  after["state_entered_at"] = after["updated_at"] = iso_utc(now);
  after["fields"] = std::move(merged);
  after["version"] = before["version"].get<int64_t>() + 1;
  if (t->to == "completed") after["completed_at"] = iso_utc(now);
  if (to && to->final) after["closed_at"] = iso_utc(now);
  if (t->to == "reopened") after["closed_at"] = after["completed_at"] = nullptr;
  TRY_VOID(tx.audit("service_order", order_id, "transition:" + t->action,
                    json{{"state", from}, {"version", before["version"]}},
                    json{{"state", t->to}, {"version", after["version"]}, {"fields", fields}},
                    after["org_path"].get<std::string>()));
  json ev = after;
  ev["from"] = from;
  ev["to"] = t->to;
  ev["action"] = t->action;
  TRY_VOID(emit_holding(tx, "order.transition", order_id, ev, after));
  Holds::replace(order_id, after);
  return after;
}

Result<json> assign(api::WriteTx& tx, int64_t order_id, int64_t provider_unit_id, int64_t engineer_user_id,
                    const json& decision, const json* current) {
  Conn& c = tx.db;
  TRY_VOID(lock_order(c, order_id));
  json before;
  // PostgreSQL: the caller read it before this lock, another server may have
  // changed it since; SQLite has one writer.
  if (current && (*current)["id"] == order_id && c.dialect() == store::Dialect::sqlite) before = *current;
  else before = TRY(current_order(c, order_id));
  auto unit = TRY(c.one("SELECT id, path, type, active, name FROM org_units WHERE id = ?", {provider_unit_id}));
  if (!unit || unit->i(3) == 0 || (unit->s(2) != "provider" && unit->s(2) != "branch"))
    return Error::invalid("provider_unit_id " + std::to_string(provider_unit_id) + " is not an active provider",
                          "provider_unit_id");
  json engineer_name = nullptr;
  if (engineer_user_id) {
    auto eng = TRY(c.one("SELECT id, display_name FROM users WHERE id = ? AND org_unit_id = ? AND active = 1",
                         {engineer_user_id, provider_unit_id}));
    if (!eng) return Error::invalid("engineer_id " + std::to_string(engineer_user_id) + " is not an engineer of the provider",
                                    "engineer_id");
    engineer_name = eng->null(1) ? json(nullptr) : json(eng->s(1));
  }
  auto def = TRY(workflow_by_id(c, before["workflow_id"].get<int64_t>()));
  std::string state = before["state"];
  const wf::State* st = wf::find_state(*def, state);
  if (st && st->final) return Error::conflict("service order is " + state + " and cannot be assigned", "state");
  int64_t now = now_ms();
  Holds::stale(order_id);
  TRY(c.exec("UPDATE service_orders SET provider_unit_id = ?, engineer_id = ?, org_unit_id = ?, org_path = ?, "
             "decision_json = ?, version = version + 1, updated_at = ? WHERE id = ?",
             {provider_unit_id, engineer_user_id ? store::Value(engineer_user_id) : store::Value(), provider_unit_id,
              unit->s(1), decision.is_null() ? before["decision"].dump() : decision.dump(), now, order_id}));
  // Children follow the order's scope. Every order has a timeline; the other
  // tables are mostly empty for an order being dispatched, so one probe says
  // which of them need the UPDATE (auto-dispatch hot path).
  TRY(c.exec("UPDATE order_timeline SET org_path = ? WHERE order_id = ?", {unit->s(1), order_id}));
  static constexpr const char* kChildren[] = {"order_tasks", "order_notes", "order_attachments", "order_charges",
                                              "order_maintenance"};
  static const std::string kProbe = [] {
    std::string q = "SELECT ";
    for (const char* t : kChildren)
      q += std::string(q.size() > 7 ? ", " : "") + "CASE WHEN EXISTS (SELECT 1 FROM " + t + " WHERE order_id = ?) THEN 1 ELSE 0 END";
    return q;
  }();
  auto has = TRY(c.one(kProbe, {order_id, order_id, order_id, order_id, order_id}));
  for (size_t k = 0; k < std::size(kChildren); ++k)
    if (has->i(k) != 0)
      TRY(c.exec(std::string("UPDATE ") + kChildren[k] + " SET org_path = ? WHERE order_id = ?", {unit->s(1), order_id}));
  json detail{{"provider_unit_id", provider_unit_id},
              {"engineer_id", engineer_user_id ? json(engineer_user_id) : json(nullptr)},
              {"previous_provider_unit_id", before["provider_unit_id"]},
              {"decision", decision}};
  // The order after the UPDATE above, without reading it again; held while
  // the dispatch transition or the reactions write it.
  json mid = before;
  mid["provider_unit_id"] = mid["org_unit_id"] = provider_unit_id;
  mid["provider_name"] = mid["org_unit_name"] = unit->null(4) ? json(nullptr) : json(unit->s(4));
  mid["engineer_id"] = engineer_user_id ? json(engineer_user_id) : json(nullptr);
  mid["engineer_name"] = std::move(engineer_name);
  mid["org_path"] = unit->s(1);
  if (!decision.is_null()) mid["decision"] = decision;
  mid["version"] = before["version"].get<int64_t>() + 1;
  mid["updated_at"] = iso_utc(now);
  HoldOrder held(order_id, mid);
  TRY_VOID(add_timeline(tx, order_id, before["provider_unit_id"].is_null() ? "assign" : "reassign", detail));
  TRY_VOID(tx.audit("service_order", order_id, "assign",
                    json{{"provider_unit_id", before["provider_unit_id"]}, {"engineer_id", before["engineer_id"]},
                         {"org_path", before["org_path"]}},
                    json{{"provider_unit_id", provider_unit_id}, {"engineer_id", mid["engineer_id"]},
                         {"org_path", mid["org_path"]}},
                    unit->s(1)));
  if (wf::find_transition(*def, state, "dispatch")) return transition(tx, order_id, "dispatch");
  json ev = mid;
  TRY_VOID(emit_holding(tx, "order.updated", order_id, ev, mid));
  Holds::replace(order_id, mid);  // held copies outside this one
  return mid;
}

namespace {
// A text column of the order and its org_path, from a held copy when there is one.
Result<std::optional<std::pair<std::string, std::string>>> order_text(Conn& c, int64_t id, const std::string& col) {
  using Out = std::optional<std::pair<std::string, std::string>>;
  if (const json* h = Holds::current(id)) return Out(std::make_pair((*h)[col].get<std::string>(), (*h)["org_path"].get<std::string>()));
  auto row = TRY(c.one("SELECT " + col + ", org_path FROM service_orders WHERE id = ?", {id}));
  if (!row) return Out();
  return Out(std::make_pair(row->s(0), row->s(1)));
}
json jtime_ms(int64_t ms) { return ms ? json(iso_utc(ms)) : json(nullptr); }
}  // namespace

Result<void> set_sla(api::WriteTx& tx, int64_t order_id, const SlaFields& sla) {
  static const std::vector<std::string> kStatus = {"ok", "warning", "breached", "paused", "met"};
  if (std::find(kStatus.begin(), kStatus.end(), sla.status) == kStatus.end())
    return Error::invalid("sla status " + sla.status + " is not one of ok, warning, breached, paused, met", "sla_status");
  auto row = TRY(order_text(tx.db, order_id, "sla_status"));
  if (!row) return api::not_found("service order", order_id);
  auto [was, org_path] = std::move(*row);
  TRY(tx.db.exec("UPDATE service_orders SET response_due_at = ?, resolve_due_at = ?, sla_status = ? WHERE id = ?",
                 {sla.response_due_at, sla.resolve_due_at, sla.status, order_id}));
  Holds::patch(order_id, [&](json& o) {
    o["response_due_at"] = jtime_ms(sla.response_due_at);
    o["resolve_due_at"] = jtime_ms(sla.resolve_due_at);
    o["sla_status"] = sla.status;
  });
  // Due times move on every transition; the audit trail records status changes.
  if (was != sla.status)
    TRY_VOID(tx.audit("service_order", order_id, "sla", json{{"sla_status", was}},
                      json{{"sla_status", sla.status}, {"response_due_at", jtime_ms(sla.response_due_at)},
                           {"resolve_due_at", jtime_ms(sla.resolve_due_at)}},
                      org_path));
  return {};
}

Result<void> set_claim_status(api::WriteTx& tx, int64_t order_id, std::string_view status) {
  static const std::vector<std::string> kStatus = {"none", "passed", "flagged", "approved", "rejected"};
  if (std::find(kStatus.begin(), kStatus.end(), status) == kStatus.end())
    return Error::invalid("claim status " + std::string(status) + " is not valid", "claim_status");
  auto row = TRY(order_text(tx.db, order_id, "claim_status"));
  if (!row) return api::not_found("service order", order_id);
  auto [was, org_path] = std::move(*row);
  if (was == status) return {};
  int64_t now = now_ms();
  TRY(tx.db.exec("UPDATE service_orders SET claim_status = ?, updated_at = ? WHERE id = ?",
                 {std::string(status), now, order_id}));
  Holds::patch(order_id, [&](json& o) {
    o["claim_status"] = status;
    o["updated_at"] = iso_utc(now);
  });
  TRY_VOID(tx.audit("service_order", order_id, "claim_status", json{{"claim_status", was}},
                    json{{"claim_status", status}}, org_path));
  return {};
}

Result<void> add_timeline(api::WriteTx& tx, int64_t order_id, std::string_view kind, const json& detail) {
  if (kind.empty() || kind.size() > 60) return Error::invalid("timeline kind must be 1..60 characters", "kind");
  auto row = TRY(order_text(tx.db, order_id, "org_path"));
  if (!row) return api::not_found("service order", order_id);
  TimelineRow tl;
  tl.order_id = order_id, tl.org_path = row->second, tl.at = now_ms(), tl.kind = std::string(kind);
  if (!detail.is_null()) tl.detail_json = detail.dump();
  return insert_timeline_row(tx.db, tl.by(tx.who()));
}

// ---- timers -----------------------------------------------------------------------

void detail::run_timers(api::Platform& p) {
  struct Due { int64_t order_id; std::string action; };
  auto due = p.db.read_as([&](Conn& c) -> Result<std::vector<Due>> {
    std::vector<Due> out;
    auto wfs = TRY(c.query("SELECT DISTINCT s.workflow_id FROM workflow_states s WHERE s.timer_minutes > 0"));
    int64_t now = now_ms();
    for (const auto& w : wfs) {
      auto def = TRY(workflow_by_id(c, w.i(0)));
      for (const auto& st : def->states) {
        if (!st.timer_minutes) continue;
        auto rows = TRY(c.query("SELECT id FROM service_orders WHERE workflow_id = ? AND state = ? AND "
                                "state_entered_at <= ? ORDER BY state_entered_at LIMIT 200",
                                {w.i(0), st.code, now - st.timer_minutes * 60'000}));
        for (const auto& r : rows) out.push_back({r.i(0), st.timer_action});
      }
    }
    return out;
  });
  if (!due) {
    spdlog::warn("orders timers: {}", due.error().message);
    return;
  }
  for (const auto& d : *due) {
    if (p.scheduler && p.scheduler->stopping()) return;
    // Another server may have moved the order first: then the action is
    // illegal in its new state (conflict) and nothing happens.
    auto r = api::write_as(p, nullptr, [&](api::WriteTx& tx) -> Result<json> {
      auto o = TRY(find(tx.db, d.order_id));
      if (!o) return json(nullptr);
      HoldOrder held(d.order_id, *o);
      TRY(transition(tx, d.order_id, d.action, json::object(), "timer"));
      return json(true);
    });
    if (!r && r.error().code != Error::Code::conflict)
      spdlog::warn("orders timer on order {}: {}", d.order_id, r.error().message);
  }
}

namespace {
// The customers module's 360 view and screen pop list a customer's orders
// through this provider (installed in wire(); customers never includes us).
// Same scope as visible().
Result<customers::CustomerOrders> orders_of_customer(Conn& c, const http::Principal& who, int64_t customer_id,
                                                     bool open_only, size_t limit) {
  std::string where = " WHERE o.customer_id = ? AND ";
  store::Params args{customer_id};
  append_scope(who, where, args);
  customers::CustomerOrders out;
  auto n = TRY(c.one("SELECT COUNT(*) FROM service_orders o" + where + " AND o.closed_at IS NULL", args));
  out.open_count = n ? n->i(0) : 0;
  if (open_only) where += " AND o.closed_at IS NULL";
  args.emplace_back(static_cast<int64_t>(limit));
  auto rows = TRY(c.query(order_select() + where + " ORDER BY o.id DESC LIMIT ?", args));
  for (const auto& r : rows) {
    json o = order_row_json(r);
    if (who.org_path.empty() || !visible(who, o)) continue;
    auto def = TRY(workflow_by_id(c, o["workflow_id"].get<int64_t>()));
    const wf::State* st = wf::find_state(*def, o["state"].get<std::string>());
    out.items.push_back(json{{"id", o["id"]}, {"number", o["number"]}, {"type", o["type"]}, {"state", o["state"]},
                             {"state_name", st ? json(st->name) : json(o["state"])},
                             {"state_name_en", st ? json(st->name_en) : json(o["state"])},
                             {"open", o["closed_at"].is_null()}, {"priority", o["priority"]},
                             {"serial", o["serial"]}, {"summary", o["summary"]}, {"problem_area", o["problem_area"]},
                             {"warranty", o["warranty"]}, {"provider_name", o["provider_name"]},
                             {"engineer_name", o["engineer_name"]}, {"sla_status", o["sla_status"]},
                             {"response_due_at", o["response_due_at"]}, {"resolve_due_at", o["resolve_due_at"]},
                             {"created_at", o["created_at"]}, {"closed_at", o["closed_at"]}});
  }
  return out;
}
}  // namespace

api::Module module() {
  api::Module m;
  m.name = "orders";
  m.migrations = detail::migrations();
  m.migrations.push_back(detail::sales_order_migration());
  m.wire = [](api::Platform& p) {
    g_bus = p.bus;
    customers::set_orders_of_customer(orders_of_customer);
    auto r = ensure_default_workflows(p.db);
    if (!r) spdlog::error("orders: loading default workflows failed: {}", r.error().message);
  };
  m.routes = [](http::Router& r, api::Platform& p) {
    detail::routes(r, p);
    detail::workflow_routes(r, p);
    detail::sales_order_routes(r, p);
  };
  m.start = [](api::Platform& p) {
    if (!p.scheduler) return;
    p.scheduler->every("orders.timers", std::chrono::seconds(30), [&p] { detail::run_timers(p); });
  };
  return m;
}

}  // namespace shouhou::orders
