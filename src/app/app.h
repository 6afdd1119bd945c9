// Wires the platform and the business modules into one server process.
#pragma once

#include <memory>
#include <string>

#include "api/api.h"
#include "http/http.h"

namespace shouhou::app {

struct Config {
  std::string db_url = "data/shouhou.db";
  std::string web_dir = "web/dist";  // built UI; served at /
  http::ServerOptions server;
  bool demo_if_empty = false;        // seed demo data into an empty database
  int password_concurrency = 2;
};

// Every module's migrations in dependency order.
std::vector<store::Migration> all_migrations();

// Opens and migrates the database, and creates built-in roles.
Result<std::unique_ptr<store::Database>> open_database(const std::string& url);

// Runs every module's `wire` hook on p (p.bus must be set). The server does
// this itself; tools that write through module functions call it.
void wire_modules(api::Platform& p);

// Builds the router with every module's routes (also used by tests and the
// OpenAPI check).
class App {
 public:
  App(store::Database& db, Config cfg);
  ~App();
  http::Router& router();
  api::Platform& platform();
  // Starts serving; returns the bound port.
  Result<uint16_t> start();
  void stop();
  void wait_for_signal();
  http::Server* server();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The OpenAPI 3 document of the router's routes.
nlohmann::json openapi(const http::Router& r);

}  // namespace shouhou::app
