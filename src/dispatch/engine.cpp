#include "dispatch/engine.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

namespace shouhou::dispatch {

using json = nlohmann::json;

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kShanghaiOffsetMs = 8 * 3'600'000;
constexpr int16_t kAnyType = -1;
constexpr size_t kNamedCandidates = 20;  // a decision names its first 20 candidates (all when explaining)

enum Status : uint8_t { st_free = 0, st_travelling = 1, st_on_site = 2, st_off_duty = 3 };

uint8_t status_code(const std::string& s) {
  if (s == "free") return st_free;
  if (s == "travelling") return st_travelling;
  if (s == "on_site") return st_on_site;
  return st_off_duty;
}
const char* status_name(uint8_t s) {
  switch (s) {
    case st_free: return "free";
    case st_travelling: return "travelling";
    case st_on_site: return "on_site";
    default: return "off_duty";
  }
}

int code_int(const std::string& s) {
  if (s.size() != 6) return -1;
  int v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return -1;
    v = v * 10 + (ch - '0');
  }
  return v;
}

const char* type_zh(const std::string& t) {
  static const std::pair<const char*, const char*> names[] = {
      {"installation", "安装"}, {"delivery", "送货"},     {"repair", "维修"},   {"return_exchange", "退换货"},
      {"maintenance", "保养"},  {"inspection", "巡检"},   {"startup", "开机"},  {"complaint", "投诉"},
      {"consultation", "咨询"}};
  for (auto& [k, v] : names)
    if (t == k) return v;
  return t.c_str();
}

struct SkillRec {
  int64_t line;
  int16_t type;  // kAnyType = every type
  int64_t valid_until_day;
};

struct Eng {
  int64_t user_id = 0;
  std::string name;
  bool active = true;
  uint8_t status = st_off_duty;
  std::vector<SkillRec> skills;
  int mask = 0x1F;
  std::vector<int64_t> days_off;  // sorted day numbers
  network::GeoPoint home, current;
  int64_t open_jobs = 0;
};

struct Out {
  network::Outlet cfg;
  std::vector<int16_t> types;     // authorised types
  std::vector<int64_t> caps;      // per day, aligned with types
  std::vector<int64_t> used;      // taken on Impl::day, aligned with types
  std::vector<int64_t> lines;     // sorted
  int64_t daily_capacity = 0;
  int64_t open_load = 0;
  int own_code = -1;
  std::vector<uint32_t> engineers;
};

}  // namespace

struct Index::Impl {
  std::vector<Out> outlets;
  std::vector<Eng> engineers;
  std::unordered_map<std::string, int16_t> type_ids;
  std::vector<std::string> type_names;  // by type id
  std::unordered_map<int, std::vector<uint32_t>> by_area;      // served area code -> outlets
  std::unordered_map<int, std::vector<uint32_t>> by_province;  // outlet's own province -> outlets
  std::unordered_map<int64_t, uint32_t> outlet_of_unit;
  std::unordered_map<int64_t, uint32_t> engineer_of_user;
  int64_t day = 0;  // counters' local day

  int16_t type_id(const std::string& t) const {
    auto it = type_ids.find(t);
    return it == type_ids.end() ? int16_t(-2) : it->second;
  }
  int16_t intern(const std::string& t) {
    if (t == "*") return kAnyType;
    auto [it, fresh] = type_ids.emplace(t, static_cast<int16_t>(type_ids.size()));
    if (fresh) type_names.push_back(t);
    return it->second;
  }

  static bool skilled(const Eng& e, int64_t line, int16_t type, int64_t today) {
    if (!e.active) return false;
    for (const auto& s : e.skills)
      if (s.line == line && (s.type == kAnyType || s.type == type) && s.valid_until_day >= today) return true;
    return false;
  }
  static bool works_on(const Eng& e, int64_t day) {
    int weekday = static_cast<int>(((day % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday; 0 = Monday
    if (!(e.mask & (1 << weekday))) return false;
    return !std::binary_search(e.days_off.begin(), e.days_off.end(), day);
  }

  // Fills one candidate for outlet i; the score only for eligible ones.
  // Names are copied only for candidates that will be shown.
  void name(Candidate& c) const {
    const Out& out = outlets[outlet_of_unit.at(c.unit_id)];
    c.code = out.cfg.code;
    c.name = out.cfg.name;
    c.grade = out.cfg.grade;
  }

  Candidate evaluate(uint32_t i, const OrderFacts& o, const Weights& w, const char* area_match, int county,
                     double urgency, int64_t today, int16_t type, bool with_names = true) const {
    const Out& out = outlets[i];
    Candidate c;
    c.unit_id = out.cfg.unit_id;
    if (with_names) name(c);
    c.area_match = area_match;
    c.satisfaction = out.cfg.satisfaction;
    c.priority = out.cfg.priority;
    c.open_load = out.open_load;
    c.daily_capacity = out.daily_capacity;
    c.auto_engineer = out.cfg.auto_engineer;
    int slot = -1;
    for (size_t k = 0; k < out.types.size(); ++k)
      if (out.types[k] == type) slot = static_cast<int>(k);
    if (slot >= 0) {
      c.capacity_today = out.caps[slot];
      c.used_today = today == day ? out.used[slot] : 0;
    }
    // Engineers: skilled ones, and the best on duty today.
    uint8_t best_status = 255;
    const Eng* best = nullptr;
    double best_km = 0;
    for (uint32_t ei : out.engineers) {
      const Eng& e = engineers[ei];
      if (!skilled(e, o.product_line_id, type, today)) continue;
      ++c.skilled_engineers;
      if (!works_on(e, today)) continue;
      if (e.status == st_free) ++c.free_engineers;
      const network::GeoPoint& at = e.current.set ? e.current : e.home;
      double km = (at.set && o.site.set) ? haversine_km(at, o.site) : 1e9;
      bool better = !best || e.status < best_status ||
                    (e.status == best_status &&
                     (e.open_jobs < best->open_jobs ||
                      (e.open_jobs == best->open_jobs && (km < best_km || (km == best_km && e.user_id < best->user_id)))));
      if (better) {
        best = &e;
        best_status = e.status;
        best_km = km;
      }
    }
    if (best) {
      EngineerChoice ch{best->user_id, best->name, status_name(best->status), best->open_jobs, std::nullopt};
      if (best_km < 1e8) ch.distance_km = best_km;
      c.engineer = ch;
    }
    // Hard filters, in order.
    bool excluded = std::find(o.exclude.begin(), o.exclude.end(), c.unit_id) != o.exclude.end();
    if (std::string_view(area_match) == "none") c.failed = Filter::area;
    else if (!out.cfg.active) c.failed = Filter::active;
    else if (!std::binary_search(out.lines.begin(), out.lines.end(), o.product_line_id)) c.failed = Filter::line;
    else if (slot < 0) c.failed = Filter::type;
    else if (c.skilled_engineers == 0) c.failed = Filter::skill;
    else if (c.used_today >= c.capacity_today) c.failed = Filter::capacity;
    else if (excluded) c.failed = Filter::excluded;

    // Terms (shown for every candidate; the score counts for eligible ones).
    c.load = 1.0 - std::min(1.0, static_cast<double>(out.open_load) / static_cast<double>(std::max<int64_t>(1, out.daily_capacity)));
    c.satisfaction_term = std::clamp(out.cfg.satisfaction, int64_t{0}, int64_t{100}) / 100.0;
    c.priority_term = (std::clamp(out.cfg.priority, int64_t{1}, int64_t{10}) - 1) / 9.0;
    if (out.cfg.location.set && o.site.set) {
      c.distance_km = haversine_km(out.cfg.location, o.site);
      c.distance_term = 1.0 / (1.0 + *c.distance_km / 10.0);
    } else if (out.own_code > 0 && county > 0) {
      if (out.own_code == county) c.distance_term = 1.0;
      else if (out.own_code / 100 == county / 100) c.distance_term = 0.5;
      else if (out.own_code / 10000 == county / 10000) c.distance_term = 0.2;
    }
    double readiness = !best ? 0.0 : best->status == st_free ? 1.0 : best->status == st_off_duty ? 0.0 : 0.4;
    c.sla_term = urgency * readiness;
    double sum = w.load + w.satisfaction + w.priority + w.distance + w.sla;
    if (sum <= 0) sum = 1;
    c.score = (w.load * c.load + w.satisfaction * c.satisfaction_term + w.priority * c.priority_term +
               w.distance * c.distance_term + w.sla * c.sla_term) / sum;
    if (!c.eligible()) c.score = 0;
    return c;
  }
};

const char* filter_name(Filter f) {
  switch (f) {
    case Filter::ok: return "ok";
    case Filter::area: return "area";
    case Filter::excluded: return "excluded";
    case Filter::active: return "suspended";
    case Filter::line: return "product_line";
    case Filter::type: return "order_type";
    case Filter::skill: return "skill";
    case Filter::capacity: return "capacity";
  }
  return "?";
}

int64_t local_day(int64_t utc_ms) {
  int64_t t = utc_ms + kShanghaiOffsetMs;
  return t >= 0 ? t / kDayMs : (t - kDayMs + 1) / kDayMs;
}

int64_t parse_day(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return -1;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return -1;
  int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)), d = std::stoi(s.substr(8, 2));
  if (m < 1 || m > 12 || d < 1 || d > 31) return -1;
  // Days from civil (H. Hinnant).
  y -= m <= 2;
  int era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
}

double haversine_km(const network::GeoPoint& a, const network::GeoPoint& b) {
  constexpr double r = 6371.0, rad = M_PI / 180.0;
  double dlat = (b.lat - a.lat) * rad, dlon = (b.lon - a.lon) * rad;
  double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
             std::cos(a.lat * rad) * std::cos(b.lat * rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * r * std::asin(std::min(1.0, std::sqrt(h)));
}

Index::Index() : impl_(std::make_unique<Impl>()) {}
Index::~Index() = default;

void Index::rebuild(const std::vector<network::Outlet>& outlets, const std::vector<network::Engineer>& engineers) {
  auto fresh = std::make_unique<Impl>();
  Impl& d = *fresh;
  for (const auto& t : network::order_types()) d.intern(t);
  d.outlets.reserve(outlets.size());
  for (const auto& o : outlets) {
    Out out;
    out.cfg = o;
    for (const auto& tc : o.capacity) {
      out.types.push_back(d.intern(tc.order_type));
      out.caps.push_back(tc.per_day);
      out.used.push_back(0);
      out.daily_capacity += tc.per_day;
    }
    out.lines = o.product_lines;
    std::sort(out.lines.begin(), out.lines.end());
    out.own_code = code_int(o.division_code);
    auto i = static_cast<uint32_t>(d.outlets.size());
    d.outlet_of_unit[o.unit_id] = i;
    for (const auto& a : o.areas) {
      int code = code_int(a);
      if (code < 0) continue;
      auto& v = d.by_area[code];
      if (v.empty() || v.back() != i) v.push_back(i);
    }
    if (out.own_code > 0) d.by_province[out.own_code / 10000].push_back(i);
    d.outlets.push_back(std::move(out));
  }
  d.engineers.reserve(engineers.size());
  for (const auto& e : engineers) {
    Eng g;
    g.user_id = e.user_id;
    g.name = e.name;
    g.active = e.active;
    g.status = status_code(e.status);
    for (const auto& s : e.skills) {
      int64_t until = s.valid_until.empty() ? std::numeric_limits<int64_t>::max() : parse_day(s.valid_until);
      g.skills.push_back({s.product_line_id, d.intern(s.order_type), until});
    }
    g.mask = e.work_days_mask;
    for (const auto& off : e.days_off) {
      int64_t day = parse_day(off);
      if (day >= 0) g.days_off.push_back(day);
    }
    std::sort(g.days_off.begin(), g.days_off.end());
    g.home = e.home;
    g.current = e.current;
    auto i = static_cast<uint32_t>(d.engineers.size());
    d.engineer_of_user[e.user_id] = i;
    auto o = d.outlet_of_unit.find(e.unit_id);
    if (o != d.outlet_of_unit.end()) d.outlets[o->second].engineers.push_back(i);
    d.engineers.push_back(std::move(g));
  }
  std::unique_lock lk(mu_);
  // Keep the counters of the outlets and engineers that still exist.
  d.day = impl_->day;
  for (auto& out : d.outlets) {
    auto it = impl_->outlet_of_unit.find(out.cfg.unit_id);
    if (it == impl_->outlet_of_unit.end()) continue;
    const Out& old = impl_->outlets[it->second];
    out.open_load = old.open_load;
    for (size_t k = 0; k < out.types.size(); ++k)
      for (size_t j = 0; j < old.types.size(); ++j)
        if (old.types[j] >= 0 && out.types[k] >= 0 &&
            impl_->type_names[old.types[j]] == d.type_names[out.types[k]])
          out.used[k] = old.used[j];
  }
  for (auto& e : d.engineers) {
    auto it = impl_->engineer_of_user.find(e.user_id);
    if (it != impl_->engineer_of_user.end()) e.open_jobs = impl_->engineers[it->second].open_jobs;
  }
  impl_ = std::move(fresh);
}

void Index::set_counters(const Counters& c) {
  std::unique_lock lk(mu_);
  Impl& d = *impl_;
  d.day = c.day;
  for (auto& out : d.outlets) {
    auto l = c.open_load.find(out.cfg.unit_id);
    out.open_load = l == c.open_load.end() ? 0 : l->second;
    auto u = c.used_today.find(out.cfg.unit_id);
    for (size_t k = 0; k < out.types.size(); ++k) {
      out.used[k] = 0;
      if (u == c.used_today.end()) continue;
      for (const auto& [type, n] : u->second)
        if (d.type_id(type) == out.types[k]) out.used[k] = n;
    }
  }
  for (auto& e : d.engineers) {
    auto j = c.engineer_jobs.find(e.user_id);
    e.open_jobs = j == c.engineer_jobs.end() ? 0 : j->second;
  }
}

void Index::count_assignment(int64_t unit_id, int64_t engineer_id, const std::string& order_type, int64_t day) {
  std::unique_lock lk(mu_);
  Impl& d = *impl_;
  if (day > d.day) {
    for (auto& out : d.outlets) std::fill(out.used.begin(), out.used.end(), 0);
    d.day = day;
  }
  auto o = d.outlet_of_unit.find(unit_id);
  if (o != d.outlet_of_unit.end()) {
    Out& out = d.outlets[o->second];
    ++out.open_load;
    int16_t t = d.type_id(order_type);
    if (day == d.day)
      for (size_t k = 0; k < out.types.size(); ++k)
        if (out.types[k] == t) ++out.used[k];
  }
  auto e = d.engineer_of_user.find(engineer_id);
  if (engineer_id && e != d.engineer_of_user.end()) ++d.engineers[e->second].open_jobs;
}

void Index::count_release(int64_t unit_id, int64_t engineer_id) {
  std::unique_lock lk(mu_);
  Impl& d = *impl_;
  auto o = d.outlet_of_unit.find(unit_id);
  if (o != d.outlet_of_unit.end() && d.outlets[o->second].open_load > 0) --d.outlets[o->second].open_load;
  auto e = d.engineer_of_user.find(engineer_id);
  if (engineer_id && e != d.engineer_of_user.end() && d.engineers[e->second].open_jobs > 0)
    --d.engineers[e->second].open_jobs;
}

void Index::set_engineer_status(int64_t user_id, const std::string& status) {
  std::unique_lock lk(mu_);
  auto e = impl_->engineer_of_user.find(user_id);
  if (e != impl_->engineer_of_user.end()) impl_->engineers[e->second].status = status_code(status);
}

void Index::set_engineer_position(int64_t user_id, const network::GeoPoint& p) {
  std::unique_lock lk(mu_);
  auto e = impl_->engineer_of_user.find(user_id);
  if (e != impl_->engineer_of_user.end()) impl_->engineers[e->second].current = p;
}

void Index::set_outlet_satisfaction(int64_t unit_id, int64_t satisfaction) {
  std::unique_lock lk(mu_);
  auto o = impl_->outlet_of_unit.find(unit_id);
  if (o != impl_->outlet_of_unit.end()) impl_->outlets[o->second].cfg.satisfaction = satisfaction;
}

size_t Index::outlet_count() const {
  std::shared_lock lk(mu_);
  return impl_->outlets.size();
}
size_t Index::engineer_count() const {
  std::shared_lock lk(mu_);
  return impl_->engineers.size();
}

namespace {
double urgency_of(const OrderFacts& o) {
  if (o.resolve_due_at <= 0) return 0;
  double hours_left = static_cast<double>(o.resolve_due_at - o.now) / 3.6e6;
  return std::clamp((24.0 - hours_left) / 22.0, 0.0, 1.0);
}

bool rank_before(const Candidate& a, const Candidate& b) {
  if (a.eligible() != b.eligible()) return a.eligible();
  if (a.eligible()) {
    if (a.score != b.score) return a.score > b.score;
  } else if (a.failed != b.failed) {
    return a.failed > b.failed;  // closest to qualifying first
  }
  return a.unit_id < b.unit_id;
}
}  // namespace

std::optional<Candidate> Index::evaluate(const OrderFacts& o, const Weights& w, int64_t unit_id) const {
  std::shared_lock lk(mu_);
  const Impl& d = *impl_;
  auto it = d.outlet_of_unit.find(unit_id);
  if (it == d.outlet_of_unit.end()) return std::nullopt;
  int county = code_int(o.county_code);
  const char* match = "none";
  if (county > 0)
    for (const auto& a : d.outlets[it->second].cfg.areas) {
      int code = code_int(a);
      if (code == county) { match = "county"; break; }
      if (code == county / 100 * 100 && std::string_view(match) != "county") match = "city";
      else if (code == county / 10000 * 10000 && std::string_view(match) == "none") match = "province";
    }
  return d.evaluate(it->second, o, w, match, county, urgency_of(o), local_day(o.now), d.type_id(o.order_type));
}

Decision Index::decide(const OrderFacts& o, const Weights& w, bool explain) const {
  std::shared_lock lk(mu_);
  const Impl& d = *impl_;
  Decision dec;
  dec.urgency = urgency_of(o);
  int county = code_int(o.county_code);
  int64_t today = local_day(o.now);
  int16_t type = d.type_id(o.order_type);
  std::vector<uint32_t> seen;
  if (county > 0) {
    const int levels[3] = {county, county / 100 * 100, county / 10000 * 10000};
    const char* names[3] = {"county", "city", "province"};
    for (int l = 0; l < 3; ++l) {
      if (l > 0 && levels[l] == levels[l - 1]) continue;
      auto it = d.by_area.find(levels[l]);
      if (it == d.by_area.end()) continue;
      for (uint32_t i : it->second) {
        if (std::find(seen.begin(), seen.end(), i) != seen.end()) continue;
        seen.push_back(i);
        dec.candidates.push_back(d.evaluate(i, o, w, names[l], county, dec.urgency, today, type, false));
      }
    }
    if (explain) {
      auto it = d.by_province.find(county / 10000);
      if (it != d.by_province.end())
        for (uint32_t i : it->second) {
          if (std::find(seen.begin(), seen.end(), i) != seen.end()) continue;
          seen.push_back(i);
          dec.candidates.push_back(d.evaluate(i, o, w, "none", county, dec.urgency, today, type, false));
        }
    }
  }
  std::sort(dec.candidates.begin(), dec.candidates.end(), rank_before);
  for (size_t i = 0; i < dec.candidates.size() && (explain || i < kNamedCandidates); ++i) d.name(dec.candidates[i]);

  const std::string area = o.area_name.empty() ? o.county_code : o.area_name + " (" + o.county_code + ")";
  const std::string line = o.product_line_name.empty() ? "product line " + std::to_string(o.product_line_id) : o.product_line_name;
  size_t eligible = 0;
  Filter furthest = Filter::ok;
  bool any_in_area = false;
  for (const auto& c : dec.candidates) {
    if (c.eligible()) ++eligible;
    else if (c.failed != Filter::area) {
      any_in_area = true;
      if (furthest == Filter::ok || c.failed > furthest) furthest = c.failed;
    }
  }
  if (eligible) {
    dec.chosen = 0;
    dec.reason_code = "best_score";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", dec.candidates[0].score);
    dec.reason = "highest score " + std::string(buf) + " of " + std::to_string(eligible) + " qualified outlet(s) for " +
                 o.order_type + " of " + line + " in " + area;
    dec.reason_zh = "在" + area + "的" + std::to_string(eligible) + "个合格网点中得分最高(" + buf + ")";
    return dec;
  }
  const std::string tz = type_zh(o.order_type);
  if (!any_in_area) {
    dec.reason_code = "area";
    dec.reason = "no outlet serves " + area;
    dec.reason_zh = "没有服务" + area + "的网点";
    return dec;
  }
  dec.reason_code = filter_name(furthest);
  switch (furthest) {
    case Filter::excluded:
      dec.reason = "every outlet qualified for this order in " + area + " has had it already";
      dec.reason_zh = area + "符合条件的网点均已派过此单";
      break;
    case Filter::active:
      dec.reason = "the outlets serving " + area + " are suspended";
      dec.reason_zh = "服务" + area + "的网点均已暂停";
      break;
    case Filter::line:
      dec.reason = "no outlet authorised for " + line + " in " + area;
      dec.reason_zh = area + "没有获得" + line + "授权的网点";
      break;
    case Filter::type:
      dec.reason = "no outlet authorised for " + o.order_type + " of " + line + " in " + area;
      dec.reason_zh = area + "没有获得" + line + tz + "授权的网点";
      break;
    case Filter::skill:
      dec.reason = "no engineer certified for " + o.order_type + " of " + line + " at the outlets serving " + area;
      dec.reason_zh = "服务" + area + "的网点没有具备" + line + tz + "技能的工程师";
      break;
    case Filter::capacity:
      dec.reason = "no capacity left today for " + o.order_type + " at the outlets serving " + area;
      dec.reason_zh = "服务" + area + "的网点今日" + tz + "产能已满";
      break;
    default:
      break;
  }
  return dec;
}

// Built key by key: nlohmann's initializer lists allocate a temporary array
// per pair, and this runs for every auto-dispatch (the hot path).
json Decision::to_json(size_t max_candidates) const {
  auto r3 = [](double v) { return std::round(v * 1000) / 1000; };
  auto r1 = [](const std::optional<double>& v) { return v ? json(std::round(*v * 10) / 10) : json(nullptr); };
  json list = json::array();
  for (size_t i = 0; i < candidates.size() && i < max_candidates; ++i) {
    const auto& c = candidates[i];
    json j = json::object();
    j["unit_id"] = c.unit_id;
    j["code"] = c.code;
    j["name"] = c.name;
    j["grade"] = c.grade;
    j["area_match"] = c.area_match;
    j["eligible"] = c.eligible();
    j["failed"] = c.eligible() ? json(nullptr) : json(filter_name(c.failed));
    j["capacity_today"] = c.capacity_today;
    j["used_today"] = c.used_today;
    j["daily_capacity"] = c.daily_capacity;
    j["open_load"] = c.open_load;
    j["satisfaction"] = c.satisfaction;
    j["priority"] = c.priority;
    j["distance_km"] = r1(c.distance_km);
    j["skilled_engineers"] = c.skilled_engineers;
    j["free_engineers"] = c.free_engineers;
    j["auto_engineer"] = c.auto_engineer;
    json terms = json::object();
    terms["load"] = r3(c.load);
    terms["satisfaction"] = r3(c.satisfaction_term);
    terms["priority"] = r3(c.priority_term);
    terms["distance"] = r3(c.distance_term);
    terms["sla"] = r3(c.sla_term);
    j["terms"] = std::move(terms);
    j["score"] = r3(c.score);
    if (c.engineer) {
      json e = json::object();
      e["user_id"] = c.engineer->user_id;
      e["name"] = c.engineer->name;
      e["status"] = c.engineer->status;
      e["open_jobs"] = c.engineer->open_jobs;
      e["distance_km"] = r1(c.engineer->distance_km);
      j["engineer"] = std::move(e);
    } else {
      j["engineer"] = nullptr;
    }
    list.push_back(std::move(j));
  }
  json out = json::object();
  out["chosen_unit_id"] = chosen ? json(candidates[*chosen].unit_id) : json(nullptr);
  out["reason_code"] = reason_code;
  out["reason"] = reason;
  out["reason_zh"] = reason_zh;
  out["urgency"] = r3(urgency);
  out["candidates"] = std::move(list);
  out["candidate_count"] = candidates.size();
  return out;
}

}  // namespace shouhou::dispatch
