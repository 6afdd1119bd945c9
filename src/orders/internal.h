// Shared between the orders module's .cpp files (not a contract for others).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orders/charges.h"
#include "orders/orders.h"
#include "orders/workflow.h"

namespace shouhou::orders::detail {

using api::json;

extern const std::vector<std::string> kTypes, kChannels, kPriorities, kSeverities, kReproducibility;
// Fields the per-type required-field settings may name.
extern const std::vector<std::string> kRequirable;

// Details of the last failed create / transition on this thread, for the
// error body (an Error names only the first field): every missing field,
// and the actions allowed in the order's state.
extern thread_local std::vector<std::string> g_missing_fields;
extern thread_local std::vector<std::string> g_allowed_actions;

json order_row_json(const store::Row& r);
std::string order_select();

// While alive, `order` (order `id` as find() returns it) is kept current by
// this module's writes to that order on this thread (set_sla and
// set_claim_status patch it, transition/assign/touch replace it), and
// transition/assign start from it instead of reading the order again: one
// read per request instead of one before and two after every change.
class HoldOrder {
 public:
  HoldOrder(int64_t id, json& order);
  ~HoldOrder();
  HoldOrder(const HoldOrder&) = delete;
  HoldOrder& operator=(const HoldOrder&) = delete;
  // False after a write to the order failed half-way: read it again.
  bool current() const { return !stale_; }

 private:
  friend struct Holds;
  int64_t id_;
  json* order_;
  bool stale_ = false;
  HoldOrder* prev_;
};

// One INSERT per table, shared by create / transition / assign / add_timeline
// and the history writer (rows in history.cpp). Optional strings that are
// empty are stored as NULL.
struct OrderRow {
  std::string number, type, channel, state;
  int64_t workflow_id = 0, state_entered_at = 0;
  std::optional<int64_t> customer_id;
  std::string contact_json = "{}", site_json = "{}";
  std::optional<std::string> county_code;
  std::optional<int64_t> asset_id;
  std::optional<std::string> serial;
  std::optional<int64_t> model_id, product_line_id, contract_id;
  std::string warranty = "unknown", priority = "medium", severity = "normal";
  std::optional<std::string> reproducibility, problem_area, problem_subarea, description, summary;
  std::optional<int64_t> expected_at;
  int64_t org_unit_id = 0;
  std::string org_path;
  std::optional<int64_t> provider_unit_id, engineer_id;
  std::string claim_status = "none";
  int64_t response_due_at = 0, resolve_due_at = 0;
  std::string sla_status = "ok";
  std::optional<std::string> decision_json;
  std::string fields_json = "{}";
  std::optional<std::string> completion_json, satisfaction_json;
  std::optional<int64_t> completed_at, closed_at, created_by;
  int64_t version = 1, created_at = 0, updated_at = 0;
};
Result<int64_t> insert_order_row(store::Conn& c, const OrderRow& r);  // returns the id

struct TimelineRow {
  int64_t order_id = 0;
  std::string org_path;
  int64_t at = 0;
  std::string kind = "transition";
  std::optional<std::string> action, from_state, to_state;
  std::optional<int64_t> user_id;
  std::string username = "system";
  std::string result = "ok";
  std::optional<std::string> remark, detail_json;
  // user_id and username of `who` (nullptr: the system).
  TimelineRow& by(const http::Principal* who);
};
Result<void> insert_timeline_row(store::Conn& c, const TimelineRow& r);

// "FW" + the China date of `at` + the day's sequence (orders.cpp).
Result<std::string> next_number(store::Conn& c, int64_t at);

// Workflow versions are immutable rows, so parsed definitions are cached by id.
Result<std::shared_ptr<const wf::Definition>> workflow_by_id(store::Conn& c, int64_t id);
// The workflow version new orders of this type start on.
Result<int64_t> workflow_for_type(store::Conn& c, const std::string& type);
// Stores a definition as a new version row with its states and transitions.
Result<int64_t> store_workflow(store::Conn& c, const wf::Definition& d, const std::string& source,
                               const std::string& org_path, std::optional<int64_t> created_by);
// Loads the default file's definitions the database lacks and binds their order types.
Result<void> ensure_default_workflows(store::Database& db);

// Read scope: the order's unit is in the caller's subtree (engineers: only
// orders assigned to them).
bool visible(const http::Principal& who, const json& order);
// The same as SQL on service_orders o: appends "<condition>" (no AND) and its
// parameters, for lists.
void append_scope(const http::Principal& who, std::string& sql, store::Params& ps);
// The order if visible, else not_found (the same as an unknown id).
Result<json> load_visible(store::Conn& c, const http::Principal& who, int64_t id);

// The same inside a write: locks the order row first (PostgreSQL).
Result<json> load_for_update(store::Conn& c, const http::Principal& who, int64_t id);
Result<void> lock_order(store::Conn& c, int64_t id);

// What a state's required fields are checked against: the order, its
// completion and satisfaction, and free workflow fields.
json facts(const json& order);

// Bumps the version (optimistic check when expected > 0), audits and emits
// "order.updated"; returns the order after the change.
Result<json> touch(api::WriteTx& tx, int64_t id, int64_t expected_version, const json& before, std::string_view what);

Result<Rounding> rounding(store::Conn& c);
// Lines and totals of an order's parts and labour.
Result<json> charges_json(store::Conn& c, const json& order);
// The service request report (seed 001's 服务请求明细).
Result<json> report(store::Conn& c, const json& order);
// The same report as a printable PDF file (report_pdf.cpp).
std::string report_pdf(const json& report);

void routes(http::Router& r, api::Platform& p);
void workflow_routes(http::Router& r, api::Platform& p);
std::vector<store::Migration> migrations();
// Applies expired state timers (as the system); safe with several servers.
void run_timers(api::Platform& p);

}  // namespace shouhou::orders::detail
