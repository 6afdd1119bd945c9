// store/bulk.h on SQLite (in memory); the PostgreSQL path (unnest) runs in the
// import API tests on PostgreSQL.
#include <gtest/gtest.h>

#include "store/bulk.h"

namespace shouhou::store {

TEST(StoreBulk, InsertRowsReturnsIdsInRowOrderAcrossChunkSizes) {
  auto db = Database::open("sqlite::memory:");
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto r = (*db)->write([](Conn& c) -> Result<void> {
    TRY(c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER)"));
    TRY(c.exec("INSERT INTO t (a, b) VALUES ('before', 0)"));
    Params v;
    for (int i = 0; i < 151; ++i) {  // 64 + 64 + 16 + 4 + 2 + 1 rows
      v.emplace_back("r" + std::to_string(i));
      v.push_back(i % 3 ? Value(int64_t(i)) : Value());
    }
    auto ids = TRY(insert_rows(c, "INSERT INTO t (a, b)", 2, std::move(v), true, "text,int8"));
    EXPECT_EQ(ids.size(), 151u);
    for (size_t i = 0; i < ids.size(); ++i) {
      auto row = TRY(c.one("SELECT a, b FROM t WHERE id = ?", {ids[i]}));
      EXPECT_TRUE(row.has_value());
      if (!row) continue;
      EXPECT_EQ(row->s(0), "r" + std::to_string(i));
      EXPECT_EQ(row->null(1), i % 3 == 0);
    }
    Params bad{Value(std::string("x"))};
    EXPECT_FALSE(insert_rows(c, "INSERT INTO t (a, b)", 2, std::move(bad), false).ok());  // not whole rows
    std::vector<Value> keys;
    for (int i = 0; i < 300; i += 2) keys.emplace_back("r" + std::to_string(i));  // 150 keys: 2 chunks, 76 beyond
    auto found = TRY(select_in(c, "SELECT a FROM t WHERE a", keys));
    EXPECT_EQ(found.size(), 76u);  // r0, r2, ... r150
    EXPECT_TRUE(TRY(select_in(c, "SELECT a FROM t WHERE a", {})).empty());
    return {};
  });
  EXPECT_TRUE(r.ok()) << r.error().message;
}

}  // namespace shouhou::store
