// Dispatch (派单, M5 second half): auto-dispatch, the manual queue, manual
// assignment (single and bulk), follow-up rules, the live board and the
// capacity view. The decision itself is the pure library in engine.h; this
// module keeps its Index in memory (rebuilt when network::revision()
// changes, counters re-read from dispatch_assignments) and stores every
// decision.
//
// Flow: an order entering "audited" (order.transition), or created directly
// in it, is put on dispatch_queue ("pending"). A background job in every
// server process claims pending rows one at a time (FOR UPDATE SKIP LOCKED on
// PostgreSQL; SQLite has one writer), decides, and in the same transaction
// calls orders::assign with the decision (ranked candidates and reason) and
// records a dispatch_assignments row; a partial unique index allows one open
// assignment per order, so two processes can never assign an order twice.
// When nobody qualifies the row becomes "manual" with the reason, also
// written to the order timeline ("dispatch.manual").
//
// Follow-up (settings, checked by the same job): an assignment not accepted
// within accept_seconds, or not started by the order's expected time plus
// start_grace_seconds, is escalated (timeline "dispatch.escalated") and/or
// re-dispatched to the next candidate, excluding the outlets that already
// had it (timeline "dispatch.redispatch").
//
// The start rule follows the order's planned time (expected_at): when it
// changes ("order.updated"), the open assignment's planned start moves with
// it and, when the new time is still ahead, is watched again. Deadlines live
// in dispatch_assignments, so rules due while no server ran fire after the
// restart.
//
// The order keeps a compact copy of the decision (reason, the first five
// candidates with scores); the assignment keeps the full figures of the
// first ten.
//
// The job's period is SHOUHOU_DISPATCH_TICK_MS (default 1000).
//
// Routes (/api/v1/dispatch/...): settings (GET, PUT), queue, orders/{id}
// (decisions), orders/{id}/candidates, orders/{id}/assign, assign-bulk,
// board, capacity. Live events on EventHub topic "dispatch":
// {kind: "assignment" | "queue" | "escalated", order_id}.
#pragma once

#include "api/api.h"
#include "dispatch/engine.h"

namespace shouhou::dispatch {

api::Module module();

// Dispatches pending queue rows now, exactly as the background job does
// (same batches and transactions), up to max_batches transactions; returns
// how many rows were taken. For the benchmark and tools; the server runs it
// on its scheduler.
int64_t run_pending(api::Platform& p, int64_t max_batches = 1'000'000);

}  // namespace shouhou::dispatch
