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
#include "auth/permissions.h"
#include "core/util.h"
#include "demogen/demogen.h"
#include "orders/history.h"
#include "orders/orders.h"

namespace shouhou::demogen {
namespace {

namespace fs = std::filesystem;
using store::Conn;
using api::json;

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

// The indexes dropped for the bulk load (SQLite) are all back afterwards,
// with the definitions the migrations gave them.
TEST_P(DemogenTest, IndexesAreTheMigrationsOnes) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "indexes are deferred on SQLite only";
  const char* sql = "SELECT name || ': ' || sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name";
  auto fresh = app::open_database(fresh_url());
  ASSERT_TRUE(fresh.ok());
  auto gen = generated(3);
  ASSERT_TRUE(gen);
  auto list = [&](store::Database& db) {
    std::string out;
    auto r = db.read([&](Conn& c) -> Result<void> {
      auto rows = TRY(c.query(sql));
      for (const auto& row : rows) out += row.s(0) + "\n";
      return {};
    });
    EXPECT_TRUE(r.ok());
    return out;
  };
  std::string want = list(**fresh), got = list(*gen);
  EXPECT_NE(want.find("service_orders_customer"), std::string::npos);
  EXPECT_NE(want.find("customer_phones_norm"), std::string::npos);
  EXPECT_EQ(got, want);
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

// The history writer and the live path (create, transition, assign) leave
// the same order and the same workflow timeline for the same steps.
http::Principal all_powers(int64_t user, const std::string& name, int64_t unit, const std::string& path,
                           const std::string& type) {
  http::Principal p;
  p.user_id = user;
  p.username = p.display_name = name;
  p.org_unit_id = unit;
  p.org_path = path;
  p.org_type = type;
  for (const auto& pi : auth::permission_catalogue()) p.permissions.push_back(pi.code);
  std::sort(p.permissions.begin(), p.permissions.end());
  return p;
}

TEST_P(DemogenTest, HistoryWritesWhatTheLivePathWrites) {
  auto db = generated(3);
  ASSERT_TRUE(db);
  api::DomainBus bus;
  api::Platform p{*db};
  p.bus = &bus;
  app::wire_modules(p);
  struct Pick { int64_t customer, engineer, provider, branch; std::string eng_name, provider_path, county; };
  auto pick = db->read_as([&](Conn& c) -> Result<Pick> {
    auto e = TRY(c.one("SELECT u.id, u.username, o.id, o.path FROM users u JOIN org_units o ON o.id = u.org_unit_id "
                       "WHERE o.type = 'provider' AND u.username LIKE 'eng%' ORDER BY u.id LIMIT 1"));
    auto k = TRY(c.one("SELECT c.id, a.county_code, c.org_unit_id FROM customers c JOIN customer_addresses a ON "
                       "a.customer_id = c.id ORDER BY c.id LIMIT 1"));
    return Pick{k->i(0), e->i(0), e->i(2), k->i(2), e->s(1), e->s(3), k->s(1)};
  });
  ASSERT_TRUE(pick.ok()) << pick.error().message;
  auto hq = db->read_as([&](Conn& c) -> Result<std::pair<int64_t, std::string>> {
    auto r = TRY(c.one("SELECT id, path FROM org_units WHERE parent_id IS NULL"));
    return std::make_pair(r->i(0), r->s(1));
  });
  ASSERT_TRUE(hq.ok());
  http::Principal agent = all_powers(1, "admin", hq->first, hq->second, "hq");
  http::Principal eng = all_powers(pick->engineer, pick->eng_name, pick->provider, pick->provider_path, "provider");
  const int64_t t0 = 1'700'000'000'000;
  const int64_t m = 60'000;
  const json decision{{"mode", "test"}, {"reason", "nearest"}};

  // Live: create, audit, assign (dispatch), accept, arrive.
  auto live = db->write_as([&](Conn& c) -> Result<int64_t> {
    ScopedClock clock(t0);
    api::WriteTx tx(c, &agent, "test");
    json body{{"type", "installation"}, {"customer_id", pick->customer}, {"priority", "high"},
              {"contact", {{"name", "张三"}, {"phone", "13800138000"}}},
              {"site", {{"address", "历下区1号"}, {"county_code", pick->county}}}, {"description", "新机安装"}};
    json o = TRY(orders::create(tx, body));
    int64_t id = o["id"].get<int64_t>();
    clock.set(t0 + 10 * m);
    TRY(orders::transition(tx, id, "audit"));
    clock.set(t0 + 20 * m);
    TRY(orders::assign(tx, id, pick->provider, pick->engineer, decision));
    api::WriteTx as_eng(c, &eng, "test");
    clock.set(t0 + 30 * m);
    TRY(orders::transition(as_eng, id, "accept"));
    clock.set(t0 + 90 * m);
    TRY(orders::transition(as_eng, id, "arrive"));
    return id;
  });
  ASSERT_TRUE(live.ok()) << live.error().message;

  orders::HistoricOrder h;
  h.type = "installation";
  h.priority = "high";
  h.creator = &agent;
  h.created_at = t0;
  h.customer_id = pick->customer;
  h.description = "新机安装";
  auto steps = [&]() {
    std::vector<orders::HistoricStep> v(4);
    v[0].action = "audit", v[0].who = &agent, v[0].at = t0 + 10 * m;
    v[1].action = "dispatch", v[1].who = &agent, v[1].at = t0 + 20 * m;
    v[1].provider_unit_id = pick->provider, v[1].engineer_id = pick->engineer, v[1].decision = decision;
    v[2].action = "accept", v[2].who = &eng, v[2].at = t0 + 30 * m;
    v[3].action = "arrive", v[3].who = &eng, v[3].at = t0 + 90 * m;
    return v;
  };
  h.steps = steps();
  // The site and the unit as create() resolved them for the live order.
  auto facts = db->read_as([&](Conn& c) -> Result<json> { return *TRY(orders::find(c, *live)); });
  ASSERT_TRUE(facts.ok());
  h.contact = (*facts)["contact"];
  h.site = (*facts)["site"];
  h.county_code = pick->county;
  h.org_unit_id = pick->branch;
  auto hist = db->write_as([&](Conn& c) -> Result<int64_t> {
    api::WriteTx tx(c, nullptr, "test");
    auto ids = TRY(orders::record_history(tx, {h}));
    return ids.at(0);
  });
  ASSERT_TRUE(hist.ok()) << hist.error().message;

  auto row = [&](int64_t id) {
    return db->read_as([&](Conn& c) -> Result<std::string> {
      auto r = TRY(c.one("SELECT type, channel, state, state_entered_at, customer_id, contact_json, site_json, county_code, "
                         "priority, description, org_unit_id, org_path, provider_unit_id, engineer_id, decision_json, "
                         "fields_json, completed_at, closed_at, created_by, version, created_at, updated_at, "
                         "substr(number, 1, 10) FROM service_orders WHERE id = ?", {id}));
      std::string s;
      for (size_t i = 0; i < r->cols.size(); ++i) s += r->s(i) + "|";
      for (const auto& t : TRY(c.query("SELECT org_path, at, kind, action, from_state, to_state, user_id, username, "
                                       "result, remark, detail_json FROM order_timeline WHERE order_id = ? AND kind IN "
                                       "('transition', 'assign', 'reassign') ORDER BY id", {id}))) {
        s += "\n";
        for (size_t i = 0; i < t.cols.size(); ++i) s += t.s(i) + "|";
      }
      return s;
    });
  };
  auto a = row(*live), b = row(*hist);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(a->find("on_site"), std::string::npos);

  // Broken history is refused naming the order and step, and nothing is written.
  int64_t before = scalar(*db, "SELECT COUNT(*) FROM service_orders");
  auto refused = [&](orders::HistoricOrder bad) {
    auto r = db->write_as([&](Conn& c) -> Result<int64_t> {
      api::WriteTx tx(c, nullptr, "test");
      auto ok = TRY(orders::record_history(tx, {h, bad}));
      return int64_t(ok.size());
    });
    return r.ok() ? std::string("written") : r.error().field;
  };
  orders::HistoricOrder bad = h;
  bad.steps.erase(bad.steps.begin());  // dispatch is allowed from created in the default flow: drop it too
  bad.steps.erase(bad.steps.begin());
  EXPECT_EQ(refused(bad), "orders[1].steps[0].action");  // accept from created
  bad = h;
  bad.steps[2].at = t0;
  EXPECT_EQ(refused(bad), "orders[1].steps[2].at");
  bad = h;
  bad.steps.resize(1);
  bad.steps.push_back(orders::HistoricStep{"cancel", &agent, t0 + 20 * m});
  EXPECT_EQ(refused(bad), "orders[1].steps[1].fields.cancel_reason");
  bad = h;
  bad.steps[1].engineer_id = 1;  // not one of the provider's engineers
  EXPECT_EQ(refused(bad), "orders[1].steps[1].engineer_id");
  bad = h;
  bad.steps[1].provider_unit_id = 0;  // dispatched needs a provider
  EXPECT_EQ(refused(bad), "orders[1].steps[1].fields.provider_unit_id");
  bad = h;
  http::Principal nobody = agent;
  nobody.permissions = {"order.create"};
  bad.steps[0].who = &nobody;
  EXPECT_NE(refused(bad), "written");
  bad = h;
  bad.priority = "whenever";
  EXPECT_EQ(refused(bad), "orders[1].priority");
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM service_orders"), before);
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
