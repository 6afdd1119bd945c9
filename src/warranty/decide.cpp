// The pure part of the warranty module: dates and the entitlement decision.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/util.h"
#include "warranty/warranty.h"

namespace shouhou::warranty {

using nlohmann::json;

// ---- dates -------------------------------------------------------------

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static const int k[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return m == 2 && is_leap(y) ? 29 : k[m - 1];
}

std::string Date::str() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

std::optional<Date> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](size_t at, size_t n, int& out) {
    out = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  Date d;
  if (!num(0, 4, d.y) || !num(5, 2, d.m) || !num(8, 2, d.d)) return std::nullopt;
  if (d.y < 1900 || d.m < 1 || d.m > 12 || d.d < 1 || d.d > days_in_month(d.y, d.m)) return std::nullopt;
  return d;
}

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t to_days(const Date& dt) {
  int64_t y = dt.y - (dt.m <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (dt.m + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + dt.d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date from_days(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return Date{static_cast<int>(y + (m <= 2 ? 1 : 0)), m, d};
}

Date add_days(const Date& d, int64_t n) { return from_days(to_days(d) + n); }

Date add_months_end(const Date& start, int months) {
  if (months <= 0) return add_days(start, -1);
  int64_t idx = int64_t(start.y) * 12 + (start.m - 1) + months;
  int y = static_cast<int>(idx / 12), m = static_cast<int>(idx % 12) + 1;
  int dim = days_in_month(y, m);
  // The same day-of-month does not exist: cover through the end of that month.
  if (start.d > dim) return Date{y, m, dim};
  return add_days(Date{y, m, start.d}, -1);
}

Date today_cn() {
  // now_ms() honours a ScopedClock, so records replayed at a historic time
  // (demo generator, imports) get that day's entitlement.
  int64_t ms = now_ms();
  int64_t secs = (ms >= 0 ? ms / 1000 : (ms - 999) / 1000) + 8 * 3600;
  return from_days(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400);
}

const char* basis_name(Basis b) {
  switch (b) {
    case Basis::sale: return "sale";
    case Basis::installation: return "installation";
    case Basis::production: return "production";
    case Basis::none: return "none";
  }
  return "none";
}

std::optional<Basis> parse_basis(std::string_view s) {
  if (s == "sale") return Basis::sale;
  if (s == "installation") return Basis::installation;
  if (s == "production") return Basis::production;
  if (s == "none") return Basis::none;
  return std::nullopt;
}

Coverage contract_coverage(const std::string& type) {
  if (type == "full" || type == "on_site") return {100, 100, 100};
  if (type == "depot") return {100, 100, 0};  // the customer brings or ships the unit
  if (type == "parts_only") return {100, 0, 0};
  return {};
}

// ---- the decision --------------------------------------------------------

namespace {

int contract_rank(const std::string& type) {
  if (type == "full") return 4;
  if (type == "on_site") return 3;
  if (type == "depot") return 2;
  if (type == "parts_only") return 1;
  return 0;
}

using Args = std::vector<std::pair<std::string, std::string>>;

void add(Decision& d, Reason r) {
  d.why.push_back(reason_text(r, "en"));
  d.reasons.push_back(std::move(r));
}
void add(PartDecision& pd, Reason r) {
  pd.why += (pd.why.empty() ? "" : "; ") + reason_text(r, "en");
  pd.reasons.push_back(std::move(r));
}

// The date the policy period counts from, with the reasons for the choice.
std::optional<Date> start_date(const AssetFacts& f, const Policy& p, Basis& used, std::vector<Reason>& why) {
  // `missing` becomes a code (no_sale_date, no_invoice, ...): see reasons.cpp.
  auto date_of = [&](Basis b, std::string& missing) -> std::optional<Date> {
    switch (b) {
      case Basis::sale:
        if (!f.sale_date) { missing = "no_sale_date"; return std::nullopt; }
        if (p.requires_invoice && !f.has_invoice) {
          missing = "no_invoice";
          return std::nullopt;
        }
        return f.sale_date;
      case Basis::installation:
        if (!f.install_date) { missing = "no_installation_date"; return std::nullopt; }
        return f.install_date;
      case Basis::production:
        if (!f.production_date) { missing = "no_production_date"; return std::nullopt; }
        return add_days(*f.production_date, p.production_offset_days);
      case Basis::none:
        missing = "no_fallback";
        return std::nullopt;
    }
    return std::nullopt;
  };
  std::string missing;
  if (auto d = date_of(p.start_basis, missing)) {
    used = p.start_basis;
    return d;
  }
  Args args{{"policy", p.name}, {"missing", missing}};
  if (f.sale_date) args.emplace_back("sale_date", f.sale_date->str());
  missing.clear();
  if (p.fallback_basis != Basis::none && p.fallback_basis != p.start_basis) {
    args.emplace_back("fallback", basis_name(p.fallback_basis));
    if (auto d = date_of(p.fallback_basis, missing)) {
      used = p.fallback_basis;
      why.push_back({"start_fallback", std::move(args)});
      return d;
    }
    args.emplace_back("missing2", missing);
    why.push_back({"start_fallback_missing", std::move(args)});
  } else {
    why.push_back({"start_no_fallback", std::move(args)});
  }
  used = Basis::none;
  return std::nullopt;
}

// The arguments that say where a period comes from (reasons.cpp composes
// {months} and {from} of them).
Args period_args(const Policy& p, Basis b, const Date& start, int months, const Date& end) {
  return Args{{"policy", p.name},
              {"months", std::to_string(months)},
              {"basis", basis_name(b)},
              {"start", start.str()},
              {"offset_days", b == Basis::production ? std::to_string(p.production_offset_days) : "0"},
              {"end", end.str()}};
}

}  // namespace

Decision decide(const AssetFacts& f, const Policy& p, const std::vector<Contract>& contracts, Date date,
                std::string_view component) {
  Decision d;
  d.date = date;
  if (!f.known) {
    d.status = "unknown_serial";
    add(d, {"unknown_serial", {{"serial", f.serial}}});
    return d;
  }
  if (f.status == "scrapped" || f.status == "replaced") {
    d.status = "inactive";
    add(d, {"inactive", {{"status", f.status}}});
    return d;
  }
  if (f.status == "in_stock" || (!f.sale_date && !f.install_date)) {
    d.status = "not_sold";
    add(d, {"not_sold", {{"serial", f.serial}, {"status", f.status}}});
    return d;
  }
  // In service since the earlier of sale and installation.
  Date in_service = f.sale_date && f.install_date ? std::min(*f.sale_date, *f.install_date)
                                                   : (f.sale_date ? *f.sale_date : *f.install_date);
  if (date < in_service) {
    d.status = "not_sold";
    add(d, {"not_in_service", {{"date", date.str()}, {"since", in_service.str()}}});
    return d;
  }

  // Policy.
  if (p.id != 0) {
    d.policy_id = p.id;
    d.policy_name = p.name;
    Basis used = Basis::none;
    std::vector<Reason> start_why;
    d.start = start_date(f, p, used, start_why);
    d.basis = used;
    for (auto& w : start_why) add(d, std::move(w));
    if (d.start) {
      d.unit_end = add_months_end(*d.start, p.unit_months);
      // Between the sale and a later start (e.g. installation), the unit is
      // covered too: the period only counts from the later date.
      bool before_start = date < *d.start;
      d.unit_in_warranty = date <= *d.unit_end && p.unit_months > 0;
      Reason rule{"unit_period", period_args(p, used, *d.start, p.unit_months, *d.unit_end)};
      if (p.unit_months <= 0) rule = {"unit_none", {{"policy", p.name}}};
      else if (before_start) rule.code = "unit_period_not_started";
      else if (!d.unit_in_warranty) rule.code = "unit_period_expired";
      rule.args.emplace_back("date", date.str());
      add(d, std::move(rule));
      for (const auto& kp : p.key_parts) {
        bool fitted = f.components.empty() ||
                      std::any_of(f.components.begin(), f.components.end(),
                                  [&](const Component& c) { return c.key_part && c.category == kp.category; });
        if (!fitted) continue;
        PartDecision pd;
        pd.category = kp.category;
        pd.months = kp.months;
        pd.end = add_months_end(*d.start, kp.months);
        pd.in_warranty = kp.months > 0 && date <= *pd.end;
        Reason rule{pd.in_warranty ? "part_period" : "part_period_expired",
                    period_args(p, used, *d.start, kp.months, *pd.end)};
        rule.args.emplace_back("category", kp.category);
        rule.args.emplace_back("date", date.str());
        add(pd, std::move(rule));
        d.parts.push_back(std::move(pd));
      }
    }
  } else {
    add(d, {f.third_party ? "no_policy_third_party" : "no_policy", {}});
  }

  // Contracts: active and covering the date; the best type wins.
  const Contract* chosen = nullptr;
  std::vector<Reason> not_applied;
  for (const auto& c : contracts) {
    std::optional<Reason> no;
    if (c.status != "active") no = Reason{"contract_inactive", {{"number", c.number}, {"status", c.status}}};
    else if (date < c.start) no = Reason{"contract_not_started", {{"number", c.number}, {"start", c.start.str()}}};
    else if (date > c.end) no = Reason{"contract_expired", {{"number", c.number}, {"end", c.end.str()}}};
    if (no) {
      // "FW-1: status draft" (the English text without the "contract " / ": not applied" frame).
      std::string text = reason_text(*no, "en");
      d.contracts_not_applied.push_back(text.substr(9, text.size() - 9 - 13));
      not_applied.push_back(std::move(*no));
      continue;
    }
    if (!chosen || contract_rank(c.type) > contract_rank(chosen->type) ||
        (contract_rank(c.type) == contract_rank(chosen->type) &&
         (c.response_hours < chosen->response_hours ||
          (c.response_hours == chosen->response_hours && c.end > chosen->end))))
      chosen = &c;
  }
  for (auto& n : not_applied) add(d, std::move(n));

  Coverage policy_cov{p.parts_pct, p.labour_pct, p.travel_pct};
  if (chosen) {
    d.contract = *chosen;
    d.status = "under_contract";
    d.entitled = true;
    d.source = "contract";
    Coverage cc = contract_coverage(chosen->type);
    // A contract never takes away what the maker's warranty still gives.
    if (d.unit_in_warranty) {
      cc.parts_pct = std::max(cc.parts_pct, policy_cov.parts_pct);
      cc.labour_pct = std::max(cc.labour_pct, policy_cov.labour_pct);
      cc.travel_pct = std::max(cc.travel_pct, policy_cov.travel_pct);
    }
    d.coverage = cc;
    d.parts_discount_bp = chosen->parts_discount_bp;
    d.labour_discount_bp = chosen->labour_discount_bp;
    d.response_mode = chosen->response_mode;
    d.response_hours = chosen->response_hours;
    d.onsite_hours = chosen->onsite_hours;
    add(d, {d.unit_in_warranty ? "contract_applies_policy_too" : "contract_applies",
            {{"number", chosen->number},
             {"type", chosen->type},
             {"mode", chosen->response_mode},
             {"start", chosen->start.str()},
             {"end", chosen->end.str()}}});
  } else {
    d.response_mode = p.response_mode;
    d.response_hours = p.response_hours;
    d.onsite_hours = p.onsite_hours;
    if (d.unit_in_warranty) {
      d.status = "in_warranty";
      d.entitled = true;
      d.source = "policy";
      d.coverage = policy_cov;
    } else {
      d.status = "out_of_warranty";
      for (const auto& pd : d.parts)
        if (pd.in_warranty) add(d, {"key_part_still_covered", {{"category", pd.category}, {"end", pd.end->str()}}});
    }
  }

  if (!component.empty()) {
    std::string cat(component);
    std::string label(component);
    bool key = false;
    for (const auto& c : f.components)
      if (c.position == component) {
        if (c.key_part) cat = c.category;
        label = std::string(component) + " " + c.name + (c.key_part ? " (" + c.category + ")" : "");
      }
    PartDecision pd;
    pd.category = cat;
    for (const auto& x : d.parts)
      if (x.category == cat) {
        pd = x;
        key = true;
      }
    if (!key) {
      pd.months = p.unit_months;
      pd.end = d.unit_end;
      pd.in_warranty = d.unit_in_warranty;
      pd.reasons.clear();
      pd.why.clear();
      if (d.unit_end) add(pd, {"component_follows_unit", {{"component", label}, {"end", d.unit_end->str()}}});
      else add(pd, {"component_follows_unit_open", {{"component", label}}});
    }
    if (chosen && !pd.in_warranty) {
      pd.in_warranty = true;
      add(pd, {"covered_by_contract", {{"number", chosen->number}}});
    }
    d.component = std::move(pd);
  }
  return d;
}

json to_json(const Decision& d) {
  auto od = [](const std::optional<Date>& x) { return x ? json(x->str()) : json(nullptr); };
  // [{code, args: {..}, text: {en, zh-CN}}]: the code for programs, the texts for people.
  auto reasons = [](const std::vector<Reason>& rs) {
    json out = json::array();
    for (const auto& r : rs) {
      json args = json::object();
      for (const auto& [k, v] : r.args) args[k] = v;
      out.push_back(json{{"code", r.code}, {"args", std::move(args)},
                         {"text", {{"en", reason_text(r, "en")}, {"zh-CN", reason_text(r, "zh-CN")}}}});
    }
    return out;
  };
  auto part = [&](const PartDecision& p) {
    return json{{"category", p.category}, {"months", p.months}, {"end_date", od(p.end)},
                {"in_warranty", p.in_warranty}, {"why", p.why}, {"reasons", reasons(p.reasons)}};
  };
  json parts = json::array();
  for (const auto& p : d.parts) parts.push_back(part(p));
  json contract = nullptr;
  if (d.contract) {
    const auto& c = *d.contract;
    contract = json{{"id", c.id}, {"number", c.number}, {"name", c.name}, {"type", c.type}, {"status", c.status},
                    {"response_mode", c.response_mode}, {"response_hours", c.response_hours},
                    {"onsite_hours", c.onsite_hours}, {"start_date", c.start.str()}, {"end_date", c.end.str()},
                    {"parts_discount_bp", c.parts_discount_bp}, {"labour_discount_bp", c.labour_discount_bp}};
  }
  json j{{"status", d.status},
         {"entitled", d.entitled},
         {"source", d.source},
         {"date", d.date.str()},
         {"policy", d.policy_id ? json{{"id", d.policy_id}, {"name", d.policy_name}} : json(nullptr)},
         {"basis", basis_name(d.basis)},
         {"start_date", od(d.start)},
         {"unit", {{"in_warranty", d.unit_in_warranty}, {"end_date", od(d.unit_end)}}},
         {"key_parts", parts},
         {"component", d.component ? part(*d.component) : json(nullptr)},
         {"contract", contract},
         {"contracts_not_applied", d.contracts_not_applied},
         {"coverage", {{"parts_pct", d.coverage.parts_pct}, {"labour_pct", d.coverage.labour_pct},
                       {"travel_pct", d.coverage.travel_pct}}},
         {"parts_discount_bp", d.parts_discount_bp},
         {"labour_discount_bp", d.labour_discount_bp},
         {"response", d.response_mode.empty()
                          ? json(nullptr)
                          : json{{"mode", d.response_mode}, {"response_hours", d.response_hours},
                                 {"onsite_hours", d.onsite_hours}, {"from", d.contract ? "contract" : "policy"}}},
         {"why", d.why},
         {"reasons", reasons(d.reasons)}};
  return j;
}

}  // namespace shouhou::warranty
