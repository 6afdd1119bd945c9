// Service orders (服务工单, M4): the order record, its workflow (states and
// transitions defined as data per order type), tasks, notes, attachments,
// completion (fault, parts, charges), the timeline and the service report.
//
// Other modules react to orders through domain events on Platform::bus and
// act on them through the functions below; orders never depends on them.
//
// Events emitted inside the writing transaction (data = the order as JSON,
// see order_json(); "transition" data also has "from", "to", "action"):
//   "order.created"     after an order is inserted
//   "order.transition"  after every state change (including system ones)
//   "order.updated"     after fields change without a state change
//
// order JSON has at least: id, number, type, state, channel, customer_id,
// contact (object), site (address object with county_code), asset_id,
// serial, model_id, product_line_id, contract_id, warranty ("in"/"out"/
// "unknown"), priority, severity, problem_area, description, expected_at,
// org_unit_id, org_path, provider_unit_id, engineer_id, claim_status,
// response_due_at, resolve_due_at, sla_status, created_at, updated_at,
// version (times ISO-8601 UTC strings).
//
// Tables (schema.cpp): service_orders, order_timeline, order_tasks,
// order_notes, order_attachments (bytes in the DB, type by magic bytes, 5 MiB),
// order_charges (parts and priced service items), order_maintenance,
// workflows / workflow_states / workflow_transitions / workflow_bindings
// (flows as data, one immutable row per version; default_workflow.h is the
// versioned default file), order_types (required fields per type),
// order_settings (rounding), order_number_seq, fault_codes, sales_leads.
//
// Routes (routes.cpp, report.cpp): /api/v1/service-orders (list, create),
// /{id} (GET, PATCH), /{id}/actions/{action}, /{id}/assign, /{id}/timeline,
// /{id}/tasks, /{id}/notes, /{id}/attachments, /{id}/completion,
// /{id}/maintenance, /{id}/charges, /{id}/satisfaction, /{id}/report,
// /{id}/report.pdf (report_pdf.cpp, core/pdf.h), /{id}/leads; /api/v1/service-orders-assignees, /api/v1/sales-leads,
// /api/v1/fault-codes, /api/v1/order-types, /api/v1/order-settings,
// /api/v1/workflows[/{code}].
//
// The customers module's 360 view and screen pop list a customer's orders
// through customers::set_orders_of_customer, installed in wire().
//
// Scope: an order belongs to its responsible unit (org_path): the branch for
// the site's region (or the creating provider's / dealer's unit); assign()
// moves it to the provider. Engineers see the orders assigned to them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "api/api.h"

namespace shouhou::orders {

api::Module module();

// Creates an order exactly as POST /api/v1/service-orders does (same body,
// same validation, same events) inside tx; for imports and the demo generator.
Result<api::json> create(api::WriteTx& tx, const api::json& body);

// The order as the API shows it (GET /api/v1/service-orders/{id}), or
// nullopt when the id is unknown. No scope check: callers check scope.
Result<std::optional<api::json>> find(store::Conn& c, int64_t order_id);

// Applies a workflow action (e.g. "audit", "dispatch", "accept", "escalate")
// inside tx. who = tx.who(); a null who is the system and skips the
// permission check but not the workflow's rules. `fields` are the values the
// target state requires (validated like the API does). Records the timeline
// entry, bumps version, emits "order.transition". Errors: not_found,
// conflict (illegal action, listing the allowed ones), invalid (field).
Result<api::json> transition(api::WriteTx& tx, int64_t order_id, std::string_view action,
                             const api::json& fields = api::json::object(), std::string_view remark = {});

// Assigns (or reassigns) the order to a provider unit and optionally an
// engineer (user id, 0 = none), moving its data scope to the provider's
// org path, and applies the "dispatch" action when the order is not yet
// dispatched. `decision` is stored on the order and in the timeline (e.g.
// dispatch's ranked candidates and reason). `current`: the order as the
// caller read it (find()) in this transaction and has not changed since,
// which saves reading it again on SQLite (one writer); nullptr: read it.
Result<api::json> assign(api::WriteTx& tx, int64_t order_id, int64_t provider_unit_id, int64_t engineer_user_id,
                         const api::json& decision, const api::json* current = nullptr);

// Whether the order's workflow version marks `state` paused (the SLA clock
// stops). Cached: workflow versions are immutable rows.
Result<bool> state_paused(store::Conn& c, int64_t workflow_id, const std::string& state);

// SLA figures kept on the order for lists and colouring; written by the SLA
// module. Times are UTC ms; 0 = none. status: "ok", "warning", "breached",
// "paused", "met".
struct SlaFields {
  int64_t response_due_at = 0;
  int64_t resolve_due_at = 0;
  std::string status = "ok";
};
Result<void> set_sla(api::WriteTx& tx, int64_t order_id, const SlaFields& sla);

// Claim audit outcome kept on the order: "none" (not a warranty claim),
// "passed", "flagged" (waits in the manual audit queue), "approved",
// "rejected". Written by the claims module.
Result<void> set_claim_status(api::WriteTx& tx, int64_t order_id, std::string_view status);

// Appends a timeline entry that is not a state change (e.g. "sla.warning",
// "dispatch.decision", "claim.flagged") with the given detail.
Result<void> add_timeline(api::WriteTx& tx, int64_t order_id, std::string_view kind, const api::json& detail);

// Demo orders (app::seed_demo, after the warranty demo): seed 001's sample
// 服务请求明细 rebuilt as data, fault codes, and open orders in several
// states. unit_ids: org unit code -> id.
Result<void> seed_demo(api::WriteTx& tx, const std::map<std::string, int64_t>& unit_ids);

}  // namespace shouhou::orders
