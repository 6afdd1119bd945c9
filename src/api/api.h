// API conventions shared by every module: the platform handle, permission
// checks, the write path (one transaction with idempotency and audit),
// pagination and optimistic versioning.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/background.h"
#include "auth/principal.h"
#include "core/result.h"
#include "http/http.h"
#include "store/db.h"

namespace shouhou::api {

using json = nlohmann::json;
using http::Principal;
using http::Request;
using http::Response;

// What a module gets to work with.
struct Platform {
  store::Database& db;
  http::EventHub* events = nullptr;  // null when no server (CLI tools, tests)
  // Called after users' roles, units or status change, so cached principals
  // are dropped (set by auth).
  std::function<void()> access_changed = [] {};
  // In-transaction domain events between modules (always set).
  DomainBus* bus = nullptr;
  // Background jobs; null in CLI tools, which run no background work.
  Scheduler* scheduler = nullptr;
};

// Platform tables: audit_log, idempotency_keys.
std::vector<store::Migration> platform_migrations();
// GET /api/v1/audit
void audit_routes(http::Router& r, Platform& p);

// A module owns its tables (migrations) and its routes.
struct Module {
  std::string name;
  std::vector<store::Migration> migrations;
  std::function<void(http::Router&, Platform&)> routes;
  // Subscribes to domain events on p.bus. Runs once at start-up for the
  // server and for tools that write through module functions (the demo
  // generator, imports), so they get the same reactions as the API.
  std::function<void(Platform&)> wire;
  // Starts background jobs on p.scheduler (server only).
  std::function<void(Platform&)> start;
};

// 401 when nobody is logged in, 403 when the user lacks `permission`
// ("" = any authenticated user).
Result<const Principal*> require(const Request& req, std::string_view permission = {});

// Passed to write callbacks: the transaction plus who is writing, so every
// change lands in the audit log in the same transaction.
class WriteTx {
 public:
  WriteTx(store::Conn& c, const Principal* who, std::string client_addr)
      : db(c), who_(who), client_addr_(std::move(client_addr)) {}
  store::Conn& db;
  const Principal* who() const { return who_; }
  // Appends to the audit trail. before/after are the record as JSON (null for
  // create / delete). org_path is the owning unit, for scoped audit reads.
  Result<void> audit(std::string_view entity, int64_t id, std::string_view action, const json& before,
                     const json& after, std::string_view org_path = {});

 private:
  const Principal* who_;
  std::string client_addr_;
};

using WriteFn = std::function<Result<Response>(WriteTx&)>;

// Runs fn in one write transaction. With an Idempotency-Key header, the
// first response is stored with the key in the same transaction, and a retry
// gets that response back without running fn again. Errors roll back and
// become error responses.
Response write(Platform& p, const Request& req, const WriteFn& fn);

// A write outside an HTTP request (background jobs, tools): one
// transaction, audited as `who` (nullptr = the system).
Result<json> write_as(Platform& p, const Principal* who, const std::function<Result<json>(WriteTx&)>& fn);

// Reads: runs fn on a read snapshot; errors become error responses.
Response read(Platform& p, const std::function<Result<Response>(store::Conn&)>& fn);

// Keyset pagination: ?limit=&cursor= (cursor is opaque to clients).
struct Page {
  int64_t limit = 50;
  int64_t after_id = 0;
};
Result<Page> page(const Request& req, int64_t default_limit = 50, int64_t max_limit = 500);
// {"items": items, "next_cursor": ...}; items must be ordered by "id".
json page_json(json items, const Page& p);

// The {id} path parameter as a positive integer (404 otherwise).
Result<int64_t> path_id(const Request& req, const char* name = "id");
// An id filter in the query (?customer_id=12): nullopt when absent or empty;
// anything but a positive integer ("12abc", "0", "-1") is a 400 naming it.
Result<std::optional<int64_t>> query_id(const Request& req, const char* name);
// The version the client last saw: body "version" or If-Match header.
Result<int64_t> expected_version(const Request& req, const json& body);

// Error for a row that is missing or outside the caller's scope: both are
// "not found", so ids cannot be probed.
Error not_found(std::string_view entity, int64_t id);

// The JSON schema helpers for route docs.
json schema_object(std::initializer_list<std::pair<const char*, const char*>> props,
                   std::initializer_list<const char*> required = {});

}  // namespace shouhou::api
