// Service orders for the demo: taken by the call centre, audited and
// dispatched by the dispatcher, accepted, worked and completed by the
// provider's engineer, revisited and closed by the call centre. They are
// history, so they go through the orders module's bulk history writer
// (orders::record_history: the workflow's rules, numbering and the same row
// statements as the API, no live reactions); the outcomes the reactions
// would have recorded on the order are computed here with the owning
// modules' pure functions: warranty (warranty::decide), the SLA figures
// (sla::evaluate) and the claim status.
//
// A second thread plans the orders (CPU work: plans, names, JSON) while this
// one writes them (SQLite has one writer), a batch ahead.
//
// Faults concentrate on some models and production batches (the model's and
// the batch's fault factors in the world), and failures of defective batches
// come early (quality reports show early-failure peaks).
#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "auth/permissions.h"
#include "core/util.h"
#include "demogen/gen.h"
#include "customers/phone.h"
#include "orders/history.h"
#include "orders/orders.h"
#include "sla/calendar.h"
#include "sla/sla.h"
#include "warranty/warranty.h"

namespace shouhou::demogen {

using api::json;
using store::Conn;

namespace {

constexpr uint64_t kStreamOrder = 5;
constexpr int64_t kMinute = 60'000, kHour = 60 * kMinute, kDay = 24 * kHour;

struct OrderPlan {
  std::string type;
  int64_t asset = -1;     // plan index (-1: none)
  int64_t customer = -1;  // plan index
  int64_t at = 0;         // created, ms
  std::string target;     // state to reach
  int fault = -1;         // data::kFaults index
  uint64_t pick = 0;
  std::string priority, severity;
  int satisfaction = 5;
};

double fault_weight(const World& w, const AssetPlan& a) {
  const ModelInfo& m = w.models[a.model];
  return m.fault * m.batches[a.batch].defect;
}

const char* pick_state(Rng& r, int64_t age_days) {
  double u = r.unit();
  if (age_days > 45) {
    if (u < 0.86) return "closed";
    if (u < 0.92) return "cancelled";
    if (u < 0.95) return "revisited";
    if (u < 0.97) return "completed";
    if (u < 0.985) return "reopened";
    return "escalated";
  }
  if (age_days > 7) {
    if (u < 0.50) return "closed";
    if (u < 0.62) return "revisited";
    if (u < 0.77) return "completed";
    if (u < 0.83) return "on_site";
    if (u < 0.88) return "accepted";
    if (u < 0.92) return "dispatched";
    if (u < 0.97) return "cancelled";
    return "escalated";
  }
  if (u < 0.15) return "created";
  if (u < 0.25) return "audited";
  if (u < 0.45) return "dispatched";
  if (u < 0.60) return "accepted";
  if (u < 0.75) return "on_site";
  if (u < 0.88) return "completed";
  if (u < 0.94) return "escalated";
  return "cancelled";
}

OrderPlan plan_order(const World& w, int64_t n, double max_weight) {
  Rng r(w.seed, kStreamOrder, static_cast<uint64_t>(n));
  OrderPlan o;
  o.pick = r.next();
  double u = r.unit();
  o.type = u < 0.52 ? "repair" : u < 0.67 ? "installation" : u < 0.79 ? "maintenance" : u < 0.84 ? "inspection"
         : u < 0.86 ? "startup" : u < 0.89 ? "return_exchange" : u < 0.93 ? "complaint" : u < 0.97 ? "consultation"
         : "delivery";
  int64_t serials = w.counts.serials;
  if (serials == 0) {
    o.type = "consultation";
    o.customer = w.counts.customers ? r.range(0, w.counts.customers - 1) : -1;
    o.at = (w.start_day + r.range(0, w.end_day - w.start_day - 1)) * kDay;
  } else {
    AssetPlan a;
    // Repairs pick assets by fault weight (rejection sampling), the rest uniformly.
    for (int attempt = 0; attempt < 64; ++attempt) {
      int64_t k = r.range(0, serials - 1);
      a = plan_asset(w, k);
      o.asset = k;
      if (a.in_stock) continue;
      if (o.type != "repair" && o.type != "return_exchange") break;
      if (r.unit() * max_weight < fault_weight(w, a)) break;
    }
    o.customer = a.customer;
    int64_t base = a.installed ? a.install_day : a.sale_day;
    int64_t day;
    if (o.type == "installation" || o.type == "delivery") {
      day = a.sale_day;
    } else if (o.type == "repair" || o.type == "return_exchange") {
      const ModelInfo& m = w.models[a.model];
      // Defective batches fail early; the rest fail at any time.
      double mean = m.batches[a.batch].defect > 1.5 ? 90.0 : 700.0;
      day = base + static_cast<int64_t>(-std::log(1.0 - r.unit()) * mean);
      if (!m.faults.empty()) {
        // The model's faults, weighted by their component's fault share.
        o.fault = m.faults[o.pick % m.faults.size()];
        if (m.batches[a.batch].defect > 1.5) o.fault = m.faults[(a.serial_seq + a.batch) % m.faults.size()];
      }
    } else {
      day = base + r.range(30, 900);
    }
    if (day >= w.end_day) day = w.end_day - 1 - r.range(0, 20);
    if (day < base) day = base;
    o.at = day * kDay + r.range(8 * 60, 20 * 60) * kMinute - 8 * kHour;  // 08:00-20:00 Beijing time
  }
  int64_t age = w.end_day - o.at / kDay;
  o.target = pick_state(r, age);
  if ((o.type == "consultation" || o.type == "complaint") && o.target != "created" && o.target != "cancelled")
    o.target = r.chance(0.9) ? "closed" : "audited";
  static const char* const prio[] = {"low", "medium", "medium", "medium", "high", "urgent"};
  o.priority = prio[r.range(0, 5)];
  static const char* const sev[] = {"normal", "normal", "normal", "serious", "minor", "critical"};
  o.severity = sev[r.range(0, 5)];
  double s = r.unit();
  o.satisfaction = s < 0.55 ? 5 : s < 0.85 ? 4 : s < 0.95 ? 3 : s < 0.98 ? 2 : 1;
  return o;
}

// The actions from "created" to the target state (default workflows).
std::vector<std::string> path_to(const std::string& target) {
  static const std::map<std::string, std::vector<std::string>> paths = {
      {"created", {}},
      {"audited", {"audit"}},
      {"dispatched", {"audit", "dispatch"}},
      {"accepted", {"audit", "dispatch", "accept"}},
      {"on_site", {"audit", "dispatch", "accept", "arrive"}},
      {"completed", {"audit", "dispatch", "accept", "arrive", "complete"}},
      {"revisited", {"audit", "dispatch", "accept", "arrive", "complete", "revisit"}},
      {"closed", {"audit", "dispatch", "accept", "arrive", "complete", "revisit", "close"}},
      {"reopened", {"audit", "dispatch", "accept", "arrive", "complete", "revisit", "close", "reopen"}},
      {"cancelled", {"audit", "cancel"}},
      {"escalated", {"audit", "escalate"}},
  };
  auto it = paths.find(target);
  return it == paths.end() ? std::vector<std::string>{} : it->second;
}

// How long after the previous step each action happens.
int64_t step_delay(Rng& r, const std::string& action) {
  if (action == "audit") return r.range(5, 60) * kMinute;
  if (action == "dispatch") return r.range(5, 120) * kMinute;
  if (action == "accept") return r.range(3, 90) * kMinute;
  if (action == "arrive") return r.range(60, 30 * 60) * kMinute;
  if (action == "complete") return r.range(30, 180) * kMinute;
  if (action == "revisit") return r.range(1, 3) * kDay + r.range(0, 300) * kMinute;
  if (action == "close") return r.range(10, 48 * 60) * kMinute;
  if (action == "reopen") return r.range(1, 10) * kDay;
  return r.range(10, 240) * kMinute;
}

http::Principal principal(int64_t user_id, const std::string& username, int64_t unit_id, const std::string& path,
                          const std::string& type) {
  http::Principal p;
  p.user_id = user_id;
  p.username = username;
  p.display_name = username;
  p.org_unit_id = unit_id;
  p.org_path = path;
  p.org_type = type;
  // The generator acts for each role; its checks are the workflow's rules.
  for (const auto& pi : auth::permission_catalogue()) p.permissions.push_back(pi.code);
  std::sort(p.permissions.begin(), p.permissions.end());
  return p;
}

}  // namespace


namespace {

// What the planner thread needs, prepared by the writer before it starts.
struct ModelWarranty {
  bool known = false;
  warranty::Policy policy;
  warranty::AssetFacts facts;  // the model's components; the asset's fields set per order
};

struct Ctx {
  const World& w;
  double max_weight = 0;
  int64_t end_ms = 0;
  std::vector<http::Principal> agents, dispatchers;
  std::map<int64_t, http::Principal> engineers;  // filled by the planner thread only (nodes are stable)
  std::vector<ModelWarranty> warranty;           // by model index
  std::map<std::string, std::string> division_names;
  sla::Calendar calendar = sla::Calendar::round_the_clock();
};

const http::Principal& engineer_principal(Ctx& x, const ProviderInfo& pv, size_t k) {
  int64_t user = pv.engineers[k];
  auto it = x.engineers.find(user);
  if (it == x.engineers.end())
    it = x.engineers.emplace(user, principal(user, pv.engineer_usernames[k], pv.unit_id, pv.path, "provider")).first;
  return it->second;
}

warranty::Date wdate(int64_t day) { return warranty::from_days(day); }

// The order plan n as history: what create() and the workflow steps would
// have recorded. nullopt when there is no customer to take the call from.
std::optional<orders::HistoricOrder> historic_order(Ctx& x, int64_t n) {
  const World& w = x.w;
  OrderPlan op = plan_order(w, n, x.max_weight);
  if (op.customer < 0) return std::nullopt;
  CustomerPlan cp = plan_customer(w, op.customer);
  const CityInfo& city = w.cities[cp.city];
  Rng r(w.seed, kStreamOrder + 100, static_cast<uint64_t>(n));
  const http::Principal& agent = x.agents[op.pick % x.agents.size()];
  const http::Principal& dispatcher = x.dispatchers[(op.pick >> 4) % x.dispatchers.size()];

  orders::HistoricOrder h;
  h.type = op.type;
  h.channel = "call_centre";
  h.priority = op.priority;
  h.severity = op.severity;
  h.creator = &agent;
  h.created_at = op.at;
  h.org_unit_id = city.branch_id;  // create(): the branch for the site's city
  h.customer_id = w.customer_ids[static_cast<size_t>(op.customer)];
  std::string phone = cp.contact.empty() ? cp.phones.front() : cp.contact_phone;
  h.contact = json::object();
  h.contact["name"] = cp.contact.empty() ? cp.name : cp.contact;
  h.contact["phone"] = phone;
  if (auto norm = customers::normalize_phone(phone)) h.contact["phone_normalized"] = *norm;
  h.site = json::object();
  h.site["address"] = cp.detail;
  h.site["county_code"] = cp.county;
  auto dn = x.division_names.find(cp.county);
  if (dn != x.division_names.end()) h.site["division_name"] = dn->second;
  h.county_code = cp.county;

  std::string line;
  if (op.asset >= 0) {
    AssetPlan a = plan_asset(w, op.asset);
    const ModelInfo& m = w.models[a.model];
    h.serial = serial_of(w, a);
    h.asset_id = w.asset_ids[static_cast<size_t>(op.asset)];
    h.model_id = m.id;
    h.product_line_id = m.line_id;
    line = m.m->line;
    ModelWarranty& mw = x.warranty[a.model];
    if (mw.known) {
      // The entitlement on the day of the call (create() asks the warranty
      // module the same question through warranty::check).
      auto& f = mw.facts;
      f.known = true;
      f.asset_id = *h.asset_id;
      f.serial = *h.serial;
      f.status = a.installed ? "installed" : "sold";
      f.sale_date = wdate(a.sale_day);
      f.install_date = a.installed ? std::optional<warranty::Date>(wdate(a.install_day)) : std::nullopt;
      f.production_date = wdate(a.production_day);
      f.has_invoice = true;
      warranty::Decision d = warranty::decide(f, mw.policy, {}, wdate(op.at / kDay));
      h.warranty = d.entitled ? "in" : d.status == "out_of_warranty" ? "out" : "unknown";
      h.warranty_decision = json::object();
      h.warranty_decision["status"] = d.status;
      h.warranty_decision["entitled"] = d.entitled;
      h.warranty_decision["source"] = d.source;
      h.warranty_decision["unit_end"] = d.unit_end ? json(d.unit_end->str()) : json(nullptr);
    }
  }
  static const std::map<std::string, int> line_index = {{"AC", 0}, {"WH", 1}, {"SWH", 2}, {"UPS", 3}};
  int li = line.empty() ? 0 : line_index.at(line);
  std::string problem = data::kProblemTexts[li * 4 + static_cast<int>(op.pick % 4)];
  if (op.type == "repair" || op.type == "return_exchange") {
    h.problem_area = op.fault >= 0 ? data::kFaults[op.fault].text : "整机故障";
    h.description = problem;
    h.reproducibility = r.chance(0.7) ? "always" : "sometimes";
  } else if (op.type == "complaint") {
    h.description = r.chance(0.5) ? "工程师上门迟到两个小时，态度不好" : "维修后同样问题再次出现，要求退换";
  } else if (op.type == "consultation") {
    h.description = r.chance(0.5) ? "咨询保修期和延保服务价格" : "咨询清洗保养的收费标准";
  } else {
    h.description = op.type == "installation" ? "新机安装，请提前电话预约" : "例行保养/巡检";
  }

  const ProviderInfo* pv = city.providers.empty() ? nullptr : &w.providers[city.providers[op.pick % city.providers.size()]];
  size_t eng_k = pv && !pv->engineers.empty() ? (op.pick >> 8) % pv->engineers.size() : 0;
  int64_t eng = pv && !pv->engineers.empty() ? pv->engineers[eng_k] : 0;
  int64_t t = op.at;
  // The SLA clock (the SLA module's default terms: 2 h reply, 4 h resolution, 7x24).
  sla::Targets tg;
  tg.started_at = op.at;
  tg.clock.started_at = op.at;
  for (const auto& action : path_to(op.target)) {
    t += step_delay(r, action);
    if (t >= x.end_ms) break;  // not yet: the order waits in its current state
    orders::HistoricStep s;
    s.action = action;
    s.at = t;
    s.who = &dispatcher;
    if (action == "accept" || action == "arrive" || action == "complete") {
      if (!pv || !eng) break;
      s.who = &engineer_principal(x, *pv, eng_k);
    } else if (action == "revisit" || action == "close" || action == "reopen") {
      s.who = &agent;
    }
    if (action == "dispatch") {
      if (!pv) break;
      s.provider_unit_id = pv->unit_id;
      s.engineer_id = eng;
      s.decision = json::object();
      s.decision["mode"] = "demo";
      s.decision["reason"] = "按服务区域派给" + city.short_name + "网点";
    } else if (action == "complete") {
      json rec = json::object();
      rec["resolution"] = op.fault >= 0 ? std::string("更换") + data::kFaults[op.fault].position + "，试机正常"
                                        : std::string("处理完毕，试机正常");
      rec["first_time_fix"] = r.chance(0.85);
      if (op.fault >= 0) {
        const auto& f = data::kFaults[op.fault];
        rec["fault_code"] = f.code;
        rec["fault_code_name"] = f.text;
        std::string comp_name = f.position;
        for (int k = 0; k < data::kComponentCount; ++k)
          if (std::string(data::kComponents[k].line) == f.line && std::string(data::kComponents[k].position) == f.position)
            comp_name = data::kComponents[k].name;
        json fc = json::object();
        fc["position"] = f.position;
        fc["name"] = comp_name;
        rec["failed_component"] = std::move(fc);
      } else if (op.type == "repair" || op.type == "return_exchange") {
        rec["fault_code"] = "N0";
        rec["fault_code_name"] = "未发现故障";
      }
      h.completion = std::move(rec);
    } else if (action == "revisit") {
      json rec = json::object();
      rec["score"] = op.satisfaction * 12;
      rec["max_score"] = 60;
      rec["percent"] = op.satisfaction * 20;
      rec["date"] = date_of(t / kDay);
      rec["evaluated_by"] = agent.username;
      h.satisfaction = std::move(rec);
    } else if (action == "cancel") {
      s.fields = json::object();
      s.fields["cancel_reason"] = r.chance(0.5) ? "客户自行解决" : "重复报修";
      tg.stopped_at = t;
    }
    if (!tg.first_response_at && (action == "accept" || action == "arrive" || action == "complete")) tg.first_response_at = t;
    if (!tg.resolved_at && action == "complete") tg.resolved_at = t;
    h.steps.push_back(std::move(s));
  }
  sla::Evaluation e = sla::evaluate(x.calendar, tg, 80, x.end_ms);
  h.sla = orders::SlaFields{e.response_due_at, e.resolve_due_at, e.status};
  // The claims module audits in-warranty repairs; its checks on history
  // (repeats, distance) are not replayed: they pass.
  h.claim_status = op.type == "repair" && h.warranty != "out" ? "passed" : "none";
  return h;
}

}  // namespace

Result<void> write_orders(api::Platform& p, const Options& o, World& w, Summary& sum) {
  int64_t total = o.counts.orders;
  if (total <= 0) return {};
  if (w.counts.customers == 0) return Error::invalid("orders need customers", "customers");
  Ctx x{w};
  for (const auto& m : w.models)
    for (const auto& b : m.batches) x.max_weight = std::max(x.max_weight, m.fault * b.defect);
  x.end_ms = w.end_day * kDay;

  // Who does what: the generated call-centre agents and dispatchers, the
  // provider's engineers.
  for (size_t k = 0; k < w.agents.size(); ++k)
    x.agents.push_back(principal(w.agents[k], "cc" + std::string(k < 9 ? "0" : "") + std::to_string(k + 1), w.hq_id,
                                 w.hq_path, "hq"));
  for (size_t k = 0; k < w.dispatchers.size(); ++k)
    x.dispatchers.push_back(principal(w.dispatchers[k], "dd" + std::string(k < 9 ? "0" : "") + std::to_string(k + 1),
                                      w.hq_id, w.hq_path, "hq"));
  if (x.agents.empty() || x.dispatchers.empty()) return Error::invalid("no call-centre users", "users");

  // Per model: its warranty policy and components (warranty::check on its
  // first asset); per county: the division name create() puts on the site.
  x.warranty.resize(w.models.size());
  TRY_VOID(p.db.read([&](Conn& c) -> Result<void> {
    size_t found = 0;
    for (int64_t k = 0; k < w.counts.serials && found < w.models.size(); ++k) {
      AssetPlan a = plan_asset(w, k);
      ModelWarranty& mw = x.warranty[a.model];
      if (mw.known || a.in_stock) continue;
      auto ck = TRY(warranty::check(c, serial_of(w, a), warranty::from_days(w.end_day)));
      mw.known = ck.facts.known;
      mw.policy = ck.policy;
      mw.facts = ck.facts;
      ++found;
    }
    for (const auto& city : w.cities)
      for (const auto* d : city.counties) {
        auto res = divisions::resolve(c, std::nullopt, std::nullopt, d->code, "site");
        if (res) x.division_names[d->code] = res->full_name;
      }
    return {};
  }));

  // The planner thread fills batches a step ahead of the writer.
  int64_t batch = std::max<int64_t>(1, o.batch);
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::vector<orders::HistoricOrder>> ready;
  bool stop = false, planner_done = false;
  std::string planner_error;
  std::thread planner([&] {
    try {
      for (int64_t from = 0; from < total; from += batch) {
        std::vector<orders::HistoricOrder> v;
        v.reserve(static_cast<size_t>(batch));
        for (int64_t n = from; n < std::min(total, from + batch); ++n)
          if (auto h = historic_order(x, n)) v.push_back(std::move(*h));
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return stop || ready.size() < 2; });
        if (stop) break;
        ready.push_back(std::move(v));
        cv.notify_all();
      }
    } catch (const std::exception& e) {
      std::lock_guard lk(mu);
      planner_error = e.what();
    }
    std::lock_guard lk(mu);
    planner_done = true;
    cv.notify_all();
  });
  Result<void> out;
  int64_t planned = 0;
  for (;;) {
    std::vector<orders::HistoricOrder> v;
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return !ready.empty() || planner_done; });
      if (ready.empty()) break;
      v = std::move(ready.front());
      ready.pop_front();
      cv.notify_all();
    }
    auto r = p.db.write([&](Conn& c) -> Result<void> {
      ScopedClock clock(x.end_ms);  // the batch's audit entry
      api::WriteTx tx(c, nullptr, "demo-generator");
      auto ids = TRY(orders::record_history(tx, v));
      sum.created.orders += static_cast<int64_t>(ids.size());
      return {};
    });
    if (!r) {
      out = r.error();
      break;
    }
    planned = std::min(total, planned + batch);
    report(o, "orders", planned, total);
  }
  {
    std::lock_guard lk(mu);
    stop = true;
    cv.notify_all();
  }
  planner.join();
  if (!out) return out;
  if (!planner_error.empty()) return Error::internal("planning orders failed: " + planner_error);
  sum.notes.push_back(
      "service orders are written as history (orders::record_history): order rows, numbers and timelines; the SLA "
      "figures (default 2 h / 4 h on 7x24), warranty (by policy, without contracts) and claim status are computed, "
      "but no sla_clocks, claim_audits, dispatch_assignments or per-step audit rows are written (one audit entry "
      "per batch)");
  return {};
}

}  // namespace shouhou::demogen
