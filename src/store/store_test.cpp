// Storage layer tests. Every StoreTest case runs against SQLite (a fresh
// file under /tmp) and, when SHOUHOU_TEST_PG holds a PostgreSQL URL, against
// a fresh database created for the test and dropped afterwards
// (scripts/pg.sh start DIR prints such a URL).
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "store/backend.h"
#include "store/db.h"
#include "store/notify.h"

namespace shouhou::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

#define ASSERT_OK(expr)                                            \
  do {                                                             \
    auto&& ok_r_ = (expr);                                         \
    ASSERT_TRUE(ok_r_.ok()) << #expr << ": " << ok_r_.error().message; \
  } while (0)
#define EXPECT_OK(expr)                                            \
  do {                                                             \
    auto&& ok_r_ = (expr);                                         \
    EXPECT_TRUE(ok_r_.ok()) << #expr << ": " << ok_r_.error().message; \
  } while (0)

std::string unique_name() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d_%d_%08x", static_cast<int>(::getpid()), counter.fetch_add(1), rd());
  return buf;
}

// Runs one statement on the server named by url (outside our backend).
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

// postgresql://user@host:port/db?x=y with the database replaced.
std::string with_dbname(const std::string& url, const std::string& db, const std::string& password = {}) {
  size_t scheme = url.find("://") + 3;
  size_t q = url.find('?', scheme);
  size_t slash = url.find('/', scheme);
  std::string base = url.substr(0, slash == std::string::npos || slash > q ? std::min(q, url.size()) : slash);
  std::string rest = q == std::string::npos ? "" : url.substr(q);
  if (!password.empty()) {
    size_t at = base.find('@', scheme);
    if (at != std::string::npos) base.insert(at, ":" + password);
  }
  return base + "/" + db + rest;
}

const char* kSchema = R"sql(
CREATE TABLE vals (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB) STRICT;
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, qty INTEGER NOT NULL DEFAULT 0) STRICT;
CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL) STRICT;
INSERT INTO counter (id, n) VALUES (1, 0);
INSERT INTO counter (id, n) VALUES (2, 0);
)sql";

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (pg()) {
      const char* env = std::getenv("SHOUHOU_TEST_PG");
      if (!env || !*env) GTEST_SKIP() << "SHOUHOU_TEST_PG is not set; PostgreSQL cases skipped";
      admin_url_ = env;
      dbname_ = "t_" + unique_name();
      std::string err = pg_admin(admin_url_, "CREATE DATABASE " + dbname_);
      ASSERT_TRUE(err.empty()) << err;
      url_ = with_dbname(admin_url_, dbname_);
    } else {
      dir_ = "/tmp/shouhou_store_test_" + unique_name();
      // A missing parent directory is created by open().
      url_ = dir_ + "/sub/test.db";
    }
    auto db = Database::open(url_, opts());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
  }

  void TearDown() override {
    db_.reset();
    if (!dbname_.empty()) {
      std::string err = pg_admin(admin_url_, "DROP DATABASE IF EXISTS " + dbname_ + " WITH (FORCE)");
      EXPECT_TRUE(err.empty()) << err;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  static Options opts() {
    Options o;
    o.readers = 4;
    return o;
  }
  bool pg() const { return GetParam() == "postgres"; }
  Database& db() { return *db_; }

  // Another handle on the same database, as a second process would have.
  std::unique_ptr<Database> open_again(Options o = opts()) {
    auto db = Database::open(url_, o);
    EXPECT_TRUE(db.ok()) << db.error().message;
    return db ? std::move(*db) : nullptr;
  }

  void make_schema() { ASSERT_OK(migrate(db(), {{"test", 1, "schema", kSchema}})); }

  int64_t count(const std::string& table) {
    auto n = db().read_as([&](Conn& c) -> Result<int64_t> {
      auto row = TRY(c.one("SELECT COUNT(*) FROM " + table));
      return row->i(0);
    });
    EXPECT_TRUE(n.ok()) << n.error().message;
    return n ? *n : -1;
  }

  Result<int64_t> insert_item(Conn& c, const std::string& name, int64_t qty = 0) {
    auto row = TRY(c.one("INSERT INTO items (name, qty) VALUES (?, ?) RETURNING id", {name, qty}));
    if (!row) return Error::internal("no row from RETURNING");
    return row->i(0);
  }

  std::unique_ptr<Database> db_;
  std::string url_, admin_url_, dbname_, dir_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// ---------------------------------------------------------------- migrations

TEST_P(StoreTest, MigrateAppliesOnceAndIsIdempotent) {
  std::vector<Migration> ms = {
      {"m", 1, "items",
       "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,\n"
       "  note TEXT NOT NULL DEFAULT 'a;b -- not a comment') STRICT;\n"
       "-- a comment; with a semicolon\n"
       "CREATE INDEX things_name ON things(name);"},
      {"m", 2, "qty",
       "ALTER TABLE things ADD COLUMN qty INTEGER NOT NULL DEFAULT 0; /* block; comment */\n"
       "INSERT INTO things (name) VALUES ('seed;1')"},
      {"other", 1, "kv", "CREATE TABLE kv (k TEXT PRIMARY KEY, v REAL, b BLOB) STRICT"},
  };
  auto n = migrate(db(), ms);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 3);
  n = migrate(db(), ms);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0);

  ms.push_back({"m", 3, "more", "CREATE TABLE more_things (id INTEGER PRIMARY KEY)"});
  n = migrate(db(), ms);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1);

  EXPECT_EQ(count("schema_migrations"), 4);
  auto rows = db().read_as([](Conn& c) { return c.query("SELECT name, note, qty FROM things"); });
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].s(0), "seed;1");
  EXPECT_EQ((*rows)[0].s(1), "a;b -- not a comment");
  EXPECT_EQ((*rows)[0].i(2), 0);

  auto rec = db().read_as([](Conn& c) {
    return c.query("SELECT module, version, name, checksum, applied_at FROM schema_migrations ORDER BY module, version");
  });
  ASSERT_OK(rec);
  EXPECT_EQ((*rec)[0].s(0), "m");
  EXPECT_EQ((*rec)[0].i(1), 1);
  EXPECT_EQ((*rec)[0].s(2), "items");
  EXPECT_EQ((*rec)[0].s(3).size(), 16u);
  EXPECT_GT((*rec)[0].i(4), 1'600'000'000'000);
}

TEST_P(StoreTest, MigrateRefusesChangedChecksum) {
  std::vector<Migration> ms = {{"m", 1, "t", "CREATE TABLE t1 (id INTEGER PRIMARY KEY)"}};
  ASSERT_OK(migrate(db(), ms));
  ms[0].sql = "CREATE TABLE t1 (id INTEGER PRIMARY KEY, x TEXT)";
  ms.push_back({"m", 2, "u", "CREATE TABLE t2 (id INTEGER PRIMARY KEY)"});
  auto n = migrate(db(), ms);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("m/1"), std::string::npos) << n.error().message;
  EXPECT_NE(n.error().message.find("changed"), std::string::npos) << n.error().message;
  // Refused before anything else was applied.
  EXPECT_EQ(count("schema_migrations"), 1);
}

TEST_P(StoreTest, MigrateFailureRollsBackThatMigration) {
  std::vector<Migration> ms = {{"m", 1, "ok", "CREATE TABLE good (id INTEGER PRIMARY KEY)"},
                               {"m", 2, "bad", "CREATE TABLE half (id INTEGER PRIMARY KEY); CREATE TABLE oops ("}};
  auto n = migrate(db(), ms);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("m/2"), std::string::npos) << n.error().message;
  EXPECT_EQ(count("schema_migrations"), 1);
  auto half = db().read_as([](Conn& c) { return c.query("SELECT COUNT(*) FROM half"); });
  EXPECT_FALSE(half.ok()) << "the failed migration's first statement must be rolled back";
}

TEST_P(StoreTest, MigrateRejectsDuplicateVersions) {
  auto n = migrate(db(), {{"m", 1, "a", "CREATE TABLE a (x INTEGER)"}, {"m", 1, "b", "CREATE TABLE b (x INTEGER)"}});
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, Error::Code::internal);
}

TEST_P(StoreTest, ConcurrentMigratorsApplyEachMigrationOnce) {
  std::vector<Migration> ms;
  for (int v = 1; v <= 6; ++v)
    ms.push_back({"c", v, "t" + std::to_string(v),
                  "CREATE TABLE c" + std::to_string(v) + " (id INTEGER PRIMARY KEY, x TEXT);"
                  "INSERT INTO c" + std::to_string(v) + " (x) VALUES ('once')"});
  auto other = open_again();
  ASSERT_TRUE(other);
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  auto a = std::async(std::launch::async, [&] { start.wait(); return migrate(db(), ms); });
  auto b = std::async(std::launch::async, [&] { start.wait(); return migrate(*other, ms); });
  go.set_value();
  auto ra = a.get(), rb = b.get();
  ASSERT_OK(ra);
  ASSERT_OK(rb);
  EXPECT_EQ(*ra + *rb, 6);
  for (int v = 1; v <= 6; ++v) EXPECT_EQ(count("c" + std::to_string(v)), 1);
}

// ---------------------------------------------------------------- values

TEST_P(StoreTest, ValuesRoundTrip) {
  make_schema();
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  const std::string chinese = "售后服务：维修工单 #1「已完成」😀";
  const std::string blob("\0\x01\x02\xff\xfe\x80'\"\\x00;?\0end", 17);
  struct In {
    Value i, r, t, b;
  };
  std::vector<In> in = {
      {lo, 3.141592653589793, chinese, blob},
      {hi, -0.1, std::string(""), std::string("\xff", 1)},
      {int64_t(0), 1e300, std::string("plain"), std::string("text-like blob?")},
      {std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}},
  };
  std::vector<int64_t> ids;
  ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
    ids.clear();
    for (const auto& v : in) {
      auto row = TRY(c.one("INSERT INTO vals (i, r, t, b) VALUES (?, ?, ?, ?) RETURNING id", {v.i, v.r, v.t, v.b}));
      ids.push_back(row->i(0));
    }
    return {};
  }));
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 3, 4}));

  auto rows = db().read_as([](Conn& c) { return c.query("SELECT id, i, r, t, b FROM vals ORDER BY id"); });
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"id", "i", "r", "t", "b"}));
  const Row& a = (*rows)[0];
  ASSERT_TRUE(std::holds_alternative<int64_t>(a.cols[1]));
  EXPECT_EQ(a.i(1), lo);
  ASSERT_TRUE(std::holds_alternative<double>(a.cols[2]));
  EXPECT_EQ(a.d(2), 3.141592653589793);
  ASSERT_TRUE(std::holds_alternative<std::string>(a.cols[3]));
  EXPECT_EQ(a.s(3), chinese);
  ASSERT_TRUE(std::holds_alternative<std::string>(a.cols[4]));
  EXPECT_EQ(a.s(4), blob);
  EXPECT_EQ(a.s(4).size(), 17u);

  const Row& b = (*rows)[1];
  EXPECT_EQ(b.i(1), hi);
  EXPECT_EQ(b.d(2), -0.1);
  EXPECT_EQ(b.s(3), "");
  EXPECT_FALSE(b.null(3));
  EXPECT_EQ(b.s(4), std::string("\xff", 1));

  const Row& c = (*rows)[2];
  EXPECT_EQ(c.i(1), 0);
  EXPECT_EQ(c.d(2), 1e300);
  EXPECT_EQ(c.s(4), "text-like blob?");

  const Row& d = (*rows)[3];
  for (size_t k = 1; k <= 4; ++k) EXPECT_TRUE(d.null(k)) << k;
  EXPECT_EQ(d.i(1), 0);
  EXPECT_EQ(d.s(3), "");
  EXPECT_EQ(d.oi(1), std::nullopt);
  EXPECT_EQ(d.os(3), std::nullopt);

  // Text comparisons work on UTF-8, and parameters match stored values.
  auto like = db().read_as([](Conn& c) {
    return c.query("SELECT id FROM vals WHERE t LIKE ? AND i = ?",
                   {std::string("售后服务%"), std::numeric_limits<int64_t>::min()});
  });
  ASSERT_OK(like);
  ASSERT_EQ(like->size(), 1u);
  EXPECT_EQ((*like)[0].i(0), 1);

  nlohmann::json j = rows->to_json();
  EXPECT_EQ(j[0]["i"].get<int64_t>(), lo);
  EXPECT_EQ(j[0]["t"].get<std::string>(), chinese);
  EXPECT_TRUE(j[0]["r"].is_number_float());
  EXPECT_TRUE(j[3]["t"].is_null());
}

// Value has no blob type: on SQLite a string that is valid UTF-8 first binds
// as TEXT, which a STRICT BLOB column refuses; the backend rebinds it.
TEST_P(StoreTest, TextLikeBlobsFitBlobColumns) {
  make_schema();
  ASSERT_OK(db().write([](Conn& c) -> Result<void> {
    TRY(c.exec("INSERT INTO vals (t, b) VALUES (?, ?)", {std::string("k1"), std::string("")}));
    TRY(c.exec("INSERT INTO vals (b, t) VALUES (?, ?)", {std::string("ascii"), std::string("k2")}));
    TRY(c.exec("UPDATE vals SET b = ? WHERE t = ?", {std::string("changed"), std::string("k1")}));
    return {};
  }));
  auto rows = db().read_as([](Conn& c) { return c.query("SELECT t, b FROM vals ORDER BY id"); });
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].s(0), "k1");
  EXPECT_EQ((*rows)[0].s(1), "changed");
  EXPECT_EQ((*rows)[1].s(0), "k2");
  EXPECT_EQ((*rows)[1].s(1), "ascii");
  // Text columns still refuse bytes that are not UTF-8 text.
  auto bad = db().write([](Conn& c) -> Result<void> {
    TRY(c.exec("INSERT INTO items (name) VALUES (?)", {std::string("a\0b", 3)}));
    return {};
  });
  EXPECT_FALSE(bad.ok());
}

TEST_P(StoreTest, AggregatesAreTypedAlike) {
  make_schema();
  ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "a", 2));
    TRY(insert_item(c, "b", 3));
    return {};
  }));
  auto row = db().read_as([](Conn& c) -> Result<Row> {
    auto r = TRY(c.one("SELECT COUNT(*), SUM(qty), MAX(qty), AVG(qty), 1 = 1 FROM items"));
    return *r;
  });
  ASSERT_OK(row);
  // PostgreSQL's SUM(bigint) is numeric; whole numbers still arrive as integers.
  EXPECT_TRUE(std::holds_alternative<int64_t>(row->cols[0]));
  EXPECT_TRUE(std::holds_alternative<int64_t>(row->cols[1]));
  EXPECT_TRUE(std::holds_alternative<int64_t>(row->cols[2]));
  EXPECT_TRUE(std::holds_alternative<double>(row->cols[3]));
  EXPECT_EQ(row->i(0), 2);
  EXPECT_EQ(row->i(1), 5);
  EXPECT_EQ(row->i(2), 3);
  EXPECT_DOUBLE_EQ(row->d(3), 2.5);
  EXPECT_EQ(row->i(4), 1);
}

TEST_P(StoreTest, ReturningIdAndExecCounts) {
  make_schema();
  auto ids = db().write_as([&](Conn& c) -> Result<std::pair<int64_t, int64_t>> {
    int64_t a = TRY(insert_item(c, "first"));
    int64_t b = TRY(insert_item(c, "second"));
    TRY(insert_item(c, "third"));
    return std::pair{a, b};
  });
  ASSERT_OK(ids);
  EXPECT_EQ(ids->first, 1);
  EXPECT_EQ(ids->second, 2);
  auto changed = db().write_as([](Conn& c) -> Result<std::pair<int64_t, int64_t>> {
    int64_t all = TRY(c.exec("UPDATE items SET qty = qty + 1"));
    int64_t none = TRY(c.exec("DELETE FROM items WHERE name = ?", {std::string("nobody")}));
    return std::pair{all, none};
  });
  ASSERT_OK(changed);
  EXPECT_EQ(changed->first, 3);
  EXPECT_EQ(changed->second, 0);
  auto name = db().read_as([&](Conn& c) -> Result<std::string> {
    auto r = TRY(c.one("SELECT name FROM items WHERE id = ?", {ids->second}));
    return r ? r->s(0) : std::string("?");
  });
  ASSERT_OK(name);
  EXPECT_EQ(*name, "second");
  auto none = db().read_as([](Conn& c) { return c.one("SELECT name FROM items WHERE id = ?", {int64_t(999)}); });
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
}

// Statements with inlined values overflow the statement cache many times
// over; reused statements interleaved with them keep giving right answers
// (the cache evicts the one-off ones and must never run a finalized one).
TEST_P(StoreTest, StatementCacheOverflowKeepsResultsRight) {
  make_schema();
  auto r = db().write_as([&](Conn& c) -> Result<int64_t> {
    int64_t sum = 0;
    for (int64_t i = 1; i <= 1500; ++i) {
      TRY(c.exec("INSERT INTO items (name, qty) VALUES (?, " + std::to_string(i) + ")", {"n" + std::to_string(i)}));
      auto row = TRY(c.one("SELECT qty FROM items WHERE name = ?", {"n" + std::to_string(i)}));
      sum += row->i(0);
      if (i % 7 == 0) TRY(c.exec("UPDATE items SET qty = qty WHERE id = ?", {i}));
    }
    return sum;
  });
  ASSERT_OK(r);
  EXPECT_EQ(*r, 1500 * 1501 / 2);
  EXPECT_EQ(count("items"), 1500);
}

// The PostgreSQL statement cache is bounded by evicting the least recently
// used statement: a statement used all along stays prepared (executed under
// one name throughout) while 1,500 one-off statements pass through.
TEST_P(StoreTest, PostgresStatementCacheKeepsHotStatements) {
  if (!pg()) GTEST_SKIP() << "PostgreSQL's prepared statements";
  make_schema();
  const std::string hot = "SELECT COUNT(*) FROM items WHERE qty >= ?";
  auto r = db().write_as([&](Conn& c) -> Result<std::vector<int64_t>> {
    for (int i = 0; i < 1500; ++i) {
      TRY(c.query("SELECT " + std::to_string(i) + " + ?", {int64_t{1}}));
      TRY(c.query(hot, {int64_t{0}}));
    }
    auto row = TRY(c.one("SELECT COUNT(*), COALESCE(SUM(generic_plans + custom_plans), 0) FROM pg_prepared_statements "
                         "WHERE statement = 'SELECT COUNT(*) FROM items WHERE qty >= $1'"));
    auto total = TRY(c.one("SELECT COUNT(*) FROM pg_prepared_statements"));
    return std::vector<int64_t>{row->i(0), row->i(1), total->i(0)};
  });
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0], 1) << "the hot statement is prepared once";
  EXPECT_EQ((*r)[1], 1500) << "and every execution used that one preparation";
  EXPECT_LE((*r)[2], 512) << "the cache stays bounded";
}

TEST_P(StoreTest, PlaceholdersIgnoreLiteralsIdentifiersAndComments) {
  make_schema();
  ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
    TRY(c.exec("INSERT INTO items (name, qty) VALUES (?, ?) /* ? */ -- trailing ?", {std::string("x?'y"), int64_t(7)}));
    return {};
  }));
  auto rows = db().read_as([](Conn& c) {
    return c.query(
        "SELECT name, '?' AS \"what?\", 'it''s ?' AS esc, qty /* what? */\n"
        "FROM items WHERE name = ? AND qty = ? -- really?\n",
        {std::string("x?'y"), int64_t(7)});
  });
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->columns[1], "what?");
  EXPECT_EQ((*rows)[0].s(0), "x?'y");
  EXPECT_EQ((*rows)[0].s(1), "?");
  EXPECT_EQ((*rows)[0].s(2), "it's ?");
  EXPECT_EQ((*rows)[0].i(3), 7);
}

// Numbers carry their type into expressions on both engines; a string or
// NULL tested on its own needs a CAST for PostgreSQL to know its type.
TEST_P(StoreTest, ParametersInExpressions) {
  make_schema();
  auto row = db().read_as([](Conn& c) -> Result<Row> {
    auto r = TRY(c.one("SELECT ? AS i, ? AS d, ? IS NULL AS n, CAST(? AS TEXT) IS NULL AS sn, ? + 1 AS sum",
                       {int64_t(41), 0.5, int64_t(3), Value{}, int64_t(1) << 40}));
    return *r;
  });
  ASSERT_OK(row);
  EXPECT_TRUE(std::holds_alternative<int64_t>(row->cols[0]));
  EXPECT_EQ(row->i(0), 41);
  EXPECT_TRUE(std::holds_alternative<double>(row->cols[1]));
  EXPECT_EQ(row->d(1), 0.5);
  EXPECT_EQ(row->i(2), 0);
  EXPECT_EQ(row->i(3), 1);
  EXPECT_EQ(row->i(4), (int64_t(1) << 40) + 1);

  // The same SQL with other parameter kinds (NULL, then text) still works.
  ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
    TRY(c.exec("INSERT INTO vals (i, t) VALUES (?, ?)", {int64_t(1), std::string("x")}));
    TRY(c.exec("INSERT INTO vals (i, t) VALUES (?, ?)", {Value{}, Value{}}));
    TRY(c.exec("INSERT INTO vals (i, t) VALUES (?, ?)", {int64_t(3), Value{}}));
    return {};
  }));
  EXPECT_EQ(count("vals WHERE i IS NULL"), 1);
  EXPECT_EQ(count("vals WHERE t IS NULL"), 2);
}

TEST_P(StoreTest, WrongParameterCountIsAnError) {
  make_schema();
  auto r = db().read_as([](Conn& c) { return c.query("SELECT id FROM items WHERE id = ?"); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Error::Code::internal);
  auto bad = db().read_as([](Conn& c) { return c.query("SELECT nope FROM nowhere"); });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Error::Code::internal);
}

// ---------------------------------------------------------------- transactions

TEST_P(StoreTest, ErrorFromCallbackRollsBack) {
  make_schema();
  auto r = db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "doomed"));
    TRY(c.exec("UPDATE counter SET n = 99"));
    return Error::invalid("no thanks", "name");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Error::Code::invalid);
  EXPECT_EQ(r.error().message, "no thanks");
  EXPECT_EQ(r.error().field, "name");
  EXPECT_EQ(count("items"), 0);
  EXPECT_EQ(count("counter WHERE n = 99"), 0);
}

TEST_P(StoreTest, ExceptionInCallbackRollsBackAndPropagates) {
  make_schema();
  EXPECT_THROW((void)db().write([&](Conn& c) -> Result<void> {
    (void)insert_item(c, "doomed");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(count("items"), 0);
  // The connection is usable afterwards.
  ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "fine"));
    return {};
  }));
  EXPECT_EQ(count("items"), 1);
  EXPECT_EQ(db().stats()["readers_busy"].get<int>(), 0);
}

TEST_P(StoreTest, ConstraintViolationsAreClassified) {
  make_schema();
  ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "dup"));
    return {};
  }));
  auto r = db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "other"));
    TRY(insert_item(c, "dup"));
    return {};
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Error::Code::conflict) << r.error().message;
  EXPECT_EQ(r.error().field, "name") << r.error().message;
  EXPECT_TRUE(r.error().message.find("items") != std::string::npos ||
              r.error().message.find("unique") != std::string::npos)
      << r.error().message;
  EXPECT_EQ(count("items"), 1);

  auto pk = db().write([](Conn& c) -> Result<void> {
    TRY(c.exec("INSERT INTO counter (id, n) VALUES (1, 5)"));
    return {};
  });
  ASSERT_FALSE(pk.ok());
  EXPECT_EQ(pk.error().code, Error::Code::conflict) << pk.error().message;

  auto notnull = db().write([](Conn& c) -> Result<void> {
    TRY(c.exec("INSERT INTO items (name) VALUES (?)", {Value{}}));
    return {};
  });
  ASSERT_FALSE(notnull.ok());
  EXPECT_EQ(notnull.error().code, Error::Code::invalid) << notnull.error().message;
}

// Documents the one behavioural difference callers must design around: a
// failed statement aborts the whole PostgreSQL transaction.
TEST_P(StoreTest, IgnoredStatementErrorCommitsOnSqliteButAbortsOnPostgres) {
  make_schema();
  auto r = db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "a"));
    auto dup = insert_item(c, "a");
    if (dup) return Error::internal("duplicate insert succeeded");
    (void)c.exec("INSERT INTO items (name) VALUES ('b')");
    return {};
  });
  if (pg()) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Error::Code::conflict) << r.error().message;
    EXPECT_EQ(count("items"), 0);
  } else {
    ASSERT_OK(r);
    EXPECT_EQ(count("items"), 2);
  }
}

TEST_P(StoreTest, ReadSeesCommittedWrites) {
  make_schema();
  auto other = open_again();
  ASSERT_TRUE(other);
  ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "seen", 3));
    return {};
  }));
  for (Database* d : {&db(), other.get()}) {
    auto q = d->read_as([](Conn& c) -> Result<int64_t> {
      auto r = TRY(c.one("SELECT qty FROM items WHERE name = ?", {std::string("seen")}));
      return r ? r->i(0) : -1;
    });
    ASSERT_OK(q);
    EXPECT_EQ(*q, 3);
  }
}

TEST_P(StoreTest, ReadInsideWriteSeesOwnUncommittedWrites) {
  make_schema();
  int64_t inside = -1;
  auto r = db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "mine"));
    TRY_VOID(db().read([&](Conn& rc) -> Result<void> {
      auto row = TRY(rc.one("SELECT COUNT(*) FROM items"));
      inside = row->i(0);
      return {};
    }));
    return Error::conflict("roll it back");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(inside, 1);
  EXPECT_EQ(count("items"), 0);
}

TEST_P(StoreTest, NestedWriteIsRefusedNotDeadlocked) {
  make_schema();
  Result<void> inner;
  auto r = db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "outer"));
    inner = db().write([&](Conn& c2) -> Result<void> {
      TRY(insert_item(c2, "inner"));
      return {};
    });
    return {};
  });
  ASSERT_OK(r);
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.error().code, Error::Code::internal);
  EXPECT_NE(inner.error().message.find("nested write"), std::string::npos);
  EXPECT_EQ(count("items"), 1);
}

TEST_P(StoreTest, WriteInsideReadWithOneConnectionDoesNotDeadlock) {
  make_schema();
  Options o = opts();
  o.readers = 1;
  auto small = open_again(o);
  ASSERT_TRUE(small);
  auto r = small->read([&](Conn& c) -> Result<void> {
    TRY(c.query("SELECT COUNT(*) FROM items"));
    TRY_VOID(small->write([&](Conn& w) -> Result<void> {
      TRY(insert_item(w, "from-read"));
      return {};
    }));
    // The nested read reuses the outer snapshot/connection.
    TRY_VOID(small->read([](Conn& c2) -> Result<void> {
      TRY(c2.query("SELECT 1"));
      return {};
    }));
    return {};
  });
  ASSERT_OK(r);
  EXPECT_EQ(count("items"), 1);
}

TEST_P(StoreTest, ConcurrentWritersLoseNoUpdates) {
  make_schema();
  constexpr int kThreads = 8, kEach = 200;
  std::vector<std::vector<int64_t>> seen(kThreads);
  std::atomic<int> failures{0};
  std::string first_error;
  std::mutex err_mu;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int k = 0; k < kEach; ++k) {
        int64_t got = 0;
        auto r = db().write([&](Conn& c) -> Result<void> {
          auto row = TRY(c.one("UPDATE counter SET n = n + 1 WHERE id = 1 RETURNING n"));
          got = row->i(0);
          return {};
        });
        if (!r) {
          failures.fetch_add(1);
          std::lock_guard lk(err_mu);
          if (first_error.empty()) first_error = r.error().message;
        } else {
          seen[t].push_back(got);
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0) << first_error;
  std::set<int64_t> all;
  for (auto& v : seen) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), size_t(kThreads * kEach));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kEach);
  auto n = db().read_as([](Conn& c) -> Result<int64_t> { return TRY(c.one("SELECT n FROM counter WHERE id = 1"))->i(0); });
  ASSERT_OK(n);
  EXPECT_EQ(*n, kThreads * kEach);
}

// Many threads writing at once (on SQLite they share group commits): each
// commits exactly its own rows, and each write is visible to the same
// thread's next read.
TEST_P(StoreTest, ConcurrentWritersCommitExactlyTheirRows) {
  make_schema();
  constexpr int kThreads = 16, kEach = 40;
  std::atomic<int> failures{0}, invisible{0}, wrong_thread{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int k = 0; k < kEach; ++k) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(k);
        auto self = std::this_thread::get_id();
        auto id = db().write_as([&](Conn& c) -> Result<int64_t> {
          if (std::this_thread::get_id() != self) wrong_thread.fetch_add(1);
          return insert_item(c, name, t);
        });
        if (!id) {
          failures.fetch_add(1);
          continue;
        }
        auto seen = db().read_as([&](Conn& c) -> Result<std::string> {
          auto row = TRY(c.one("SELECT name FROM items WHERE id = ?", {*id}));
          return row ? row->s(0) : std::string();
        });
        if (!seen || *seen != name) invisible.fetch_add(1);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(invisible.load(), 0);
  EXPECT_EQ(wrong_thread.load(), 0) << "a write callback ran on another thread than its caller";
  EXPECT_EQ(count("items"), kThreads * kEach);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(count("items WHERE qty = " + std::to_string(t)), kEach);
}

// Holds the writer in one transaction until `n` more write() callers are
// queued behind it, so they form one group commit (SQLite).
class QueueGate {
 public:
  QueueGate(Database& db, size_t n) : db_(db), n_(n) {
    holder_ = std::thread([this] {
      auto r = db_.write([this](Conn&) -> Result<void> {
        holding_.set_value();
        release_.get_future().wait();
        return {};
      });
      EXPECT_TRUE(r.ok());
    });
    holding_.get_future().wait();
  }
  // Waits (bounded) until the callers are queued, then lets the holder commit.
  bool open() {
    bool queued = false;
    for (int i = 0; i < 2000 && !queued; ++i) {
      queued = db_.stats()["write_queue"].get<size_t>() == n_;
      if (!queued) std::this_thread::sleep_for(5ms);
    }
    release_.set_value();
    holder_.join();
    return queued;
  }

 private:
  Database& db_;
  size_t n_;
  std::promise<void> holding_, release_;
  std::thread holder_;
};

// One group commit whose members fail in each way: an error returned after
// writing, a failed statement, a throw. Only they are rolled back; the
// others commit, and every caller gets its own outcome on its own thread.
TEST_P(StoreTest, SqliteGroupCommitIsolatesFailingMembers) {
  if (pg()) GTEST_SKIP() << "group commit is SQLite's";
  make_schema();
  ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "taken"));
    return {};
  }));
  int64_t batches0 = db().stats()["write_batches"].get<int64_t>();
  constexpr int kMembers = 8;
  std::vector<Result<int64_t>> results(kMembers, Result<int64_t>(int64_t{0}));
  std::vector<std::string> thrown(kMembers);
  QueueGate gate(db(), kMembers);
  std::vector<std::thread> ts;
  for (int m = 0; m < kMembers; ++m) {
    ts.emplace_back([&, m] {
      try {
        results[m] = db().write_as([&](Conn& c) -> Result<int64_t> {
          int64_t id = TRY(insert_item(c, "member-" + std::to_string(m), m));
          TRY(c.exec("UPDATE counter SET n = n + 1 WHERE id = 1"));
          if (m == 2) return Error::conflict("member 2 says no");
          if (m == 4) TRY(insert_item(c, "taken"));  // unique violation
          if (m == 6) throw std::runtime_error("member 6 threw");
          return id;
        });
      } catch (const std::runtime_error& e) {
        thrown[m] = e.what();
      }
    });
  }
  bool queued = gate.open();
  for (auto& t : ts) t.join();
  ASSERT_TRUE(queued) << "the writers never queued up";
  // The gate's transaction, then one batch with all the members.
  EXPECT_EQ(db().stats()["write_batches"].get<int64_t>() - batches0, 2);
  for (int m = 0; m < kMembers; ++m) {
    SCOPED_TRACE(m);
    if (m == 2) {
      ASSERT_FALSE(results[m].ok());
      EXPECT_EQ(results[m].error().message, "member 2 says no");
    } else if (m == 4) {
      ASSERT_FALSE(results[m].ok());
      EXPECT_EQ(results[m].error().code, Error::Code::conflict);
    } else if (m == 6) {
      EXPECT_EQ(thrown[m], "member 6 threw");
    } else {
      ASSERT_TRUE(results[m].ok()) << results[m].error().message;
      EXPECT_EQ(count("items WHERE name = 'member-" + std::to_string(m) + "' AND id = " +
                      std::to_string(*results[m])), 1);
    }
  }
  EXPECT_EQ(count("items WHERE name LIKE 'member-%'"), kMembers - 3);
  EXPECT_EQ(count("items WHERE name IN ('member-2', 'member-4', 'member-6')"), 0);
  EXPECT_EQ(count("counter WHERE id = 1 AND n = " + std::to_string(kMembers - 3)), 1);
  // The writer is clean afterwards.
  ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "after"));
    return {};
  }));
  EXPECT_EQ(count("items"), kMembers - 3 + 2);
}

// Members of a group commit keep the same-thread rules: read() inside the
// callback sees the transaction (including earlier members' rows), and a
// nested write() is refused.
TEST_P(StoreTest, SqliteGroupCommitMembersKeepNestingRules) {
  if (pg()) GTEST_SKIP() << "group commit is SQLite's";
  make_schema();
  constexpr int kMembers = 4;
  std::vector<int64_t> inside(kMembers, -1);
  std::vector<Result<void>> nested(kMembers);
  QueueGate gate(db(), kMembers);
  std::vector<std::thread> ts;
  for (int m = 0; m < kMembers; ++m) {
    ts.emplace_back([&, m] {
      auto r = db().write([&](Conn& c) -> Result<void> {
        TRY(insert_item(c, "m" + std::to_string(m)));
        TRY_VOID(db().read([&](Conn& rc) -> Result<void> {
          inside[m] = TRY(rc.one("SELECT COUNT(*) FROM items"))->i(0);
          return {};
        }));
        nested[m] = db().write([](Conn&) -> Result<void> { return {}; });
        return {};
      });
      EXPECT_TRUE(r.ok()) << r.error().message;
    });
  }
  ASSERT_TRUE(gate.open());
  for (auto& t : ts) t.join();
  std::set<int64_t> counts(inside.begin(), inside.end());
  EXPECT_EQ(counts, (std::set<int64_t>{1, 2, 3, 4}));  // in turn, each sees those before it
  for (auto& n : nested) {
    ASSERT_FALSE(n.ok());
    EXPECT_NE(n.error().message.find("nested write"), std::string::npos);
  }
  EXPECT_EQ(count("items"), kMembers);
}

// SQLite serialises write transactions, so even read-then-write code is
// safe there. (PostgreSQL runs writes at READ COMMITTED: see pg_db.cpp.)
TEST_P(StoreTest, SqliteSerialisesReadModifyWrite) {
  if (pg()) GTEST_SKIP() << "read-modify-write is not serialised at READ COMMITTED";
  make_schema();
  auto other = open_again();  // a second "process" on the same file
  ASSERT_TRUE(other);
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      Database& d = t % 2 ? *other : db();
      for (int k = 0; k < 50; ++k) {
        auto r = d.write([](Conn& c) -> Result<void> {
          int64_t n = TRY(c.one("SELECT n FROM counter WHERE id = 2"))->i(0);
          TRY(c.exec("UPDATE counter SET n = ? WHERE id = 2", {n + 1}));
          return {};
        });
        if (!r) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count("counter WHERE id = 2 AND n = 200"), 1);
}

TEST_P(StoreTest, ReadersRunWhileWriterHoldsTransaction) {
  make_schema();
  std::promise<void> inserted, release;
  auto release_f = release.get_future();
  std::thread writer([&] {
    auto r = db().write([&](Conn& c) -> Result<void> {
      TRY(insert_item(c, "pending"));
      inserted.set_value();
      release_f.wait();
      return {};
    });
    EXPECT_TRUE(r.ok()) << r.error().message;
  });
  inserted.get_future().wait();

  // Several readers at once, none blocked by the open write transaction and
  // none seeing its uncommitted row.
  std::vector<std::future<Result<int64_t>>> readers;
  for (int i = 0; i < 4; ++i)
    readers.push_back(std::async(std::launch::async, [&] {
      return db().read_as([](Conn& c) -> Result<int64_t> {
        auto r = TRY(c.one("SELECT COUNT(*) FROM items"));
        return r->i(0);
      });
    }));
  bool all_done = true;
  for (auto& f : readers) all_done = all_done && f.wait_for(10s) == std::future_status::ready;
  release.set_value();
  writer.join();
  EXPECT_TRUE(all_done) << "a reader waited for the writer";
  for (auto& f : readers) {
    auto n = f.get();
    ASSERT_OK(n);
    EXPECT_EQ(*n, 0);
  }
  EXPECT_EQ(count("items"), 1);
}

TEST_P(StoreTest, ReadSnapshotIsStable) {
  make_schema();
  std::promise<void> first_read, wrote;
  auto wrote_f = wrote.get_future();
  std::thread writer([&] {
    first_read.get_future().wait();
    auto r = db().write([&](Conn& c) -> Result<void> {
      TRY(insert_item(c, "late"));
      return {};
    });
    EXPECT_TRUE(r.ok());
    wrote.set_value();
  });
  int64_t before = -1, after = -1;
  ASSERT_OK(db().read([&](Conn& c) -> Result<void> {
    before = TRY(c.one("SELECT COUNT(*) FROM items"))->i(0);
    first_read.set_value();
    wrote_f.wait();
    after = TRY(c.one("SELECT COUNT(*) FROM items"))->i(0);
    return {};
  }));
  writer.join();
  EXPECT_EQ(before, 0);
  EXPECT_EQ(after, 0);
  EXPECT_EQ(count("items"), 1);
}

// Two transactions locking rows in opposite order: PostgreSQL kills one with
// 40P01 and write() re-runs its callback.
TEST_P(StoreTest, PostgresRetriesDeadlockedWrite) {
  if (!pg()) GTEST_SKIP() << "SQLite serialises writers; no deadlock possible";
  make_schema();
  std::atomic<int> arrived{0}, attempts{0};
  auto body = [&](int first, int second) {
    return db().write([&, first, second](Conn& c) -> Result<void> {
      int attempt = attempts.fetch_add(1);
      TRY(c.exec("UPDATE counter SET n = n + 1 WHERE id = ?", {int64_t(first)}));
      if (attempt < 2) {
        arrived.fetch_add(1);
        auto until = std::chrono::steady_clock::now() + 5s;
        while (arrived.load() < 2 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
      }
      TRY(c.exec("UPDATE counter SET n = n + 1 WHERE id = ?", {int64_t(second)}));
      return {};
    });
  };
  auto a = std::async(std::launch::async, [&] { return body(1, 2); });
  auto b = std::async(std::launch::async, [&] { return body(2, 1); });
  auto ra = a.get(), rb = b.get();
  EXPECT_OK(ra);
  EXPECT_OK(rb);
  EXPECT_GE(attempts.load(), 3);
  EXPECT_GE(db().stats()["write_retries"].get<int64_t>(), 1);
  EXPECT_EQ(count("counter WHERE n = 2"), 2);
}

// ---------------------------------------------------------------- operations

// Notifications between processes: a second handle on the database (as a
// second server would have) receives what is sent outside a transaction and
// what a write commits, never what a write rolls back.
TEST_P(StoreTest, NotificationsReachOtherProcessesOnCommitOnly) {
  if (!pg()) {
    EXPECT_OK(notify(db(), "events", "x"));  // one process: nothing to do
    auto l = listen(db(), "events", [](const std::string&) {});
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(l.error().code, Error::Code::unavailable);
    return;
  }
  make_schema();
  auto other = open_again();
  ASSERT_TRUE(other);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;
  auto listening = listen(*other, "events", [&](const std::string& p) {
    std::lock_guard lk(mu);
    got.push_back(p);
    cv.notify_all();
  });
  ASSERT_OK(listening);
  auto wait_for = [&](const std::string& p) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, 10s, [&] { return std::find(got.begin(), got.end(), p) != got.end(); });
  };
  ASSERT_OK(notify(db(), "events", "plain"));
  EXPECT_TRUE(wait_for("plain"));
  auto rolled_back = db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "doomed"));
    TRY_VOID(notify(db(), "events", "rolled-back"));
    return Error::conflict("no");
  });
  EXPECT_FALSE(rolled_back.ok());
  ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "kept"));
    TRY_VOID(notify(db(), "events", "committed"));
    return {};
  }));
  EXPECT_TRUE(wait_for("committed"));
  {
    std::lock_guard lk(mu);
    EXPECT_EQ(std::count(got.begin(), got.end(), "rolled-back"), 0);
  }
  // Bad channel names and oversized payloads are refused, never sent.
  EXPECT_EQ(notify(db(), "Bad-Channel", "x").error().field, "channel");
  EXPECT_EQ(notify(db(), "events", std::string(8000, 'x')).error().field, "payload");
  // Dropping the handle stops delivery.
  listening->reset();
  ASSERT_OK(notify(db(), "events", "after"));
  ASSERT_OK(notify(db(), "events", "after"));
}

TEST_P(StoreTest, IntegrityCheckAndPing) {
  make_schema();
  EXPECT_OK(db().ping());
  auto r = db().integrity_check();
  ASSERT_OK(r);
  EXPECT_EQ(*r, "ok");
}

TEST_P(StoreTest, BackupProducesUsableCopy) {
  make_schema();
  ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
    TRY(insert_item(c, "backed-up", 42));
    return {};
  }));
  std::string dir = "/tmp/shouhou_store_backup_" + unique_name();
  std::string dest = dir + "/nested/backup.bin";
  ASSERT_OK(db().backup(dest));
  EXPECT_FALSE(fs::exists(dest + ".partial"));
  EXPECT_FALSE(db().backup(dest).ok()) << "an existing file must not be overwritten";
  if (pg()) {
    std::ifstream f(dest, std::ios::binary);
    std::string magic(5, '\0');
    f.read(magic.data(), 5);
    EXPECT_EQ(magic, "PGDMP");
  } else {
    auto copy = Database::open(dest);
    ASSERT_OK(copy);
    auto q = (*copy)->read_as([](Conn& c) -> Result<int64_t> {
      return TRY(c.one("SELECT qty FROM items WHERE name = 'backed-up'"))->i(0);
    });
    ASSERT_OK(q);
    EXPECT_EQ(*q, 42);
    auto ic = (*copy)->integrity_check();
    ASSERT_OK(ic);
    EXPECT_EQ(*ic, "ok");
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_P(StoreTest, DescribeAndStats) {
  std::string d = db().describe();
  if (pg()) {
    EXPECT_EQ(d.rfind("postgresql://", 0), 0u) << d;
    EXPECT_NE(d.find(dbname_), std::string::npos) << d;
    // Trust authentication ignores the password, so this opens fine.
    auto with_pw = Database::open(with_dbname(admin_url_, dbname_, "s3cr3t-pw"));
    ASSERT_OK(with_pw);
    EXPECT_EQ((*with_pw)->describe().find("s3cr3t"), std::string::npos) << (*with_pw)->describe();
    EXPECT_EQ(db().dialect(), Dialect::postgres);
  } else {
    EXPECT_EQ(d, "sqlite:" + url_);
    EXPECT_EQ(db().dialect(), Dialect::sqlite);
  }
  make_schema();
  EXPECT_EQ(count("items"), 0);
  nlohmann::json s = db().stats();
  EXPECT_EQ(s["backend"], pg() ? "postgres" : "sqlite");
  EXPECT_EQ(s["readers_total"].get<int>(), 4);
  EXPECT_EQ(s["readers_busy"].get<int>(), 0);
  EXPECT_GE(s["writes"].get<int64_t>(), 1);
  EXPECT_GE(s["reads"].get<int64_t>(), 1);
  EXPECT_TRUE(s.contains("write_wait_ms_total"));
}

TEST_P(StoreTest, PostgresReconnectsAfterServerDroppedConnections) {
  if (!pg()) GTEST_SKIP() << "PostgreSQL only";
  make_schema();
  auto pid = db().read_as([](Conn& c) -> Result<int64_t> { return TRY(c.one("SELECT pg_backend_pid()"))->i(0); });
  ASSERT_OK(pid);
  std::string err = pg_admin(admin_url_, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                                             dbname_ + "' AND pid <> pg_backend_pid()");
  ASSERT_TRUE(err.empty()) << err;
  // Idle pooled connections are dead now; the next transactions reconnect.
  for (int i = 0; i < 6; ++i) {
    auto n = db().read_as([](Conn& c) -> Result<int64_t> { return TRY(c.one("SELECT COUNT(*) FROM items"))->i(0); });
    ASSERT_OK(n);
    ASSERT_OK(db().write([&](Conn& c) -> Result<void> {
      TRY(insert_item(c, "after-" + std::to_string(i)));
      return {};
    }));
  }
  EXPECT_EQ(count("items"), 6);
  auto pid2 = db().read_as([](Conn& c) -> Result<int64_t> { return TRY(c.one("SELECT pg_backend_pid()"))->i(0); });
  ASSERT_OK(pid2);
  EXPECT_NE(*pid, *pid2);
}

TEST_P(StoreTest, ConnectionFailureIsUnavailable) {
  if (!pg()) {
    auto r = Database::open("sqlite:/proc/no/such/dir/x.db");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Error::Code::unavailable);
    return;
  }
  auto r = Database::open(with_dbname(admin_url_, "no_such_database_" + unique_name()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Error::Code::unavailable);
}

// ---------------------------------------------------------------- pure functions

TEST(StoreSqlite, InMemoryDatabaseRunsReadsOnTheWriter) {
  auto db = Database::open("sqlite::memory:");
  ASSERT_OK(db);
  ASSERT_OK(migrate(**db, {{"m", 1, "t", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT) STRICT"}}));
  ASSERT_OK((*db)->write([](Conn& c) -> Result<void> {
    TRY(c.exec("INSERT INTO t (v) VALUES ('x')"));
    return {};
  }));
  auto n = (*db)->read_as([](Conn& c) -> Result<int64_t> { return TRY(c.one("SELECT COUNT(*) FROM t"))->i(0); });
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1);
  EXPECT_EQ((*db)->stats()["readers_total"].get<int>(), 0);
  // Reads hold the only connection, so a write inside one is refused.
  Result<void> inner;
  ASSERT_OK((*db)->read([&](Conn&) -> Result<void> {
    inner = (*db)->write([](Conn&) -> Result<void> { return {}; });
    return {};
  }));
  EXPECT_FALSE(inner.ok());
}

TEST(StoreSqlite, OpenAcceptsPrefixesAndCreatesDirectories) {
  std::string dir = "/tmp/shouhou_store_open_" + unique_name();
  for (std::string url : {"sqlite:" + dir + "/a/b/one.db", "sqlite://" + dir + "/c/two.db", dir + "/three.db"}) {
    auto db = Database::open(url);
    ASSERT_OK(db);
    EXPECT_EQ((*db)->dialect(), Dialect::sqlite);
  }
  EXPECT_TRUE(fs::exists(dir + "/a/b/one.db"));
  EXPECT_TRUE(fs::exists(dir + "/c/two.db"));
  EXPECT_TRUE(fs::exists(dir + "/three.db"));
  EXPECT_FALSE(Database::open("").ok());
  std::error_code ec;
  fs::remove_all(dir, ec);
}



TEST(StoreDdl, TranslatesForPostgres) {
  EXPECT_EQ(translate_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, r REAL, b BLOB, "
                          "s TEXT DEFAULT 'INTEGER REAL BLOB STRICT') STRICT;",
                          Dialect::postgres),
            "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT NOT NULL, "
            "r DOUBLE PRECISION, b BYTEA, s TEXT DEFAULT 'INTEGER REAL BLOB STRICT');");
  EXPECT_EQ(translate_ddl("CREATE TABLE k (a TEXT PRIMARY KEY) WITHOUT ROWID, STRICT;\nCREATE INDEX ki ON k(a);",
                          Dialect::postgres),
            "CREATE TABLE k (a TEXT PRIMARY KEY);\nCREATE INDEX ki ON k(a);");
  EXPECT_EQ(translate_ddl("CREATE TABLE k (a TEXT PRIMARY KEY) STRICT, WITHOUT ROWID", Dialect::postgres),
            "CREATE TABLE k (a TEXT PRIMARY KEY)");
  EXPECT_EQ(translate_ddl("create table x (id integer  primary key autoincrement, v real)", Dialect::postgres),
            "create table x (id BIGINT GENERATED BY DEFAULT AS IDENTITY  primary key, v DOUBLE PRECISION)");
  EXPECT_EQ(translate_ddl("CREATE TABLE p (a INTEGER, b INTEGER NOT NULL, PRIMARY KEY (a, b))", Dialect::postgres),
            "CREATE TABLE p (a BIGINT, b BIGINT NOT NULL, PRIMARY KEY (a, b))");
  // Quoted identifiers, strings and comments are left alone; so are words
  // that merely contain a keyword.
  EXPECT_EQ(translate_ddl("CREATE TABLE \"INTEGER\" (\"REAL\" TEXT, integers TEXT) -- INTEGER STRICT\n",
                          Dialect::postgres),
            "CREATE TABLE \"INTEGER\" (\"REAL\" TEXT, integers TEXT) -- INTEGER STRICT\n");
  EXPECT_EQ(translate_ddl("SELECT CAST(x AS INTEGER) /* BLOB */ FROM t", Dialect::postgres),
            "SELECT CAST(x AS BIGINT) /* BLOB */ FROM t");
  const char* s = "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB) STRICT";
  EXPECT_EQ(translate_ddl(s, Dialect::sqlite), s);
}

TEST(StorePlaceholders, RewritesOnlyBarePlaceholders) {
  int n = 0;
  EXPECT_EQ(detail::pg_rewrite_placeholders("SELECT ? , '?', 'it''s?', \"a?\", E'\\'?', $$?$$, $t$ ? $t$, "
                                            "/* ? /* nested ? */ ? */ ? -- ?\n, ?",
                                            &n),
            "SELECT $1 , '?', 'it''s?', \"a?\", E'\\'?', $$?$$, $t$ ? $t$, "
            "/* ? /* nested ? */ ? */ $2 -- ?\n, $3");
  EXPECT_EQ(n, 3);
  EXPECT_EQ(detail::pg_rewrite_placeholders("a$1 = ? AND b = ?", &n), "a$1 = $1 AND b = $2");
  EXPECT_EQ(n, 2);
}

TEST(StoreRow, AccessorsConvert) {
  Row r;
  r.cols = {Value{int64_t(42)}, Value{2.5}, Value{std::string("17")}, Value{std::string("12.9")}, Value{},
            Value{std::string("abc")}, Value{1e30}};
  EXPECT_EQ(r.i(0), 42);
  EXPECT_EQ(r.s(0), "42");
  EXPECT_EQ(r.d(0), 42.0);
  EXPECT_EQ(r.i(1), 2);
  EXPECT_EQ(r.s(1), "2.5");
  EXPECT_EQ(r.i(2), 17);
  EXPECT_EQ(r.d(2), 17.0);
  EXPECT_EQ(r.i(3), 12);
  EXPECT_EQ(r.d(3), 12.9);
  EXPECT_TRUE(r.null(4));
  EXPECT_EQ(r.i(4), 0);
  EXPECT_EQ(r.s(4), "");
  EXPECT_EQ(r.oi(4), std::nullopt);
  EXPECT_EQ(r.oi(0), std::optional<int64_t>(42));
  EXPECT_EQ(r.i(5), 0);
  EXPECT_EQ(r.i(6), std::numeric_limits<int64_t>::max());
  EXPECT_THROW((void)r.i(7), std::out_of_range);

  Rows rows;
  rows.columns = {"a", "b", "c", "d", "e", "f", "g"};
  rows.rows = {r};
  nlohmann::json j = rows.to_json();
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(j[0]["a"], 42);
  EXPECT_EQ(j[0]["b"], 2.5);
  EXPECT_EQ(j[0]["c"], "17");
  EXPECT_TRUE(j[0]["e"].is_null());
  EXPECT_TRUE(Rows{}.to_json().is_array());
}

TEST(StoreClock, NowMsIsCurrent) {
  int64_t t = now_ms();
  EXPECT_GT(t, 1'700'000'000'000);
  EXPECT_LT(t, 4'000'000'000'000);
}

}  // namespace
}  // namespace shouhou::store
