// The dispatch decision (派单决策) as a pure, in-memory library: no storage,
// no HTTP. An Index holds the service network (outlets with areas,
// authorisations, capacities; engineers with skills, calendars, status) plus
// the live counters (open orders per outlet, orders taken today per type,
// open jobs per engineer), and answers "who should take this order?" in
// microseconds.
//
// A decision applies hard filters in this order: area (the outlet serves the
// order's county, its city or its province), active (not suspended),
// authorised product line, authorised order type, skill (at least one active
// engineer certified for the line and type), capacity left today for the
// type, and last "excluded" (the outlet already had the order: re-dispatch
// goes to the next one). Survivors are ranked by a weighted score of five terms, each in
// [0, 1]:
//   load          1 - open orders / daily capacity (all types)
//   satisfaction  satisfaction / 100
//   priority      (priority - 1) / 9
//   distance      1 / (1 + km / 10) when both points are known, otherwise by
//                 where the outlet is: same county 1, same city 0.5, same
//                 province 0.2
//   sla           urgency x readiness: urgency grows from 0 (24 h or more
//                 left to the resolution deadline) to 1 (2 h or less);
//                 readiness is 1 with a free skilled engineer on duty today,
//                 0.4 with one busy (travelling / on site), 0 otherwise
// Ties go to the lower unit id, so decisions are reproducible.
//
// Thread-safe: decisions share a lock; changes take it exclusively.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "network/model.h"

namespace shouhou::dispatch {

// Admin-set weights of the score terms (any non-negative numbers; they are
// normalised by their sum).
struct Weights {
  double load = 25, satisfaction = 20, priority = 20, distance = 20, sla = 15;
};

struct OrderFacts {
  int64_t order_id = 0;
  std::string order_type;
  int64_t product_line_id = 0;
  std::string county_code;      // 6 digits; city / province codes are derived
  network::GeoPoint site;       // optional
  int64_t resolve_due_at = 0;   // UTC ms, 0 = none
  int64_t now = 0;              // UTC ms
  std::vector<int64_t> exclude; // outlets that already had the order (re-dispatch)
  // For reasons: how to name the line and the area in messages.
  std::string product_line_name, area_name;
};

// Why an outlet did not qualify (first failed filter), in filter order.
// When nobody qualifies, the reason names the filter that got furthest.
enum class Filter { ok = 0, area, active, line, type, skill, capacity, excluded };
const char* filter_name(Filter f);

struct EngineerChoice {
  int64_t user_id = 0;
  std::string name, status;
  int64_t open_jobs = 0;
  std::optional<double> distance_km;
};

struct Candidate {
  int64_t unit_id = 0;
  std::string code, name, grade;
  std::string area_match;  // "county", "city", "province", "none"
  Filter failed = Filter::ok;
  bool eligible() const { return failed == Filter::ok; }
  int64_t capacity_today = 0, used_today = 0, open_load = 0, daily_capacity = 0;
  int64_t satisfaction = 0, priority = 0;
  std::optional<double> distance_km;
  int64_t skilled_engineers = 0, free_engineers = 0;
  double load = 0, satisfaction_term = 0, priority_term = 0, distance_term = 0, sla_term = 0;
  double score = 0;
  std::optional<EngineerChoice> engineer;  // best engineer of the outlet (when it has one on duty today)
  bool auto_engineer = false;
};

struct Decision {
  // Eligible first, by score; then the others. code/name/grade are filled
  // for the first 20 (for all with explain).
  std::vector<Candidate> candidates;
  std::optional<size_t> chosen;       // index into candidates
  std::string reason_code;            // "best_score" or the filter that emptied the field
  std::string reason, reason_zh;      // human explanation (en / zh-CN)
  double urgency = 0;
  nlohmann::json to_json(size_t max_candidates = 20) const;
};

// Asia/Shanghai calendar day number (days since 1970-01-01) of a UTC ms time.
int64_t local_day(int64_t utc_ms);
// "YYYY-MM-DD" -> day number, or -1.
int64_t parse_day(const std::string& ymd);
double haversine_km(const network::GeoPoint& a, const network::GeoPoint& b);

class Index {
 public:
  Index();
  ~Index();
  // Replaces the whole network (config), keeping no counters.
  void rebuild(const std::vector<network::Outlet>& outlets, const std::vector<network::Engineer>& engineers);
  // Counters, as read from the assignment table.
  struct Counters {
    int64_t day = 0;  // local_day they are for
    std::unordered_map<int64_t, int64_t> open_load;                                       // unit -> open orders
    std::unordered_map<int64_t, std::unordered_map<std::string, int64_t>> used_today;      // unit -> type -> n
    std::unordered_map<int64_t, int64_t> engineer_jobs;                                   // user -> open jobs
  };
  void set_counters(const Counters& c);
  // A new assignment (type taken today) and the release of an old one.
  void count_assignment(int64_t unit_id, int64_t engineer_id, const std::string& order_type, int64_t day);
  void count_release(int64_t unit_id, int64_t engineer_id);
  void set_engineer_status(int64_t user_id, const std::string& status);
  void set_engineer_position(int64_t user_id, const network::GeoPoint& p);
  void set_outlet_satisfaction(int64_t unit_id, int64_t satisfaction);

  // The decision. explain=true also lists outlets that failed a filter
  // (those serving the area, and those located in the order's province),
  // for the manual dispatch screen.
  Decision decide(const OrderFacts& o, const Weights& w, bool explain = false) const;
  // One outlet as a candidate for the order (manual dispatch to any outlet).
  std::optional<Candidate> evaluate(const OrderFacts& o, const Weights& w, int64_t unit_id) const;

  size_t outlet_count() const;
  size_t engineer_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  mutable std::shared_mutex mu_;
};

}  // namespace shouhou::dispatch
