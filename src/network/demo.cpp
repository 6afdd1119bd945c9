// Demo service network: the three demo providers with service areas,
// authorised product lines, capacities and located outlets, and their
// engineers' skills, calendars and home bases. Beijing is deliberately not
// authorised for solar water heaters, so such an order shows the manual
// queue with its reason.
#include "network/demo.h"

#include "network/network.h"

namespace shouhou::network {

namespace {
Result<int64_t> id_of(store::Conn& c, const char* sql, const std::string& key) {
  auto r = TRY(c.one(sql, {key}));
  return r ? r->i(0) : int64_t{0};
}
}  // namespace

Result<void> seed_demo(store::Conn& c, const std::map<std::string, int64_t>& units) {
  std::map<std::string, int64_t> line;
  for (const char* code : {"AC", "WH", "SWH", "UPS"})
    line[code] = TRY(id_of(c, "SELECT id FROM product_lines WHERE code = ?", code));
  auto lines = [&](std::initializer_list<const char*> codes) {
    std::vector<int64_t> out;
    for (const char* k : codes)
      if (line[k]) out.push_back(line[k]);
    return out;
  };
  struct Spec {
    const char* unit;
    std::vector<std::string> areas;
    std::vector<int64_t> lines;
    int64_t priority, satisfaction;
    GeoPoint at;
  };
  const Spec outlets[] = {
      {"SP-SH-XH", {"310100"}, lines({"AC", "WH", "SWH", "UPS"}), 7, 92, {31.1880, 121.4370, true}},
      {"SP-JN-LX", {"370100"}, lines({"AC", "WH", "SWH"}), 6, 85, {36.6810, 117.0660, true}},
      {"SP-BJ-CY", {"110100"}, lines({"AC", "WH", "UPS"}), 5, 88, {39.9210, 116.4430, true}},
  };
  for (const auto& s : outlets) {
    auto it = units.find(s.unit);
    if (it == units.end()) continue;
    Outlet o;
    o.unit_id = it->second;
    o.areas = s.areas;
    o.product_lines = s.lines;
    o.capacity = {{"repair", 20}, {"installation", 15}, {"delivery", 10}, {"maintenance", 10},
                  {"inspection", 5}, {"startup", 5}, {"return_exchange", 5}};
    o.priority = s.priority;
    o.satisfaction = s.satisfaction;
    o.auto_engineer = true;
    o.location = s.at;
    TRY_VOID(save_outlet(c, o));
  }
  struct Eng {
    const char* username;
    std::vector<int64_t> lines;
    GeoPoint home;
    const char* status;
  };
  const Eng engineers[] = {
      {"engineer1", lines({"AC", "WH", "SWH", "UPS"}), {31.1950, 121.4400, true}, "free"},
      {"engineer2", lines({"AC", "WH", "SWH"}), {36.6700, 117.0500, true}, "free"},
      {"engineer3", lines({"AC", "UPS"}), {39.9300, 116.4500, true}, "off_duty"},
  };
  for (const auto& s : engineers) {
    int64_t uid = TRY(id_of(c, "SELECT id FROM users WHERE username = ?", s.username));
    if (!uid) continue;
    Engineer e;
    e.user_id = uid;
    for (int64_t l : s.lines) e.skills.push_back({l, "*", "", ""});
    e.work_days_mask = 0x3F;  // Monday to Saturday
    e.home = s.home;
    e.status = s.status;
    TRY_VOID(save_engineer(c, e));
  }
  return {};
}

}  // namespace shouhou::network
