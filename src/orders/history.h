// Historic service orders in bulk (历史工单): for the demo generator and for
// loading an older system's records. History is not live traffic: the orders
// happened, so there are no reactions to run, no one to notify and nothing to
// re-read. The writer still holds every order to the rules the API enforces:
//   - each step is an action of the order type's workflow (the version new
//     orders of that type start on), legal in the state the previous step
//     left, taken by a user holding the transition's permission (nullptr =
//     the system), not earlier than the step before;
//   - a state's required fields must be present when the order enters it
//     (the same facts the API checks: the order, its workflow fields, its
//     completion and revisit records);
//   - a dispatch with a provider is an assignment: the unit must be an active
//     provider or branch and the engineer one of its active users; the order
//     and its timeline move to the provider's data scope, as assign() does;
//   - the order number comes from the same per-day sequence as create().
// Rows have the columns create / transition / assign write (internal.h:
// insert_order_row, insert_timeline_row), the order row once in its final
// state, one timeline row per step (plus the assignment entry of a dispatch);
// after every order of the call is checked they go in multi-row INSERTs
// (store/bulk.h). Errors name the order's index: "orders[12].steps[3].action".
//
// Not done here, by design: the DomainBus events (so no SLA clock rows, claim
// audit rows or dispatch queue entries); the caller passes their outcomes on
// the order (sla, claim_status, decision), computed with those modules' pure
// functions. One audit entry per call, not one per order and step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/api.h"
#include "orders/orders.h"

namespace shouhou::orders {

struct HistoricStep {
  std::string action;                   // e.g. "audit", "dispatch", "complete"
  const http::Principal* who = nullptr;  // nullptr = the system
  int64_t at = 0;                       // UTC ms
  api::json fields;                     // workflow fields (object) or null
  // With a "dispatch" (or any step, as a reassignment): the assignment.
  int64_t provider_unit_id = 0, engineer_id = 0;
  api::json decision;                   // kept on the order and in the timeline
};

struct HistoricOrder {
  std::string type, channel = "call_centre", priority = "medium", severity = "normal";
  const http::Principal* creator = nullptr;
  int64_t created_at = 0;  // UTC ms
  // Responsible unit when created (create() picks the site's branch).
  int64_t org_unit_id = 0;
  std::optional<int64_t> customer_id, asset_id, model_id, product_line_id, contract_id;
  std::optional<std::string> serial, reproducibility, problem_area, problem_subarea, description, summary, county_code;
  api::json contact = api::json::object(), site = api::json::object();
  std::string warranty = "unknown";                  // in / out / unknown
  api::json warranty_decision;                       // as create() keeps it, or null
  api::json completion, satisfaction;                // the records, or null
  std::vector<HistoricStep> steps;
  SlaFields sla;                    // the SLA module's figures at the end
  std::string claim_status = "none";  // the claims module's outcome
};

// Writes the orders inside tx (many per transaction is the point); returns
// their ids in input order. Nothing is written when an order is invalid.
Result<std::vector<int64_t>> record_history(api::WriteTx& tx, const std::vector<HistoricOrder>& orders);

}  // namespace shouhou::orders
