// SLA clock (时效, M4): response and resolution targets for every service
// order, counted on a business calendar (calendar.h), paused in configured
// states, with warnings and escalation on breach done by a background job.
//
// Targets: the customer's active service contract wins (its response mode
// picks the calendar, response_hours -> response target, onsite_hours ->
// resolution target); else the most specific active policy in sla_policies
// (customer tier + order type > tier > type > the default row); the
// built-in default is 2 h reply / 4 h resolve on 7x24 (seed 004).
//
// Reacts to orders' domain events (never the other way round):
//   order.created    -> starts the clock (sla_clocks row keyed by order id)
//   order.transition -> pauses / resumes (states marked "paused" in the
//                       order's workflow, or settings.paused_states), records the
//                       first response (response_states), the resolution
//                       (resolve_states), stops (stop_states), reopen resumes
//   order.updated    -> follows the order's scope; recomputes targets when
//                       type, customer or contract change
// and writes the due times and status to the order with orders::set_sla().
//
// The job (every SHOUHOU_SLA_TICK_MS, default 30 s) picks clocks whose
// next_check_at has passed and claims each warning / breach with an
// idempotent UPDATE ... WHERE <flag> = 0, so two servers on one database
// never warn or escalate twice; all state is in the database, so a restart
// loses nothing. On a breach it applies the workflow's "escalate" action
// when the order's state allows it, else it records a timeline entry.
//
// Routes: GET /api/v1/service-orders/{id}/sla, POST .../sla/restart,
// /api/v1/sla/policies (list, create, PATCH /{id}), /api/v1/sla/calendars
// (list, PATCH /{code}, GET /{code}/due), /api/v1/sla/holidays,
// /api/v1/sla/settings (GET, PUT).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/api.h"
#include "sla/calendar.h"

namespace shouhou::sla {

api::Module module();

// Runs the warning / breach job once (what the scheduler runs each tick).
// Returns the number of warnings and breaches handled.
Result<int> run_checks(api::Platform& p, int64_t now);

// ---- pure parts (unit-tested) ---------------------------------------------
struct PolicyRow {
  int64_t id = 0;
  std::optional<std::string> order_type, customer_tier;
  std::string calendar_code;
  int64_t response_minutes = 0, resolve_minutes = 0;
  bool active = true;
};
// The policy for an order type and customer tier: tier+type > tier > type >
// default (neither set); ties go to the lowest id. nullptr when none fits.
const PolicyRow* pick_policy(const std::vector<PolicyRow>& policies, const std::string& order_type,
                             const std::string& tier);

struct Targets {
  int64_t started_at = 0;
  Clock clock;
  int64_t response_minutes = 120, resolve_minutes = 240;
  int64_t first_response_at = 0, resolved_at = 0, stopped_at = 0;
};
struct Evaluation {
  int64_t response_due_at = 0, resolve_due_at = 0;
  int64_t response_warn_at = 0, resolve_warn_at = 0;
  int64_t response_remaining = 0, resolve_remaining = 0;  // business minutes, negative = overdue
  bool response_done = false, resolve_done = false;       // reached (or clock stopped)
  bool response_breached = false, resolve_breached = false;
  bool response_warning = false, resolve_warning = false;
  std::string status;          // ok, warning, breached, paused, met (orders::SlaFields)
  int64_t next_check_at = 0;   // 0 = nothing will change by itself
};
Evaluation evaluate(const Calendar& cal, const Targets& t, int warn_pct, int64_t now);

}  // namespace shouhou::sla
