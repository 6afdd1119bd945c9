// How the generator works: every entity is a pure function of (seed, kind,
// index) — plan_customer(i), plan_asset(k), plan_order(n) draw from their own
// random stream — so the data do not depend on batch sizes, and a later
// phase can recompute what an earlier one decided instead of keeping it in
// memory. Only the database ids are kept (a vector per entity kind).
#include "demogen/demogen.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <malloc.h>
#include <set>

#include "auth/auth.h"
#include "contracts/contracts.h"
#include "core/util.h"
#include "customers/customers.h"
#include "demogen/data.h"
#include "demogen/gen.h"
#include "divisions/divisions.h"
#include "installbase/installbase.h"
#include "org/org.h"
#include "products/products.h"
#include "store/bulk.h"

namespace shouhou::demogen {

using api::json;
using store::Conn;

Result<Counts> counts_for(std::string_view scale) {
  Counts c;
  if (scale == "small") {
    c.customers = 1'000, c.serials = 3'000, c.orders = 5'000, c.providers = 40, c.dealers = 40;
  } else if (scale == "medium") {
    // Sized so that `make bench` (generation included) stays within ~15 minutes.
    c.customers = 50'000, c.serials = 150'000, c.orders = 100'000, c.providers = 300, c.dealers = 300;
  } else if (scale == "large") {
    c.customers = 1'000'000, c.serials = 3'000'000, c.orders = 5'000'000, c.providers = 2'000, c.dealers = 2'000;
  } else {
    return Error::invalid("scale must be small, medium or large", "scale");
  }
  c.contracts = c.customers / 25;
  return c;
}

// ---- random numbers and dates ------------------------------------------------

uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Rng::Rng(uint64_t seed, uint64_t stream, uint64_t index) : s_(mix(mix(mix(seed) ^ stream) ^ index)) {}
uint64_t Rng::next() {
  s_ += 0x9e3779b97f4a7c15ULL;
  uint64_t z = s_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
int64_t Rng::range(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
}
double Rng::unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string date_of(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(y), m, d);
  return buf;
}

// ---- the world: org, catalogue ------------------------------------------------

namespace {

constexpr uint64_t kStreamCustomer = 1, kStreamAsset = 2, kStreamOrg = 3, kStreamContract = 4;
constexpr double kOrganisationShare = 0.14;
const char* const kMunicipalities[] = {"110000", "120000", "310000", "500000"};

std::string pad(int64_t v, int width) {
  std::string s = std::to_string(v);
  return s.size() >= static_cast<size_t>(width) ? s : std::string(width - s.size(), '0') + s;
}

// Weighted pick over cumulative weights.
size_t pick_cum(const std::vector<double>& cum, double u) {
  auto it = std::upper_bound(cum.begin(), cum.end(), u * cum.back());
  return std::min<size_t>(static_cast<size_t>(it - cum.begin()), cum.size() - 1);
}

std::string person_name(Rng& r) {
  // Surnames by Zipf-like weight: the first ones are far more common.
  int64_t si = static_cast<int64_t>(std::floor(std::pow(r.unit(), 2.2) * data::kSurnameCount));
  std::string n = data::kSurnames[std::min<int64_t>(si, data::kSurnameCount - 1)];
  n += data::kGivenChars[r.range(0, data::kGivenCharCount - 1)];
  if (r.chance(0.7)) n += data::kGivenChars[r.range(0, data::kGivenCharCount - 1)];
  return n;
}

std::string mobile(Rng& r) {
  return std::string(data::kMobilePrefixes[r.range(0, data::kMobilePrefixCount - 1)]) + pad(r.range(0, 99'999'999), 8);
}

// A landline as people write it: "0531-86061234" or "(021)64281234".
std::string landline(Rng& r, const std::string& area) {
  int digits = area.size() == 3 ? 8 : (r.chance(0.7) ? 8 : 7);
  int64_t first = r.range(2, 8);
  int64_t rest = r.range(0, digits == 8 ? 9'999'999 : 999'999);
  std::string sub = std::to_string(first) + pad(rest, digits - 1);
  return r.chance(0.8) ? area + "-" + sub : "(" + area + ")" + sub;
}

std::string street_address(Rng& r, bool home) {
  std::string s = data::kStreets[r.range(0, data::kStreetCount - 1)];
  s += std::to_string(r.range(1, 999)) + "号";
  if (home) {
    s += std::string(data::kEstates[r.range(0, data::kEstateCount - 1)]) + std::to_string(r.range(1, 36)) + "栋" +
         std::to_string(r.range(1, 4)) + "单元" + std::to_string(r.range(1, 33)) + pad(r.range(1, 4), 2);
  }
  return s;
}

}  // namespace

// The world the plans refer to: cities with their units, models with their
// batches. Built once per run (the ids come from the database).
Result<World> build_world(api::Platform& p, const Options& o, Summary& sum) {
  World w;
  w.seed = o.seed;
  w.counts = o.counts;
  w.end_day = days_from_civil(2026, 11, 20);  // fixed, so a seed always gives the same data
  w.start_day = w.end_day - 5 * 365;
  const auto& divs = divisions::embedded();
  std::map<std::string, const divisions::Division*> by_code;
  for (const auto& d : divs) by_code[d.code] = &d;

  std::string hash = TRY(auth::hash_password(o.password));
  TRY_VOID(p.db.write([&](Conn& c) -> Result<void> {
    ScopedClock clock(static_cast<int64_t>(w.start_day - 400) * 86'400'000);
    auto hq = TRY(c.one("SELECT id, path FROM org_units WHERE parent_id IS NULL"));
    if (!hq) w.hq_id = TRY(org::insert_unit(c, org::NewUnit{"HQ", "总部", "hq", std::nullopt, std::string("110105")}));
    else w.hq_id = hq->i(0);
    w.hq_path = TRY(c.one("SELECT path FROM org_units WHERE id = ?", {w.hq_id}))->s(0);
    if (TRY(c.one("SELECT id FROM org_units WHERE code = 'RC-SOUTH'")))
      return Error::conflict("demo data were already generated into this database (org unit RC-SOUTH exists)", "db");

    auto unit_by_code = [&](const std::string& code) -> Result<std::optional<int64_t>> {
      auto row = TRY(c.one("SELECT id FROM org_units WHERE code = ?", {code}));
      return row ? std::optional<int64_t>(row->i(0)) : std::nullopt;
    };
    auto path_of = [&](int64_t id) -> Result<std::string> {
      return TRY(c.one("SELECT path FROM org_units WHERE id = ?", {id}))->s(0);
    };
    auto add_unit = [&](org::NewUnit u) -> Result<int64_t> {
      ++sum.org_units;
      return org::insert_unit(c, u);
    };
    std::map<std::string, int64_t> regions;
    for (int i = 0; i < data::kRegionCount; ++i) {
      const auto& rg = data::kRegions[i];
      auto id = TRY(unit_by_code(rg.code));
      regions[rg.code] = id ? *id : TRY(add_unit(org::NewUnit{rg.code, rg.name, "region", w.hq_id, std::string(rg.division)}));
    }

    // Branches: one per city (the fixed demo's BR-SH / BR-JN / BR-BJ reused).
    std::vector<double> cum;
    double total = 0;
    for (int i = 0; i < data::kCityCount; ++i) {
      const auto& ct = data::kCities[i];
      CityInfo ci;
      ci.city = &ct;
      bool municipality = std::find(std::begin(kMunicipalities), std::end(kMunicipalities), std::string(ct.province)) !=
                          std::end(kMunicipalities);
      if (municipality) {
        ci.city_code = std::string(ct.province).substr(0, 2) + "0100";
      } else {
        for (const auto& d : divs)
          if (d.level == 2 && d.parent_code == ct.province && d.name == ct.name) ci.city_code = d.code;
      }
      if (ci.city_code.empty()) return Error::invalid(std::string("no division for city ") + ct.name, "city");
      std::string short_name = ct.name;
      if (short_name.size() > 3 && short_name.substr(short_name.size() - 3) == "市")
        short_name = short_name.substr(0, short_name.size() - 3);
      ci.short_name = short_name;
      for (const auto& d : divs)
        if (d.level == 3 && d.parent_code == ci.city_code && d.name != "市辖区") ci.counties.push_back(&d);
      if (ci.counties.empty()) return Error::invalid(std::string("no counties for city ") + ct.name, "city");
      auto existing = TRY(c.one("SELECT id FROM org_units WHERE type = 'branch' AND division_code = ? ORDER BY id LIMIT 1",
                                {ci.city_code}));
      if (existing) {
        ci.branch_id = existing->i(0);
      } else {
        ci.branch_id = TRY(add_unit(org::NewUnit{"BR-" + ci.city_code, short_name + "分公司", "branch", regions.at(ct.region),
                                                 ci.city_code, std::nullopt, std::string(ct.area) + "-" + pad(86000000 + i, 8).substr(0, 8)}));
      }
      ci.branch_path = TRY(path_of(ci.branch_id));
      total += ct.weight;
      cum.push_back(total);
      w.cities.push_back(std::move(ci));
    }
    w.city_cum = cum;

    // Providers and their engineers, dealers: spread over the cities by weight.
    auto spread = [&](int64_t n, auto&& make) -> Result<void> {
      for (int64_t k = 0; k < n; ++k) {
        // Every city gets one first; the rest follow the weights.
        size_t ci = k < static_cast<int64_t>(w.cities.size()) ? static_cast<size_t>(k)
                                                              : pick_cum(cum, Rng(o.seed, kStreamOrg, k * 2 + 1).unit());
        TRY_VOID(make(k, ci));
      }
      return {};
    };
    int64_t user_seq = 0;
    auto add_user = [&](const std::string& username, const std::string& display, int64_t unit, const char* role,
                        const std::string& phone) -> Result<int64_t> {
      org::NewUser u;
      u.username = username;
      u.display_name = display;
      u.password_hash = hash;
      u.org_unit_id = unit;
      u.roles = {role};
      u.phone = phone;
      ++sum.users;
      ++user_seq;
      return org::insert_user(c, u);
    };
    // The call centre: agents take the calls, dispatchers audit and dispatch.
    {
      Rng r(o.seed, kStreamOrg, 3'000'000);
      for (int k = 1; k <= 4; ++k)
        w.agents.push_back(TRY(add_user("cc" + pad(k, 2), "呼叫中心坐席 " + person_name(r), w.hq_id, "agent", mobile(r))));
      for (int k = 1; k <= 2; ++k)
        w.dispatchers.push_back(TRY(add_user("dd" + pad(k, 2), "调度员 " + person_name(r), w.hq_id, "dispatcher", mobile(r))));
    }
    TRY_VOID(spread(o.counts.providers, [&](int64_t k, size_t ci) -> Result<void> {
      Rng r(o.seed, kStreamOrg, k * 2);
      auto& city = w.cities[ci];
      const auto* county = city.counties[r.range(0, static_cast<int64_t>(city.counties.size()) - 1)];
      std::string code = "SP-" + county->code + "-" + pad(k + 1, 4);
      std::string grade = r.chance(0.25) ? "A" : r.chance(0.6) ? "B" : "C";
      std::string name = county->name + data::kProviderSuffixes[r.range(0, data::kProviderSuffixCount - 1)];
      if (k >= static_cast<int64_t>(w.cities.size())) name = city.short_name + name;
      ProviderInfo pv;
      pv.city = ci;
      pv.county = county->code;
      pv.grade = grade;
      pv.unit_id = TRY(add_unit(org::NewUnit{code, name, "provider", city.branch_id, county->code, grade,
                                             landline(r, city.city->area), street_address(r, false)}));
      pv.path = TRY(path_of(pv.unit_id));
      std::string tag = pad(k + 1, 5);
      pv.staff_user_id = TRY(add_user("sp" + tag, name + " " + person_name(r) + "经理", pv.unit_id, "provider", mobile(r)));
      int64_t engineers = r.range(2, 6);
      for (int64_t e = 0; e < engineers; ++e) {
        std::string username = "eng" + tag + "-" + std::to_string(e + 1);
        pv.engineers.push_back(TRY(add_user(username, "工程师 " + person_name(r), pv.unit_id, "engineer", mobile(r))));
        pv.engineer_usernames.push_back(username);
      }
      city.providers.push_back(w.providers.size());
      w.providers.push_back(std::move(pv));
      return {};
    }));
    TRY_VOID(spread(o.counts.dealers, [&](int64_t k, size_t ci) -> Result<void> {
      Rng r(o.seed, kStreamOrg, 1'000'000 + k);
      auto& city = w.cities[ci];
      const auto* county = city.counties[r.range(0, static_cast<int64_t>(city.counties.size()) - 1)];
      std::string code = "DL-" + county->code + "-" + pad(k + 1, 4);
      std::string name = county->name + data::kCompanyWords[r.range(0, data::kCompanyWordCount - 1)] +
                         data::kDealerSuffixes[r.range(0, data::kDealerSuffixCount - 1)];
      int64_t id = TRY(add_unit(org::NewUnit{code, name, "dealer", city.branch_id, county->code, std::nullopt,
                                             landline(r, city.city->area), street_address(r, false)}));
      TRY(add_user("dl" + pad(k + 1, 5), name + " " + person_name(r), id, "dealer", mobile(r)));
      city.dealers.push_back(id);
      return {};
    }));
    return {};
  }));

  // The catalogue: product lines, models (the fixed demo's reused by code),
  // components with positions, monthly production batches.
  TRY_VOID(p.db.write([&](Conn& c) -> Result<void> {
    ScopedClock clock(static_cast<int64_t>(w.start_day - 300) * 86'400'000);
    const std::map<std::string, std::pair<const char*, const char*>> lines = {
        {"AC", {"空调", "Air conditioners"}}, {"WH", {"热水器", "Water heaters"}},
        {"SWH", {"太阳能热水器", "Solar water heaters"}}, {"UPS", {"UPS电源", "UPS"}}};
    std::map<std::string, int64_t> line_ids;
    for (const auto& [code, names] : lines) {
      auto row = TRY(c.one("SELECT id FROM product_lines WHERE code = ?", {code}));
      line_ids[code] = row ? row->i(0)
                           : TRY(products::insert_product_line(c, {code, names.first, std::string(names.second)}, w.hq_path));
    }
    double total = 0;
    for (int i = 0; i < data::kModelCount; ++i) {
      const auto& dm = data::kModels[i];
      ModelInfo mi;
      mi.m = &dm;
      mi.line_id = line_ids.at(dm.line);
      auto row = TRY(c.one("SELECT id FROM models WHERE code = ?", {std::string(dm.code)}));
      bool existed = bool(row);
      mi.id = existed ? row->i(0)
                      : TRY(products::insert_model(c, {mi.line_id, dm.code, dm.name, std::nullopt}, w.hq_path));
      if (!existed) {
        ++sum.models;
        for (int k = 0; k < data::kComponentCount; ++k) {
          const auto& dc = data::kComponents[k];
          if (std::string(dc.line) != dm.line) continue;
          products::NewComponent nc;
          nc.position = dc.position;
          nc.name = dc.name;
          nc.part_code = std::string(dc.part) + "-" + dm.serial_prefix;
          nc.key_part = dc.key_category != nullptr;
          if (dc.key_category) nc.key_part_category = std::string(dc.key_category);
          TRY(products::insert_component(c, mi.id, nc, w.hq_path));
        }
      }
      auto info = TRY(products::model_info(c, mi.id));
      for (const auto& comp : info->components) mi.positions.push_back(comp.position);
      for (int f = 0; f < data::kFaultCount; ++f)
        if (std::string(data::kFaults[f].line) == dm.line &&
            std::find(mi.positions.begin(), mi.positions.end(), data::kFaults[f].position) != mi.positions.end())
          mi.faults.push_back(f);
      // A batch a month from a year before the period starts; a few batches
      // (chosen by the seed) carry a defect that multiplies the fault rate.
      Rng r(o.seed, kStreamOrg, 2'000'000 + i);
      std::string first = date_of(w.start_day - 365);
      int y = std::stoi(first.substr(0, 4)), mo = std::stoi(first.substr(5, 2));
      for (int64_t day = days_from_civil(y, mo, 6); day <= w.end_day;
           mo = mo == 12 ? 1 : mo + 1, y += mo == 1 ? 1 : 0, day = days_from_civil(y, mo, 6)) {
        std::string date = date_of(day);
        Batch b;
        b.code = "P" + date.substr(2, 2) + date.substr(5, 2);
        b.day = day;
        b.defect = r.chance(0.04) ? 3.0 + r.unit() * 4.0 : 1.0;
        b.id = TRY(products::insert_batch(c, mi.id, {b.code, date, r.range(500, 20000)}, w.hq_path));
        mi.batches.push_back(b);
      }
      total += dm.weight;
      mi.fault = dm.fault;
      w.models.push_back(std::move(mi));
    }
    return {};
  }));
  // Model choice: households and organisations buy different things.
  double th = 0, tb = 0;
  for (const auto& mi : w.models) {
    th += mi.m->business ? mi.m->weight * 0.05 : mi.m->weight;
    tb += mi.m->business ? mi.m->weight * 3.0 : mi.m->weight * 0.6;
    w.model_cum_home.push_back(th);
    w.model_cum_business.push_back(tb);
  }
  return w;
}

// ---- plans: pure functions of (seed, index) ------------------------------------

bool plan_is_organisation(const World& w, int64_t i) {
  return Rng(w.seed, kStreamCustomer, static_cast<uint64_t>(i)).chance(kOrganisationShare);
}

CustomerPlan plan_customer(const World& w, int64_t i) {
  Rng r(w.seed, kStreamCustomer, static_cast<uint64_t>(i));
  CustomerPlan c;
  c.organisation = r.chance(kOrganisationShare);  // first draw: see plan_is_organisation
  c.city = pick_cum(w.city_cum, r.unit());
  const auto& city = w.cities[c.city];
  c.county = city.counties[r.range(0, static_cast<int64_t>(city.counties.size()) - 1)]->code;
  if (!c.organisation) {
    c.name = person_name(r);
    c.type = r.chance(0.25) ? "indirect" : "direct";
    c.phones.push_back(mobile(r));
    if (r.chance(0.2)) c.phones.push_back(landline(r, city.city->area));
    if (r.chance(0.05)) c.phones.push_back(mobile(r));
    c.detail = street_address(r, true);
  } else {
    int64_t what = r.range(0, 9);
    if (what < 3) {
      c.name = city.short_name + "市" + data::kInstitutions[r.range(0, data::kInstitutionCount - 1)];
    } else {
      c.name = city.short_name + data::kCompanyWords[r.range(0, data::kCompanyWordCount - 1)] +
               data::kIndustries[r.range(0, data::kIndustryCount - 1)] + "有限公司";
    }
    c.type = "direct";
    c.phones.push_back(landline(r, city.city->area));
    c.contact = person_name(r);
    static const char* const titles[] = {"设备科长", "后勤主管", "行政经理", "机房负责人", "总务处长", "工程部经理"};
    c.contact_title = titles[r.range(0, 5)];
    c.contact_phone = mobile(r);
    c.detail = street_address(r, false);
  }
  return c;
}

AssetPlan plan_asset(const World& w, int64_t k) {
  AssetPlan a;
  a.customer = plan_owner(w, k);
  Rng r(w.seed, kStreamAsset, static_cast<uint64_t>(k));
  bool business = a.customer >= 0 && plan_is_organisation(w, a.customer);
  a.model = pick_cum(business ? w.model_cum_business : w.model_cum_home, r.unit());
  const auto& m = w.models[a.model];
  // Sales grow ~15 % a year, with a summer peak for air conditioners.
  int64_t span = w.end_day - w.start_day;
  double u = std::pow(r.unit(), 0.8);
  a.sale_day = w.start_day + static_cast<int64_t>(u * span);
  if (std::string(m.m->line) == "AC" && r.chance(0.3)) {
    int64_t year_start = a.sale_day - ((a.sale_day - w.start_day) % 365);
    a.sale_day = std::min(w.end_day - 1, year_start + 150 + r.range(0, 90));
  }
  a.production_day = a.sale_day - r.range(15, 150);
  // The batch produced last before the production day.
  a.batch = 0;
  for (size_t b = 0; b < m.batches.size(); ++b)
    if (m.batches[b].day <= a.production_day) a.batch = b;
  a.production_day = std::max(a.production_day, m.batches[a.batch].day);
  a.in_stock = r.chance(0.02);
  a.installed = !a.in_stock && r.chance(std::string(m.m->line) == "UPS" ? 0.7 : 0.95);
  a.install_day = std::min(w.end_day, a.sale_day + r.range(0, 10));
  a.amount_fen = m.m->price_fen * (90 + r.range(0, 15)) / 100 / 100 * 100;
  a.serial_seq = k + 1;
  a.engineer_pick = r.next();
  a.provider_pick = r.next();
  a.dealer_pick = r.next();
  return a;
}

std::string serial_of(const World& w, const AssetPlan& a) {
  std::string d = date_of(a.production_day);
  return std::string(w.models[a.model].m->serial_prefix) + d.substr(2, 2) + d.substr(5, 2) + "A" + pad(a.serial_seq, 7);
}

// ---- writing ---------------------------------------------------------------------

namespace {

int64_t day_ms(int64_t day, int64_t minute_of_day) { return day * 86'400'000 + minute_of_day * 60'000; }

}  // namespace

void report(const Options& o, std::string_view phase, int64_t done, int64_t total) {
  if (o.progress) o.progress(phase, done, total);
}

Result<void> write_customers_and_assets(api::Platform& p, const Options& o, World& w, Summary& sum) {
  const Counts& n = o.counts;
  w.customer_ids.assign(static_cast<size_t>(n.customers), 0);
  w.asset_ids.assign(static_cast<size_t>(n.serials), 0);
  int64_t contract_seq = 0;
  double contract_p = n.customers ? std::min(1.0, static_cast<double>(n.contracts) / (kOrganisationShare * n.customers * 0.6)) : 0;
  int64_t next_asset = 0;
  for (int64_t from = 0; from < n.customers; from += o.batch) {
    int64_t to = std::min(n.customers, from + o.batch);
    TRY_VOID(p.db.write([&](Conn& c) -> Result<void> {
      // A batch's dirty pages stay in memory until the commit (SQLite spills
      // them to the WAL mid-transaction when its 2 MB cache is full).
      if (c.dialect() == store::Dialect::sqlite && from == 0) TRY(c.query("PRAGMA cache_size = -262144"));
      api::WriteTx tx(c, nullptr, "demo-generator");
      ScopedClock clock(0);
      int64_t batch_assets = 0;
      // A customer's purchases are recorded together after its assets (as the
      // imports module does): one total/tier update per customer instead of
      // three statements and a threshold read per asset.
      std::vector<std::pair<int64_t, customers::Purchase>> purchases;
      for (int64_t i = from; i < to; ++i) {
        CustomerPlan cp = plan_customer(w, i);
        const CityInfo& city = w.cities[cp.city];
        // The customer's assets: a contiguous range of asset indexes.
        int64_t first = next_asset, last = next_asset;
        while (last < n.serials && plan_owner(w, last) == i) ++last;
        next_asset = last;
        std::vector<AssetPlan> plans;
        for (int64_t k = first; k < last; ++k) plans.push_back(plan_asset(w, k));
        int64_t first_day = w.end_day - 30;
        for (const auto& a : plans) first_day = std::min(first_day, a.sale_day);
        clock.set(day_ms(first_day - 1, 9 * 60 + (i % 480)));

        customers::NewCustomer nc;
        nc.org_unit_id = city.branch_id;
        nc.org_path = city.branch_path;
        nc.name = cp.name;
        nc.kind = cp.organisation ? "organisation" : "individual";
        nc.type = cp.type;
        nc.phones = cp.phones;
        if (!cp.contact.empty()) nc.contacts.push_back({cp.contact, cp.contact_title, {cp.contact_phone}});
        nc.addresses.push_back({cp.county, cp.detail, std::nullopt});
        int64_t cid = TRY(customers::insert_customer(c, nc));
        w.customer_ids[static_cast<size_t>(i)] = cid;
        ++sum.created.customers;

        std::vector<int64_t> business_assets;
        for (const auto& a : plans) {
          // The install base's bulk entry (the imports module's): one INSERT
          // with sale and installation, the timeline events and the owner's
          // purchase; audited once per batch below.
          const ModelInfo& m = w.models[a.model];
          installbase::ImportedAsset ia;
          ia.serial = serial_of(w, a);
          ia.org_unit_id = city.branch_id;
          ia.org_path = city.branch_path;
          ia.model_id = m.id;
          ia.batch = m.batches[a.batch].code;
          ia.production_date = date_of(a.production_day);
          std::optional<int64_t> dealer;
          if (!city.dealers.empty()) dealer = city.dealers[a.dealer_pick % city.dealers.size()];
          if (a.in_stock) {
            clock.set(day_ms(a.production_day, 8 * 60));
          } else {
            clock.set(day_ms(a.installed ? a.install_day : a.sale_day, 10 * 60 + static_cast<int64_t>(a.dealer_pick % 480)));
            installbase::Sale sale;
            sale.dealer_unit_id = dealer;
            sale.date = date_of(a.sale_day);
            sale.invoice_no = "FP" + sale.date.substr(0, 4) + pad(a.serial_seq, 9);
            sale.amount_fen = a.amount_fen;
            sale.customer_id = cid;
            ia.sale = sale;
            if (a.installed && !city.providers.empty()) {
              const ProviderInfo& pv = w.providers[city.providers[a.provider_pick % city.providers.size()]];
              installbase::Installation in;
              in.unit_id = pv.unit_id;
              if (!pv.engineers.empty()) in.engineer_user_id = pv.engineers[a.engineer_pick % pv.engineers.size()];
              in.date = date_of(a.install_day);
              in.address = address_prefix(w, cp) + " " + cp.detail;
              in.division_code = cp.county;
              if (std::string(m.m->line) == "AC" && a.engineer_pick % 3 == 0)
                in.parts = json::array({json{{"part_code", "TG-6"}, {"name", "加长铜管"}, {"quantity", 1}, {"serial", nullptr}}});
              ia.installation = in;
            }
          }
          ia.defer_purchase = true;
          auto res = TRY(installbase::import_asset(tx, ia));
          // What import_asset records itself when not deferred.
          if (res.purchase_deferred)
            purchases.emplace_back(cid, installbase::sale_purchase(ia.serial, *ia.sale, "import", std::nullopt));
          w.asset_ids[static_cast<size_t>(a.serial_seq - 1)] = res.id;
          ++sum.created.serials;
          ++batch_assets;
          if (!a.in_stock && m.m->business) business_assets.push_back(res.id);
        }
        TRY_VOID(customers::record_purchases(c, purchases));
        purchases.clear();
        // Organisations with business equipment often buy a service contract.
        if (cp.organisation && !business_assets.empty()) {
          Rng r(w.seed, kStreamContract, static_cast<uint64_t>(i));
          if (r.chance(contract_p)) {
            ++contract_seq;
            contracts::Contract k;
            int64_t start = std::max(first_day + 30, w.start_day) + r.range(0, 200);
            int64_t years = r.range(1, 3);
            k.number = "HT" + date_of(start).substr(0, 4) + "-" + pad(i + 1, 7);

            k.customer_id = cid;
            k.org_unit_id = city.branch_id;
            static const char* const types[] = {"on_site", "full", "parts_only", "depot"};
            k.type = types[r.range(0, 9) < 6 ? 0 : r.range(1, 3)];
            static const std::map<std::string, const char*> names = {
                {"on_site", " 设备年度上门维保合同"}, {"full", " 全保服务合同"}, {"parts_only", " 备件保障合同"},
                {"depot", " 返厂维修服务合同"}};
            k.name = cp.name + names.at(k.type);
            k.response_mode = r.chance(0.4) ? "7x24" : "8x5";
            k.response_hours = k.response_mode == "7x24" ? 2 : 4;
            k.onsite_hours = k.response_mode == "7x24" ? 4 : 24;
            k.start_date = date_of(start);
            k.end_date = date_of(start + years * 365 - 1);
            k.status = start + years * 365 - 1 < w.end_day ? "expired" : "active";
            k.parts_discount_bp = r.range(0, 3) * 500;
            k.labour_discount_bp = r.range(0, 4) * 500;
            clock.set(day_ms(start - 3, 11 * 60));
            TRY(contracts::insert_contract(c, k, business_assets));
            ++sum.created.contracts;
          }
        }
      }
      if (batch_assets > 0) {
        clock.set(w.end_day * 86'400'000);
        TRY_VOID(tx.audit("asset", 0, "import", nullptr,
                          json{{"source", "demo-generator"}, {"seed", o.seed}, {"assets", batch_assets},
                               {"customers", to - from}}, w.hq_path));
      }
      return {};
    }));
    report(o, "customers", to, n.customers);
  }
  return {};
}

std::string address_prefix(const World& w, const CustomerPlan& cp) {
  const CityInfo& city = w.cities[cp.city];
  std::string name = city.city->name;
  for (const auto* d : city.counties)
    if (d->code == cp.county) return name + d->name;
  return name;
}

int64_t plan_owner(const World& w, int64_t k) {
  return w.counts.customers > 0 ? k * w.counts.customers / std::max<int64_t>(w.counts.serials, 1) : -1;
}

namespace {

// Bulk load on SQLite: an index whose keys land at random places (a name, a
// phone, a serial, an engineer, a timestamp) dirties a different leaf page
// for almost every row, and each dirty page is written to the WAL at every
// commit and again at the checkpoint (500k orders: 221 -> 87 us CPU per order
// with these deferred). Building it after the load is one sorted pass. The definitions are the modules' own: the SQL
// their migrations ran, as SQLite keeps it in sqlite_master, re-run as is.
// Only non-unique indexes (a UNIQUE one is a rule the writes must obey) that
// nothing the generator runs looks up by; indexes whose keys grow with the
// row ids (org paths by branch, customer ids, order ids) stay.
// The tables whose secondary indexes are all deferred, and single indexes.
const char* const kDeferredTables[] = {"service_orders"};
const char* const kDeferredIndexes[] = {"customers_name_norm", "customer_phones_norm", "customer_addresses_detail"};

// (Statement journals stay in memory: the store sets temp_store=MEMORY on
// its writer, see src/store/sqlite_db.cpp.)
Result<std::vector<std::string>> begin_bulk_load(Conn& c) {
  std::vector<std::string> defs;
  if (c.dialect() != store::Dialect::sqlite) return defs;
  auto rows = TRY(c.query("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                          "AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY name"));
  for (const auto& r : rows) {
    std::string name = r.s(0), table = r.s(1);
    bool deferred = std::find(std::begin(kDeferredTables), std::end(kDeferredTables), table) != std::end(kDeferredTables) ||
                    std::find(std::begin(kDeferredIndexes), std::end(kDeferredIndexes), name) != std::end(kDeferredIndexes);
    if (!deferred) continue;
    defs.push_back(r.s(2));
    TRY(c.exec("DROP INDEX \"" + name + "\""));
  }
  return defs;
}

Result<void> end_bulk_load(Conn& c, const std::vector<std::string>& defs) {
  for (const auto& sql : defs) TRY(c.exec(sql));
  // The planner's row counts are those of the last ANALYZE (when the tables
  // were nearly empty): without fresh ones a server on the generated set
  // plans scans for IN (...) lookups (see store::refresh_statistics).
  TRY_VOID(store::refresh_statistics(c));
  return {};
}

}  // namespace

Result<Summary> generate(api::Platform& p, const Options& o) {
  auto t0 = std::chrono::steady_clock::now();
  if (o.counts.customers < 0 || o.counts.serials < 0 || o.counts.orders < 0)
    return Error::invalid("counts must not be negative", "counts");
  if (o.counts.serials > 0 && o.counts.customers == 0)
    return Error::invalid("serials need customers to own them", "customers");
  if (o.batch < 1) return Error::invalid("batch must be at least 1", "batch");
  Summary sum;
  // Big write transactions allocate and free large blocks all the time;
  // glibc's default is to hand them back to the kernel and fault them in
  // again (a third of the run time). Keep them (this process only).
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  World w = TRY(build_world(p, o, sum));
  report(o, "org", 1, 1);
  // An interrupted run leaves the database without these indexes: like any
  // interrupted generation it is to be deleted and generated again (the
  // generator refuses to run twice on one database anyway).
  auto deferred = TRY(p.db.write_as([](Conn& c) { return begin_bulk_load(c); }));
  Result<void> out = write_customers_and_assets(p, o, w, sum);
  if (out) out = write_orders(p, o, w, sum);
  report(o, "indexes", 0, 1);
  auto back = p.db.write([&](Conn& c) { return end_bulk_load(c, deferred); });
  TRY_VOID(out);
  TRY_VOID(back);
  report(o, "indexes", 1, 1);
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace shouhou::demogen
