#include "app/app.h"
#include "app/event_relay.h"

#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "auth/auth.h"
#include "claims/claims.h"
#include "contracts/contracts.h"
#include "core/util.h"
#include "customers/customers.h"
#include "dispatch/dispatch.h"
#include "divisions/divisions.h"
#include "imports/imports.h"
#include "installbase/installbase.h"
#include "network/network.h"
#include "org/org.h"
#include "orders/orders.h"
#include "products/products.h"
#include "sla/sla.h"
#include "warranty/warranty.h"

namespace shouhou::app {

namespace fs = std::filesystem;
using api::json;
using http::Request;
using http::Response;

namespace {
// Business modules, in dependency order (a module's tables may reference the
// tables of modules before it).
std::vector<api::Module> modules() {
  return {org::module(),      auth::module(),        divisions::module(), customers::module(),
          products::module(), installbase::module(), contracts::module(), warranty::module(),
          orders::module(), network::module(), dispatch::module(), sla::module(), claims::module(), imports::module()};
}
}  // namespace

std::vector<store::Migration> all_migrations() {
  std::vector<store::Migration> all = api::platform_migrations();
  for (auto& m : modules()) all.insert(all.end(), m.migrations.begin(), m.migrations.end());
  return all;
}

Result<std::unique_ptr<store::Database>> open_database(const std::string& url) {
  auto db = TRY(store::Database::open(url));
  int applied = TRY(store::migrate(*db, all_migrations()));
  if (applied) spdlog::info("applied {} migration(s) to {}", applied, db->describe());
  TRY_VOID(org::ensure_builtin_roles(*db));
  TRY_VOID(divisions::ensure_loaded(*db));
  return db;
}

json openapi(const http::Router& r) {
  json paths = json::object();
  for (const auto& route : r.routes()) {
    const auto& d = route->doc;
    json op{{"summary", d.summary}, {"tags", json::array({d.tag.empty() ? "system" : d.tag})}};
    json params = json::array();
    for (const auto& seg : route->segments)
      if (seg.size() > 2 && seg.front() == '{')
        params.push_back(json{{"name", seg.substr(1, seg.size() - 2)}, {"in", "path"}, {"required", true},
                              {"schema", {{"type", "string"}}}});
    for (const auto& q : d.query_params)
      params.push_back(json{{"name", q}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}}}});
    if (!params.empty()) op["parameters"] = params;
    if (!d.request_schema.is_null())
      op["requestBody"] = json{{"required", true}, {"content", {{"application/json", {{"schema", d.request_schema}}}}}};
    if (d.public_route) op["security"] = json::array();
    if (!d.permission.empty()) op["x-permission"] = d.permission;
    json ok{{"description", "OK"}};
    if (!d.response_schema.is_null()) ok["content"] = json{{"application/json", {{"schema", d.response_schema}}}};
    json err{{"description", "Error"}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
    op["responses"] = json{{route->method == "POST" ? "201" : "200", ok}, {"400", err}, {"401", err}, {"403", err},
                           {"404", err}, {"409", err}};
    std::string method = route->method;
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    paths[route->pattern][method] = op;
  }
  return json{
      {"openapi", "3.0.3"},
      {"info", {{"title", "Shouhou after-sales service API"}, {"version", SHOUHOU_VERSION}}},
      {"paths", paths},
      {"components",
       {{"securitySchemes",
         {{"cookie", {{"type", "apiKey"}, {"in", "cookie"}, {"name", auth::kSessionCookie}}},
          {"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"properties",
             {{"error",
               {{"type", "object"},
                {"properties",
                 {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}, {"field", {{"type", "string"}}}}}}}}}}}}}}},
      {"security", json::array({json{{"cookie", json::array()}}, json{{"bearer", json::array()}}})}};
}

void wire_modules(api::Platform& p) {
  for (auto& m : modules())
    if (m.wire) m.wire(p);
}

struct App::Impl {
  store::Database& db;
  Config cfg;
  http::Router router;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<EventRelay> relay;  // destroyed after the scheduler (whose jobs publish), before server
  api::DomainBus bus;
  api::Platform platform;
  api::Scheduler scheduler;  // declared after platform: its jobs stop first
  auth::Auth auth;
  std::string openapi_text;

  Impl(store::Database& d, Config c) : db(d), cfg(std::move(c)), platform{d}, auth(d) {
    platform.access_changed = [this] { auth.invalidate_all(); };
    platform.bus = &bus;
    platform.scheduler = &scheduler;
    wire_modules(platform);
    auth::set_password_concurrency(cfg.password_concurrency);
    router.use(auth.middleware());
    system_routes();
    auth.routes(router, platform);
    api::audit_routes(router, platform);
    for (auto& m : modules())
      if (m.routes) m.routes(router, platform);
    openapi_text = openapi(router).dump();
    static_files();
  }

  void system_routes() {
    router.get("/healthz", [this](Request&) {
      auto ping = db.ping();
      json j{{"status", ping ? "ok" : "degraded"}, {"db", {{"backend", db.dialect() == store::Dialect::sqlite ? "sqlite" : "postgres"},
                                                          {"ok", bool(ping)}}}, {"version", SHOUHOU_VERSION}};
      if (!ping) j["db"]["error"] = ping.error().message;
      return Response::make_json(j, ping ? 200 : 503);
    }, {.summary = "Liveness and database status", .tag = "system", .public_route = true});
    router.get("/metrics", [this](Request&) {
      Response r;
      r.content_type = "text/plain; version=0.0.4";
      r.body = server ? server->prometheus_text() : std::string();
      json s = db.stats();
      r.body += "# HELP shouhou_db_stat Storage pool figures.\n# TYPE shouhou_db_stat gauge\n";
      for (auto& [k, v] : s.items())
        if (v.is_number()) r.body += "shouhou_db_stat{name=\"" + k + "\"} " + v.dump() + "\n";
      return r;
    }, {.summary = "Prometheus metrics", .tag = "system", .public_route = true});
    router.get("/api/openapi.json", [this](Request&) {
      Response r;
      r.body = openapi_text;
      return r;
    }, {.summary = "This OpenAPI document", .tag = "system", .public_route = true}).inline_ok = true;
  }

  void static_files() {
    fs::path root = fs::absolute(cfg.web_dir).lexically_normal();
    router.set_fallback([root](Request& req) {
      if (req.path.rfind("/api/", 0) == 0 || req.path == "/api")
        return Response::error(Error::not_found("no such endpoint: " + req.method + " " + req.path));
      if (req.method != "GET" && req.method != "HEAD") return Response::error(Error::not_found("no such endpoint"));
      fs::path index = root / "index.html";
      fs::path f = (root / req.path.substr(1)).lexically_normal();
      std::error_code ec;
      // Only files inside root; anything else falls back to the SPA index.
      auto rel = f.lexically_relative(root);
      bool inside = !rel.empty() && *rel.begin() != "..";
      Response r;
      if (inside && fs::is_regular_file(f, ec)) {
        r.file_path = f.string();
        return r;
      }
      if (req.path.rfind("/assets/", 0) == 0) return Response::error(Error::not_found("no such asset"));
      if (!fs::is_regular_file(index, ec))
        return Response::error(Error::not_found("web UI not built (run: cd web && npm ci && npm run build)"));
      r.file_path = index.string();
      return r;
    });
  }
};

App::App(store::Database& db, Config cfg) : impl_(std::make_unique<Impl>(db, std::move(cfg))) {}
App::~App() = default;
http::Router& App::router() { return impl_->router; }
api::Platform& App::platform() { return impl_->platform; }
http::Server* App::server() { return impl_->server.get(); }

Result<uint16_t> App::start() {
  impl_->server = std::make_unique<http::Server>(impl_->router, impl_->cfg.server);
  // Events also reach the other servers on a shared (PostgreSQL) database.
  impl_->relay = std::make_unique<EventRelay>(impl_->server->events(), impl_->db);
  if (auto r = impl_->relay->start(); !r)
    spdlog::warn("live events stay on this server: {}", r.error().message);
  impl_->platform.events = impl_->relay.get();
  // A client receives the live events about records in its data scope only.
  impl_->server->set_ws_authorizer([this](Request& req) -> std::optional<std::string> {
    auto p = impl_->auth.authenticate(req);
    if (!p || !*p || (*p)->org_path.empty()) return std::nullopt;
    return (*p)->org_path;
  });
  auto port = TRY(impl_->server->start());
  for (auto& m : modules())
    if (m.start) m.start(impl_->platform);
  return port;
}

void App::stop() {
  if (impl_->server) impl_->server->stop();
  impl_->scheduler.stop();
}

void App::wait_for_signal() {
  if (impl_->server) impl_->server->wait_for_signal();
}

}  // namespace shouhou::app
