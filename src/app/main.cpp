// shouhou: the one binary. serve | migrate | user add | backup | check | demo | bench-sql | version
#include <cstdlib>
#include <malloc.h>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "app/app.h"
#include "app/demo.h"
#include "auth/auth.h"
#include "demogen/bench_sql.h"
#include "demogen/demogen.h"
#include "imports/imports.h"
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

bool db_is_empty(store::Database& db) {
  auto n = db.read_as([](store::Conn& c) -> Result<int64_t> { return TRY(c.one("SELECT COUNT(*) FROM users"))->i(0); });
  return n && *n == 0;
}

// The scale's counts, with the counts given on the command line instead.
Result<void> generate_demo(api::Platform& p, const std::string& scale, demogen::Options o, const CLI::App& sub) {
  auto counts = TRY(demogen::counts_for(scale));
  auto given = [&](const char* opt) { return sub.get_option_no_throw(opt) && sub.count(opt) > 0; };
  if (!given("--customers")) o.counts.customers = counts.customers;
  if (!given("--serials")) o.counts.serials = counts.serials;
  if (!given("--orders")) o.counts.orders = counts.orders;
  if (!given("--providers")) o.counts.providers = counts.providers;
  if (!given("--dealers")) o.counts.dealers = counts.dealers;
  if (!given("--contracts")) o.counts.contracts = o.counts.customers / 25;
  o.progress = [](std::string_view phase, int64_t done, int64_t total) {
    std::cerr << "\r" << phase << " " << done << "/" << total << "        " << (done == total ? "\n" : "") << std::flush;
  };
  auto s = TRY(demogen::generate(p, o));
  std::cout << "generated (seed " << o.seed << "): " << s.created.customers << " customers, " << s.created.serials
            << " serials, " << s.created.contracts << " contracts, " << s.created.orders << " orders, " << s.org_units
            << " org units, " << s.users << " users, " << s.models << " new models in " << s.seconds << " s\n";
  for (const auto& n : s.notes) std::cout << "note: " << n << "\n";
  return {};
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
  // glibc gives freed memory at the top of a thread's heap back to the kernel
  // (madvise) once it exceeds a threshold that it keeps adjusting, and the
  // next request faults the same pages in again. On the write path (one
  // writer thread, request threads handing it work) that churn was most of
  // the CPU: the end-to-end auto-dispatch drain cost 1,081-1,498 us CPU per
  // dispatch with the default and 212-239 us with a fixed 256 MiB threshold
  // (scripts/bench/dispatch_drain.sh, docs/BENCHMARKS.md). A fixed value also
  // stops the dynamic mmap threshold; freed memory above 256 MiB still goes back.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
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
  // Handlers mostly wait (SQLite's group commit, PostgreSQL round trips), and
  // SQLite commits the writes of every worker waiting at once: the worker
  // count caps the writes per fsync (8: ~6 per COMMIT under wrk -c64, 64: ~40;
  // BENCHMARKS.md, order creation).
  cfg.server.worker_threads = 64;
  serve->add_option("--workers", cfg.server.worker_threads, "Worker threads for blocking handlers");
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
  std::string demo_scale;
  demogen::Options gen;
  demo->add_option("--scale", demo_scale, "Generate a data set on top of the fixed demo: small, medium or large");
  demo->add_option("--seed", gen.seed, "Random seed (same seed, same data)");
  demo->add_option("--customers", gen.counts.customers, "Override the scale's number of customers");
  demo->add_option("--serials", gen.counts.serials, "Override the number of install-base serials");
  demo->add_option("--orders", gen.counts.orders, "Override the number of service orders");
  demo->add_option("--providers", gen.counts.providers, "Override the number of service providers");
  demo->add_option("--dealers", gen.counts.dealers, "Override the number of dealers");
  demo->add_option("--contracts", gen.counts.contracts, "Override the target number of contracts");
  demo->add_option("--batch", gen.batch, "Customers per write transaction");
  serve->add_option("--demo-scale", demo_scale, "With --demo: also generate this data set (small, medium, large)");
  auto* bench_sql = cli.add_subcommand("bench-sql", "Run the SQL behind the benchmarked endpoints directly (storage ceiling)");
  demogen::SqlBenchOptions sqlb;
  bench_sql->add_option("scenario", sqlb.scenario, "lookup | warranty | order-create | order-list | order-page | keys")->required();
  bench_sql->add_option("--seconds", sqlb.seconds, "Duration");
  bench_sql->add_option("--threads", sqlb.threads, "Threads (each with its own connection)");
  bench_sql->add_option("--keys", sqlb.keys_file, "Key file (phones / serials / order ids) to draw from, or to write with 'keys'");
  auto* import = cli.add_subcommand("import", "Bulk-import a CSV / XLSX file (as the API does, on this thread)");
  std::string import_kind, import_file, import_user = "admin";
  int64_t import_batch = 5000;
  import->add_option("--kind", import_kind, "customers | products | install_base")->required();
  import->add_option("--user", import_user, "Import as this user (scope and audit)");
  import->add_option("--batch", import_batch, "Rows per write transaction");
  import->add_option("file", import_file, "The .csv or .xlsx file")->required();
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
    api::DomainBus bus;
    api::Platform platform{**db};
    platform.bus = &bus;
    app::wire_modules(platform);
    auto r = app::seed_demo(platform);
    if (!r) return fail(r.error());
    if (!demo_scale.empty()) {
      if (auto g = generate_demo(platform, demo_scale, gen, *demo); !g) return fail(g.error());
    }
    std::cout << "demo data ready\n";
    return 0;
  }
  if (*bench_sql) {
    auto r = demogen::run_sql_bench(**db, sqlb, std::cout);
    if (!r) return fail(r.error());
    return 0;
  }
  if (*import) {
    api::DomainBus bus;
    api::Platform platform{**db};
    platform.bus = &bus;
    app::wire_modules(platform);
    auto r = imports::run_cli(platform, import_kind, import_file, import_user, import_batch);
    if (!r) return fail(r.error());
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
  cfg.server.port = static_cast<uint16_t>(port);
  cfg.db_url = db_url;
  app::App a(**db, cfg);
  std::vector<app::DemoLogin> logins;
  if (cfg.demo_if_empty) {
    bool fresh = db_is_empty(**db);
    auto r = app::seed_demo(a.platform());
    if (!r) return fail(r.error());
    logins = *r;
    if (fresh && !demo_scale.empty()) {
      if (auto g = generate_demo(a.platform(), demo_scale, gen, *serve); !g) return fail(g.error());
    }
  }
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
