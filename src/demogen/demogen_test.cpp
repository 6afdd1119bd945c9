// The demo generator on a small scale, on SQLite and (when SHOUHOU_TEST_PG
// holds a server URL) PostgreSQL: the same seed gives the same data, another
// seed other data, and the data hang together (every serial's model and
// owner exist, every order's customer and asset exist, org paths match).
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "app/app.h"
#include "app/demo.h"
#include "demogen/demogen.h"

namespace shouhou::demogen {
namespace {

namespace fs = std::filesystem;
using store::Conn;

std::string unique_name() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d_%d_%08x", static_cast<int>(::getpid()), counter.fetch_add(1), rd());
  return buf;
}

std::string pg_admin(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  std::string err;
  if (PQstatus(c) != CONNECTION_OK) {
    err = PQerrorMessage(c);
  } else {
    PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) err = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  return err;
}

std::string with_dbname(const std::string& url, const std::string& db) {
  size_t scheme = url.find("://") + 3;
  size_t q = url.find('?', scheme);
  size_t slash = url.find('/', scheme);
  std::string base = url.substr(0, slash == std::string::npos || slash > q ? std::min(q, url.size()) : slash);
  std::string rest = q == std::string::npos ? "" : url.substr(q);
  return base + "/" + db + rest;
}

Counts tiny() {
  Counts c;
  c.customers = 50;
  c.serials = 120;
  c.orders = 150;
  c.providers = 41;  // more than the 40 cities: every city has one
  c.dealers = 40;
  c.contracts = 5;
  return c;
}

// A fresh database of the backend under test, removed afterwards.
class DemogenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void TearDown() override {
    for (const auto& d : sqlite_dirs_) fs::remove_all(d);
    for (const auto& n : pg_dbs_) pg_admin(admin_url_, "DROP DATABASE IF EXISTS " + n + " WITH (FORCE)");
  }

  std::string fresh_url() {
    if (GetParam() == "postgres") {
      const char* env = std::getenv("SHOUHOU_TEST_PG");
      admin_url_ = env ? env : "";
      std::string name = "t_demogen_" + unique_name();
      std::string err = pg_admin(admin_url_, "CREATE DATABASE " + name);
      EXPECT_TRUE(err.empty()) << err;
      pg_dbs_.push_back(name);
      return with_dbname(admin_url_, name);
    }
    std::string dir = "/tmp/shouhou_demogen_test_" + unique_name();
    sqlite_dirs_.push_back(dir);
    return dir + "/demo.db";
  }

  void SetUp() override {
    if (GetParam() == "postgres") {
      const char* env = std::getenv("SHOUHOU_TEST_PG");
      if (!env || !*env) GTEST_SKIP() << "SHOUHOU_TEST_PG is not set; PostgreSQL case skipped";
    }
  }

  // Generates into a fresh database (the generator does not need
  // app::seed_demo's fixed data; `shouhou demo --scale` runs on top of it).
  std::unique_ptr<store::Database> generated(uint64_t seed, Summary* out = nullptr) {
    auto db = app::open_database(fresh_url());
    EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().message);
    if (!db.ok()) return nullptr;
    api::DomainBus bus;
    api::Platform p{**db};
    p.bus = &bus;
    app::wire_modules(p);
    Options o;
    o.counts = tiny();
    o.seed = seed;
    o.batch = 37;  // several transactions, with a partial last one
    auto s = generate(p, o);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    if (s.ok() && out) *out = *s;
    return std::move(*db);
  }

  std::vector<std::string> sqlite_dirs_, pg_dbs_;
  std::string admin_url_;
};

// Everything a user would see of the generated data, as text.
std::string digest(store::Database& db) {
  std::string out;
  auto r = db.read([&](Conn& c) -> Result<void> {
    for (const char* sql : {
             "SELECT id, code, name, type, path, division_code, grade FROM org_units ORDER BY id",
             "SELECT id, username, display_name, org_unit_id FROM users ORDER BY id",
             "SELECT id, code, name, product_line_id FROM models ORDER BY id",
             "SELECT id, model_id, batch_code, production_date, quantity FROM model_batches ORDER BY id",
             "SELECT id, name, kind, type, tier, purchase_total_fen, org_path, CASE WHEN code IS NULL THEN created_at END "
             "FROM customers ORDER BY id",
             "SELECT id, customer_id, phone_norm, raw FROM customer_phones ORDER BY id",
             "SELECT id, customer_id, county_code, detail FROM customer_addresses ORDER BY id",
             "SELECT id, serial, model_id, batch, status, owner_customer_id, sale_date, sale_amount_fen, install_date, "
             "install_unit_id, install_engineer_user_id, CASE WHEN batch LIKE 'P%' THEN created_at END FROM assets ORDER BY id",
             "SELECT id, number, customer_id, status, start_date, end_date FROM service_contracts ORDER BY id",
             "SELECT id, number, type, state, customer_id, serial, provider_unit_id, engineer_id, warranty, created_at, "
             "updated_at FROM service_orders ORDER BY id",
             "SELECT id, order_id, at, action, to_state, username FROM order_timeline ORDER BY id",
         }) {
      auto rows = TRY(c.query(sql));
      for (const auto& row : rows) {
        for (size_t i = 0; i < row.cols.size(); ++i) out += row.s(i) + "|";
        out += "\n";
      }
    }
    return {};
  });
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return out;
}

int64_t scalar(store::Database& db, const std::string& sql) {
  auto v = db.read_as([&](Conn& c) -> Result<int64_t> { return TRY(c.one(sql))->i(0); });
  EXPECT_TRUE(v.ok()) << sql << ": " << (v.ok() ? "" : v.error().message);
  return v.ok() ? *v : -1;
}

TEST_P(DemogenTest, SameSeedSameDataOtherSeedOtherData) {
  auto a = generated(7);
  auto b = generated(7);
  auto c = generated(8);
  ASSERT_TRUE(a && b && c);
  std::string da = digest(*a), db = digest(*b), dc = digest(*c);
  EXPECT_GT(da.size(), 5000u);
  EXPECT_EQ(da, db);
  EXPECT_NE(da, dc);
}

TEST_P(DemogenTest, DataHangTogether) {
  Summary s;
  auto db = generated(42, &s);
  ASSERT_TRUE(db);
  Counts want = tiny();
  EXPECT_EQ(s.created.customers, want.customers);
  EXPECT_EQ(s.created.serials, want.serials);
  EXPECT_GT(s.created.contracts, 0);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM customers"), want.customers);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM assets"), want.serials);
  // Every serial's model, batch and owner exist; owners' org paths are real units.
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM assets a LEFT JOIN models m ON m.id = a.model_id "
                        "WHERE a.model_id IS NOT NULL AND m.id IS NULL"), 0);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM assets a WHERE a.batch IS NOT NULL AND a.model_id IS NOT NULL AND NOT EXISTS "
                        "(SELECT 1 FROM model_batches b WHERE b.model_id = a.model_id AND b.batch_code = a.batch)"), 0);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM assets a LEFT JOIN customers c ON c.id = a.owner_customer_id "
                        "WHERE a.owner_customer_id IS NOT NULL AND c.id IS NULL"), 0);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM customers c JOIN org_units o ON o.id = c.org_unit_id "
                        "WHERE c.org_path <> o.path"), 0);
  // Dates make sense: produced, then sold, then installed.
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM assets WHERE sale_date < production_date OR install_date < sale_date"), 0);
  EXPECT_GT(scalar(*db, "SELECT COUNT(*) FROM assets WHERE status = 'installed'"), want.serials / 2);
  // Purchases moved tiers (record_sale -> customers::record_purchase).
  EXPECT_GT(scalar(*db, "SELECT COUNT(*) FROM customers WHERE purchase_total_fen > 0"), want.customers / 2);
  // Totals are the sum of the purchase rows (recorded per customer in bulk),
  // and every generated sale with an owner and an amount has its purchase.
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM customers c WHERE c.purchase_total_fen <> (SELECT COALESCE(SUM(p.amount_fen), 0) "
                        "FROM customer_purchases p WHERE p.customer_id = c.id)"), 0);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM assets a WHERE a.sale_invoice_no LIKE 'FP%' AND a.sale_amount_fen > 0 AND "
                        "NOT EXISTS (SELECT 1 FROM customer_purchases p WHERE p.customer_id = a.owner_customer_id "
                        "AND p.reference = a.serial || ' / ' || a.sale_invoice_no AND p.amount_fen = a.sale_amount_fen)"), 0);
  // Phones: normalised, mobile and landline; addresses in real counties.
  EXPECT_GT(scalar(*db, "SELECT COUNT(*) FROM customer_phones WHERE kind = 'landline'"), 0);
  EXPECT_GT(scalar(*db, "SELECT COUNT(*) FROM customer_phones WHERE kind = 'mobile'"), want.customers / 2);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM customer_addresses a LEFT JOIN divisions d ON d.code = a.county_code "
                        "WHERE d.code IS NULL"), 0);
  // Providers sit in real counties, each with engineers; installers are providers.
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM org_units o LEFT JOIN divisions d ON d.code = o.division_code "
                        "WHERE o.type = 'provider' AND d.code IS NULL"), 0);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM org_units o WHERE o.type = 'provider' AND o.code LIKE 'SP-%-%' AND NOT EXISTS "
                        "(SELECT 1 FROM users u WHERE u.org_unit_id = o.id)"), 0);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM assets a JOIN org_units o ON o.id = a.install_unit_id "
                        "WHERE o.type <> 'provider'"), 0);
  // Contracts cover their customer's own assets.
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM contract_assets ca JOIN service_contracts k ON k.id = ca.contract_id "
                        "JOIN assets a ON a.id = ca.asset_id WHERE a.owner_customer_id <> k.customer_id"), 0);
  // Orders: as many as asked, in many states, for existing customers and
  // their own assets, each with its timeline from "create" on.
  EXPECT_EQ(s.created.orders, want.orders);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM service_orders"), want.orders);
  EXPECT_GE(scalar(*db, "SELECT COUNT(DISTINCT state) FROM service_orders"), 6);
  EXPECT_GE(scalar(*db, "SELECT COUNT(DISTINCT type) FROM service_orders"), 6);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM service_orders o LEFT JOIN customers c ON c.id = o.customer_id "
                        "WHERE c.id IS NULL"), 0);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM service_orders o JOIN assets a ON a.serial = o.serial "
                        "WHERE a.owner_customer_id <> o.customer_id OR a.id <> o.asset_id"), 0);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM service_orders o WHERE NOT EXISTS (SELECT 1 FROM order_timeline t "
                        "WHERE t.order_id = o.id AND t.action = 'create')"), 0);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM service_orders WHERE state IN ('accepted','on_site','completed','closed') "
                        "AND provider_unit_id IS NULL"), 0);
  // Faults concentrate: the most repaired model has well above its share.
  EXPECT_GT(scalar(*db, "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM service_orders WHERE type = 'repair' "
                        "GROUP BY model_id) x") * 10,
            scalar(*db, "SELECT COUNT(*) FROM service_orders WHERE type = 'repair'"));
  // Running again on the same database is refused, not doubled.
  api::DomainBus bus;
  api::Platform p{*db};
  p.bus = &bus;
  Options o;
  o.counts = tiny();
  auto again = generate(p, o);
  EXPECT_FALSE(again.ok());
}

TEST(DemogenCounts, Scales) {
  auto small = counts_for("small");
  ASSERT_TRUE(small.ok());
  auto large = counts_for("large");
  ASSERT_TRUE(large.ok());
  EXPECT_EQ(large->customers, 1'000'000);
  EXPECT_EQ(large->serials, 3'000'000);
  EXPECT_EQ(large->orders, 5'000'000);
  auto bad = counts_for("huge");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "scale");
}

INSTANTIATE_TEST_SUITE_P(Backends, DemogenTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace shouhou::demogen
