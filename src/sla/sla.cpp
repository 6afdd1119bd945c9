#include "sla/sla.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#include <spdlog/spdlog.h>

#include "api/background.h"
#include "contracts/contracts.h"
#include "core/input.h"
#include "core/util.h"
#include "customers/customers.h"
#include "orders/orders.h"

namespace shouhou::sla {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

// ---- pure parts ----------------------------------------------------------------

const PolicyRow* pick_policy(const std::vector<PolicyRow>& policies, const std::string& order_type,
                             const std::string& tier) {
  const PolicyRow* best = nullptr;
  int best_score = -1;
  for (const auto& p : policies) {
    if (!p.active) continue;
    if (p.order_type && *p.order_type != order_type) continue;
    if (p.customer_tier && *p.customer_tier != tier) continue;
    int score = (p.customer_tier ? 2 : 0) + (p.order_type ? 1 : 0);
    if (score > best_score || (score == best_score && p.id < best->id)) {
      best = &p;
      best_score = score;
    }
  }
  return best;
}

Evaluation evaluate(const Calendar& cal, const Targets& t, int warn_pct, int64_t now) {
  Evaluation e;
  const Clock& clock = t.clock;
  auto one = [&](int64_t minutes, int64_t reached_at, int64_t& due, int64_t& warn, int64_t& remaining, bool& done,
                 bool& breached, bool& warning) {
    due = due_at(cal, clock, minutes, now).value_or(0);
    warn = due_at(cal, clock, minutes * warn_pct / 100, now).value_or(0);
    int64_t cutoff = reached_at ? reached_at : (t.stopped_at ? t.stopped_at : now);
    done = reached_at != 0 || t.stopped_at != 0;
    remaining = remaining_minutes(cal, clock, minutes, cutoff);
    if (done)
      breached = due && cutoff > due;
    else
      breached = elapsed_ms(cal, clock, now) >= minutes * kMinuteMs;
    warning = !done && !breached && warn && now >= warn && !clock.paused();
  };
  one(t.response_minutes, t.first_response_at, e.response_due_at, e.response_warn_at, e.response_remaining,
      e.response_done, e.response_breached, e.response_warning);
  one(t.resolve_minutes, t.resolved_at, e.resolve_due_at, e.resolve_warn_at, e.resolve_remaining, e.resolve_done,
      e.resolve_breached, e.resolve_warning);
  if (e.response_breached || e.resolve_breached)
    e.status = "breached";
  else if (t.resolved_at)
    e.status = "met";
  else if (clock.paused())
    e.status = "paused";
  else if (e.response_warning || e.resolve_warning)
    e.status = "warning";
  else
    e.status = "ok";
  if (!clock.paused() && !t.stopped_at) {
    auto consider = [&](bool done, int64_t warn, int64_t due) {
      if (done) return;
      for (int64_t at : {warn, due})
        if (at && at > now && (!e.next_check_at || at < e.next_check_at)) e.next_check_at = at;
    };
    consider(e.response_done, e.response_warn_at, e.response_due_at);
    consider(e.resolve_done, e.resolve_warn_at, e.resolve_due_at);
  }
  return e;
}

namespace {

const std::vector<std::string> kOrderTypes = {"installation", "delivery", "repair", "return_exchange", "maintenance",
                                              "inspection", "startup", "complaint", "consultation"};
const std::vector<std::string> kTiers = {"vip", "key", "small"};

// ---- settings --------------------------------------------------------------------

struct Settings {
  std::vector<std::string> paused_states{"waiting_customer", "parts_waiting"};
  std::vector<std::string> response_states{"accepted", "on_site", "completed", "revisited", "closed"};
  std::vector<std::string> resolve_states{"completed", "revisited", "closed"};
  std::vector<std::string> stop_states{"cancelled"};
  int warn_pct = 80;
  bool escalate = true;
  int64_t version = 1;
  int64_t updated_at = 0;
};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> str_list(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& x : j)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

Result<Settings> read_settings(Conn& c) {
  Settings s;
  auto row = TRY(c.one(
      "SELECT paused_states, response_states, resolve_states, stop_states, warn_pct, escalate, version, updated_at "
      "FROM sla_settings WHERE id = 1"));
  if (!row) return s;
  s.paused_states = str_list(row->s(0));
  s.response_states = str_list(row->s(1));
  s.resolve_states = str_list(row->s(2));
  s.stop_states = str_list(row->s(3));
  s.warn_pct = static_cast<int>(row->i(4));
  s.escalate = row->i(5) != 0;
  s.version = row->i(6);
  s.updated_at = row->i(7);
  return s;
}

json settings_json(const Settings& s) {
  return json{{"paused_states", s.paused_states}, {"response_states", s.response_states},
              {"resolve_states", s.resolve_states}, {"stop_states", s.stop_states},
              {"warn_pct", s.warn_pct}, {"escalate", s.escalate}, {"version", s.version},
              {"updated_at", s.updated_at ? json(iso_utc(s.updated_at)) : json(nullptr)}};
}

// ---- calendars -------------------------------------------------------------------

struct CalendarRec {
  int64_t id = 0;
  std::string name;
  Calendar cal;
  int64_t version = 1;
  int64_t updated_at = 0;
};

std::string hhmm(int minutes) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}

std::optional<int> parse_hhmm(const std::string& s) {
  if (s.size() != 5 || s[2] != ':' || !isdigit(s[0]) || !isdigit(s[1]) || !isdigit(s[3]) || !isdigit(s[4]))
    return std::nullopt;
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

constexpr const char* kCalSelect =
    "SELECT id, code, name, always_on, work_start, work_end, use_china_days, days_json, version, updated_at "
    "FROM sla_calendars";

CalendarRec calendar_from_row(const store::Row& r) {
  CalendarRec k;
  k.id = r.i(0);
  k.cal.code = r.s(1);
  k.name = r.s(2);
  k.cal.always = r.i(3) != 0;
  k.cal.work_start_min = static_cast<int>(r.i(4));
  k.cal.work_end_min = static_cast<int>(r.i(5));
  k.cal.use_china_days = r.i(6) != 0;
  json days = json::parse(r.s(7), nullptr, false);
  if (days.is_object())
    for (auto& [d, kind] : days.items())
      if (auto day = parse_day(d); day && kind.is_string())
        k.cal.overrides[*day] = kind.get<std::string>() == "workday" ? DayKind::workday : DayKind::holiday;
  k.version = r.i(8);
  k.updated_at = r.i(9);
  return k;
}

json calendar_json(const CalendarRec& k) {
  json days = json::object();
  for (auto& [d, kind] : k.cal.overrides) days[day_str(d)] = kind == DayKind::workday ? "workday" : "holiday";
  return json{{"id", k.id}, {"code", k.cal.code}, {"name", k.name}, {"mode", k.cal.always ? "7x24" : "8x5"},
              {"work_start", hhmm(k.cal.work_start_min)}, {"work_end", hhmm(k.cal.work_end_min)},
              {"use_china_days", k.cal.use_china_days}, {"days", days}, {"version", k.version},
              {"updated_at", iso_utc(k.updated_at)}};
}


// ---- policies --------------------------------------------------------------------

struct PolicyRec {
  PolicyRow p;
  std::string name, org_path;
  int64_t version = 1, created_at = 0, updated_at = 0;
};

constexpr const char* kPolSelect =
    "SELECT id, name, order_type, customer_tier, calendar_code, response_minutes, resolve_minutes, active, org_path, "
    "version, created_at, updated_at FROM sla_policies";

PolicyRec policy_from_row(const store::Row& r) {
  PolicyRec k;
  k.p.id = r.i(0);
  k.name = r.s(1);
  k.p.order_type = r.os(2);
  k.p.customer_tier = r.os(3);
  k.p.calendar_code = r.s(4);
  k.p.response_minutes = r.i(5);
  k.p.resolve_minutes = r.i(6);
  k.p.active = r.i(7) != 0;
  k.org_path = r.s(8);
  k.version = r.i(9);
  k.created_at = r.i(10);
  k.updated_at = r.i(11);
  return k;
}

json policy_json(const PolicyRec& k) {
  return json{{"id", k.p.id}, {"name", k.name},
              {"order_type", k.p.order_type ? json(*k.p.order_type) : json(nullptr)},
              {"customer_tier", k.p.customer_tier ? json(*k.p.customer_tier) : json(nullptr)},
              {"calendar_code", k.p.calendar_code}, {"response_minutes", k.p.response_minutes},
              {"resolve_minutes", k.p.resolve_minutes}, {"active", k.p.active}, {"version", k.version},
              {"created_at", iso_utc(k.created_at)}, {"updated_at", iso_utc(k.updated_at)}};
}

Result<std::vector<PolicyRec>> read_policies(Conn& c) {
  auto rows = TRY(c.query(std::string(kPolSelect) + " ORDER BY id"));
  std::vector<PolicyRec> out;
  for (const auto& r : rows) out.push_back(policy_from_row(r));
  return out;
}

// ---- configuration cache -----------------------------------------------------------
// Settings, policies and calendars are read on every order event and change
// only by an admin's edit, so they are cached. Each use first reads a stamp
// of the three tables in one statement (instead of three reads and their JSON
// parsing): every edit bumps a row's version and updated_at or adds a row
// (none is ever deleted), so the stamp moves with any edit, made by this
// process or by another server on the same PostgreSQL database, and within
// the editing transaction itself.
struct Config {
  std::vector<int64_t> stamp;
  Settings settings;
  std::vector<PolicyRec> policies;
  std::map<std::string, Calendar> calendars;
};

std::mutex g_config_mu;
std::shared_ptr<const Config> g_config[2];  // by dialect
// An order event's handler reads the stamp once (PinConfig) for all of its reads.
thread_local std::shared_ptr<const Config> g_pinned;

Result<std::shared_ptr<const Config>> config(Conn& c) {
  if (g_pinned) return g_pinned;
  auto row = TRY(c.one(
      "SELECT (SELECT version FROM sla_settings WHERE id = 1), (SELECT updated_at FROM sla_settings WHERE id = 1), "
      "(SELECT COUNT(*) FROM sla_policies), (SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM sla_policies), "
      "(SELECT CAST(COALESCE(SUM(updated_at), 0) AS BIGINT) FROM sla_policies), (SELECT COUNT(*) FROM sla_calendars), "
      "(SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM sla_calendars), "
      "(SELECT CAST(COALESCE(SUM(updated_at), 0) AS BIGINT) FROM sla_calendars)"));
  std::vector<int64_t> stamp;
  for (size_t i = 0; i < 8; ++i) stamp.push_back(row && !row->null(i) ? row->i(i) : -1);
  size_t slot = c.dialect() == store::Dialect::sqlite ? 0 : 1;
  {
    std::lock_guard lk(g_config_mu);
    if (g_config[slot] && g_config[slot]->stamp == stamp) return g_config[slot];
  }
  auto cfg = std::make_shared<Config>();
  cfg->stamp = std::move(stamp);
  cfg->settings = TRY(read_settings(c));
  cfg->policies = TRY(read_policies(c));
  auto cals = TRY(c.query(kCalSelect));
  for (const auto& r : cals) {
    CalendarRec k = calendar_from_row(r);
    cfg->calendars.emplace(k.cal.code, std::move(k.cal));
  }
  std::shared_ptr<const Config> out = cfg;
  std::lock_guard lk(g_config_mu);
  g_config[slot] = out;
  return out;
}

// Within an order event's handler: one stamp read for all its configuration reads.
struct PinConfig {
  explicit PinConfig(std::shared_ptr<const Config> c) { if (!g_pinned) g_pinned = std::move(c), owner = true; }
  ~PinConfig() { if (owner) g_pinned.reset(); }
  PinConfig(const PinConfig&) = delete;
  PinConfig& operator=(const PinConfig&) = delete;
  bool owner = false;
};

Result<Settings> load_settings(Conn& c) { return TRY(config(c))->settings; }

Result<std::vector<PolicyRec>> load_policies(Conn& c) { return TRY(config(c))->policies; }

Result<Calendar> load_calendar(Conn& c, const std::string& code) {
  auto cfg = TRY(config(c));
  auto it = cfg->calendars.find(code);
  if (it != cfg->calendars.end()) return it->second;
  return code == "8x5" ? Calendar::office_hours() : Calendar::round_the_clock();
}

// Where an order's targets come from.
struct Terms {
  std::string source;  // contract | policy | default
  int64_t policy_id = 0;
  int64_t contract_id = 0;
  std::string calendar_code = "7x24";
  int64_t response_minutes = 120, resolve_minutes = 240;
  std::string tier;
};

int64_t jint(const json& j, const char* k) { return j.contains(k) && j[k].is_number_integer() ? j[k].get<int64_t>() : 0; }
std::string jstr(const json& j, const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; }

Result<Terms> terms_for(Conn& c, const json& order, int64_t now) {
  Terms t;
  int64_t customer_id = jint(order, "customer_id");
  int64_t contract_id = jint(order, "contract_id");
  if (customer_id) {
    auto ref = TRY(customers::find_ref(c, customer_id));
    if (ref) t.tier = ref->tier;
  }
  if (contract_id && customer_id) {
    auto list = TRY(contracts::contracts_of_customers(c, {customer_id}));
    std::string today = day_str(local_day_of(now));
    for (const auto& k : list)
      if (k.id == contract_id && k.status == "active" && k.start_date <= today && today <= k.end_date) {
        t.source = "contract";
        t.contract_id = k.id;
        t.calendar_code = k.response_mode;
        t.response_minutes = k.response_hours * 60;
        t.resolve_minutes = k.onsite_hours * 60;
        return t;
      }
  }
  auto policies = TRY(load_policies(c));
  std::vector<PolicyRow> rows;
  for (auto& p : policies) rows.push_back(p.p);
  if (const PolicyRow* p = pick_policy(rows, jstr(order, "type"), t.tier)) {
    t.source = "policy";
    t.policy_id = p->id;
    t.calendar_code = p->calendar_code;
    t.response_minutes = p->response_minutes;
    t.resolve_minutes = p->resolve_minutes;
    return t;
  }
  t.source = "default";
  return t;
}

// ---- clocks ----------------------------------------------------------------------

struct ClockRec {
  int64_t order_id = 0;
  std::string org_path, order_type;
  int64_t customer_id = 0, contract_id = 0;
  std::string source, tier;
  int64_t policy_id = 0;
  std::string calendar_code;
  Targets t;
  int64_t response_warned_at = 0, resolve_warned_at = 0, response_breached_at = 0, resolve_breached_at = 0,
          escalated_at = 0, next_check_at = 0;
  std::string status;
  int64_t version = 1, created_at = 0, updated_at = 0;
};

constexpr const char* kClockSelect =
    "SELECT order_id, org_path, order_type, customer_id, contract_id, source, tier, policy_id, calendar_code, "
    "response_minutes, resolve_minutes, started_at, pauses_json, first_response_at, resolved_at, stopped_at, "
    "response_warned_at, resolve_warned_at, response_breached_at, resolve_breached_at, escalated_at, next_check_at, "
    "status, version, created_at, updated_at FROM sla_clocks";

ClockRec clock_from_row(const store::Row& r) {
  ClockRec k;
  k.order_id = r.i(0);
  k.org_path = r.s(1);
  k.order_type = r.s(2);
  k.customer_id = r.i(3);
  k.contract_id = r.i(4);
  k.source = r.s(5);
  k.tier = r.s(6);
  k.policy_id = r.i(7);
  k.calendar_code = r.s(8);
  k.t.response_minutes = r.i(9);
  k.t.resolve_minutes = r.i(10);
  k.t.started_at = r.i(11);
  k.t.clock.started_at = k.t.started_at;
  json pauses = json::parse(r.s(12), nullptr, false);
  if (pauses.is_array())
    for (auto& p : pauses)
      if (p.is_array() && p.size() == 2) k.t.clock.pauses.push_back({p[0].get<int64_t>(), p[1].get<int64_t>()});
  k.t.first_response_at = r.i(13);
  k.t.resolved_at = r.i(14);
  k.t.stopped_at = r.i(15);
  k.response_warned_at = r.i(16);
  k.resolve_warned_at = r.i(17);
  k.response_breached_at = r.i(18);
  k.resolve_breached_at = r.i(19);
  k.escalated_at = r.i(20);
  k.next_check_at = r.i(21);
  k.status = r.s(22);
  k.version = r.i(23);
  k.created_at = r.i(24);
  k.updated_at = r.i(25);
  return k;
}

std::string pauses_text(const Clock& c) {
  json a = json::array();
  for (auto& p : c.pauses) a.push_back(json::array({p.from, p.to}));
  return a.dump();
}

Result<std::optional<ClockRec>> load_clock(Conn& c, int64_t order_id) {
  auto row = TRY(c.one(std::string(kClockSelect) + " WHERE order_id = ?", {order_id}));
  if (!row) return std::optional<ClockRec>();
  return std::optional<ClockRec>(clock_from_row(*row));
}

json opt_time(int64_t ms) { return ms ? json(iso_utc(ms)) : json(nullptr); }

json clock_json(const ClockRec& k, const Evaluation& e, const Settings& s) {
  json pauses = json::array();
  for (auto& p : k.t.clock.pauses) pauses.push_back(json{{"from", iso_utc(p.from)}, {"to", opt_time(p.to)}});
  auto target = [&](int64_t minutes, int64_t due, int64_t warn, int64_t remaining, int64_t reached, bool done,
                    bool breached, bool warning, int64_t warned_at, int64_t breached_at) {
    std::string state = breached ? "breached" : done ? (reached ? "met" : "stopped")
                                  : k.t.clock.paused() ? "paused" : warning ? "warning" : "running";
    return json{{"minutes", minutes}, {"due_at", opt_time(due)}, {"warn_at", opt_time(warn)},
                {"remaining_minutes", remaining}, {"reached_at", opt_time(reached)}, {"state", state},
                {"warned_at", opt_time(warned_at)}, {"breached_at", opt_time(breached_at)}};
  };
  return json{{"order_id", k.order_id},
              {"status", e.status},
              {"source", k.source},
              {"policy_id", k.policy_id ? json(k.policy_id) : json(nullptr)},
              {"contract_id", k.contract_id ? json(k.contract_id) : json(nullptr)},
              {"customer_tier", k.tier.empty() ? json(nullptr) : json(k.tier)},
              {"order_type", k.order_type},
              {"calendar", k.calendar_code},
              {"started_at", iso_utc(k.t.started_at)},
              {"paused", k.t.clock.paused()},
              {"pauses", pauses},
              {"stopped_at", opt_time(k.t.stopped_at)},
              {"warn_pct", s.warn_pct},
              {"response", target(k.t.response_minutes, e.response_due_at, e.response_warn_at, e.response_remaining,
                                  k.t.first_response_at, e.response_done, e.response_breached, e.response_warning,
                                  k.response_warned_at, k.response_breached_at)},
              {"resolution", target(k.t.resolve_minutes, e.resolve_due_at, e.resolve_warn_at, e.resolve_remaining,
                                    k.t.resolved_at, e.resolve_done, e.resolve_breached, e.resolve_warning,
                                    k.resolve_warned_at, k.resolve_breached_at)},
              {"escalated_at", opt_time(k.escalated_at)},
              {"next_check_at", opt_time(k.next_check_at)},
              {"version", k.version},
              {"updated_at", iso_utc(k.updated_at)}};
}

// Evaluates and stores the clock, and writes the figures to the order.
Result<Evaluation> save(api::WriteTx& tx, ClockRec& k, const Settings& s, int64_t now, bool insert) {
  Calendar cal = TRY(load_calendar(tx.db, k.calendar_code));
  Evaluation e = evaluate(cal, k.t, s.warn_pct, now);
  int64_t next = e.next_check_at;
  // A warning or breach not yet handled by the job: the job should look now.
  bool pending = (e.response_warning && !k.response_warned_at) || (e.resolve_warning && !k.resolve_warned_at) ||
                 (e.response_breached && !k.response_breached_at) || (e.resolve_breached && !k.resolve_breached_at);
  if (pending) next = now;
  k.next_check_at = next;
  k.status = e.status;
  store::Value next_v = next ? store::Value(next) : store::Value();
  if (insert) {
    k.created_at = k.updated_at = now;
    TRY(tx.db.exec(
        "INSERT INTO sla_clocks (order_id, org_path, order_type, customer_id, contract_id, source, tier, policy_id, "
        "calendar_code, response_minutes, resolve_minutes, started_at, pauses_json, first_response_at, resolved_at, "
        "stopped_at, response_due_at, resolve_due_at, next_check_at, status, version, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?)",
        {k.order_id, k.org_path, k.order_type, k.customer_id, k.contract_id, k.source, k.tier, k.policy_id,
         k.calendar_code, k.t.response_minutes, k.t.resolve_minutes, k.t.started_at, pauses_text(k.t.clock),
         k.t.first_response_at, k.t.resolved_at, k.t.stopped_at, e.response_due_at, e.resolve_due_at, next_v, e.status,
         now, now}));
  } else {
    k.updated_at = now;
    TRY(tx.db.exec(
        "UPDATE sla_clocks SET org_path = ?, order_type = ?, customer_id = ?, contract_id = ?, source = ?, tier = ?, "
        "policy_id = ?, calendar_code = ?, response_minutes = ?, resolve_minutes = ?, started_at = ?, pauses_json = ?, "
        "first_response_at = ?, resolved_at = ?, stopped_at = ?, response_due_at = ?, resolve_due_at = ?, "
        "next_check_at = ?, status = ?, version = version + 1, updated_at = ? WHERE order_id = ?",
        {k.org_path, k.order_type, k.customer_id, k.contract_id, k.source, k.tier, k.policy_id, k.calendar_code,
         k.t.response_minutes, k.t.resolve_minutes, k.t.started_at, pauses_text(k.t.clock), k.t.first_response_at,
         k.t.resolved_at, k.t.stopped_at, e.response_due_at, e.resolve_due_at, next_v, e.status, now, k.order_id}));
  }
  TRY_VOID(orders::set_sla(tx, k.order_id, orders::SlaFields{e.response_due_at, e.resolve_due_at, e.status}));
  return e;
}

void apply_terms(ClockRec& k, const Terms& t) {
  k.source = t.source;
  k.policy_id = t.policy_id;
  k.contract_id = t.contract_id;
  k.calendar_code = t.calendar_code;
  k.t.response_minutes = t.response_minutes;
  k.t.resolve_minutes = t.resolve_minutes;
  k.tier = t.tier;
}

// A state pauses the clock when the settings list it or the order's workflow
// marks it "paused" (workflow versions never change, orders keep theirs).
Result<bool> pauses_in(Conn& c, const Settings& s, const json& order, const std::string& state) {
  if (contains(s.paused_states, state)) return true;
  int64_t wf = jint(order, "workflow_id");
  if (!wf) return false;
  return orders::state_paused(c, wf, state);
}

// `fresh`: the order was inserted in this transaction ("order.created"), so
// it has no clock yet and looking for one is a wasted statement.
Result<void> on_created(api::WriteTx& tx, int64_t id, const json& order, bool fresh = false) {
  if (!fresh && TRY(load_clock(tx.db, id))) return {};
  PinConfig pin(TRY(config(tx.db)));
  int64_t now = now_ms();
  Settings s = TRY(load_settings(tx.db));
  ClockRec k;
  k.order_id = id;
  k.org_path = jstr(order, "org_path");
  k.order_type = jstr(order, "type");
  k.customer_id = jint(order, "customer_id");
  k.t.started_at = parse_iso(jstr(order, "created_at")).value_or(now);
  k.t.clock.started_at = k.t.started_at;
  apply_terms(k, TRY(terms_for(tx.db, order, now)));
  std::string state = jstr(order, "state");
  if (TRY(pauses_in(tx.db, s, order, state))) k.t.clock.pauses.push_back({k.t.started_at, 0});
  Evaluation e = TRY(save(tx, k, s, now, true));
  TRY_VOID(tx.audit("sla_clock", id, "start", nullptr,
                    json{{"source", k.source}, {"calendar", k.calendar_code}, {"response_minutes", k.t.response_minutes},
                         {"resolve_minutes", k.t.resolve_minutes}, {"response_due_at", opt_time(e.response_due_at)},
                         {"resolve_due_at", opt_time(e.resolve_due_at)}},
                    k.org_path));
  return {};
}

Result<void> on_transition(api::WriteTx& tx, int64_t id, const json& ev) {
  auto found = TRY(load_clock(tx.db, id));
  if (!found) return on_created(tx, id, ev);
  PinConfig pin(TRY(config(tx.db)));
  ClockRec k = std::move(*found);
  int64_t now = now_ms();
  Settings s = TRY(load_settings(tx.db));
  std::string to = jstr(ev, "to");
  k.org_path = jstr(ev, "org_path").empty() ? k.org_path : jstr(ev, "org_path");
  Clock& clock = k.t.clock;
  bool pause = TRY(pauses_in(tx.db, s, ev, to));
  if (pause && !clock.paused())
    clock.pauses.push_back({now, 0});
  else if (!pause && clock.paused())
    clock.pauses.back().to = now;
  if (to == "reopened" || jstr(ev, "action") == "reopen") {
    // The time between completion and reopening does not count.
    if (k.t.resolved_at && k.t.resolved_at < now) {
      clock.pauses.push_back({k.t.resolved_at, now});
      std::sort(clock.pauses.begin(), clock.pauses.end(), [](const Interval& a, const Interval& b) { return a.from < b.from; });
    }
    k.t.resolved_at = 0;
    k.t.stopped_at = 0;
  }
  if (contains(s.response_states, to) && !k.t.first_response_at) k.t.first_response_at = now;
  if (contains(s.resolve_states, to) && !k.t.resolved_at) {
    k.t.resolved_at = now;
    if (!k.t.first_response_at) k.t.first_response_at = now;
  }
  if (contains(s.stop_states, to) && !k.t.stopped_at) k.t.stopped_at = now;
  TRY(save(tx, k, s, now, false));
  return {};
}

Result<void> on_updated(api::WriteTx& tx, int64_t id, const json& order) {
  auto found = TRY(load_clock(tx.db, id));
  if (!found) return on_created(tx, id, order);
  ClockRec k = std::move(*found);
  std::string path = jstr(order, "org_path");
  bool moved = !path.empty() && path != k.org_path;
  bool terms_changed = jstr(order, "type") != k.order_type || jint(order, "customer_id") != k.customer_id ||
                       jint(order, "contract_id") != k.contract_id;
  if (!moved && !terms_changed) return {};
  int64_t now = now_ms();
  if (moved) {
    k.org_path = path;
    TRY(tx.db.exec("UPDATE sla_clocks SET org_path = ? WHERE order_id = ?", {path, id}));
  }
  if (!terms_changed) return {};
  k.order_type = jstr(order, "type");
  k.customer_id = jint(order, "customer_id");
  Settings s = TRY(load_settings(tx.db));
  json before{{"source", k.source}, {"response_minutes", k.t.response_minutes}, {"resolve_minutes", k.t.resolve_minutes}};
  apply_terms(k, TRY(terms_for(tx.db, order, now)));
  // Keep the contract the order names even when it does not apply (for the next comparison).
  k.contract_id = jint(order, "contract_id");
  TRY(save(tx, k, s, now, false));
  TRY_VOID(tx.audit("sla_clock", id, "retarget", before,
                    json{{"source", k.source}, {"response_minutes", k.t.response_minutes},
                         {"resolve_minutes", k.t.resolve_minutes}},
                    k.org_path));
  return {};
}

// ---- the job ------------------------------------------------------------------------

// Claims a warning / breach flag: only the one transaction that changes it
// from 0 acts on it.
Result<bool> claim(Conn& c, const char* column, int64_t order_id, int64_t now) {
  auto n = TRY(c.exec(std::string("UPDATE sla_clocks SET ") + column + " = ? WHERE order_id = ? AND " + column + " = 0",
                      {now, order_id}));
  return n == 1;
}

Result<int> check_one(api::WriteTx& tx, int64_t order_id, int64_t now) {
  auto found = TRY(load_clock(tx.db, order_id));
  if (!found || !found->next_check_at || found->next_check_at > now) return 0;  // done by someone else
  ClockRec k = std::move(*found);
  Settings s = TRY(load_settings(tx.db));
  Calendar cal = TRY(load_calendar(tx.db, k.calendar_code));
  Evaluation e = evaluate(cal, k.t, s.warn_pct, now);
  int handled = 0;
  bool escalate = false;
  struct Target {
    const char* name;
    bool breached, warning, done;
    int64_t due, remaining;
    const char* warned_col;
    const char* breached_col;
  };
  for (const Target& t : {Target{"response", e.response_breached, e.response_warning, e.response_done,
                                  e.response_due_at, e.response_remaining, "response_warned_at", "response_breached_at"},
                           Target{"resolution", e.resolve_breached, e.resolve_warning, e.resolve_done,
                                  e.resolve_due_at, e.resolve_remaining, "resolve_warned_at", "resolve_breached_at"}}) {
    json detail{{"target", t.name}, {"due_at", opt_time(t.due)}, {"remaining_minutes", t.remaining}};
    if (t.breached && TRY(claim(tx.db, t.breached_col, order_id, now))) {
      TRY_VOID(orders::add_timeline(tx, order_id, "sla.breach", detail));
      TRY_VOID(tx.audit("sla_clock", order_id, std::string("breach:") + t.name, nullptr, detail, k.org_path));
      if (!t.done) escalate = true;
      ++handled;
    } else if (t.warning && TRY(claim(tx.db, t.warned_col, order_id, now))) {
      TRY_VOID(orders::add_timeline(tx, order_id, "sla.warning", detail));
      TRY_VOID(tx.audit("sla_clock", order_id, std::string("warning:") + t.name, nullptr, detail, k.org_path));
      ++handled;
    }
  }
  if (escalate && s.escalate && TRY(claim(tx.db, "escalated_at", order_id, now))) {
    auto r = orders::transition(tx, order_id, "escalate", json::object(), "SLA breached / 超时升级");
    if (!r) {
      if (r.error().code != Error::Code::conflict && r.error().code != Error::Code::invalid) return r.error();
      // The workflow does not allow escalating from this state: record it instead.
      TRY_VOID(orders::add_timeline(tx, order_id, "sla.escalation",
                                    json{{"escalated", false}, {"reason", r.error().message}}));
    }
  }
  // The escalation's transition may have updated the clock: store from fresh state.
  auto fresh = TRY(load_clock(tx.db, order_id));
  if (fresh) TRY(save(tx, *fresh, s, now, false));
  return handled;
}

int64_t tick_ms() {
  const char* v = std::getenv("SHOUHOU_SLA_TICK_MS");
  if (v && *v) {
    char* end = nullptr;
    long long n = std::strtoll(v, &end, 10);
    if (end && !*end && n >= 10 && n <= 3'600'000) return n;
  }
  return 30'000;
}

// ---- routes -------------------------------------------------------------------------

Result<json> order_in_scope(Conn& c, const http::Principal& who, int64_t id) {
  auto o = TRY(orders::find(c, id));
  if (!o || !who.reaches(jstr(*o, "org_path"))) return api::not_found("service order", id);
  return *o;
}

Result<std::string> calendar_code_field(Conn& c, const Input& in, const char* name) {
  std::string code = TRY(in.str(name, 40));
  auto row = TRY(c.one("SELECT id FROM sla_calendars WHERE code = ?", {code}));
  if (!row) return Error::invalid(in.field(name) + ": no calendar " + code, in.field(name));
  return code;
}

Result<std::optional<std::string>> nullable_enum(const Input& in, const json& body, const char* name,
                                                 const std::vector<std::string>& allowed) {
  if (!body.contains(name) || body[name].is_null()) return std::optional<std::string>();
  return std::optional<std::string>(TRY(in.one_of(name, allowed)));
}

Result<std::vector<std::string>> state_list(const Input& in, const char* name) {
  auto list = TRY(in.str_list(name, 30, 40));
  for (const auto& s : list)
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char ch) { return std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '_'; }))
      return Error::invalid(in.field(name) + " holds state codes (a-z, 0-9, _)", in.field(name));
  return list;
}

void routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/service-orders/{id}/sla", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      TRY(order_in_scope(c, *req.principal, id));
      auto k = TRY(load_clock(c, id));
      if (!k) return api::not_found("SLA clock of service order", id);
      Settings s = TRY(load_settings(c));
      Calendar cal = TRY(load_calendar(c, k->calendar_code));
      Evaluation e = evaluate(cal, k->t, s.warn_pct, now_ms());
      return Response::make_json(clock_json(*k, e, s));
    });
  }, {.summary = "SLA of a service order: targets, due times, remaining business minutes, pauses", .tag = "sla",
      .permission = "order.read"});

  r.post("/api/v1/service-orders/{id}/sla/restart", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      TRY(order_in_scope(tx.db, *tx.who(), id));
      Input in(*body);
      std::string at_s = TRY(in.str("started_at", 40));
      std::string reason = TRY(in.str("reason", 500));
      auto at = parse_iso(at_s);
      int64_t now = now_ms();
      if (!at) return Error::invalid("started_at must be an ISO-8601 time", "started_at");
      if (*at > now) return Error::invalid("started_at is in the future", "started_at");
      if (*at < now - 90 * kDayMs) return Error::invalid("started_at is more than 90 days ago", "started_at");
      auto found = TRY(load_clock(tx.db, id));
      if (!found) return api::not_found("SLA clock of service order", id);
      ClockRec k = std::move(*found);
      if (body->contains("version") && TRY(api::expected_version(req, *body)) != k.version)
        return Error::conflict("the SLA clock was changed meanwhile (version " + std::to_string(k.version) + ")", "version");
      json before{{"started_at", iso_utc(k.t.started_at)}};
      k.t.started_at = k.t.clock.started_at = *at;
      Settings s = TRY(load_settings(tx.db));
      TRY(save(tx, k, s, now, false));
      TRY_VOID(orders::add_timeline(tx, id, "sla.restart", json{{"started_at", iso_utc(*at)}, {"reason", reason}}));
      TRY_VOID(tx.audit("sla_clock", id, "restart", before, json{{"started_at", iso_utc(*at)}, {"reason", reason}},
                        k.org_path));
      auto fresh = TRY(load_clock(tx.db, id));
      Calendar cal = TRY(load_calendar(tx.db, fresh->calendar_code));
      return Response::make_json(clock_json(*fresh, evaluate(cal, fresh->t, s.warn_pct, now), s));
    });
  }, {.summary = "Correct when the SLA clock started (the customer reported earlier than the order was keyed in)",
      .tag = "sla", .permission = "workflow.write",
      .request_schema = api::schema_object({{"started_at", "string"}, {"reason", "string"}, {"version", "integer"}},
                                           {"started_at", "reason"})});

  // -- policies
  r.get("/api/v1/sla/policies", [&p](Request&) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      json items = json::array();
      for (auto& k : TRY(load_policies(c))) items.push_back(policy_json(k));
      return Response::make_json(json{{"items", items}, {"next_cursor", nullptr},
                                      {"default", {{"calendar_code", "7x24"}, {"response_minutes", 120}, {"resolve_minutes", 240}}}});
    });
  }, {.summary = "SLA policies (targets per order type and customer tier)", .tag = "sla", .permission = "order.read"});

  r.post("/api/v1/sla/policies", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      Input in(*body);
      PolicyRec k;
      k.name = TRY(in.str("name", 100));
      k.p.order_type = TRY(nullable_enum(in, *body, "order_type", kOrderTypes));
      k.p.customer_tier = TRY(nullable_enum(in, *body, "customer_tier", kTiers));
      k.p.calendar_code = TRY(calendar_code_field(tx.db, in, "calendar_code"));
      k.p.response_minutes = TRY(in.integer("response_minutes", 1, 60 * 24 * 60));
      k.p.resolve_minutes = TRY(in.integer("resolve_minutes", 1, 60 * 24 * 90));
      if (k.p.resolve_minutes < k.p.response_minutes)
        return Error::invalid("resolve_minutes is shorter than response_minutes", "resolve_minutes");
      k.p.active = in.has("active") ? TRY(in.boolean("active")) : true;
      if (k.p.active) {
        auto dup = TRY(tx.db.one("SELECT id FROM sla_policies WHERE active = 1 AND "
                                 "COALESCE(order_type, '') = ? AND COALESCE(customer_tier, '') = ?",
                                 {k.p.order_type.value_or(""), k.p.customer_tier.value_or("")}));
        if (dup) return Error::conflict("an active policy for this order type and tier exists (id " + std::to_string(dup->i(0)) + ")", "order_type");
      }
      int64_t now = now_ms();
      auto row = TRY(tx.db.one(
          "INSERT INTO sla_policies (org_path, name, order_type, customer_tier, calendar_code, response_minutes, "
          "resolve_minutes, active, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,1,?,?) RETURNING id",
          {tx.who()->org_path, k.name, k.p.order_type ? store::Value(*k.p.order_type) : store::Value(),
           k.p.customer_tier ? store::Value(*k.p.customer_tier) : store::Value(), k.p.calendar_code,
           k.p.response_minutes, k.p.resolve_minutes, int64_t(k.p.active), now, now}));
      auto rec = policy_from_row(*TRY(tx.db.one(std::string(kPolSelect) + " WHERE id = ?", {row->i(0)})));
      json j = policy_json(rec);
      TRY_VOID(tx.audit("sla_policy", rec.p.id, "create", nullptr, j, rec.org_path));
      return Response::make_json(j, 201);
    });
  }, {.summary = "Create an SLA policy", .tag = "sla", .permission = "workflow.write",
      .request_schema = api::schema_object({{"name", "string"}, {"order_type", "string"}, {"customer_tier", "string"},
                                            {"calendar_code", "string"}, {"response_minutes", "integer"},
                                            {"resolve_minutes", "integer"}, {"active", "boolean"}},
                                           {"name", "calendar_code", "response_minutes", "resolve_minutes"})});

  r.patch("/api/v1/sla/policies/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto row = TRY(tx.db.one(std::string(kPolSelect) + " WHERE id = ?", {id}));
      if (!row) return api::not_found("SLA policy", id);
      PolicyRec b = policy_from_row(*row);
      int64_t version = TRY(api::expected_version(req, *body));
      for (const char* f : {"order_type", "customer_tier"})
        if (body->contains(f)) return Error::invalid(std::string(f) + " cannot be changed (create another policy)", f);
      Input in(*body);
      PolicyRec k = b;
      if (in.has("name")) k.name = TRY(in.str("name", 100));
      if (in.has("calendar_code")) k.p.calendar_code = TRY(calendar_code_field(tx.db, in, "calendar_code"));
      if (in.has("response_minutes")) k.p.response_minutes = TRY(in.integer("response_minutes", 1, 60 * 24 * 60));
      if (in.has("resolve_minutes")) k.p.resolve_minutes = TRY(in.integer("resolve_minutes", 1, 60 * 24 * 90));
      if (k.p.resolve_minutes < k.p.response_minutes)
        return Error::invalid("resolve_minutes is shorter than response_minutes", "resolve_minutes");
      if (in.has("active")) k.p.active = TRY(in.boolean("active"));
      auto n = TRY(tx.db.exec(
          "UPDATE sla_policies SET name = ?, calendar_code = ?, response_minutes = ?, resolve_minutes = ?, active = ?, "
          "version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
          {k.name, k.p.calendar_code, k.p.response_minutes, k.p.resolve_minutes, int64_t(k.p.active), now_ms(), id, version}));
      if (n == 0)
        return Error::conflict("SLA policy " + std::to_string(id) + " was changed by someone else (version " +
                                   std::to_string(b.version) + ")", "version");
      auto rec = policy_from_row(*TRY(tx.db.one(std::string(kPolSelect) + " WHERE id = ?", {id})));
      TRY_VOID(tx.audit("sla_policy", id, "update", policy_json(b), policy_json(rec), b.org_path));
      return Response::make_json(policy_json(rec));
    });
  }, {.summary = "Change an SLA policy (applies to orders created afterwards; send the version you read)", .tag = "sla",
      .permission = "workflow.write"});

  // -- calendars
  r.get("/api/v1/sla/calendars", [&p](Request&) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      json items = json::array();
      for (const auto& row : TRY(c.query(std::string(kCalSelect) + " ORDER BY id"))) items.push_back(calendar_json(calendar_from_row(row)));
      return Response::make_json(json{{"items", items}, {"next_cursor", nullptr}});
    });
  }, {.summary = "Business calendars (7x24, 8x5 with Chinese holidays)", .tag = "sla", .permission = "order.read"});

  r.patch("/api/v1/sla/calendars/{code}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      std::string code = req.params.count("code") ? req.params.at("code") : "";
      auto row = TRY(tx.db.one(std::string(kCalSelect) + " WHERE code = ?", {code}));
      if (!row) return Error::not_found("no calendar " + code);
      CalendarRec b = calendar_from_row(*row);
      int64_t version = TRY(api::expected_version(req, *body));
      Input in(*body);
      CalendarRec k = b;
      if (in.has("name")) k.name = TRY(in.str("name", 100));
      if (in.has("work_start")) {
        auto m = parse_hhmm(TRY(in.str("work_start", 5)));
        if (!m) return Error::invalid("work_start must be HH:MM", "work_start");
        k.cal.work_start_min = *m;
      }
      if (in.has("work_end")) {
        auto m = parse_hhmm(TRY(in.str("work_end", 5)));
        if (!m) return Error::invalid("work_end must be HH:MM", "work_end");
        k.cal.work_end_min = *m;
      }
      if (k.cal.work_end_min <= k.cal.work_start_min)
        return Error::invalid("work_end must be after work_start", in.has("work_end") ? "work_end" : "work_start");
      if (in.has("use_china_days")) k.cal.use_china_days = TRY(in.boolean("use_china_days"));
      if (body->contains("days")) {
        const json& days = (*body)["days"];
        if (!days.is_object()) return Error::invalid("days must be an object {\"YYYY-MM-DD\": \"holiday\"|\"workday\"}", "days");
        if (days.size() > 2000) return Error::invalid("days has more than 2000 entries", "days");
        k.cal.overrides.clear();
        for (auto& [d, kind] : days.items()) {
          auto day = parse_day(d);
          if (!day) return Error::invalid("days." + d + " is not a date YYYY-MM-DD", "days");
          if (!kind.is_string() || (kind != "holiday" && kind != "workday"))
            return Error::invalid("days." + d + " must be holiday or workday", "days." + d);
          k.cal.overrides[*day] = kind == "workday" ? DayKind::workday : DayKind::holiday;
        }
      }
      json days = calendar_json(k)["days"];
      auto n = TRY(tx.db.exec(
          "UPDATE sla_calendars SET name = ?, work_start = ?, work_end = ?, use_china_days = ?, days_json = ?, "
          "version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
          {k.name, int64_t(k.cal.work_start_min), int64_t(k.cal.work_end_min), int64_t(k.cal.use_china_days),
           days.dump(), now_ms(), b.id, version}));
      if (n == 0)
        return Error::conflict("calendar " + code + " was changed by someone else (version " + std::to_string(b.version) + ")",
                               "version");
      auto rec = calendar_from_row(*TRY(tx.db.one(std::string(kCalSelect) + " WHERE id = ?", {b.id})));
      TRY_VOID(tx.audit("sla_calendar", b.id, "update", calendar_json(b), calendar_json(rec), tx.who()->org_path));
      return Response::make_json(calendar_json(rec));
    });
  }, {.summary = "Change a business calendar: working hours, own holidays / working days (send the version)",
      .tag = "sla", .permission = "workflow.write"});

  r.get("/api/v1/sla/calendars/{code}/due", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      std::string code = req.params.count("code") ? req.params.at("code") : "";
      auto row = TRY(c.one(std::string(kCalSelect) + " WHERE code = ?", {code}));
      if (!row) return Error::not_found("no calendar " + code);
      Calendar cal = calendar_from_row(*row).cal;
      auto start_s = req.q("start");
      auto start = start_s ? parse_iso(*start_s) : std::optional<int64_t>(now_ms());
      if (!start) return Error::invalid("start must be an ISO-8601 time", "start");
      auto min_s = req.q("minutes").value_or("");
      if (min_s.empty() || min_s.size() > 7 || !std::all_of(min_s.begin(), min_s.end(), ::isdigit))
        return Error::invalid("minutes must be a whole number 0..1000000", "minutes");
      int64_t minutes = std::stoll(min_s);
      if (minutes > 1'000'000) return Error::invalid("minutes must be a whole number 0..1000000", "minutes");
      auto due = add_business_minutes(cal, *start, minutes);
      if (!due) return Error::invalid("the calendar has no working time within ten years", "minutes");
      return Response::make_json(json{{"calendar", code}, {"start", iso_utc(*start)}, {"minutes", minutes},
                                      {"due_at", iso_utc(*due)}});
    });
  }, {.summary = "Due time of start + N business minutes on a calendar", .tag = "sla", .permission = "order.read",
      .query_params = {"start", "minutes"}});

  r.get("/api/v1/sla/holidays", [](Request& req) {
    std::string year = req.q("year").value_or("");
    if (!year.empty() && (year.size() != 4 || !std::all_of(year.begin(), year.end(), ::isdigit)))
      return Response::error(Error::invalid("year must be YYYY", "year"));
    json items = json::array();
    for (const auto& d : china_days())
      if (year.empty() || d.date.compare(0, 4, year) == 0)
        items.push_back(json{{"date", d.date}, {"kind", d.kind == DayKind::workday ? "workday" : "holiday"},
                             {"name_zh", d.name_zh}, {"name_en", d.name_en}});
    return Response::make_json(json{{"items", items}, {"source", kChinaDaysSource},
                                    {"first_year", kChinaDaysFirstYear}, {"last_year", kChinaDaysLastYear}});
  }, {.summary = "Chinese public holidays and swapped working days used by 8x5 calendars", .tag = "sla",
      .permission = "order.read", .query_params = {"year"}});

  // -- settings
  r.get("/api/v1/sla/settings", [&p](Request&) {
    return api::read(p, [&](Conn& c) -> Result<Response> { return Response::make_json(settings_json(TRY(load_settings(c)))); });
  }, {.summary = "SLA settings: paused / response / resolution / stop states, warning threshold, escalation",
      .tag = "sla", .permission = "order.read"});

  r.put("/api/v1/sla/settings", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      Settings b = TRY(load_settings(tx.db));
      int64_t version = TRY(api::expected_version(req, *body));
      Input in(*body);
      Settings s = b;
      if (in.has("paused_states")) s.paused_states = TRY(state_list(in, "paused_states"));
      if (in.has("response_states")) s.response_states = TRY(state_list(in, "response_states"));
      if (in.has("resolve_states")) s.resolve_states = TRY(state_list(in, "resolve_states"));
      if (in.has("stop_states")) s.stop_states = TRY(state_list(in, "stop_states"));
      if (in.has("warn_pct")) s.warn_pct = static_cast<int>(TRY(in.integer("warn_pct", 1, 99)));
      if (in.has("escalate")) s.escalate = TRY(in.boolean("escalate"));
      for (const auto& st : s.paused_states)
        if (contains(s.resolve_states, st))
          return Error::invalid("state " + st + " cannot both pause and resolve", "paused_states");
      auto n = TRY(tx.db.exec(
          "UPDATE sla_settings SET paused_states = ?, response_states = ?, resolve_states = ?, stop_states = ?, "
          "warn_pct = ?, escalate = ?, version = version + 1, updated_at = ? WHERE id = 1 AND version = ?",
          {json(s.paused_states).dump(), json(s.response_states).dump(), json(s.resolve_states).dump(),
           json(s.stop_states).dump(), int64_t(s.warn_pct), int64_t(s.escalate), now_ms(), version}));
      if (n == 0)
        return Error::conflict("SLA settings were changed by someone else (version " + std::to_string(b.version) + ")", "version");
      Settings after = TRY(load_settings(tx.db));
      TRY_VOID(tx.audit("sla_settings", 1, "update", settings_json(b), settings_json(after), tx.who()->org_path));
      return Response::make_json(settings_json(after));
    });
  }, {.summary = "Change SLA settings (send the version you read)", .tag = "sla", .permission = "workflow.write"});
}

}  // namespace

Result<int> run_checks(api::Platform& p, int64_t now) {
  auto ids = p.db.read_as([&](Conn& c) -> Result<std::vector<int64_t>> {
    auto rows = TRY(c.query("SELECT order_id FROM sla_clocks WHERE next_check_at IS NOT NULL AND next_check_at <= ? "
                            "ORDER BY next_check_at LIMIT 500",
                            {now}));
    std::vector<int64_t> out;
    for (const auto& r : rows) out.push_back(r.i(0));
    return out;
  });
  if (!ids) return ids.error();
  int total = 0;
  for (int64_t id : *ids) {
    if (p.scheduler && p.scheduler->stopping()) break;
    std::string scope;  // the order's org path: the live event reaches only clients in its scope
    auto r = api::write_as(p, nullptr, [&](api::WriteTx& tx) -> Result<json> {
      int n = TRY(check_one(tx, id, now));
      if (n && p.events)
        if (auto o = TRY(tx.db.one("SELECT org_path FROM service_orders WHERE id = ?", {id}))) scope = o->s(0);
      return json(n);
    });
    if (!r) {
      spdlog::warn("sla: checking order {} failed: {}", id, r.error().message);
      continue;
    }
    int n = r->get<int>();
    total += n;
    if (n && p.events) p.events->publish("sla", json{{"order_id", id}}, {scope});
  }
  return total;
}

api::Module module() {
  api::Module m;
  m.name = "sla";
  m.migrations = {{"sla", 1, "SLA calendars, policies, settings and clocks", R"sql(
CREATE TABLE sla_calendars (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  always_on INTEGER NOT NULL,
  work_start INTEGER NOT NULL,
  work_end INTEGER NOT NULL,
  use_china_days INTEGER NOT NULL,
  days_json TEXT NOT NULL DEFAULT '{}',
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
INSERT INTO sla_calendars (org_path, code, name, always_on, work_start, work_end, use_china_days, days_json, version, created_at, updated_at)
  VALUES ('/', '7x24', '全天候 7x24', 1, 0, 1440, 0, '{}', 1, 0, 0);
INSERT INTO sla_calendars (org_path, code, name, always_on, work_start, work_end, use_china_days, days_json, version, created_at, updated_at)
  VALUES ('/', '8x5', '工作日 8x5（含法定节假日与调休）', 0, 540, 1020, 1, '{}', 1, 0, 0);
CREATE TABLE sla_policies (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  name TEXT NOT NULL,
  order_type TEXT,
  customer_tier TEXT CHECK (customer_tier IS NULL OR customer_tier IN ('vip','key','small')),
  calendar_code TEXT NOT NULL,
  response_minutes INTEGER NOT NULL CHECK (response_minutes > 0),
  resolve_minutes INTEGER NOT NULL CHECK (resolve_minutes > 0),
  active INTEGER NOT NULL DEFAULT 1,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
INSERT INTO sla_policies (org_path, name, order_type, customer_tier, calendar_code, response_minutes, resolve_minutes, active, version, created_at, updated_at)
  VALUES ('/', '默认：2小时答复，4小时解决', NULL, NULL, '7x24', 120, 240, 1, 1, 0, 0);
CREATE TABLE sla_settings (
  id INTEGER PRIMARY KEY,
  paused_states TEXT NOT NULL,
  response_states TEXT NOT NULL,
  resolve_states TEXT NOT NULL,
  stop_states TEXT NOT NULL,
  warn_pct INTEGER NOT NULL,
  escalate INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL
) STRICT;
INSERT INTO sla_settings (id, paused_states, response_states, resolve_states, stop_states, warn_pct, escalate, version, updated_at)
  VALUES (1, '["waiting_customer","parts_waiting"]', '["accepted","on_site","completed","revisited","closed"]',
          '["completed","revisited","closed"]', '["cancelled"]', 80, 1, 1, 0);
CREATE TABLE sla_clocks (
  order_id INTEGER PRIMARY KEY REFERENCES service_orders(id),
  org_path TEXT NOT NULL,
  order_type TEXT NOT NULL,
  customer_id INTEGER NOT NULL DEFAULT 0,
  contract_id INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL,
  tier TEXT NOT NULL DEFAULT '',
  policy_id INTEGER NOT NULL DEFAULT 0,
  calendar_code TEXT NOT NULL,
  response_minutes INTEGER NOT NULL,
  resolve_minutes INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  pauses_json TEXT NOT NULL DEFAULT '[]',
  first_response_at INTEGER NOT NULL DEFAULT 0,
  resolved_at INTEGER NOT NULL DEFAULT 0,
  stopped_at INTEGER NOT NULL DEFAULT 0,
  response_due_at INTEGER NOT NULL DEFAULT 0,
  resolve_due_at INTEGER NOT NULL DEFAULT 0,
  response_warned_at INTEGER NOT NULL DEFAULT 0,
  resolve_warned_at INTEGER NOT NULL DEFAULT 0,
  response_breached_at INTEGER NOT NULL DEFAULT 0,
  resolve_breached_at INTEGER NOT NULL DEFAULT 0,
  escalated_at INTEGER NOT NULL DEFAULT 0,
  next_check_at INTEGER,
  status TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sla_clocks_next_check ON sla_clocks(next_check_at);
CREATE INDEX sla_clocks_org_path ON sla_clocks(org_path);
)sql"}};
  m.routes = routes;
  m.wire = [](api::Platform& p) {
    p.bus->on("order.created", [](api::WriteTx& tx, std::string_view, int64_t id, const json& d) { return on_created(tx, id, d, true); });
    p.bus->on("order.transition", [](api::WriteTx& tx, std::string_view, int64_t id, const json& d) { return on_transition(tx, id, d); });
    p.bus->on("order.updated", [](api::WriteTx& tx, std::string_view, int64_t id, const json& d) { return on_updated(tx, id, d); });
  };
  m.start = [](api::Platform& p) {
    if (!p.scheduler) return;
    p.scheduler->every("sla", std::chrono::milliseconds(tick_ms()), [&p] {
      auto r = run_checks(p, now_ms());
      if (!r) spdlog::warn("sla: check run failed: {}", r.error().message);
    });
  };
  return m;
}

}  // namespace shouhou::sla
