// The service network as plain data (no storage, no HTTP): what an outlet
// (服务网点) and an engineer are, for the network module's tables and API and
// for the dispatch engine's in-memory index.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace shouhou::network {

// Order types an outlet can be authorised for (the orders module's types).
inline const std::vector<std::string>& order_types() {
  static const std::vector<std::string> t = {"installation", "delivery",   "repair",  "return_exchange",
                                             "maintenance",  "inspection", "startup", "complaint",
                                             "consultation"};
  return t;
}

// Engineer live status (工程师状态).
inline const std::vector<std::string>& engineer_statuses() {
  static const std::vector<std::string> s = {"off_duty", "free", "travelling", "on_site"};
  return s;
}

struct GeoPoint {
  double lat = 0, lon = 0;
  bool set = false;
};

struct TypeCapacity {
  std::string order_type;
  int64_t per_day = 0;  // orders per day this outlet takes of the type
};

// A service provider org unit with its dispatch settings.
struct Outlet {
  int64_t unit_id = 0;                 // org_units.id (type provider)
  std::string code, name, org_path;
  std::string division_code;           // where the outlet itself is (org unit's division)
  std::string grade;                   // A/B/C..., from the org unit
  bool active = true;                  // false = suspended: never dispatched to
  int64_t priority = 5;                // dispatch priority 1..10 (10 first)
  int64_t satisfaction = 80;           // 0..100
  bool auto_engineer = false;          // the system may pick the engineer too
  GeoPoint location;
  std::vector<std::string> areas;      // GB/T 2260 codes, province/city/county level
  std::vector<int64_t> product_lines;  // authorised product lines
  std::vector<TypeCapacity> capacity;  // authorised order types with capacity per day
};

struct Skill {
  int64_t product_line_id = 0;
  std::string order_type;  // "*" = every type of the line
  std::string certificate;
  std::string valid_until;  // YYYY-MM-DD or "" (no expiry)
};

// An engineer: a user with role engineer under a provider.
struct Engineer {
  int64_t user_id = 0;
  int64_t unit_id = 0;
  std::string name, org_path;
  bool active = true;
  std::string status = "off_duty";
  int64_t status_at = 0;
  std::vector<Skill> skills;
  int work_days_mask = 0x1F;  // bit 0 = Monday ... bit 6 = Sunday
  int work_start_min = 8 * 60, work_end_min = 18 * 60;  // local (Asia/Shanghai) working hours
  std::vector<std::string> days_off;                    // YYYY-MM-DD
  GeoPoint home, current;
};

}  // namespace shouhou::network
