#include "network/network.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/input.h"
#include "core/util.h"
#include "divisions/divisions.h"
#include "store/lock.h"

namespace shouhou::network {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

namespace {

store::Value opt_real(const GeoPoint& p, bool lat) { return p.set ? store::Value(lat ? p.lat : p.lon) : store::Value(); }
GeoPoint point(const store::Row& r, size_t lat_col) {
  if (r.null(lat_col) || r.null(lat_col + 1)) return {};
  return {r.d(lat_col), r.d(lat_col + 1), true};
}
json point_json(const GeoPoint& p) { return p.set ? json{{"lat", p.lat}, {"lon", p.lon}} : json(nullptr); }

std::string hhmm(int minutes) {
  char b[16];
  std::snprintf(b, sizeof b, "%02d:%02d", (minutes / 60) % 100, minutes % 60);
  return b;
}
int parse_hhmm(const std::string& s) {
  if (s.size() != 5 || s[2] != ':' || !isdigit(s[0]) || !isdigit(s[1]) || !isdigit(s[3]) || !isdigit(s[4])) return -1;
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m)) return -1;
  return h * 60 + m;
}
bool valid_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!isdigit(static_cast<unsigned char>(s[i]))) return false;
  int m = std::stoi(s.substr(5, 2)), d = std::stoi(s.substr(8, 2));
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}
bool is_type(const std::string& t) {
  const auto& all = order_types();
  return std::find(all.begin(), all.end(), t) != all.end();
}

// A number field (latitude / longitude) within [min, max], or nullopt when absent/null.
Result<std::optional<double>> opt_number(const json& body, const char* name, double min, double max) {
  if (!body.contains(name) || body[name].is_null()) return std::optional<double>();
  const auto& v = body[name];
  if (!v.is_number()) return Error::invalid(std::string(name) + " must be a number", name);
  double d = v.get<double>();
  if (!(d >= min && d <= max))
    return Error::invalid(std::string(name) + " must be between " + std::to_string(int(min)) + " and " + std::to_string(int(max)), name);
  return std::optional<double>(d);
}
Result<GeoPoint> read_point(const json& body, const char* lat, const char* lon, GeoPoint keep) {
  bool has_lat = body.contains(lat), has_lon = body.contains(lon);
  if (!has_lat && !has_lon) return keep;
  auto a = TRY(opt_number(body, lat, -90, 90));
  auto b = TRY(opt_number(body, lon, -180, 180));
  if (a.has_value() != b.has_value()) return Error::invalid(std::string(a ? lon : lat) + " is required with " + (a ? lat : lon), a ? lon : lat);
  if (!a) return GeoPoint{};
  return GeoPoint{*a, *b, true};
}

Result<void> bump_revision(Conn& c) {
  TRY(c.exec("UPDATE network_rev SET rev = rev + 1 WHERE id = 1"));
  return {};
}

// ---- outlets -------------------------------------------------------------

struct OutletRec {
  Outlet o;
  bool configured = false;
  bool unit_active = true;
  int64_t outlet_id = 0, version = 0, updated_at = 0;
  int64_t revisits = 0;  // revisits the satisfaction score is computed from (0 = set by hand)
};

constexpr const char* kOutletSelect =
    "SELECT u.id, u.code, u.name, u.path, u.division_code, u.grade, u.active, o.id, o.active, o.priority, "
    "o.satisfaction, o.auto_engineer, o.lat, o.lon, o.version, o.updated_at, o.revisits "
    "FROM org_units u LEFT JOIN outlets o ON o.unit_id = u.id WHERE u.type = 'provider'";

OutletRec outlet_from_row(const store::Row& r) {
  OutletRec x;
  x.o.unit_id = r.i(0);
  x.o.code = r.s(1);
  x.o.name = r.s(2);
  x.o.org_path = r.s(3);
  x.o.division_code = r.s(4);
  x.o.grade = r.s(5);
  x.unit_active = r.i(6) != 0;
  x.configured = !r.null(7);
  x.outlet_id = r.i(7);
  if (x.configured) {
    x.o.active = r.i(8) != 0;
    x.o.priority = r.i(9);
    x.o.satisfaction = r.i(10);
    x.o.auto_engineer = r.i(11) != 0;
    x.o.location = point(r, 12);
    x.version = r.i(14);
    x.updated_at = r.i(15);
    x.revisits = r.i(16);
  }
  x.o.active = x.o.active && x.unit_active && x.configured;
  return x;
}

// Areas, lines and capacities of the given outlets (outlet row id -> record).
Result<void> load_children(Conn& c, std::map<int64_t, Outlet*>& by_id, const std::string& filter, const store::Params& params) {
  auto areas = TRY(c.query("SELECT outlet_id, division_code FROM outlet_areas " + filter + " ORDER BY division_code", params));
  for (const auto& r : areas)
    if (auto it = by_id.find(r.i(0)); it != by_id.end()) it->second->areas.push_back(r.s(1));
  auto lines = TRY(c.query("SELECT outlet_id, product_line_id FROM outlet_lines " + filter + " ORDER BY product_line_id", params));
  for (const auto& r : lines)
    if (auto it = by_id.find(r.i(0)); it != by_id.end()) it->second->product_lines.push_back(r.i(1));
  auto types = TRY(c.query("SELECT outlet_id, order_type, per_day FROM outlet_types " + filter + " ORDER BY id", params));
  for (const auto& r : types)
    if (auto it = by_id.find(r.i(0)); it != by_id.end()) it->second->capacity.push_back({r.s(1), r.i(2)});
  return {};
}

Result<std::optional<OutletRec>> find_outlet(Conn& c, int64_t unit_id) {
  auto row = TRY(c.one(std::string(kOutletSelect) + " AND u.id = ?", {unit_id}));
  if (!row) return std::optional<OutletRec>();
  OutletRec x = outlet_from_row(*row);
  if (x.configured) {
    std::map<int64_t, Outlet*> m{{x.outlet_id, &x.o}};
    TRY_VOID(load_children(c, m, "WHERE outlet_id = ?", {x.outlet_id}));
  }
  return std::optional<OutletRec>(std::move(x));
}

Result<OutletRec> outlet_in_scope(Conn& c, const http::Principal& who, int64_t unit_id) {
  auto x = TRY(find_outlet(c, unit_id));
  if (!x || !who.reaches(x->o.org_path)) return api::not_found("outlet", unit_id);
  return std::move(*x);
}

Result<json> outlet_json(Conn& c, const OutletRec& x) {
  const Outlet& o = x.o;
  json areas = json::array();
  for (const auto& a : o.areas) {
    auto d = TRY(divisions::find(c, a));
    areas.push_back(json{{"code", a}, {"name", d ? d->name : ""}, {"level", d ? d->level : 0}});
  }
  json lines = json::array();
  for (int64_t l : o.product_lines) {
    auto r = TRY(c.one("SELECT code, name FROM product_lines WHERE id = ?", {l}));
    lines.push_back(json{{"id", l}, {"code", r ? r->s(0) : ""}, {"name", r ? r->s(1) : ""}});
  }
  json caps = json::array();
  for (const auto& t : o.capacity) caps.push_back(json{{"order_type", t.order_type}, {"per_day", t.per_day}});
  return json{{"id", o.unit_id},
              {"unit_id", o.unit_id},
              {"code", o.code},
              {"name", o.name},
              {"org_path", o.org_path},
              {"division_code", o.division_code.empty() ? json(nullptr) : json(o.division_code)},
              {"grade", o.grade.empty() ? json(nullptr) : json(o.grade)},
              {"configured", x.configured},
              {"unit_active", x.unit_active},
              {"active", x.configured ? o.active : false},
              {"priority", o.priority},
              {"satisfaction", o.satisfaction},
              {"satisfaction_source", x.revisits > 0 ? "revisits" : "manual"},
              {"satisfaction_revisits", x.revisits},
              {"auto_engineer", o.auto_engineer},
              {"location", point_json(o.location)},
              {"areas", areas},
              {"product_lines", lines},
              {"capacity", caps},
              {"daily_capacity", [&] { int64_t n = 0; for (auto& t : o.capacity) n += t.per_day; return n; }()},
              {"version", x.version},
              {"updated_at", x.updated_at ? json(iso_utc(x.updated_at)) : json(nullptr)}};
}

Result<void> write_outlet(Conn& c, const Outlet& o, std::optional<int64_t> expected_version) {
  int64_t now = now_ms();
  auto row = TRY(c.one("SELECT id, version FROM outlets WHERE unit_id = ?", {o.unit_id}));
  int64_t id;
  if (row) {
    id = row->i(0);
    std::string sql =
        "UPDATE outlets SET org_path = ?, active = ?, priority = ?, satisfaction = ?, auto_engineer = ?, lat = ?, "
        "lon = ?, version = version + 1, updated_at = ? WHERE id = ?";
    store::Params ps{o.org_path, int64_t(o.active), o.priority, o.satisfaction, int64_t(o.auto_engineer),
                     opt_real(o.location, true), opt_real(o.location, false), now, id};
    if (expected_version) {
      sql += " AND version = ?";
      ps.push_back(*expected_version);
    }
    if (TRY(c.exec(sql, ps)) == 0)
      return Error::conflict("outlet " + std::to_string(o.unit_id) + " was changed by someone else (version " +
                                 std::to_string(row->i(1)) + ")", "version");
    for (const char* t : {"outlet_areas", "outlet_lines", "outlet_types"})
      TRY(c.exec(std::string("DELETE FROM ") + t + " WHERE outlet_id = ?", {id}));
  } else {
    if (expected_version && *expected_version != 0)
      return Error::conflict("outlet " + std::to_string(o.unit_id) + " has no settings yet (send version 0)", "version");
    auto ins = TRY(c.one(
        "INSERT INTO outlets (org_path, unit_id, active, priority, satisfaction, auto_engineer, lat, lon, version, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,1,?,?) RETURNING id",
        {o.org_path, o.unit_id, int64_t(o.active), o.priority, o.satisfaction, int64_t(o.auto_engineer),
         opt_real(o.location, true), opt_real(o.location, false), now, now}));
    id = ins->i(0);
  }
  for (const auto& a : o.areas) TRY(c.exec("INSERT INTO outlet_areas (outlet_id, division_code) VALUES (?, ?)", {id, a}));
  for (int64_t l : o.product_lines) TRY(c.exec("INSERT INTO outlet_lines (outlet_id, product_line_id) VALUES (?, ?)", {id, l}));
  for (const auto& t : o.capacity)
    TRY(c.exec("INSERT INTO outlet_types (outlet_id, order_type, per_day) VALUES (?, ?, ?)", {id, t.order_type, t.per_day}));
  return bump_revision(c);
}

// Sets the outlet's satisfaction to the average revisit score (percent) of
// the orders it served, when there are revisits; true when it changed.
Result<bool> refresh_satisfaction(Conn& c, int64_t unit_id) {
  auto r = TRY(c.one("SELECT COUNT(*), SUM(percent) FROM outlet_revisits WHERE unit_id = ?", {unit_id}));
  int64_t n = r ? r->i(0) : 0;
  if (n == 0) return false;
  int64_t avg = (r->i(1) + n / 2) / n;
  auto changed = TRY(c.exec("UPDATE outlets SET satisfaction = ?, revisits = ?, updated_at = ? WHERE unit_id = ? AND "
                            "(satisfaction <> ? OR revisits <> ?)", {avg, n, now_ms(), unit_id, avg, n}));
  return changed > 0;
}

// Keeps an order's revisit score (the orders module's "satisfaction" on
// order.updated) and the serving outlet's average.
Result<void> on_order_updated(api::WriteTx& tx, int64_t order_id, const json& o) {
  const json& sat = o.contains("satisfaction") ? o["satisfaction"] : json();
  if (!sat.is_object() || !sat.contains("percent") || !sat["percent"].is_number_integer()) return {};
  if (!o.contains("provider_unit_id") || !o["provider_unit_id"].is_number_integer()) return {};
  int64_t unit = o["provider_unit_id"].get<int64_t>();
  int64_t percent = std::clamp<int64_t>(sat["percent"].get<int64_t>(), 0, 100);
  Conn& c = tx.db;
  auto prev = TRY(c.one("SELECT unit_id, percent FROM outlet_revisits WHERE order_id = ?", {order_id}));
  if (prev && prev->i(0) == unit && prev->i(1) == percent) return {};
  if (prev)
    TRY(c.exec("UPDATE outlet_revisits SET unit_id = ?, percent = ?, at = ? WHERE order_id = ?", {unit, percent, now_ms(), order_id}));
  else
    TRY(c.exec("INSERT INTO outlet_revisits (order_id, unit_id, percent, at) VALUES (?,?,?,?)", {order_id, unit, percent, now_ms()}));
  std::vector<int64_t> units{unit};
  if (prev && prev->i(0) != unit) units.push_back(prev->i(0));
  for (int64_t u : units) {
    auto before = TRY(c.one("SELECT satisfaction, revisits, org_path, id FROM outlets WHERE unit_id = ?", {u}));
    if (!before || !TRY(refresh_satisfaction(c, u))) continue;
    auto after = TRY(c.one("SELECT satisfaction, revisits FROM outlets WHERE unit_id = ?", {u}));
    TRY(c.exec("UPDATE outlets SET version = version + 1 WHERE unit_id = ?", {u}));
    TRY_VOID(tx.audit("outlet", u, "satisfaction",
                      json{{"satisfaction", before->i(0)}, {"satisfaction_revisits", before->i(1)}},
                      json{{"satisfaction", after->i(0)}, {"satisfaction_revisits", after->i(1)}, {"order_id", order_id}},
                      before->s(2)));
  }
  // No revision bump: that would reload every server's whole dispatch index
  // per revisit. Dispatch picks the figure up with satisfaction_changes_since.
  return {};
}

// Reads the PUT body over the current settings.
// `revisits` > 0: the satisfaction score comes from revisits and is no
// longer set by hand (sending the current value back is fine: forms do).
Result<void> read_outlet_body(Conn& c, const json& body, Outlet& o, int64_t revisits) {
  Input in(body);
  if (in.has("active")) o.active = TRY(in.boolean("active"));
  if (in.has("priority")) o.priority = TRY(in.integer("priority", 1, 10));
  if (in.has("satisfaction")) {
    int64_t v = TRY(in.integer("satisfaction", 0, 100));
    if (revisits > 0 && v != o.satisfaction)
      return Error::conflict("satisfaction is kept from " + std::to_string(revisits) +
                                 " revisit(s) and can no longer be set by hand", "satisfaction");
    o.satisfaction = v;
  }
  if (in.has("auto_engineer")) o.auto_engineer = TRY(in.boolean("auto_engineer"));
  o.location = TRY(read_point(body, "lat", "lon", o.location));
  if (body.contains("areas")) {
    auto codes = TRY(in.str_list("areas", 500, 6));
    std::set<std::string> seen;
    o.areas.clear();
    for (size_t i = 0; i < codes.size(); ++i) {
      std::string f = "areas[" + std::to_string(i) + "]";
      auto d = TRY(divisions::find(c, codes[i]));
      if (!d) return Error::invalid(f + ": " + codes[i] + " is not a GB/T 2260 division code", f);
      if (seen.insert(codes[i]).second) o.areas.push_back(codes[i]);
    }
  }
  if (body.contains("product_line_ids")) {
    const json& arr = body["product_line_ids"];
    if (!arr.is_array() || arr.size() > 200) return Error::invalid("product_line_ids must be an array of product line ids", "product_line_ids");
    o.product_lines.clear();
    for (size_t i = 0; i < arr.size(); ++i) {
      std::string f = "product_line_ids[" + std::to_string(i) + "]";
      if (!arr[i].is_number_integer() || arr[i].get<int64_t>() < 1) return Error::invalid(f + " must be a product line id", f);
      int64_t id = arr[i].get<int64_t>();
      auto r = TRY(c.one("SELECT id FROM product_lines WHERE id = ?", {id}));
      if (!r) return Error::invalid(f + ": no product line " + std::to_string(id), f);
      if (std::find(o.product_lines.begin(), o.product_lines.end(), id) == o.product_lines.end()) o.product_lines.push_back(id);
    }
  }
  if (body.contains("capacity")) {
    const json& arr = body["capacity"];
    if (!arr.is_array() || arr.size() > 20) return Error::invalid("capacity must be an array of {order_type, per_day}", "capacity");
    o.capacity.clear();
    for (size_t i = 0; i < arr.size(); ++i) {
      std::string f = "capacity[" + std::to_string(i) + "]";
      Input ci(arr[i], f);
      std::string t = TRY(ci.one_of("order_type", order_types()));
      int64_t n = TRY(ci.integer("per_day", 0, 10000));
      for (const auto& x : o.capacity)
        if (x.order_type == t) return Error::invalid(f + ".order_type: " + t + " is listed twice", f + ".order_type");
      o.capacity.push_back({t, n});
    }
  }
  return {};
}

// ---- engineers -----------------------------------------------------------

struct EngineerRec {
  Engineer e;
  std::string unit_name, unit_type, username;
  bool has_profile = false;
  int64_t version = 0;
};

constexpr const char* kEngineerSelect =
    "SELECT u.id, u.display_name, ou.id, ou.path, u.active, e.id, e.status, e.status_at, e.work_days, e.work_start, "
    "e.work_end, e.home_lat, e.home_lon, e.cur_lat, e.cur_lon, e.version, ou.name, ou.type, u.username "
    "FROM users u JOIN org_units ou ON ou.id = u.org_unit_id LEFT JOIN engineers e ON e.user_id = u.id "
    "WHERE EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role_code = 'engineer')";

EngineerRec engineer_from_row(const store::Row& r) {
  EngineerRec x;
  x.e.user_id = r.i(0);
  x.e.name = r.s(1);
  x.e.unit_id = r.i(2);
  x.e.org_path = r.s(3);
  x.e.active = r.i(4) != 0;
  x.has_profile = !r.null(5);
  if (x.has_profile) {
    x.e.status = r.s(6);
    x.e.status_at = r.i(7);
    x.e.work_days_mask = static_cast<int>(r.i(8));
    x.e.work_start_min = static_cast<int>(r.i(9));
    x.e.work_end_min = static_cast<int>(r.i(10));
    x.e.home = point(r, 11);
    x.e.current = point(r, 13);
    x.version = r.i(15);
  }
  x.unit_name = r.s(16);
  x.unit_type = r.s(17);
  x.username = r.s(18);
  return x;
}

Result<void> load_engineer_children(Conn& c, std::map<int64_t, Engineer*>& by_user, const std::string& filter,
                                    const store::Params& params) {
  auto skills = TRY(c.query("SELECT user_id, product_line_id, order_type, certificate, valid_until FROM engineer_skills " +
                            filter + " ORDER BY id", params));
  for (const auto& r : skills)
    if (auto it = by_user.find(r.i(0)); it != by_user.end())
      it->second->skills.push_back({r.i(1), r.s(2), r.s(3), r.s(4)});
  auto off = TRY(c.query("SELECT user_id, day FROM engineer_days_off " + filter + " ORDER BY day", params));
  for (const auto& r : off)
    if (auto it = by_user.find(r.i(0)); it != by_user.end()) it->second->days_off.push_back(r.s(1));
  return {};
}

Result<std::optional<EngineerRec>> find_engineer(Conn& c, int64_t user_id) {
  auto row = TRY(c.one(std::string(kEngineerSelect) + " AND u.id = ?", {user_id}));
  if (!row) return std::optional<EngineerRec>();
  EngineerRec x = engineer_from_row(*row);
  std::map<int64_t, Engineer*> m{{x.e.user_id, &x.e}};
  TRY_VOID(load_engineer_children(c, m, "WHERE user_id = ?", {user_id}));
  return std::optional<EngineerRec>(std::move(x));
}

Result<EngineerRec> engineer_in_scope(Conn& c, const http::Principal& who, int64_t user_id) {
  auto x = TRY(find_engineer(c, user_id));
  if (!x || (x->e.user_id != who.user_id && !who.reaches(x->e.org_path))) return api::not_found("engineer", user_id);
  return std::move(*x);
}

Result<json> engineer_json(Conn& c, const EngineerRec& x) {
  const Engineer& e = x.e;
  json skills = json::array();
  for (const auto& s : e.skills) {
    auto r = TRY(c.one("SELECT name FROM product_lines WHERE id = ?", {s.product_line_id}));
    skills.push_back(json{{"product_line_id", s.product_line_id}, {"product_line_name", r ? r->s(0) : ""},
                          {"order_type", s.order_type}, {"certificate", s.certificate.empty() ? json(nullptr) : json(s.certificate)},
                          {"valid_until", s.valid_until.empty() ? json(nullptr) : json(s.valid_until)}});
  }
  json days = json::array();
  for (int d = 0; d < 7; ++d)
    if (e.work_days_mask & (1 << d)) days.push_back(d + 1);
  return json{{"id", e.user_id},
              {"user_id", e.user_id},
              {"username", x.username},
              {"name", e.name},
              {"unit_id", e.unit_id},
              {"unit_name", x.unit_name},
              {"org_path", e.org_path},
              {"active", e.active},
              {"has_profile", x.has_profile},
              {"status", e.status},
              {"status_at", e.status_at ? json(iso_utc(e.status_at)) : json(nullptr)},
              {"skills", skills},
              {"work_days", days},
              {"work_start", hhmm(e.work_start_min)},
              {"work_end", hhmm(e.work_end_min)},
              {"days_off", e.days_off},
              {"home", point_json(e.home)},
              {"position", point_json(e.current)},
              {"version", x.version}};
}

// Creates the profile row when the engineer has none yet.
Result<void> ensure_profile(Conn& c, const Engineer& e) {
  auto row = TRY(c.one("SELECT id FROM engineers WHERE user_id = ?", {e.user_id}));
  if (row) return {};
  int64_t now = now_ms();
  TRY(c.exec("INSERT INTO engineers (org_path, user_id, status, status_at, work_days, work_start, work_end, home_lat, "
             "home_lon, cur_lat, cur_lon, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,1,?,?)",
             {e.org_path, e.user_id, e.status, e.status_at, int64_t(e.work_days_mask), int64_t(e.work_start_min),
              int64_t(e.work_end_min), opt_real(e.home, true), opt_real(e.home, false), opt_real(e.current, true),
              opt_real(e.current, false), now, now}));
  return {};
}

Result<void> write_engineer(Conn& c, const Engineer& e, std::optional<int64_t> expected_version) {
  auto row = TRY(c.one("SELECT id, version FROM engineers WHERE user_id = ?", {e.user_id}));
  if (!row) {
    if (expected_version && *expected_version != 0)
      return Error::conflict("engineer " + std::to_string(e.user_id) + " has no profile yet (send version 0)", "version");
    TRY_VOID(ensure_profile(c, e));
  } else {
    std::string sql =
        "UPDATE engineers SET org_path = ?, work_days = ?, work_start = ?, work_end = ?, home_lat = ?, home_lon = ?, "
        "version = version + 1, updated_at = ? WHERE user_id = ?";
    store::Params ps{e.org_path, int64_t(e.work_days_mask), int64_t(e.work_start_min), int64_t(e.work_end_min),
                     opt_real(e.home, true), opt_real(e.home, false), now_ms(), e.user_id};
    if (expected_version) {
      sql += " AND version = ?";
      ps.push_back(*expected_version);
    }
    if (TRY(c.exec(sql, ps)) == 0)
      return Error::conflict("engineer " + std::to_string(e.user_id) + " was changed by someone else (version " +
                                 std::to_string(row->i(1)) + ")", "version");
  }
  TRY(c.exec("DELETE FROM engineer_skills WHERE user_id = ?", {e.user_id}));
  TRY(c.exec("DELETE FROM engineer_days_off WHERE user_id = ?", {e.user_id}));
  for (const auto& s : e.skills)
    TRY(c.exec("INSERT INTO engineer_skills (user_id, product_line_id, order_type, certificate, valid_until) VALUES (?,?,?,?,?)",
               {e.user_id, s.product_line_id, s.order_type, s.certificate, s.valid_until}));
  for (const auto& d : e.days_off) TRY(c.exec("INSERT INTO engineer_days_off (user_id, day) VALUES (?, ?)", {e.user_id, d}));
  return bump_revision(c);
}

Result<void> read_engineer_body(Conn& c, const json& body, Engineer& e) {
  Input in(body);
  if (body.contains("skills")) {
    const json& arr = body["skills"];
    if (!arr.is_array() || arr.size() > 100) return Error::invalid("skills must be an array of skills", "skills");
    e.skills.clear();
    for (size_t i = 0; i < arr.size(); ++i) {
      std::string f = "skills[" + std::to_string(i) + "]";
      Input si(arr[i], f);
      Skill s;
      s.product_line_id = TRY(si.integer("product_line_id", 1));
      auto r = TRY(c.one("SELECT id FROM product_lines WHERE id = ?", {s.product_line_id}));
      if (!r) return Error::invalid(f + ".product_line_id: no product line " + std::to_string(s.product_line_id), f + ".product_line_id");
      s.order_type = si.has("order_type") ? TRY(si.str("order_type", 40)) : "*";
      if (s.order_type != "*" && !is_type(s.order_type))
        return Error::invalid(f + ".order_type must be \"*\" or an order type", f + ".order_type");
      s.certificate = TRY(si.opt_str("certificate", 100)).value_or("");
      s.valid_until = TRY(si.opt_str("valid_until", 10)).value_or("");
      if (!s.valid_until.empty() && !valid_date(s.valid_until))
        return Error::invalid(f + ".valid_until must be a date YYYY-MM-DD", f + ".valid_until");
      for (const auto& x : e.skills)
        if (x.product_line_id == s.product_line_id && x.order_type == s.order_type)
          return Error::invalid(f + " repeats a skill", f);
      e.skills.push_back(std::move(s));
    }
  }
  if (body.contains("work_days")) {
    const json& arr = body["work_days"];
    if (!arr.is_array() || arr.size() > 7) return Error::invalid("work_days must be an array of weekdays 1 (Monday) .. 7", "work_days");
    int mask = 0;
    for (size_t i = 0; i < arr.size(); ++i) {
      if (!arr[i].is_number_integer() || arr[i].get<int>() < 1 || arr[i].get<int>() > 7)
        return Error::invalid("work_days[" + std::to_string(i) + "] must be 1 (Monday) .. 7 (Sunday)", "work_days[" + std::to_string(i) + "]");
      mask |= 1 << (arr[i].get<int>() - 1);
    }
    e.work_days_mask = mask;
  }
  for (auto [name, target] : {std::pair{"work_start", &e.work_start_min}, std::pair{"work_end", &e.work_end_min}}) {
    if (!in.has(name)) continue;
    std::string s = TRY(in.str(name, 5));
    int m = parse_hhmm(s);
    if (m < 0) return Error::invalid(std::string(name) + " must be a time HH:MM", name);
    *target = m;
  }
  if (e.work_end_min <= e.work_start_min) return Error::invalid("work_end must be after work_start", "work_end");
  if (body.contains("days_off")) {
    auto days = TRY(in.str_list("days_off", 366, 10));
    for (size_t i = 0; i < days.size(); ++i)
      if (!valid_date(days[i])) return Error::invalid("days_off[" + std::to_string(i) + "] must be a date YYYY-MM-DD", "days_off[" + std::to_string(i) + "]");
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    e.days_off = days;
  }
  e.home = TRY(read_point(body, "home_lat", "home_lon", e.home));
  return {};
}

Result<std::optional<std::string>> query_param(const Request& req, const char* name, size_t max = 40) {
  auto v = req.q(name);
  if (!v || v->empty()) return std::optional<std::string>();
  if (v->size() > max) return Error::invalid(std::string(name) + " is too long", name);
  return v;
}
Result<std::optional<int64_t>> int_param(const Request& req, const char* name) {
  auto v = TRY(query_param(req, name, 18));
  if (!v) return std::optional<int64_t>();
  if (!std::all_of(v->begin(), v->end(), [](char ch) { return ch >= '0' && ch <= '9'; }) || std::stoll(*v) <= 0)
    return Error::invalid(std::string(name) + " must be a positive integer", name);
  return std::optional<int64_t>(std::stoll(*v));
}

void outlet_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/outlets", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req, 100, 500));
      std::string where = " AND u.path LIKE ? AND u.id > ?";
      store::Params ps{req.principal->org_path + "%", pg.after_id};
      if (auto area = TRY(query_param(req, "area", 6))) {
        // Outlets serving the division: its own code, its city or its province.
        std::string code = *area;
        if (code.size() != 6) return Error::invalid("area must be a 6-digit division code", "area");
        where += " AND o.id IN (SELECT outlet_id FROM outlet_areas WHERE division_code IN (?, ?, ?) "
                 "OR division_code LIKE ?)";
        ps.insert(ps.end(), {code, code.substr(0, 4) + "00", code.substr(0, 2) + "0000",
                             code.substr(4) == "00" ? (code.substr(2) == "0000" ? code.substr(0, 2) : code.substr(0, 4)) + "%"
                                                    : code});
      }
      if (auto line = TRY(int_param(req, "product_line_id"))) {
        where += " AND o.id IN (SELECT outlet_id FROM outlet_lines WHERE product_line_id = ?)";
        ps.push_back(*line);
      }
      if (auto q = TRY(query_param(req, "q", 100))) {
        where += " AND (instr(u.name, ?) > 0 OR instr(u.code, ?) > 0)";
        ps.insert(ps.end(), {*q, *q});
      }
      where += " ORDER BY u.id LIMIT ?";
      ps.push_back(pg.limit + 1);
      auto rows = TRY(c.query(std::string(kOutletSelect) + where, ps));
      json items = json::array();
      for (const auto& row : rows) {
        OutletRec x = outlet_from_row(row);
        if (x.configured) {
          std::map<int64_t, Outlet*> m{{x.outlet_id, &x.o}};
          TRY_VOID(load_children(c, m, "WHERE outlet_id = ?", {x.outlet_id}));
        }
        items.push_back(TRY(outlet_json(c, x)));
      }
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "List service outlets (provider units with their dispatch settings) in the caller's scope",
      .tag = "network", .permission = "network.read", .query_params = {"limit", "cursor", "area", "product_line_id", "q"}});

  r.get("/api/v1/outlets/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto x = TRY(outlet_in_scope(c, *req.principal, TRY(api::path_id(req))));
      return Response::make_json(TRY(outlet_json(c, x)));
    });
  }, {.summary = "Get an outlet's service areas, authorisations, capacities and scores", .tag = "network",
      .permission = "network.read"});

  r.put("/api/v1/outlets/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    std::string scope;
    auto resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      auto x = TRY(outlet_in_scope(tx.db, *tx.who(), TRY(api::path_id(req))));
      int64_t version = x.configured ? TRY(api::expected_version(req, *body)) : 0;
      if (!x.configured && body->contains("version")) {
        auto v = (*body)["version"];
        if (!v.is_number_integer() || v.get<int64_t>() != 0)
          return Error::conflict("outlet has no settings yet (send version 0 or none)", "version");
      }
      json before = x.configured ? TRY(outlet_json(tx.db, x)) : json(nullptr);
      Outlet o = x.o;
      scope = o.org_path;
      if (!x.configured) o.active = true;
      TRY_VOID(read_outlet_body(tx.db, *body, o, x.revisits));
      TRY_VOID(write_outlet(tx.db, o, version));
      if (!x.configured) TRY(refresh_satisfaction(tx.db, o.unit_id));
      auto after_rec = TRY(outlet_in_scope(tx.db, *tx.who(), o.unit_id));
      json after = TRY(outlet_json(tx.db, after_rec));
      TRY_VOID(tx.audit("outlet", o.unit_id, x.configured ? "update" : "create", before, after, o.org_path));
      if (p.bus) TRY_VOID(p.bus->emit(tx, "network.changed", o.unit_id, after));
      return Response::make_json(after);
    });
    // Live event for the clients whose scope holds the outlet/engineer (EventHub).
    if (resp.status < 300 && p.events) p.events->publish("dispatch", json{{"kind", "network.changed"}}, {scope});
    return resp;
  }, {.summary = "Set an outlet's dispatch settings: areas, product lines, order types with capacity per day, "
                 "priority, satisfaction, active, location (send the version you read; 0 for the first time)",
      .tag = "network", .permission = "network.write",
      .request_schema = api::schema_object({{"areas", "array"}, {"product_line_ids", "array"}, {"capacity", "array"},
                                            {"priority", "integer"}, {"satisfaction", "integer"}, {"active", "boolean"},
                                            {"auto_engineer", "boolean"}, {"lat", "number"}, {"lon", "number"},
                                            {"version", "integer"}})});
}

// Who may set whose status: engineers their own; providers and network
// admins those in their subtree.
Result<void> may_set_status(const http::Principal& who, const Engineer& e) {
  if (who.user_id == e.user_id) return {};
  if (who.can("network.write") || who.has_role("provider")) return {};
  return Error::forbidden("only the engineer, their provider or a network admin may change this status");
}

void engineer_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/engineers", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req, 100, 500));
      std::string where = " AND ou.path LIKE ? AND u.id > ?";
      store::Params ps{req.principal->org_path + "%", pg.after_id};
      if (auto unit = TRY(int_param(req, "unit_id"))) {
        where += " AND ou.id = ?";
        ps.push_back(*unit);
      }
      if (auto st = TRY(query_param(req, "status"))) {
        const auto& all = engineer_statuses();
        if (std::find(all.begin(), all.end(), *st) == all.end())
          return Error::invalid("status must be one of off_duty, free, travelling, on_site", "status");
        where += *st == "off_duty" ? " AND (e.status IS NULL OR e.status = ?)" : " AND e.status = ?";
        ps.push_back(*st);
      }
      if (auto line = TRY(int_param(req, "product_line_id"))) {
        where += " AND EXISTS (SELECT 1 FROM engineer_skills s WHERE s.user_id = u.id AND s.product_line_id = ?)";
        ps.push_back(*line);
      }
      if (auto area = TRY(query_param(req, "area", 6))) {
        // Engineers of outlets serving the area, or located in it.
        where += " AND (instr(ou.division_code, ?) = 1 OR ou.id IN (SELECT o.unit_id FROM outlets o JOIN outlet_areas a "
                 "ON a.outlet_id = o.id WHERE instr(a.division_code, ?) = 1 OR instr(?, "
                 "CASE WHEN substr(a.division_code, 3) = '0000' THEN substr(a.division_code, 1, 2) "
                 "WHEN substr(a.division_code, 5) = '00' THEN substr(a.division_code, 1, 4) ELSE a.division_code END) = 1))";
        std::string prefix = *area;
        while (prefix.size() > 2 && prefix.substr(prefix.size() - 2) == "00") prefix.resize(prefix.size() - 2);
        ps.insert(ps.end(), {prefix, prefix, *area});
      }
      where += " ORDER BY u.id LIMIT ?";
      ps.push_back(pg.limit + 1);
      auto rows = TRY(c.query(std::string(kEngineerSelect) + where, ps));
      json items = json::array();
      for (const auto& row : rows) {
        EngineerRec x = engineer_from_row(row);
        std::map<int64_t, Engineer*> m{{x.e.user_id, &x.e}};
        TRY_VOID(load_engineer_children(c, m, "WHERE user_id = ?", {x.e.user_id}));
        items.push_back(TRY(engineer_json(c, x)));
      }
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "List engineers with skills, calendar and live status in the caller's scope", .tag = "network",
      .permission = "network.read", .query_params = {"limit", "cursor", "unit_id", "status", "product_line_id", "area"}});

  r.get("/api/v1/engineers/me", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto x = TRY(find_engineer(c, req.principal->user_id));
      if (!x) return Error::not_found("you are not an engineer");
      return Response::make_json(TRY(engineer_json(c, *x)));
    });
  }, {.summary = "The calling engineer's own profile and status (phone view)", .tag = "network",
      .permission = "engineer.status"});

  r.get("/api/v1/engineers/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto x = TRY(engineer_in_scope(c, *req.principal, TRY(api::path_id(req))));
      return Response::make_json(TRY(engineer_json(c, x)));
    });
  }, {.summary = "Get an engineer's skills, calendar and status", .tag = "network", .permission = "network.read"});

  r.put("/api/v1/engineers/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    std::string scope;
    auto resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      auto x = TRY(engineer_in_scope(tx.db, *tx.who(), TRY(api::path_id(req))));
      if (x.e.user_id == tx.who()->user_id && !tx.who()->reaches(x.e.org_path))
        return api::not_found("engineer", x.e.user_id);
      std::optional<int64_t> version;
      if (x.has_profile) version = TRY(api::expected_version(req, *body));
      json before = x.has_profile ? TRY(engineer_json(tx.db, x)) : json(nullptr);
      Engineer e = x.e;
      scope = e.org_path;
      TRY_VOID(read_engineer_body(tx.db, *body, e));
      TRY_VOID(write_engineer(tx.db, e, version));
      auto after_rec = TRY(engineer_in_scope(tx.db, *tx.who(), e.user_id));
      json after = TRY(engineer_json(tx.db, after_rec));
      TRY_VOID(tx.audit("engineer", e.user_id, x.has_profile ? "update" : "create", before, after, e.org_path));
      if (p.bus) TRY_VOID(p.bus->emit(tx, "network.changed", e.user_id, after));
      return Response::make_json(after);
    });
    // Live event for the clients whose scope holds the outlet/engineer (EventHub).
    if (resp.status < 300 && p.events) p.events->publish("dispatch", json{{"kind", "network.changed"}}, {scope});
    return resp;
  }, {.summary = "Set an engineer's skills and certificates, working days and hours, days off and home base "
                 "(send the version you read once a profile exists)",
      .tag = "network", .permission = "network.write",
      .request_schema = api::schema_object({{"skills", "array"}, {"work_days", "array"}, {"work_start", "string"},
                                            {"work_end", "string"}, {"days_off", "array"}, {"home_lat", "number"},
                                            {"home_lon", "number"}, {"version", "integer"}})});

  r.post("/api/v1/engineers/{id}/status", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    json published;
    std::string scope;
    auto resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      auto x = TRY(engineer_in_scope(tx.db, who, TRY(api::path_id(req))));
      TRY_VOID(may_set_status(who, x.e));
      Input in(*body);
      std::string status = TRY(in.one_of("status", engineer_statuses()));
      auto note = TRY(in.opt_str("note", 200));
      GeoPoint at = TRY(read_point(*body, "lat", "lon", GeoPoint{}));
      json before = TRY(engineer_json(tx.db, x));
      Engineer e = x.e;
      TRY_VOID(ensure_profile(tx.db, e));
      int64_t now = now_ms();
      std::string sql = "UPDATE engineers SET status = ?, status_at = ?, version = version + 1, updated_at = ?";
      store::Params ps{status, now, now};
      if (at.set) {
        sql += ", cur_lat = ?, cur_lon = ?";
        ps.insert(ps.end(), {at.lat, at.lon});
      }
      sql += " WHERE user_id = ?";
      ps.push_back(e.user_id);
      if (body->contains("version")) {
        sql += " AND version = ?";
        ps.push_back(TRY(api::expected_version(req, *body)));
      }
      if (TRY(tx.db.exec(sql, ps)) == 0)
        return Error::conflict("engineer " + std::to_string(e.user_id) + " was changed by someone else", "version");
      TRY(tx.db.exec("INSERT INTO engineer_status_log (org_path, user_id, status, previous, at, by_user_id, lat, lon, note) "
                     "VALUES (?,?,?,?,?,?,?,?,?)",
                     {e.org_path, e.user_id, status, x.has_profile ? x.e.status : std::string("off_duty"), now, who.user_id,
                      opt_real(at, true), opt_real(at, false), note ? store::Value(*note) : store::Value()}));
      auto after_rec = TRY(engineer_in_scope(tx.db, who, e.user_id));
      json after = TRY(engineer_json(tx.db, after_rec));
      TRY_VOID(tx.audit("engineer", e.user_id, "status", before, after, e.org_path));
      json data{{"status", status}, {"unit_id", e.unit_id}, {"lat", at.set ? json(at.lat) : json(nullptr)},
                {"lon", at.set ? json(at.lon) : json(nullptr)}};
      if (p.bus) TRY_VOID(p.bus->emit(tx, "engineer.status", e.user_id, data));
      published = json{{"kind", "engineer.status"}, {"user_id", e.user_id}, {"status", status}};
      scope = e.org_path;
      return Response::make_json(after);
    });
    if (resp.status < 300 && p.events && !published.is_null()) p.events->publish("dispatch", published, {scope});
    return resp;
  }, {.summary = "Change an engineer's live status (off_duty, free, travelling, on_site), optionally with position",
      .tag = "network", .permission = "engineer.status",
      .request_schema = api::schema_object({{"status", "string"}, {"lat", "number"}, {"lon", "number"}, {"note", "string"}},
                                           {"status"})});

  r.get("/api/v1/engineers/{id}/status-history", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto x = TRY(engineer_in_scope(c, *req.principal, TRY(api::path_id(req))));
      // Engineers read their own history; others need network.read.
      if (x.e.user_id != req.principal->user_id && !req.principal->can("network.read"))
        return Error::forbidden("permission network.read required");
      auto pg = TRY(api::page(req, 50, 500));
      // Newest first; the cursor is the last id seen.
      std::string sql =
          "SELECT l.id, l.status, l.previous, l.at, l.by_user_id, u.display_name, l.lat, l.lon, l.note FROM "
          "engineer_status_log l LEFT JOIN users u ON u.id = l.by_user_id WHERE l.user_id = ?";
      store::Params ps{x.e.user_id};
      if (pg.after_id) {
        sql += " AND l.id < ?";
        ps.push_back(pg.after_id);
      }
      sql += " ORDER BY l.id DESC LIMIT ?";
      ps.push_back(pg.limit + 1);
      auto rows = TRY(c.query(sql, ps));
      json items = json::array();
      for (const auto& row : rows)
        items.push_back(json{{"id", row.i(0)}, {"status", row.s(1)}, {"previous", row.s(2)}, {"at", iso_utc(row.i(3))},
                             {"by_user_id", row.i(4)}, {"by_name", row.s(5)},
                             {"position", point_json(point(row, 6))}, {"note", row.null(8) ? json(nullptr) : json(row.s(8))}});
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "An engineer's status changes, newest first (own history, or network.read)", .tag = "network",
      .query_params = {"limit", "cursor"}});
}

}  // namespace

Result<std::optional<bool>> outlet_active(Conn& c, int64_t unit_id) {
  auto row = TRY(c.one("SELECT active FROM outlets WHERE unit_id = ?", {unit_id}));
  if (!row) return std::optional<bool>();
  return std::optional<bool>(row->i(0) != 0);
}

Result<void> lock_outlet(Conn& c, int64_t unit_id) {
  return store::lock_rows(c, "SELECT id FROM outlets WHERE unit_id = ?", {unit_id});
}

Result<std::vector<Outlet>> load_outlets(Conn& c) {
  auto rows = TRY(c.query(std::string(kOutletSelect) + " AND o.id IS NOT NULL ORDER BY u.id"));
  std::vector<OutletRec> recs;
  recs.reserve(rows.size());
  for (const auto& r : rows) recs.push_back(outlet_from_row(r));
  std::map<int64_t, Outlet*> by_id;
  for (auto& x : recs) by_id[x.outlet_id] = &x.o;
  TRY_VOID(load_children(c, by_id, "", {}));
  std::vector<Outlet> out;
  out.reserve(recs.size());
  for (auto& x : recs) out.push_back(std::move(x.o));
  return out;
}

Result<std::vector<Engineer>> load_engineers(Conn& c) {
  auto rows = TRY(c.query(std::string(kEngineerSelect) + " AND e.id IS NOT NULL AND u.active = 1 ORDER BY u.id"));
  std::vector<Engineer> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(engineer_from_row(r).e);
  std::map<int64_t, Engineer*> by_user;
  for (auto& e : out) by_user[e.user_id] = &e;
  TRY_VOID(load_engineer_children(c, by_user, "", {}));
  return out;
}

Result<int64_t> revision(Conn& c) {
  auto r = TRY(c.one("SELECT rev FROM network_rev WHERE id = 1"));
  return r ? r->i(0) : 0;
}

Result<std::vector<std::pair<int64_t, std::string>>> status_changes_since(Conn& c, int64_t after_ms) {
  auto rows = TRY(c.query("SELECT user_id, status FROM engineers WHERE status_at > ? ORDER BY status_at", {after_ms}));
  std::vector<std::pair<int64_t, std::string>> out;
  for (const auto& r : rows) out.emplace_back(r.i(0), r.s(1));
  return out;
}

Result<std::vector<std::pair<int64_t, int64_t>>> satisfaction_changes_since(Conn& c, int64_t after_ms) {
  auto rows = TRY(c.query("SELECT unit_id, satisfaction FROM outlets WHERE updated_at > ? ORDER BY updated_at", {after_ms}));
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& r : rows) out.emplace_back(r.i(0), r.i(1));
  return out;
}

Result<void> save_outlet(Conn& c, const Outlet& o) {
  auto unit = TRY(c.one("SELECT path FROM org_units WHERE id = ? AND type = 'provider'", {o.unit_id}));
  if (!unit) return Error::invalid("unit " + std::to_string(o.unit_id) + " is not a service provider", "unit_id");
  Outlet x = o;
  x.org_path = unit->s(0);
  return write_outlet(c, x, std::nullopt);
}

Result<void> save_engineer(Conn& c, const Engineer& e) {
  auto u = TRY(find_engineer(c, e.user_id));
  if (!u) return Error::invalid("user " + std::to_string(e.user_id) + " is not an engineer", "user_id");
  Engineer x = e;
  x.org_path = u->e.org_path;
  x.unit_id = u->e.unit_id;
  TRY_VOID(write_engineer(c, x, std::nullopt));
  TRY(c.exec("UPDATE engineers SET status = ?, status_at = ?, cur_lat = ?, cur_lon = ? WHERE user_id = ?",
             {x.status, x.status_at ? x.status_at : now_ms(), opt_real(x.current, true), opt_real(x.current, false), x.user_id}));
  return {};
}

api::Module module() {
  api::Module m;
  m.name = "network";
  m.migrations = {{"network", 1, "outlets (service areas, authorisations, capacity) and engineers (skills, status)", R"sql(
CREATE TABLE outlets (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  unit_id INTEGER NOT NULL UNIQUE REFERENCES org_units(id),
  active INTEGER NOT NULL DEFAULT 1,
  priority INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
  satisfaction INTEGER NOT NULL DEFAULT 80 CHECK (satisfaction BETWEEN 0 AND 100),
  auto_engineer INTEGER NOT NULL DEFAULT 0,
  lat REAL,
  lon REAL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX outlets_org_path ON outlets(org_path);
CREATE TABLE outlet_areas (
  id INTEGER PRIMARY KEY,
  outlet_id INTEGER NOT NULL REFERENCES outlets(id),
  division_code TEXT NOT NULL REFERENCES divisions(code),
  UNIQUE (outlet_id, division_code)
) STRICT;
CREATE INDEX outlet_areas_code ON outlet_areas(division_code);
CREATE TABLE outlet_lines (
  id INTEGER PRIMARY KEY,
  outlet_id INTEGER NOT NULL REFERENCES outlets(id),
  product_line_id INTEGER NOT NULL REFERENCES product_lines(id),
  UNIQUE (outlet_id, product_line_id)
) STRICT;
CREATE TABLE outlet_types (
  id INTEGER PRIMARY KEY,
  outlet_id INTEGER NOT NULL REFERENCES outlets(id),
  order_type TEXT NOT NULL,
  per_day INTEGER NOT NULL CHECK (per_day >= 0),
  UNIQUE (outlet_id, order_type)
) STRICT;
CREATE TABLE engineers (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  user_id INTEGER NOT NULL UNIQUE REFERENCES users(id),
  status TEXT NOT NULL DEFAULT 'off_duty' CHECK (status IN ('off_duty','free','travelling','on_site')),
  status_at INTEGER NOT NULL DEFAULT 0,
  work_days INTEGER NOT NULL DEFAULT 31,
  work_start INTEGER NOT NULL DEFAULT 480,
  work_end INTEGER NOT NULL DEFAULT 1080,
  home_lat REAL,
  home_lon REAL,
  cur_lat REAL,
  cur_lon REAL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX engineers_status_at ON engineers(status_at);
CREATE TABLE engineer_skills (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  product_line_id INTEGER NOT NULL REFERENCES product_lines(id),
  order_type TEXT NOT NULL,
  certificate TEXT NOT NULL DEFAULT '',
  valid_until TEXT NOT NULL DEFAULT '',
  UNIQUE (user_id, product_line_id, order_type)
) STRICT;
CREATE TABLE engineer_days_off (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  day TEXT NOT NULL,
  UNIQUE (user_id, day)
) STRICT;
CREATE TABLE engineer_status_log (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users(id),
  status TEXT NOT NULL,
  previous TEXT NOT NULL,
  at INTEGER NOT NULL,
  by_user_id INTEGER,
  lat REAL,
  lon REAL,
  note TEXT
) STRICT;
CREATE INDEX engineer_status_log_user ON engineer_status_log(user_id, id);
CREATE TABLE network_rev (
  id INTEGER PRIMARY KEY,
  rev INTEGER NOT NULL
) STRICT;
INSERT INTO network_rev (id, rev) VALUES (1, 1);
)sql"}};
  m.migrations.push_back({"network", 2, "outlet satisfaction kept from revisits", R"sql(
ALTER TABLE outlets ADD COLUMN revisits INTEGER NOT NULL DEFAULT 0;
CREATE TABLE outlet_revisits (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL UNIQUE,
  unit_id INTEGER NOT NULL REFERENCES org_units(id),
  percent INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
  at INTEGER NOT NULL
) STRICT;
CREATE INDEX outlet_revisits_unit ON outlet_revisits(unit_id);
CREATE INDEX outlets_updated_at ON outlets(updated_at);
)sql"});
  m.wire = [](api::Platform& p) {
    if (!p.bus) return;
    p.bus->on("order.updated", [](api::WriteTx& tx, std::string_view, int64_t id, const json& data) {
      return on_order_updated(tx, id, data);
    });
  };
  m.routes = [](http::Router& r, api::Platform& p) {
    outlet_routes(r, p);
    engineer_routes(r, p);
  };
  return m;
}

}  // namespace shouhou::network
