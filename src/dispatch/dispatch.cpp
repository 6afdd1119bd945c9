#include "dispatch/dispatch.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "core/input.h"
#include "core/util.h"
#include "network/network.h"
#include "orders/orders.h"
#include "store/lock.h"

namespace shouhou::dispatch {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

namespace {

// Order types that skip the audit and go straight to dispatch (seed 003).
const std::set<std::string> kDirectTypes = {"maintenance", "inspection", "startup"};
// Order states from which an order may be (re)assigned.
const std::set<std::string> kAssignable = {"audited", "dispatched", "escalated", "reopened", "accepted"};
const std::vector<std::string> kActions = {"none", "escalate", "redispatch", "both"};
constexpr const char* kOpenStates = "('open','accepted','started')";

struct Settings {
  Weights w;
  int64_t accept_seconds = 30 * 60;
  std::string accept_action = "redispatch";
  int64_t start_grace_seconds = 60 * 60;
  std::string start_action = "escalate";
  int64_t max_redispatch = 3;
  bool auto_dispatch = true;  // off: audited orders wait in the queue for a person
  int64_t version = 0;
};

// One index per process, shared by the job, the bus handlers and the routes.
struct State {
  Index idx;
  std::mutex reload_mu;
  std::atomic<int64_t> rev{-1};
  std::atomic<int64_t> counters_at{0};
  std::atomic<int64_t> status_seen{0};
};
State& state() {
  static State s;
  return s;
}

// Which server process made an assignment (host:pid), for operations.
const std::string& node_name() {
  static const std::string n = [] {
    char host[128] = {0};
    gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(getpid());
  }();
  return n;
}

int64_t tick_ms() {
  const char* v = std::getenv("SHOUHOU_DISPATCH_TICK_MS");
  int64_t n = v ? std::atoll(v) : 0;
  return n >= 20 ? n : 1000;
}

json jtime(int64_t ms) { return ms > 0 ? json(iso_utc(ms)) : json(nullptr); }
int64_t time_of(const json& j) {
  if (!j.is_string()) return 0;
  auto t = parse_iso(j.get<std::string>());
  return t ? *t : 0;
}
int64_t int_of(const json& j) { return j.is_number_integer() ? j.get<int64_t>() : 0; }
std::string str_of(const json& j) { return j.is_string() ? j.get<std::string>() : std::string(); }

Result<Settings> load_settings(Conn& c) {
  auto r = TRY(c.one("SELECT w_load, w_satisfaction, w_priority, w_distance, w_sla, accept_seconds, accept_action, "
                     "start_grace_seconds, start_action, max_redispatch, version, auto_dispatch FROM dispatch_settings WHERE id = 1"));
  Settings s;
  if (!r) return s;
  s.w = {double(r->i(0)), double(r->i(1)), double(r->i(2)), double(r->i(3)), double(r->i(4))};
  s.accept_seconds = r->i(5);
  s.accept_action = r->s(6);
  s.start_grace_seconds = r->i(7);
  s.start_action = r->s(8);
  s.max_redispatch = r->i(9);
  s.version = r->i(10);
  s.auto_dispatch = r->i(11) != 0;
  return s;
}

json settings_json(const Settings& s) {
  auto i = [](double v) { return static_cast<int64_t>(v); };
  return json{{"auto_dispatch", s.auto_dispatch},
              {"weights", {{"load", i(s.w.load)}, {"satisfaction", i(s.w.satisfaction)}, {"priority", i(s.w.priority)},
                           {"distance", i(s.w.distance)}, {"sla", i(s.w.sla)}}},
              {"accept_seconds", s.accept_seconds},
              {"accept_action", s.accept_action},
              {"start_grace_seconds", s.start_grace_seconds},
              {"start_action", s.start_action},
              {"max_redispatch", s.max_redispatch},
              {"version", s.version}};
}

Result<void> load_counters(Conn& c) {
  Index::Counters k;
  k.day = local_day(now_ms());
  std::string open = kOpenStates;
  for (const auto& r : TRY(c.query("SELECT outlet_unit_id, COUNT(*) FROM dispatch_assignments WHERE state IN " + open +
                                   " GROUP BY outlet_unit_id")))
    k.open_load[r.i(0)] = r.i(1);
  for (const auto& r : TRY(c.query("SELECT outlet_unit_id, order_type, COUNT(*) FROM dispatch_assignments WHERE day = ? "
                                   "AND state <> 'replaced' GROUP BY outlet_unit_id, order_type", {k.day})))
    k.used_today[r.i(0)][r.s(1)] = r.i(2);
  for (const auto& r : TRY(c.query("SELECT engineer_id, COUNT(*) FROM dispatch_assignments WHERE engineer_id > 0 AND "
                                   "state IN " + open + " GROUP BY engineer_id")))
    k.engineer_jobs[r.i(0)] = r.i(1);
  state().idx.set_counters(k);
  state().counters_at = now_ms();
  return {};
}

// Reloads the network when its revision moved (any process) and the
// counters every 30 s (assignments made by other processes).
Result<void> ensure_fresh(Conn& c, bool force_counters = false) {
  State& s = state();
  int64_t rev = TRY(network::revision(c));
  int64_t now = now_ms();
  bool counters_due = force_counters || now - s.counters_at.load() > 30'000 || local_day(now) != local_day(s.counters_at.load());
  if (rev == s.rev.load() && !counters_due) return {};
  std::lock_guard lk(s.reload_mu);
  if (rev != s.rev.load()) {
    auto outlets = TRY(network::load_outlets(c));
    auto engineers = TRY(network::load_engineers(c));
    s.idx.rebuild(outlets, engineers);
    s.rev = rev;
    s.status_seen = now;
  }
  return load_counters(c);
}

// What holds for the whole of one transaction of the dispatch job (up to 50
// orders on SQLite), so that it is read once per batch, not per order: the
// network and counters were checked fresh, and the product line names (for
// the reasons) cannot change while the transaction writes.
struct Batch {
  bool fresh = false;
  std::unordered_map<int64_t, std::string> line_names;
};

Result<OrderFacts> facts_of(Conn& c, const json& order, std::vector<int64_t> exclude, Batch* batch = nullptr) {
  OrderFacts f;
  f.order_id = int_of(order["id"]);
  f.order_type = str_of(order["type"]);
  f.product_line_id = int_of(order["product_line_id"]);
  const json& site = order["site"];
  if (site.is_object()) {
    f.county_code = str_of(site.value("county_code", json()));
    f.area_name = str_of(site.value("division_name", json()));
    if (site.contains("lat") && site.contains("lon") && site["lat"].is_number() && site["lon"].is_number())
      f.site = {site["lat"].get<double>(), site["lon"].get<double>(), true};
  }
  f.resolve_due_at = time_of(order["resolve_due_at"]);
  f.now = now_ms();
  f.exclude = std::move(exclude);
  if (f.product_line_id) {
    if (batch && batch->line_names.count(f.product_line_id)) {
      f.product_line_name = batch->line_names[f.product_line_id];
    } else {
      auto r = TRY(c.one("SELECT name FROM product_lines WHERE id = ?", {f.product_line_id}));
      if (r) f.product_line_name = r->s(0);
      if (batch) batch->line_names[f.product_line_id] = f.product_line_name;
    }
  }
  return f;
}

// Outlets that already had the order (for re-dispatch to the next one);
// *open tells whether it has an open assignment now (the one statement also
// saves do_assign looking for one to close).
Result<std::vector<int64_t>> had_order(Conn& c, int64_t order_id, bool* open = nullptr) {
  std::vector<int64_t> out;
  if (open) *open = false;
  for (const auto& r : TRY(c.query("SELECT outlet_unit_id, state FROM dispatch_assignments WHERE order_id = ?", {order_id}))) {
    const std::string st = r.s(1);
    if (st == "replaced" && std::find(out.begin(), out.end(), r.i(0)) == out.end()) out.push_back(r.i(0));
    if (open && (st == "open" || st == "accepted" || st == "started")) *open = true;
  }
  return out;
}

// Live events of a transaction, sent after it commits. Each names the org
// paths the order had (before and after a reassignment), so that a client
// only hears of orders in its data scope (EventHub).
struct Published {
  struct Event {
    json data;
    std::vector<std::string> scopes;
  };
  std::vector<Event> events;
  void add(std::string kind, int64_t order_id, std::vector<std::string> scopes) {
    events.push_back({json{{"kind", std::move(kind)}, {"order_id", order_id}}, std::move(scopes)});
  }
  void add(std::string kind, const json& order) { add(std::move(kind), int_of(order["id"]), {str_of(order["org_path"])}); }
  void assigned(const json& before, const json& after) {
    std::vector<std::string> paths{str_of(before["org_path"])};
    if (str_of(after["org_path"]) != paths[0]) paths.push_back(str_of(after["org_path"]));
    add("assignment", int_of(before["id"]), std::move(paths));
  }
};

void publish(api::Platform& p, const Published& pub) {
  if (!p.events) return;
  for (const auto& e : pub.events) p.events->publish("dispatch", e.data, e.scopes);
}

// The queue row of an order: created or put back to pending.
Result<void> enqueue(Conn& c, const json& order, std::string_view why) {
  int64_t id = int_of(order["id"]);
  int64_t now = now_ms();
  auto row = TRY(c.one("SELECT id FROM dispatch_queue WHERE order_id = ?", {id}));
  store::Params common{order["org_path"].get<std::string>(), str_of(order["number"]), str_of(order["type"]),
                       int_of(order["product_line_id"]),
                       order["site"].is_object() ? str_of(order["site"].value("county_code", json())) : std::string(),
                       str_of(order["priority"]), time_of(order["resolve_due_at"]), str_of(order["customer_name"])};
  if (row) {
    store::Params ps = common;
    ps.insert(ps.end(), {std::string(why), now, id});
    TRY(c.exec("UPDATE dispatch_queue SET state = 'pending', org_path = ?, order_number = ?, order_type = ?, "
               "product_line_id = ?, county_code = ?, priority = ?, resolve_due_at = ?, customer_name = ?, "
               "trigger_kind = ?, reason_code = NULL, reason = NULL, reason_zh = NULL, attempts = 0, next_at = 0, "
               "version = version + 1, updated_at = ? WHERE order_id = ?", ps));
  } else {
    store::Params ps{id};
    ps.insert(ps.end(), common.begin(), common.end());
    ps.insert(ps.end(), {std::string(why), now, now});
    TRY(c.exec("INSERT INTO dispatch_queue (order_id, org_path, order_number, order_type, product_line_id, county_code, "
               "priority, resolve_due_at, customer_name, trigger_kind, state, attempts, next_at, version, created_at, updated_at) "
               "VALUES (?,?,?,?,?,?,?,?,?,?,'pending',0,0,1,?,?)", ps));
  }
  return {};
}

// Closes the order's open assignment (reassignment, rejection, completion).
Result<void> close_open(Conn& c, int64_t order_id, const std::string& to_state) {
  auto open = TRY(c.query(std::string("SELECT id, outlet_unit_id, engineer_id FROM dispatch_assignments WHERE order_id = ? "
                                      "AND state IN ") + kOpenStates, {order_id}));
  for (const auto& r : open) {
    TRY(c.exec("UPDATE dispatch_assignments SET state = ?, closed_at = ?, version = version + 1, updated_at = ? WHERE id = ?",
               {to_state, now_ms(), now_ms(), r.i(0)}));
    state().idx.count_release(r.i(1), r.i(2));
  }
  return {};
}

struct AssignArgs {
  int64_t unit_id = 0, engineer_id = 0;
  std::string mode;  // auto, manual, redispatch
  json decision;
  bool none_open = false;  // the caller knows the order has no open assignment to close
};

// What the order itself keeps of a decision (on the order and in its
// timeline): the reason and the ranked candidates with their scores. The
// full figures of every candidate stay with the assignment
// (GET /api/v1/dispatch/orders/{id}); the order is re-read several times per
// dispatch, so its copy is kept small (the hot path of auto-dispatch).
json order_decision(const json& full) {
  json out = json::object();
  for (const auto& [k, v] : full.items())
    if (k != "candidates") out[k] = v;
  json list = json::array();
  if (full.contains("candidates"))
    for (const auto& c : full["candidates"]) {
      if (list.size() >= 5) break;
      list.push_back(json{{"unit_id", c["unit_id"]}, {"name", c["name"]}, {"score", c["score"]},
                          {"eligible", c["eligible"]}, {"failed", c["failed"]}});
    }
  out["candidates"] = std::move(list);
  return out;
}

// Records the assignment and hands it to the orders module, in tx.
Result<json> do_assign(api::WriteTx& tx, const json& order, const AssignArgs& a, const Settings& st, Published& pub) {
  Conn& c = tx.db;
  int64_t order_id = int_of(order["id"]);
  if (!a.none_open) TRY_VOID(close_open(c, order_id, "replaced"));
  json after = TRY(orders::assign(tx, order_id, a.unit_id, a.engineer_id, order_decision(a.decision), &order));
  int64_t now = now_ms();
  std::string path = after["org_path"].get<std::string>();  // assign moved the order to the unit's path
  int64_t planned = time_of(order["expected_at"]);
  int64_t accept_due = st.accept_seconds > 0 ? now + st.accept_seconds * 1000 : 0;
  std::string type = str_of(order["type"]);
  int64_t day = local_day(now);
  auto row = TRY(c.one(
      "INSERT INTO dispatch_assignments (org_path, order_id, order_number, order_type, product_line_id, county_code, "
      "outlet_unit_id, engineer_id, mode, day, assigned_at, by_user_id, state, accept_due_at, planned_start_at, "
      "resolve_due_at, escalated, decision_json, node, version, created_at, updated_at) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'open',?,?,?,0,?,?,1,?,?) RETURNING id",
      {path, order_id, str_of(order["number"]), type, int_of(order["product_line_id"]),
       order["site"].is_object() ? str_of(order["site"].value("county_code", json())) : std::string(), a.unit_id,
       a.engineer_id, a.mode, day, now, tx.who() ? store::Value(tx.who()->user_id) : store::Value(), accept_due, planned,
       time_of(order["resolve_due_at"]), a.decision.dump(), node_name(), now, now}));
  int64_t aid = row->i(0);
  TRY(c.exec("UPDATE dispatch_queue SET state = 'assigned', version = version + 1, updated_at = ? WHERE order_id = ?",
             {now, order_id}));
  json rec{{"id", aid}, {"order_id", order_id}, {"outlet_unit_id", a.unit_id},
           {"engineer_id", a.engineer_id ? json(a.engineer_id) : json(nullptr)}, {"mode", a.mode},
           {"accept_due_at", jtime(accept_due)}};
  TRY_VOID(tx.audit("dispatch_assignment", aid, "create", nullptr, rec, path));
  state().idx.count_assignment(a.unit_id, a.engineer_id, type, day);
  pub.assigned(order, after);
  return after;
}

// Sends the order to the manual queue with the reason, in tx.
Result<void> to_manual(api::WriteTx& tx, int64_t order_id, const std::string& code, const std::string& reason,
                       const std::string& reason_zh, const json& detail, Published& pub) {
  int64_t now = now_ms();
  auto n = TRY(tx.db.exec("UPDATE dispatch_queue SET state = 'manual', reason_code = ?, reason = ?, reason_zh = ?, "
                          "version = version + 1, updated_at = ? WHERE order_id = ?",
                          {code, reason, reason_zh, now, order_id}));
  if (n == 0) return Error::internal("order " + std::to_string(order_id) + " is not queued");
  json d = detail;
  d["reason_code"] = code;
  d["reason"] = reason;
  d["reason_zh"] = reason_zh;
  TRY_VOID(orders::add_timeline(tx, order_id, "dispatch.manual", d));
  auto q = TRY(tx.db.one("SELECT id, org_path FROM dispatch_queue WHERE order_id = ?", {order_id}));
  TRY_VOID(tx.audit("dispatch_queue", q->i(0), "manual", nullptr, d, q->s(1)));
  pub.add("queue", order_id, {q->s(1)});
  return {};
}

// Decides and assigns (auto / redispatch); false when the order went to the
// manual queue.
Result<bool> auto_assign(api::WriteTx& tx, const json& order, std::vector<int64_t> exclude, const std::string& mode,
                         const Settings& st, Published& pub, json extra = json::object(), Batch* batch = nullptr,
                         bool none_open = false) {
  Conn& c = tx.db;
  int64_t order_id = int_of(order["id"]);
  if (!batch || !batch->fresh) TRY_VOID(ensure_fresh(c));
  if (batch) batch->fresh = true;
  OrderFacts f = TRY(facts_of(c, order, std::move(exclude), batch));
  if (f.county_code.empty()) {
    TRY_VOID(to_manual(tx, order_id, "no_site", "the order has no site county code to match service areas",
                       "工单没有服务地址的区县代码,无法匹配服务区域", extra, pub));
    return false;
  }
  if (!f.product_line_id) {
    TRY_VOID(to_manual(tx, order_id, "no_product_line", "the order has no product line to match authorisations",
                       "工单没有产品线,无法匹配网点授权", extra, pub));
    return false;
  }
  for (int attempt = 0; attempt < 4; ++attempt) {
    Decision d = state().idx.decide(f, st.w);
    if (!d.chosen) {
      json detail = extra;
      detail["candidates"] = d.to_json(10)["candidates"];
      TRY_VOID(to_manual(tx, order_id, d.reason_code, d.reason, d.reason_zh, detail, pub));
      return false;
    }
    const Candidate& cand = d.candidates[*d.chosen];
    // PostgreSQL: the index may lag the other servers, so count today's
    // orders in the database, with the outlet row locked so two servers
    // cannot both take the last slot. SQLite has one server process and one
    // writer: every assignment is counted in this index as it is made (and
    // the counts are re-read after a rollback), so the index never counts
    // fewer than the database and its capacity filter is enough.
    if (c.dialect() == store::Dialect::postgres) {
      TRY_VOID(network::lock_outlet(c, cand.unit_id));
      auto used = TRY(c.one("SELECT COUNT(*) FROM dispatch_assignments WHERE outlet_unit_id = ? AND day = ? AND "
                            "order_type = ? AND state <> 'replaced'", {cand.unit_id, local_day(f.now), f.order_type}));
      if (used->i(0) >= cand.capacity_today) {
        TRY_VOID(load_counters(c));
        continue;
      }
    }
    AssignArgs a;
    a.unit_id = cand.unit_id;
    a.engineer_id = cand.auto_engineer && cand.engineer ? cand.engineer->user_id : 0;
    a.mode = mode;
    a.decision = d.to_json(10);
    a.decision["mode"] = mode;
    a.decision["at"] = iso_utc(f.now);
    a.decision["engineer_id"] = a.engineer_id ? json(a.engineer_id) : json(nullptr);
    for (auto& [k, v] : extra.items()) a.decision[k] = v;
    a.none_open = none_open;
    TRY(do_assign(tx, order, a, st, pub));
    return true;
  }
  TRY_VOID(to_manual(tx, order_id, "capacity", "capacity kept running out while dispatching", "派单时产能不足", extra, pub));
  return false;
}

// ---- the background job ------------------------------------------------------

// Claims and dispatches up to `batch` pending queue rows in one transaction
// (one commit, one fsync on SQLite, for the lot); returns how many, 0 when
// none is pending, -1 when the transaction failed (then nothing of it
// stays). With batch 1 a failing order is put back with a back-off, and
// after 5 failures goes to the manual queue.
int dispatch_next(api::Platform& p, int batch) {
  Published pub;
  int64_t claimed = 0;
  int done = 0;
  auto r = api::write_as(p, nullptr, [&](api::WriteTx& tx) -> Result<json> {
    Conn& c = tx.db;
    Settings s = TRY(load_settings(c));
    if (!s.auto_dispatch) return json(0);
    Batch b;
    // The batch's rows in one read (SQLite: one writer, nobody else takes
    // them meanwhile; PostgreSQL: batch is 1, the row locked and skipped by
    // the other servers).
    auto rows = TRY(c.query("SELECT id, order_id FROM dispatch_queue WHERE state = 'pending' AND next_at <= ? ORDER BY id "
                            "LIMIT ?" + store::skip_locked(c), {now_ms(), int64_t{batch}}));
    for (done = 0; done < static_cast<int>(rows.size());) {
      const store::Row* row = &rows[static_cast<size_t>(done)];
      claimed = row->i(1);
      ++done;
      auto order = TRY(orders::find(c, claimed));
      std::string st = order ? str_of((*order)["state"]) : "";
      bool direct = order && st == "created" && kDirectTypes.count(str_of((*order)["type"]));
      if (!order || (st != "audited" && st != "reopened" && !direct)) {
        // Dispatched by hand meanwhile, cancelled, ...: nothing to do.
        TRY(c.exec("UPDATE dispatch_queue SET state = 'done', updated_at = ? WHERE id = ?", {now_ms(), row->i(0)}));
        continue;
      }
      bool open = false;
      auto exclude = TRY(had_order(c, claimed, &open));
      TRY(auto_assign(tx, *order, exclude, "auto", s, pub, json::object(), &b, !open));
    }
    return json(done);
  });
  if (!r) {
    // The index counted assignments that rolled back: re-read them.
    state().counters_at = 0;
    if (batch > 1) return -1;
    spdlog::warn("dispatch: order {}: {}", claimed, r.error().message);
    if (claimed) {
      pub = {};  // what the failed transaction would have told is void
      auto w = api::write_as(p, nullptr, [&](api::WriteTx& tx) -> Result<json> {
        auto q = TRY(tx.db.one("SELECT attempts, org_path FROM dispatch_queue WHERE order_id = ?", {claimed}));
        if (!q) return json(nullptr);
        int64_t attempts = q->i(0) + 1;
        if (attempts >= 5) {
          TRY_VOID(to_manual(tx, claimed, "error", "auto-dispatch failed: " + r.error().message,
                             "自动派单失败:" + r.error().message, json::object(), pub));
        } else {
          pub.add("queue", claimed, {q->s(1)});
          TRY(tx.db.exec("UPDATE dispatch_queue SET attempts = ?, next_at = ? WHERE order_id = ?",
                         {attempts, now_ms() + attempts * 2000, claimed}));
        }
        return json(nullptr);
      });
      if (!w) spdlog::warn("dispatch: order {}: {}", claimed, w.error().message);
      else publish(p, pub);
    }
    return -1;
  }
  publish(p, pub);
  return r->get<int>();
}

// One follow-up rule on one assignment; false when none is due.
bool follow_up_next(api::Platform& p, bool acceptance) {
  Published pub;
  int64_t order_id = 0;
  auto r = api::write_as(p, nullptr, [&](api::WriteTx& tx) -> Result<json> {
    Conn& c = tx.db;
    Settings s = TRY(load_settings(c));
    int64_t now = now_ms();
    std::string action = acceptance ? s.accept_action : s.start_action;
    if (action == "none") return json(false);
    std::optional<store::Row> row;
    if (acceptance) {
      row = TRY(c.one("SELECT id, order_id, outlet_unit_id, engineer_id, assigned_at FROM dispatch_assignments WHERE "
                      "state = 'open' AND accept_due_at > 0 AND accept_due_at <= ? ORDER BY accept_due_at LIMIT 1" +
                      store::skip_locked(c), {now}));
    } else {
      row = TRY(c.one("SELECT id, order_id, outlet_unit_id, engineer_id, assigned_at FROM dispatch_assignments WHERE "
                      "state IN ('open','accepted') AND escalated = 0 AND planned_start_at > 0 AND planned_start_at <= ? "
                      "ORDER BY planned_start_at LIMIT 1" + store::skip_locked(c), {now - s.start_grace_seconds * 1000}));
    }
    if (!row) return json(false);
    int64_t aid = row->i(0);
    order_id = row->i(1);
    int64_t unit = row->i(2);
    // This rule fires once per assignment.
    TRY(c.exec(acceptance ? "UPDATE dispatch_assignments SET accept_due_at = 0, updated_at = ? WHERE id = ?"
                          : "UPDATE dispatch_assignments SET escalated = 1, updated_at = ? WHERE id = ?", {now, aid}));
    auto order = TRY(orders::find(c, order_id));
    if (!order) return json(true);
    std::string st = str_of((*order)["state"]);
    if (acceptance && st != "dispatched") return json(true);  // accepted meanwhile
    std::string why = acceptance ? "not accepted within " + std::to_string(s.accept_seconds / 60) + " min" +
                                       (s.accept_seconds % 60 ? " " + std::to_string(s.accept_seconds % 60) + " s" : "")
                                 : "not started by the planned time";
    std::string why_zh = acceptance ? "超时未接单" : "超过计划时间未开工";
    json detail{{"assignment_id", aid}, {"outlet_unit_id", unit}, {"rule", acceptance ? "accept_timeout" : "start_timeout"},
                {"reason", why}, {"reason_zh", why_zh}};
    if (action == "escalate" || action == "both") {
      TRY(c.exec("UPDATE dispatch_assignments SET escalated = 1 WHERE id = ?", {aid}));
      TRY_VOID(orders::add_timeline(tx, order_id, "dispatch.escalated", detail));
      TRY_VOID(tx.audit("dispatch_assignment", aid, "escalate", nullptr, detail, (*order)["org_path"].get<std::string>()));
      pub.add("escalated", *order);
    }
    if ((action == "redispatch" || action == "both") && st != "on_site") {
      auto n = TRY(c.one("SELECT COUNT(*) FROM dispatch_assignments WHERE order_id = ?", {order_id}));
      if (n->i(0) > s.max_redispatch) {
        json d = detail;
        d["redispatches"] = n->i(0) - 1;
        TRY_VOID(orders::add_timeline(tx, order_id, "dispatch.redispatch_limit", d));
        pub.add("escalated", *order);
        return json(true);
      }
      TRY_VOID(orders::add_timeline(tx, order_id, "dispatch.redispatch", detail));
      // Everyone who had the order so far, this outlet included.
      auto exclude = TRY(had_order(c, order_id));
      exclude.push_back(unit);
      auto q = TRY(c.one("SELECT id FROM dispatch_queue WHERE order_id = ?", {order_id}));
      if (!q) TRY_VOID(enqueue(c, *order, "redispatch"));
      json extra{{"redispatch_of", aid}, {"previous_unit_id", unit}, {"rule", detail["rule"]}};
      bool assigned = TRY(auto_assign(tx, *order, exclude, "redispatch", s, pub, extra));
      if (!assigned) {
        // Nobody else qualifies: the order stays with the outlet, a person decides.
        TRY(c.exec("UPDATE dispatch_assignments SET escalated = 1 WHERE id = ?", {aid}));
      }
    }
    return json(true);
  });
  if (!r) {
    spdlog::warn("dispatch follow-up on order {}: {}", order_id, r.error().message);
    return false;
  }
  publish(p, pub);
  return r->get<bool>();
}

void sync_statuses(api::Platform& p) {
  State& s = state();
  int64_t since = s.status_seen.load() - 5000;  // overlap: clocks of several servers
  auto r = p.db.read_as([&](Conn& c) -> Result<bool> {
    TRY_VOID(ensure_fresh(c));
    for (const auto& [user, status] : TRY(network::status_changes_since(c, since))) s.idx.set_engineer_status(user, status);
    for (const auto& [unit, sat] : TRY(network::satisfaction_changes_since(c, since))) s.idx.set_outlet_satisfaction(unit, sat);
    return true;
  });
  if (!r) spdlog::warn("dispatch: refreshing the network: {}", r.error().message);
  else s.status_seen = now_ms();
}

}  // namespace

int64_t run_pending(api::Platform& p, int64_t max_batches) {
  // SQLite: batches of 50 per transaction (one fsync for the lot); a failing
  // batch is redone one order at a time so one bad order cannot hold up the
  // rest. PostgreSQL: one order per transaction, so two servers locking
  // outlet rows in different orders cannot deadlock.
  const int batch = p.db.dialect() == store::Dialect::sqlite ? 50 : 1;
  int64_t taken = 0;
  for (int64_t i = 0; i < max_batches && !(p.scheduler && p.scheduler->stopping()); ++i) {
    int n = dispatch_next(p, batch);
    if (n == 0) break;
    if (n > 0) taken += n;
    if (n < 0 && batch > 1)
      for (int k = 0; k < batch && !(p.scheduler && p.scheduler->stopping()); ++k) {
        int one = dispatch_next(p, 1);
        if (one == 0) break;
        if (one > 0) taken += one;
      }
  }
  return taken;
}

namespace {

void run_tick(api::Platform& p) {
  sync_statuses(p);
  run_pending(p, 5000);
  for (bool acceptance : {true, false})
    for (int i = 0; i < 500 && !(p.scheduler && p.scheduler->stopping()); ++i)
      if (!follow_up_next(p, acceptance)) break;
}

// ---- domain events -------------------------------------------------------------

Result<void> on_order(api::Platform& p, api::WriteTx& tx, std::string_view type, const json& o) {
  Conn& c = tx.db;
  int64_t id = int_of(o["id"]);
  if (type == "order.created") {
    if (str_of(o["state"]) == "audited" ||
        (str_of(o["state"]) == "created" && kDirectTypes.count(str_of(o["type"])))) {
      TRY_VOID(enqueue(c, o, "created"));
      if (p.scheduler) p.scheduler->poke();
    }
    return {};
  }
  std::string to = str_of(o["to"]);
  std::string action = str_of(o["action"]);
  if (to == "audited" || to == "reopened") {
    // A rejected order (退单) goes back to the queue without the outlet that rejected it.
    TRY_VOID(close_open(c, id, "replaced"));
    TRY_VOID(enqueue(c, o, action.empty() ? to : action));
    if (p.scheduler) p.scheduler->poke();
  } else if (to == "accepted") {
    TRY(c.exec("UPDATE dispatch_assignments SET state = 'accepted', accepted_at = ?, updated_at = ? WHERE order_id = ? "
               "AND state = 'open'", {now_ms(), now_ms(), id}));
  } else if (to == "on_site") {
    TRY(c.exec("UPDATE dispatch_assignments SET state = 'started', updated_at = ? WHERE order_id = ? AND state IN "
               "('open','accepted')", {now_ms(), id}));
  } else if (to == "completed" || to == "closed" || to == "cancelled" || to == "revisited") {
    TRY_VOID(close_open(c, id, "closed"));
    TRY(c.exec("UPDATE dispatch_queue SET state = 'done', updated_at = ? WHERE order_id = ? AND state IN ('pending','manual')",
               {now_ms(), id}));
  }
  return {};
}

// ---- routes ----------------------------------------------------------------------

Result<json> order_in_scope(Conn& c, const http::Principal& who, int64_t id) {
  auto o = TRY(orders::find(c, id));
  if (!o || !who.reaches((*o)["org_path"].get<std::string>())) return api::not_found("service order", id);
  return std::move(*o);
}

json queue_json(const store::Row& r) {
  return json{{"id", r.i(0)}, {"order_id", r.i(1)}, {"order_number", r.s(2)}, {"order_type", r.s(3)},
              {"product_line_id", r.i(4)}, {"county_code", r.s(5)}, {"priority", r.s(6)},
              {"resolve_due_at", jtime(r.i(7))}, {"customer_name", r.s(8)}, {"state", r.s(9)},
              {"reason_code", r.null(10) ? json(nullptr) : json(r.s(10))}, {"reason", r.null(11) ? json(nullptr) : json(r.s(11))},
              {"reason_zh", r.null(12) ? json(nullptr) : json(r.s(12))}, {"trigger", r.s(13)},
              {"created_at", jtime(r.i(14))}, {"updated_at", jtime(r.i(15))}};
}
constexpr const char* kQueueCols =
    "q.id, q.order_id, q.order_number, q.order_type, q.product_line_id, q.county_code, q.priority, q.resolve_due_at, "
    "q.customer_name, q.state, q.reason_code, q.reason, q.reason_zh, q.trigger_kind, q.created_at, q.updated_at";

json assignment_json(const store::Row& r) {
  json d = json::parse(r.s(15), nullptr, false);
  return json{{"id", r.i(0)}, {"order_id", r.i(1)}, {"order_number", r.s(2)}, {"order_type", r.s(3)},
              {"product_line_id", r.i(4)}, {"county_code", r.s(5)}, {"outlet_unit_id", r.i(6)},
              {"outlet_name", r.s(16)}, {"engineer_id", r.i(7) ? json(r.i(7)) : json(nullptr)},
              {"engineer_name", r.null(17) ? json(nullptr) : json(r.s(17))}, {"mode", r.s(8)},
              {"assigned_at", jtime(r.i(9))}, {"state", r.s(10)}, {"accept_due_at", jtime(r.i(11))},
              {"planned_start_at", jtime(r.i(12))}, {"resolve_due_at", jtime(r.i(13))}, {"escalated", r.i(14) != 0},
              {"decision", d.is_discarded() ? json(nullptr) : d}};
}
constexpr const char* kAssignCols =
    "a.id, a.order_id, a.order_number, a.order_type, a.product_line_id, a.county_code, a.outlet_unit_id, a.engineer_id, "
    "a.mode, a.assigned_at, a.state, a.accept_due_at, a.planned_start_at, a.resolve_due_at, a.escalated, a.decision_json, "
    "u.name, e.display_name FROM dispatch_assignments a JOIN org_units u ON u.id = a.outlet_unit_id LEFT JOIN users e "
    "ON e.id = a.engineer_id";

Result<std::optional<std::string>> area_param(const Request& req) {
  auto v = req.q("area");
  if (!v || v->empty()) return std::optional<std::string>();
  if (v->size() != 6 || !std::all_of(v->begin(), v->end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return Error::invalid("area must be a 6-digit division code", "area");
  // The code's prefix: "370000" -> "37", "370100" -> "3701".
  std::string p = *v;
  while (p.size() > 2 && p.substr(p.size() - 2) == "00") p.resize(p.size() - 2);
  return std::optional<std::string>(p);
}
Result<int64_t> line_param(const Request& req) {
  auto v = req.q("product_line_id");
  if (!v || v->empty()) return int64_t{0};
  if (v->size() > 18 || !std::all_of(v->begin(), v->end(), [](char ch) { return ch >= '0' && ch <= '9'; }) ||
      std::stoll(*v) <= 0)
    return Error::invalid("product_line_id must be a positive integer", "product_line_id");
  return std::stoll(*v);
}

// A manual assignment of one order, validated; field names carry `prefix`.
Result<json> manual_assign(api::WriteTx& tx, const json& item, const std::string& prefix, Published& pub) {
  const auto& who = *tx.who();
  Conn& c = tx.db;
  Input in(item, prefix);
  int64_t order_id = TRY(in.integer("order_id", 1));
  int64_t unit_id = TRY(in.integer("unit_id", 1));
  int64_t engineer_id = TRY(in.opt_integer("engineer_id", 1)).value_or(0);
  auto remark = TRY(in.opt_str("remark", 200));
  json order = TRY(order_in_scope(c, who, order_id));
  if (item.contains("version")) {
    if (!item["version"].is_number_integer()) return Error::invalid(in.field("version") + " must be an integer", in.field("version"));
    if (item["version"].get<int64_t>() != order["version"].get<int64_t>())
      return Error::conflict("service order " + std::to_string(order_id) + " was changed meanwhile", in.field("version"));
  }
  std::string st = str_of(order["state"]);
  if (!kAssignable.count(st) && !(st == "created" && kDirectTypes.count(str_of(order["type"]))))
    return Error::conflict("a " + st + " order cannot be dispatched", in.field("order_id"));
  auto unit = TRY(c.one("SELECT id, path, type, active FROM org_units WHERE id = ?", {unit_id}));
  if (!unit || !who.reaches(unit->s(1)) || unit->s(2) != "provider")
    return Error::invalid(in.field("unit_id") + ": " + std::to_string(unit_id) + " is not a service outlet you can dispatch to",
                          in.field("unit_id"));
  auto outlet_active = TRY(network::outlet_active(c, unit_id));
  if (unit->i(3) == 0 || outlet_active == false)
    return Error::conflict("outlet " + std::to_string(unit_id) + " is suspended", in.field("unit_id"));
  if (engineer_id) {
    auto e = TRY(c.one("SELECT u.id FROM users u WHERE u.id = ? AND u.org_unit_id = ? AND u.active = 1 AND EXISTS "
                       "(SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role_code = 'engineer')",
                       {engineer_id, unit_id}));
    if (!e)
      return Error::invalid(in.field("engineer_id") + ": " + std::to_string(engineer_id) + " is not an engineer of outlet " +
                                std::to_string(unit_id), in.field("engineer_id"));
  }
  Settings s = TRY(load_settings(c));
  TRY_VOID(ensure_fresh(c));
  OrderFacts f = TRY(facts_of(c, order, {}));
  json decision{{"mode", "manual"}, {"at", iso_utc(now_ms())}, {"by_user_id", who.user_id}, {"by", who.display_name},
                {"remark", remark ? json(*remark) : json(nullptr)}, {"engineer_id", engineer_id ? json(engineer_id) : json(nullptr)},
                {"chosen_unit_id", unit_id}};
  if (auto cand = state().idx.evaluate(f, s.w, unit_id)) {
    Decision one;
    one.candidates.push_back(*cand);
    decision["candidates"] = one.to_json(1)["candidates"];
    if (!cand->eligible()) decision["override"] = filter_name(cand->failed);
  }
  decision["reason"] = remark ? *remark : std::string("manual dispatch by ") + who.display_name;
  decision["reason_zh"] = remark ? *remark : "人工派单:" + who.display_name;
  AssignArgs a{unit_id, engineer_id, "manual", decision};
  return do_assign(tx, order, a, s, pub);
}

void routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/dispatch/settings", [&p](Request&) {
    return api::read(p, [&](Conn& c) -> Result<Response> { return Response::make_json(settings_json(TRY(load_settings(c)))); });
  }, {.summary = "Dispatch weights and follow-up rules", .tag = "dispatch", .permission = "network.read"});

  r.put("/api/v1/dispatch/settings", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      Settings before = TRY(load_settings(tx.db));
      int64_t version = TRY(api::expected_version(req, *body));
      Settings s = before;
      Input in(*body);
      if (body->contains("weights")) {
        const json& w = (*body)["weights"];
        if (!w.is_object()) return Error::invalid("weights must be an object", "weights");
        Input wi(w, "weights");
        for (auto [name, target] : {std::pair{"load", &s.w.load}, std::pair{"satisfaction", &s.w.satisfaction},
                                    std::pair{"priority", &s.w.priority}, std::pair{"distance", &s.w.distance},
                                    std::pair{"sla", &s.w.sla}})
          if (wi.has(name)) *target = double(TRY(wi.integer(name, 0, 100)));
        if (s.w.load + s.w.satisfaction + s.w.priority + s.w.distance + s.w.sla <= 0)
          return Error::invalid("at least one weight must be above 0", "weights");
      }
      if (in.has("accept_seconds")) s.accept_seconds = TRY(in.integer("accept_seconds", 0, 7 * 86400));
      if (in.has("accept_action")) s.accept_action = TRY(in.one_of("accept_action", kActions));
      if (in.has("start_grace_seconds")) s.start_grace_seconds = TRY(in.integer("start_grace_seconds", 0, 7 * 86400));
      if (in.has("start_action")) s.start_action = TRY(in.one_of("start_action", kActions));
      if (in.has("max_redispatch")) s.max_redispatch = TRY(in.integer("max_redispatch", 0, 20));
      if (in.has("auto_dispatch")) s.auto_dispatch = TRY(in.boolean("auto_dispatch"));
      auto n = TRY(tx.db.exec(
          "UPDATE dispatch_settings SET w_load = ?, w_satisfaction = ?, w_priority = ?, w_distance = ?, w_sla = ?, "
          "accept_seconds = ?, accept_action = ?, start_grace_seconds = ?, start_action = ?, max_redispatch = ?, "
          "auto_dispatch = ?, version = version + 1, updated_at = ? WHERE id = 1 AND version = ?",
          {int64_t(s.w.load), int64_t(s.w.satisfaction), int64_t(s.w.priority), int64_t(s.w.distance), int64_t(s.w.sla),
           s.accept_seconds, s.accept_action, s.start_grace_seconds, s.start_action, s.max_redispatch,
           int64_t(s.auto_dispatch), now_ms(), version}));
      if (n == 0)
        return Error::conflict("dispatch settings were changed by someone else (version " + std::to_string(before.version) + ")",
                               "version");
      Settings after = TRY(load_settings(tx.db));
      auto root = TRY(tx.db.one("SELECT path FROM org_units WHERE parent_id IS NULL ORDER BY id LIMIT 1"));
      TRY_VOID(tx.audit("dispatch_settings", 1, "update", settings_json(before), settings_json(after), root ? root->s(0) : ""));
      return Response::make_json(settings_json(after));
    });
  }, {.summary = "Set dispatch weights (0..100 each) and follow-up rules (send the version you read)", .tag = "dispatch",
      .permission = "network.write",
      .request_schema = api::schema_object({{"weights", "object"}, {"accept_seconds", "integer"}, {"accept_action", "string"},
                                            {"start_grace_seconds", "integer"}, {"start_action", "string"},
                                            {"max_redispatch", "integer"}, {"auto_dispatch", "boolean"},
                                            {"version", "integer"}})});

  r.get("/api/v1/dispatch/queue", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req, 100, 500));
      std::string sql = std::string("SELECT ") + kQueueCols + " FROM dispatch_queue q WHERE q.org_path LIKE ? AND q.id > ?";
      store::Params ps{req.principal->org_path + "%", pg.after_id};
      std::string st = req.q("state").value_or("open");
      if (st == "open") sql += " AND q.state IN ('pending','manual')";
      else if (st == "pending" || st == "manual" || st == "assigned" || st == "done") { sql += " AND q.state = ?"; ps.push_back(st); }
      else if (st != "all") return Error::invalid("state must be one of open, pending, manual, assigned, done, all", "state");
      if (auto a = TRY(area_param(req))) { sql += " AND instr(q.county_code, ?) = 1"; ps.push_back(*a); }
      if (int64_t l = TRY(line_param(req))) { sql += " AND q.product_line_id = ?"; ps.push_back(l); }
      sql += " ORDER BY q.id LIMIT ?";
      ps.push_back(pg.limit + 1);
      json items = json::array();
      for (const auto& row : TRY(c.query(sql, ps))) items.push_back(queue_json(row));
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "Orders waiting for dispatch (pending auto-dispatch, or manual with the reason)", .tag = "dispatch",
      .permission = "order.dispatch", .query_params = {"limit", "cursor", "state", "area", "product_line_id"}});

  r.get("/api/v1/dispatch/orders/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json order = TRY(order_in_scope(c, *req.principal, id));
      auto q = TRY(c.one(std::string("SELECT ") + kQueueCols + " FROM dispatch_queue q WHERE q.order_id = ?", {id}));
      json list = json::array();
      for (const auto& row : TRY(c.query(std::string("SELECT ") + kAssignCols + " WHERE a.order_id = ? ORDER BY a.id", {id})))
        list.push_back(assignment_json(row));
      return Response::make_json(json{{"order_id", id}, {"state", order["state"]}, {"queue", q ? queue_json(*q) : json(nullptr)},
                                      {"assignments", list}});
    });
  }, {.summary = "An order's dispatch history: queue entry and every assignment with its decision", .tag = "dispatch",
      .permission = "order.read"});

  r.get("/api/v1/dispatch/orders/{id}/candidates", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      json order = TRY(order_in_scope(c, *req.principal, id));
      TRY_VOID(ensure_fresh(c));
      Settings s = TRY(load_settings(c));
      OrderFacts f = TRY(facts_of(c, order, {}));
      Decision d = state().idx.decide(f, s.w, true);
      json out = d.to_json(500);
      // Only outlets the caller may dispatch to.
      json mine = json::array();
      for (auto& cnd : out["candidates"]) {
        auto u = TRY(c.one("SELECT path FROM org_units WHERE id = ?", {cnd["unit_id"].get<int64_t>()}));
        if (u && req.principal->reaches(u->s(0))) mine.push_back(cnd);
      }
      out["candidates"] = mine;
      out["order"] = json{{"id", id}, {"number", order["number"]}, {"type", order["type"]}, {"state", order["state"]},
                          {"product_line_id", order["product_line_id"]}, {"county_code", f.county_code},
                          {"area_name", f.area_name}, {"resolve_due_at", order["resolve_due_at"]}, {"version", order["version"]}};
      return Response::make_json(out);
    });
  }, {.summary = "Every candidate outlet for an order with area match, capacity and load, satisfaction, priority, "
                 "distance, score and best engineer", .tag = "dispatch", .permission = "order.dispatch"});

  r.post("/api/v1/dispatch/orders/{id}/assign", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    Published pub;
    auto resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      json item = *body;
      item["order_id"] = TRY(api::path_id(req));
      json after = TRY(manual_assign(tx, item, "", pub));
      return Response::make_json(after);
    });
    if (resp.status < 300) publish(p, pub);
    return resp;
  }, {.summary = "Assign or reassign an order to an outlet and optionally an engineer", .tag = "dispatch",
      .permission = "order.dispatch",
      .request_schema = api::schema_object({{"unit_id", "integer"}, {"engineer_id", "integer"}, {"remark", "string"},
                                            {"version", "integer"}}, {"unit_id"})});

  r.post("/api/v1/dispatch/assign-bulk", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    Published pub;
    auto resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      if (!body->contains("items") || !(*body)["items"].is_array() || (*body)["items"].empty())
        return Error::invalid("items must be a non-empty array of {order_id, unit_id, engineer_id}", "items");
      const json& items = (*body)["items"];
      if (items.size() > 200) return Error::invalid("items has more than 200 entries", "items");
      std::set<int64_t> seen;
      json out = json::array();
      for (size_t i = 0; i < items.size(); ++i) {
        std::string f = "items[" + std::to_string(i) + "]";
        if (!items[i].is_object()) return Error::invalid(f + " must be an object", f);
        if (items[i].contains("order_id") && items[i]["order_id"].is_number_integer() &&
            !seen.insert(items[i]["order_id"].get<int64_t>()).second)
          return Error::invalid(f + ".order_id repeats an order", f + ".order_id");
        json after = TRY(manual_assign(tx, items[i], f, pub));
        out.push_back(json{{"order_id", after["id"]}, {"state", after["state"]}, {"provider_unit_id", after["provider_unit_id"]},
                           {"engineer_id", after["engineer_id"]}});
      }
      return Response::make_json(json{{"items", out}});
    });
    if (resp.status < 300) publish(p, pub);
    return resp;
  }, {.summary = "Assign several orders at once (all or none)", .tag = "dispatch", .permission = "order.dispatch",
      .request_schema = api::schema_object({{"items", "array"}}, {"items"})});

  r.get("/api/v1/dispatch/board", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      const auto& who = *req.principal;
      auto area = TRY(area_param(req));
      int64_t line = TRY(line_param(req));
      int64_t now = now_ms();
      int64_t day = local_day(now);
      // Outlets in scope that match the filters.
      auto outlets = TRY(network::load_outlets(c));
      std::map<int64_t, const network::Outlet*> units;
      for (const auto& o : outlets) {
        if (!who.reaches(o.org_path)) continue;
        if (line && std::find(o.product_lines.begin(), o.product_lines.end(), line) == o.product_lines.end()) continue;
        if (area) {
          bool hit = o.division_code.rfind(*area, 0) == 0;
          for (const auto& a : o.areas) {
            std::string ap = a;
            while (ap.size() > 2 && ap.substr(ap.size() - 2) == "00") ap.resize(ap.size() - 2);
            hit = hit || a.rfind(*area, 0) == 0 || area->rfind(ap, 0) == 0;
          }
          if (!hit) continue;
        }
        units[o.unit_id] = &o;
      }
      auto engineers = TRY(network::load_engineers(c));
      json eng = json::array();
      std::map<int64_t, size_t> at;
      for (const auto& e : engineers) {
        if (!who.reaches(e.org_path) || !units.count(e.unit_id)) continue;
        if (line && std::none_of(e.skills.begin(), e.skills.end(), [&](const network::Skill& s) { return s.product_line_id == line; }))
          continue;
        at[e.user_id] = eng.size();
        eng.push_back(json{{"user_id", e.user_id}, {"name", e.name}, {"unit_id", e.unit_id},
                           {"unit_name", units[e.unit_id]->name}, {"status", e.status}, {"status_at", jtime(e.status_at)},
                           {"position", e.current.set ? json{{"lat", e.current.lat}, {"lon", e.current.lon}} : json(nullptr)},
                           {"jobs", json::array()}});
      }
      std::string open = kOpenStates;
      for (const auto& row : TRY(c.query(std::string("SELECT ") + kAssignCols + " WHERE a.engineer_id > 0 AND (a.state IN " +
                                         open + " OR a.day = ?) AND a.state <> 'replaced' ORDER BY a.id", {day}))) {
        auto it = at.find(row.i(7));
        if (it == at.end()) continue;
        json j = assignment_json(row);
        j.erase("decision");
        eng[it->second]["jobs"].push_back(j);
      }
      // Unassigned: the open queue.
      std::string qsql = std::string("SELECT ") + kQueueCols + " FROM dispatch_queue q WHERE q.org_path LIKE ? AND "
                         "q.state IN ('pending','manual')";
      store::Params qps{who.org_path + "%"};
      if (area) { qsql += " AND instr(q.county_code, ?) = 1"; qps.push_back(*area); }
      if (line) { qsql += " AND q.product_line_id = ?"; qps.push_back(line); }
      json unassigned = json::array();
      for (const auto& row : TRY(c.query(qsql + " ORDER BY q.id LIMIT 500", qps))) unassigned.push_back(queue_json(row));
      // At risk: escalated, acceptance due within 10 min, resolution due within 2 h.
      std::string rsql = std::string("SELECT ") + kAssignCols + " WHERE a.org_path LIKE ? AND a.state IN " + open +
                         " AND (a.escalated = 1 OR (a.state = 'open' AND a.accept_due_at > 0 AND a.accept_due_at <= ?) "
                         "OR (a.resolve_due_at > 0 AND a.resolve_due_at <= ?))";
      store::Params rps{who.org_path + "%", now + 10 * 60'000, now + 2 * 3'600'000};
      if (area) { rsql += " AND instr(a.county_code, ?) = 1"; rps.push_back(*area); }
      if (line) { rsql += " AND a.product_line_id = ?"; rps.push_back(line); }
      json risk = json::array();
      for (const auto& row : TRY(c.query(rsql + " ORDER BY a.id LIMIT 500", rps))) {
        json j = assignment_json(row);
        j.erase("decision");
        risk.push_back(j);
      }
      json counts = json::object();
      for (const auto& s : network::engineer_statuses()) counts[s] = 0;
      for (const auto& e : eng) counts[e["status"].get<std::string>()] = counts[e["status"].get<std::string>()].get<int>() + 1;
      return Response::make_json(json{{"engineers", eng}, {"unassigned", unassigned}, {"at_risk", risk},
                                      {"status_counts", counts}, {"at", iso_utc(now)}});
    });
  }, {.summary = "The live dispatch board: engineers with status, position and today's jobs; unassigned and at-risk orders",
      .tag = "dispatch", .permission = "order.dispatch", .query_params = {"area", "product_line_id"}});

  r.get("/api/v1/dispatch/capacity", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      const auto& who = *req.principal;
      std::string level = req.q("level").value_or("city");
      if (level != "province" && level != "city" && level != "county")
        return Error::invalid("level must be province, city or county", "level");
      int64_t line_filter = TRY(line_param(req));
      int64_t days = 7;
      if (auto d = req.q("days"); d && !d->empty()) {
        if (d->size() > 3 || !std::all_of(d->begin(), d->end(), ::isdigit) || std::stoll(*d) < 1 || std::stoll(*d) > 366)
          return Error::invalid("days must be 1..366", "days");
        days = std::stoll(*d);
      }
      size_t keep = level == "province" ? 2 : level == "city" ? 4 : 6;
      auto region_of = [&](const std::string& code) {
        std::string r = code.substr(0, std::min(keep, code.size()));
        while (r.size() < 6) r += "0";
        return r;
      };
      struct Cell { std::set<int64_t> outlets; int64_t capacity = 0; std::set<int64_t> engineers; int64_t orders = 0, open = 0; };
      std::map<std::pair<std::string, int64_t>, Cell> cells;
      auto outlets = TRY(network::load_outlets(c));
      auto engineers = TRY(network::load_engineers(c));
      std::map<int64_t, std::vector<const network::Engineer*>> by_unit;
      for (const auto& e : engineers) by_unit[e.unit_id].push_back(&e);
      for (const auto& o : outlets) {
        if (!who.reaches(o.org_path) || !o.active) continue;
        int64_t cap = 0;
        for (const auto& t : o.capacity) cap += t.per_day;
        std::set<std::string> regions;
        for (const auto& a : o.areas) regions.insert(region_of(a));
        for (const auto& reg : regions)
          for (int64_t l : o.product_lines) {
            if (line_filter && l != line_filter) continue;
            Cell& cell = cells[{reg, l}];
            if (cell.outlets.insert(o.unit_id).second) cell.capacity += cap;
            for (const auto* e : by_unit[o.unit_id])
              if (std::any_of(e->skills.begin(), e->skills.end(), [&](const network::Skill& s) { return s.product_line_id == l; }))
                cell.engineers.insert(e->user_id);
          }
      }
      int64_t today = local_day(now_ms());
      std::string open = kOpenStates;
      for (const auto& r : TRY(c.query("SELECT county_code, product_line_id, COUNT(*), SUM(CASE WHEN state IN " + open +
                                       " THEN 1 ELSE 0 END) FROM dispatch_assignments WHERE org_path LIKE ? AND day > ? AND "
                                       "state <> 'replaced' GROUP BY county_code, product_line_id",
                                       {who.org_path + "%", today - days}))) {
        if (r.s(0).size() != 6 || (line_filter && r.i(1) != line_filter)) continue;
        Cell& cell = cells[{region_of(r.s(0)), r.i(1)}];
        cell.orders += r.i(2);
        cell.open += r.i(3);
      }
      json items = json::array();
      for (const auto& [key, cell] : cells) {
        auto div = TRY(c.one("SELECT name FROM divisions WHERE code = ?", {key.first}));
        auto pl = TRY(c.one("SELECT name FROM product_lines WHERE id = ?", {key.second}));
        double per_day = double(cell.orders) / double(days);
        items.push_back(json{{"region_code", key.first}, {"region_name", div ? div->s(0) : ""},
                             {"product_line_id", key.second}, {"product_line_name", pl ? pl->s(0) : ""},
                             {"outlets", cell.outlets.size()}, {"capacity_per_day", cell.capacity},
                             {"engineers", cell.engineers.size()}, {"orders", cell.orders}, {"open_orders", cell.open},
                             {"orders_per_day", std::round(per_day * 100) / 100},
                             {"utilisation", cell.capacity ? json(std::round(per_day / double(cell.capacity) * 1000) / 1000) : json(nullptr)},
                             {"orders_per_engineer_per_day",
                              cell.engineers.empty() ? json(nullptr) : json(std::round(per_day / double(cell.engineers.size()) * 100) / 100)}});
      }
      return Response::make_json(json{{"level", level}, {"days", days}, {"items", items}});
    });
  }, {.summary = "Capacity view per region and product line: orders per day against outlet capacity, orders per engineer",
      .tag = "dispatch", .permission = "network.read", .query_params = {"level", "product_line_id", "days"}});
}

}  // namespace

api::Module module() {
  api::Module m;
  m.name = "dispatch";
  m.migrations = {{"dispatch", 1, "dispatch settings, queue and assignments", R"sql(
CREATE TABLE dispatch_settings (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  w_load INTEGER NOT NULL,
  w_satisfaction INTEGER NOT NULL,
  w_priority INTEGER NOT NULL,
  w_distance INTEGER NOT NULL,
  w_sla INTEGER NOT NULL,
  accept_seconds INTEGER NOT NULL,
  accept_action TEXT NOT NULL CHECK (accept_action IN ('none','escalate','redispatch','both')),
  start_grace_seconds INTEGER NOT NULL,
  start_action TEXT NOT NULL CHECK (start_action IN ('none','escalate','redispatch','both')),
  max_redispatch INTEGER NOT NULL,
  auto_dispatch INTEGER NOT NULL DEFAULT 1,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
INSERT INTO dispatch_settings (id, org_path, w_load, w_satisfaction, w_priority, w_distance, w_sla, accept_seconds,
  accept_action, start_grace_seconds, start_action, max_redispatch, version, created_at, updated_at)
  VALUES (1, '/', 25, 20, 20, 20, 15, 1800, 'redispatch', 3600, 'escalate', 3, 1, 0, 0);
CREATE TABLE dispatch_queue (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  order_id INTEGER NOT NULL UNIQUE,
  order_number TEXT NOT NULL,
  order_type TEXT NOT NULL,
  product_line_id INTEGER NOT NULL,
  county_code TEXT NOT NULL,
  priority TEXT NOT NULL,
  resolve_due_at INTEGER NOT NULL,
  customer_name TEXT NOT NULL,
  trigger_kind TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','manual','assigned','done')),
  reason_code TEXT,
  reason TEXT,
  reason_zh TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX dispatch_queue_state ON dispatch_queue(state, id);
CREATE TABLE dispatch_assignments (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  order_id INTEGER NOT NULL,
  order_number TEXT NOT NULL,
  order_type TEXT NOT NULL,
  product_line_id INTEGER NOT NULL,
  county_code TEXT NOT NULL,
  outlet_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  engineer_id INTEGER NOT NULL DEFAULT 0,
  mode TEXT NOT NULL CHECK (mode IN ('auto','manual','redispatch')),
  day INTEGER NOT NULL,
  assigned_at INTEGER NOT NULL,
  by_user_id INTEGER,
  state TEXT NOT NULL CHECK (state IN ('open','accepted','started','closed','replaced')),
  accepted_at INTEGER,
  closed_at INTEGER,
  accept_due_at INTEGER NOT NULL DEFAULT 0,
  planned_start_at INTEGER NOT NULL DEFAULT 0,
  resolve_due_at INTEGER NOT NULL DEFAULT 0,
  escalated INTEGER NOT NULL DEFAULT 0,
  decision_json TEXT NOT NULL,
  node TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX dispatch_assignments_one_open ON dispatch_assignments(order_id) WHERE state IN ('open','accepted','started');
CREATE INDEX dispatch_assignments_order ON dispatch_assignments(order_id);
CREATE INDEX dispatch_assignments_outlet_day ON dispatch_assignments(outlet_unit_id, day);
CREATE INDEX dispatch_assignments_accept ON dispatch_assignments(state, accept_due_at);
CREATE INDEX dispatch_assignments_engineer ON dispatch_assignments(engineer_id, state);
)sql"}};
  m.wire = [](api::Platform& p) {
    if (!p.bus) return;
    p.bus->on("order.created", [&p](api::WriteTx& tx, std::string_view type, int64_t, const json& data) {
      return on_order(p, tx, type, data);
    });
    p.bus->on("order.transition", [&p](api::WriteTx& tx, std::string_view type, int64_t, const json& data) {
      return on_order(p, tx, type, data);
    });
    // The planned time (expected_at) may be agreed with the customer after
    // dispatch: the start rule follows it.
    p.bus->on("order.updated", [](api::WriteTx& tx, std::string_view, int64_t id, const json& data) -> Result<void> {
      int64_t planned = time_of(data.value("expected_at", json()));
      // A new planned time still ahead is watched again.
      int64_t now = now_ms();
      TRY(tx.db.exec("UPDATE dispatch_assignments SET planned_start_at = ?, escalated = CASE WHEN ? > ? THEN 0 ELSE "
                     "escalated END, updated_at = ? WHERE order_id = ? AND state IN ('open','accepted') AND "
                     "planned_start_at <> ?", {planned, planned, now, now, id, planned}));
      return {};
    });
    p.bus->on("engineer.status", [](api::WriteTx&, std::string_view, int64_t id, const json& data) -> Result<void> {
      state().idx.set_engineer_status(id, data.value("status", std::string("off_duty")));
      if (data.contains("lat") && data["lat"].is_number() && data["lon"].is_number())
        state().idx.set_engineer_position(id, {data["lat"].get<double>(), data["lon"].get<double>(), true});
      return {};
    });
  };
  m.routes = routes;
  m.start = [](api::Platform& p) {
    if (!p.scheduler) return;
    p.scheduler->every("dispatch", std::chrono::milliseconds(tick_ms()), [&p] { run_tick(p); });
  };
  return m;
}

}  // namespace shouhou::dispatch
