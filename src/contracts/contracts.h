// Service contracts (服务合约): number, customer, covered assets, type
// (on_site, depot, parts_only, full), status (draft -> active -> expired,
// draft/active -> cancelled), response mode (8x5, 7x24) with response and
// on-site times in hours, period (inclusive dates), parts and labour
// discounts in basis points (1000 = 10 %).
//
// A contract overrides the warranty policy for the assets it covers during
// its period (see warranty::decide); an "active" contract past its end date
// is treated as expired by the decision.
//
// Scope: a contract belongs to an org unit (default: the creator's); reads and
// writes need it in the caller's subtree (404 otherwise). Covered assets must
// be in the caller's scope and owned by the customer or one of its sites.
//
// Routes: /api/v1/contracts (list, create), /{id} (get, PATCH).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/api.h"

namespace shouhou::contracts {

api::Module module();

struct Contract {
  int64_t id = 0;
  std::string number, name;
  int64_t customer_id = 0;
  std::string customer_name;
  std::string org_path;
  int64_t org_unit_id = 0;
  std::string type, status, response_mode;
  int64_t response_hours = 0, onsite_hours = 0;
  std::string start_date, end_date;  // YYYY-MM-DD, inclusive
  int64_t parts_discount_bp = 0, labour_discount_bp = 0;
  std::optional<std::string> notes;
  int64_t version = 0;
  int64_t created_at = 0, updated_at = 0;
};

// Every contract that lists the asset, whatever its status (no scope filter).
Result<std::vector<Contract>> contracts_for_asset(store::Conn& c, int64_t asset_id);
// Contracts of these customers (no scope filter), for the customer 360.
Result<std::vector<Contract>> contracts_of_customers(store::Conn& c, const std::vector<int64_t>& customer_ids);

nlohmann::json to_json(const Contract& k);

// Demo data / imports: plain insert with its assets (no scope checks, no audit).
Result<int64_t> insert_contract(store::Conn& c, const Contract& k, const std::vector<int64_t>& asset_ids);

}  // namespace shouhou::contracts
