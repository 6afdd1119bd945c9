// Service network (服务网络, M5 first half): outlets and engineers.
//
// Outlets are the org units of type "provider" extended with dispatch
// settings: service areas (GB/T 2260 codes at province, city or county
// level), authorised product lines, authorised order types with a capacity
// per day, dispatch priority (1..10), satisfaction score (0..100, editable
// until revisits feed it), active/suspended, location, and whether the system
// may pick the engineer as well (auto_engineer). Grade is the org unit's.
//
// Satisfaction from revisits: on the orders module's "order.updated" event
// carrying a revisit score (satisfaction.percent) for an order with a
// provider, the score is kept per order (outlet_revisits) and the outlet's
// satisfaction becomes the average over its revisits (audited as action
// "satisfaction"); from then on a PUT may no longer change it (409, field
// "satisfaction"). The JSON says satisfaction_source "manual" | "revisits".
//
// Engineers are users with role "engineer" under a provider, extended with
// skills/certifications per product line and order type ("*" = every type),
// working days and hours, days off, home base, and a live status (off_duty,
// free, travelling, on_site) whose every change is kept in a history.
//
// Scope: outlets and engineers are read and changed only within the
// caller's subtree (404 otherwise). An engineer changes their own status
// (engineer.status); a provider or a network admin changes the status of
// engineers in their subtree.
//
// Routes: GET /api/v1/outlets, GET|PUT /api/v1/outlets/{id} (id = org unit
// id); GET /api/v1/engineers, GET /api/v1/engineers/me,
// GET|PUT /api/v1/engineers/{id} (id = user id), POST
// /api/v1/engineers/{id}/status, GET /api/v1/engineers/{id}/status-history.
//
// Domain events (Platform::bus): "network.changed" (id = unit or user id)
// after outlet or engineer settings change; "engineer.status" (id = user id,
// data {status, lat, lon, unit_id}) after a status change. Status changes are
// also published on the EventHub topic "dispatch" as {kind: "engineer.status",
// user_id, status} (ids only: clients re-read through the scoped API).
#pragma once

#include <cstdint>
#include <vector>

#include "api/api.h"
#include "network/model.h"

namespace shouhou::network {

api::Module module();

// Every outlet (provider unit with settings) and every active engineer
// (user with role engineer, active, with a profile), for the dispatch index.
Result<std::vector<Outlet>> load_outlets(store::Conn& c);
Result<std::vector<Engineer>> load_engineers(store::Conn& c);
// Bumped by every change of outlet or engineer settings (any process), so an
// in-memory index knows when to reload.
Result<int64_t> revision(store::Conn& c);
// Status changes since `after_ms` (user id, status), oldest first.
Result<std::vector<std::pair<int64_t, std::string>>> status_changes_since(store::Conn& c, int64_t after_ms);
// Outlets changed since `after_ms` (unit id, satisfaction): revisits move the
// satisfaction without bumping the revision.
Result<std::vector<std::pair<int64_t, int64_t>>> satisfaction_changes_since(store::Conn& c, int64_t after_ms);

// Whether the provider unit's outlet settings allow dispatch; nullopt when it has none (defaults apply).
Result<std::optional<bool>> outlet_active(store::Conn& c, int64_t unit_id);

// Inside a write transaction: serialises decisions about one outlet (e.g. its
// last capacity slot) across processes until the transaction ends. PostgreSQL
// locks the outlet's row; SQLite writers are serialised already.
Result<void> lock_outlet(store::Conn& c, int64_t unit_id);

// Plain upserts for demo data and imports (no scope checks, no audit; they
// bump the revision). unit_id / user_id must exist.
Result<void> save_outlet(store::Conn& c, const Outlet& o);
Result<void> save_engineer(store::Conn& c, const Engineer& e);

}  // namespace shouhou::network
