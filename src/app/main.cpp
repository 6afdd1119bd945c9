// shouhou: the one binary. serve | migrate | user add | backup | check | demo | version
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "app/app.h"
#include "app/demo.h"
#include "auth/auth.h"
#include "org/org.h"

using namespace shouhou;

namespace {
std::string env_or(const char* name, std::string def) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : def;
}

int fail(const Error& e) {
  std::cerr << "error: " << e.message << (e.field.empty() ? "" : " (" + e.field + ")") << "\n";
  return 1;
}

void print_logins(const std::vector<app::DemoLogin>& logins, uint16_t port) {
  std::cout << "\nShouhou 售后服务管理 is serving on http://localhost:" << port << "\n"
            << "Demo logins (password: " << app::kDemoPassword << "):\n";
  for (const auto& l : logins)
    std::cout << "  " << l.username << std::string(l.username.size() < 12 ? 12 - l.username.size() : 1, ' ') << l.role
              << " @ " << l.org << "\n";
  std::cout << std::flush;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Shouhou (售后) after-sales service management"};
  cli.require_subcommand(1);
  std::string db_url = env_or("SHOUHOU_DB", "data/shouhou.db");
  cli.add_option("--db", db_url, "SQLite file or postgresql:// URL (env SHOUHOU_DB)");

  app::Config cfg;
  int port = std::atoi(env_or("PORT", "8080").c_str());
  auto* serve = cli.add_subcommand("serve", "Serve the web UI and API");
  serve->add_option("--port", port, "TCP port (env PORT; 0 = any free port)");
  serve->add_option("--address", cfg.server.address, "Bind address");
  serve->add_option("--web", cfg.web_dir, "Directory of the built web UI");
  serve->add_flag("--demo", cfg.demo_if_empty, "Seed demo data when the database is empty");
  serve->add_option("--io-threads", cfg.server.io_threads);
  serve->add_option("--workers", cfg.server.worker_threads);
  std::string port_file;
  serve->add_option("--port-file", port_file, "Write the bound port to this file once listening");

  auto* migrate = cli.add_subcommand("migrate", "Apply pending database migrations");
  auto* user = cli.add_subcommand("user", "Manage users");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "Add a user");
  std::string username, password, display, org_code, role = "admin";
  user_add->add_option("username", username)->required();
  user_add->add_option("--password", password)->required();
  user_add->add_option("--name", display);
  user_add->add_option("--org", org_code, "Org unit code (default: the root unit)");
  user_add->add_option("--role", role);

  auto* backup = cli.add_subcommand("backup", "Write a consistent copy of the database");
  std::string backup_out;
  backup->add_option("out", backup_out)->required();
  auto* check = cli.add_subcommand("check", "Check database integrity");
  auto* demo = cli.add_subcommand("demo", "Seed demo data into an empty database");
  auto* version = cli.add_subcommand("version", "Print the version");

  CLI11_PARSE(cli, argc, argv);

  if (*version) {
    std::cout << "shouhou " << SHOUHOU_VERSION << "\n";
    return 0;
  }
  if (std::getenv("SHOUHOU_LOG_LEVEL")) spdlog::set_level(spdlog::level::from_str(std::getenv("SHOUHOU_LOG_LEVEL")));

  auto db = app::open_database(db_url);
  if (!db) return fail(db.error());

  if (*migrate) {
    std::cout << "database " << (*db)->describe() << " is up to date\n";
    return 0;
  }
  if (*check) {
    auto r = (*db)->integrity_check();
    if (!r) return fail(r.error());
    std::cout << *r << "\n";
    return *r == "ok" ? 0 : 2;
  }
  if (*backup) {
    auto r = (*db)->backup(backup_out);
    if (!r) return fail(r.error());
    std::cout << "backup written to " << backup_out << "\n";
    return 0;
  }
  if (*demo) {
    auto r = app::seed_demo(**db);
    if (!r) return fail(r.error());
    std::cout << "demo data ready\n";
    return 0;
  }
  if (*user_add) {
    if (auto pol = auth::check_password_policy(password); !pol) return fail(pol.error());
    auto hash = auth::hash_password(password);
    if (!hash) return fail(hash.error());
    auto r = (*db)->write([&](store::Conn& c) -> Result<void> {
      auto unit = org_code.empty() ? TRY(c.one("SELECT id FROM org_units WHERE parent_id IS NULL"))
                                   : TRY(c.one("SELECT id FROM org_units WHERE code = ?", {org_code}));
      int64_t unit_id;
      if (unit) {
        unit_id = unit->i(0);
      } else if (org_code.empty()) {
        unit_id = TRY(org::insert_unit(c, org::NewUnit{"HQ", "总部", "hq"}));
      } else {
        return Error::invalid("no org unit with code " + org_code, "--org");
      }
      org::NewUser u;
      u.username = username;
      u.display_name = display.empty() ? username : display;
      u.password_hash = *hash;
      u.org_unit_id = unit_id;
      u.roles = {role};
      TRY(org::insert_user(c, u));
      return {};
    });
    if (!r) return fail(r.error());
    std::cout << "user " << username << " added\n";
    return 0;
  }

  // serve
  std::vector<app::DemoLogin> logins;
  if (cfg.demo_if_empty) {
    auto r = app::seed_demo(**db);
    if (!r) return fail(r.error());
    logins = *r;
  }
  cfg.server.port = static_cast<uint16_t>(port);
  cfg.db_url = db_url;
  app::App a(**db, cfg);
  auto bound = a.start();
  if (!bound) return fail(bound.error());
  spdlog::info("serving on {}:{} with {}", cfg.server.address, *bound, (*db)->describe());
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f) {
      std::fprintf(f, "%u\n", *bound);
      std::fclose(f);
      std::rename(tmp.c_str(), port_file.c_str());
    }
  }
  if (!logins.empty()) print_logins(logins, *bound);
  a.wait_for_signal();
  spdlog::info("stopped");
  return 0;
}
