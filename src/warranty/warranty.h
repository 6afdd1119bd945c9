// Warranty (三包) and entitlement.
//
// Warranty terms are data: a policy per product line (optionally per model)
// says how many months the whole unit and each key-part category (压缩机,
// 主板, ...) are covered, from which date the period counts (sale,
// installation or production, with a fallback when that date is missing),
// which proof is required (an invoice for the sale date), what share of
// parts / labour / travel is covered, and the default response terms.
// Service contracts (src/contracts) override the policy for the assets they
// cover during their period.
//
// The decision itself is a pure function, `decide()`, with no database, so it
// is unit-tested on boundary dates and benchmarked (warranty_bench.cpp). The
// module around it loads the facts (install base, products, contracts) and
// serves GET /api/v1/warranty/{serial} and the policy CRUD.
//
// Date arithmetic ("N months from D"), see add_months_end():
//   the period runs from D through the day before the same day-of-month N
//   months later; when that day-of-month does not exist in the target month
//   (D = 31st, or Feb 29 into a common year), the period ends on the last day
//   of the target month.
//     2024-03-01 + 12 -> last day in 2025-02-28     2024-01-31 + 1  -> 2024-02-29
//     2023-01-31 + 1  -> 2023-02-28                 2024-02-29 + 12 -> 2025-02-28
//     2024-02-29 + 48 -> 2028-02-28                 2024-01-15 + 0  -> no cover
//   So a period always covers at least N whole calendar months and never
//   reaches into the month after the target month.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "core/reason.h"

namespace shouhou::warranty {

// A calendar date (proleptic Gregorian), no time zone.
struct Date {
  int y = 0, m = 0, d = 0;
  auto operator<=>(const Date&) const = default;
  bool operator==(const Date&) const = default;
  std::string str() const;  // "YYYY-MM-DD"
};
// Strict "YYYY-MM-DD" with a real calendar day (years 1900..9999).
std::optional<Date> parse_date(std::string_view s);
bool is_leap(int y);
int days_in_month(int y, int m);
int64_t to_days(const Date& d);       // days since 1970-01-01
Date from_days(int64_t days);
Date add_days(const Date& d, int64_t n);
// The last day covered by "months months from start" (see the header comment).
// For months <= 0 the result is the day before start (nothing covered).
Date add_months_end(const Date& start, int months);
// Today's date in China (UTC+8), the business calendar of the product.
Date today_cn();

enum class Basis { sale, installation, production, none };
const char* basis_name(Basis b);
std::optional<Basis> parse_basis(std::string_view s);

struct KeyPartTerm {
  std::string category;  // 压缩机, 主板, ...
  int months = 0;
};

// A warranty policy. id == 0 means "no policy applies" (e.g. third-party
// assets, or a product line without one): only contracts can cover then.
struct Policy {
  int64_t id = 0;
  std::string name;
  int unit_months = 0;
  std::vector<KeyPartTerm> key_parts;
  Basis start_basis = Basis::installation;
  Basis fallback_basis = Basis::sale;  // when the start_basis date is missing (none = no cover)
  bool requires_invoice = false;       // a sale date counts only with an invoice number
  int production_offset_days = 0;      // start = production date + offset when counting from production
  int parts_pct = 100, labour_pct = 100, travel_pct = 100;
  std::string response_mode = "8x5";   // default response terms without a contract
  int response_hours = 24, onsite_hours = 48;
};

// What is known about the asset (loaded by the module from the install base).
struct Component {
  std::string position;  // 位号
  std::string name;
  bool key_part = false;
  std::string category;  // key-part category
};
struct AssetFacts {
  bool known = false;              // false: the serial is not in the install base
  int64_t asset_id = 0;
  std::string serial;
  std::string status;              // in_stock, sold, installed, scrapped, replaced
  bool third_party = false;
  std::optional<Date> sale_date, install_date, production_date;
  bool has_invoice = false;
  std::vector<Component> components;  // of the model (key parts matter)
};

// A service contract covering this asset (the module passes the contracts
// that list the asset, whatever their status; decide() picks).
struct Contract {
  int64_t id = 0;
  std::string number;
  std::string name;
  std::string type;           // on_site, depot, parts_only, full
  std::string status;         // draft, active, expired, cancelled
  std::string response_mode;  // 8x5, 7x24
  int response_hours = 0, onsite_hours = 0;
  Date start, end;            // inclusive
  int parts_discount_bp = 0, labour_discount_bp = 0;  // basis points (1000 = 10%)
};

// Coverage share per cost kind, in percent.
struct Coverage {
  int parts_pct = 0, labour_pct = 0, travel_pct = 0;
};
Coverage contract_coverage(const std::string& type);

// Why a decision came out as it did, as data: a stable code (what programs
// and the web branch on) with named arguments, rendered as text in English
// or Chinese by reason_text(). Argument values are dates, numbers, names and
// codes (basis, status, contract type) that the Chinese text translates.
// (core/reason.h: the same mechanism serves the import's bad rows.)
using Reason = shouhou::Reason;
// lang: "en" or "zh-CN". Codes and their texts: reasons.cpp.
std::string reason_text(const Reason& r, std::string_view lang);

struct PartDecision {
  std::string category;
  int months = 0;
  std::optional<Date> end;  // last day covered by the policy
  bool in_warranty = false;
  std::vector<Reason> reasons;
  std::string why;  // the reasons in English, "; "-joined
};

struct Decision {
  // unknown_serial | not_sold | inactive (scrapped / replaced) |
  // under_contract | in_warranty | out_of_warranty
  std::string status;
  bool entitled = false;          // free service (by contract or warranty)
  std::string source = "none";    // contract | policy | none
  Date date;                      // the date decided for
  // Policy side (also computed when a contract applies).
  int64_t policy_id = 0;
  std::string policy_name;
  Basis basis = Basis::none;      // which date the period counts from
  std::optional<Date> start;      // first day of the period
  std::optional<Date> unit_end;   // last day the whole unit is covered
  bool unit_in_warranty = false;
  std::vector<PartDecision> parts;
  std::optional<PartDecision> component;  // the asked component, if any
  // Contract side.
  std::optional<Contract> contract;       // the one applied
  std::vector<std::string> contracts_not_applied;  // "number: reason"
  Coverage coverage;
  int parts_discount_bp = 0, labour_discount_bp = 0;
  std::string response_mode;
  int response_hours = 0, onsite_hours = 0;
  std::vector<Reason> reasons;     // the rules that decided, in order
  std::vector<std::string> why;   // the same in English
};

// The entitlement of an asset on `date`. `component` (optional) is a key-part
// category or a position number (位号) of the model; its answer is in
// Decision::component (a part that is no key part follows the unit).
Decision decide(const AssetFacts& facts, const Policy& policy, const std::vector<Contract>& contracts, Date date,
                std::string_view component = {});

nlohmann::json to_json(const Decision& d);

// Loads the facts, the applicable policy and the asset's contracts, and
// decides (for orders: claim audit, charges; for the screen pop). No scope
// filter: callers decide what to show.
struct Check {
  AssetFacts facts;
  Policy policy;
  std::vector<std::string> exclusions;  // fault codes the policy excludes
  Decision decision;
};
Result<Check> check(store::Conn& c, std::string_view serial, Date date, std::string_view component = {});

api::Module module();

// Demo product lines, models, service items, policies, assets (with sales and
// installations) and contracts. unit_ids: org unit code -> id. Needs the demo
// customers and users to exist.
Result<void> seed_demo(store::Conn& c, const std::map<std::string, int64_t>& unit_ids);

}  // namespace shouhou::warranty
