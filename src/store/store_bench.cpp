// Write transactions per second on SQLite with synchronous=FULL (every
// COMMIT waits for an fsync): single-row inserts from 1, 8 and 64 threads,
// with group commit (concurrent writers share one COMMIT) and without it
// (one transaction per write, as before group commit). The file lives in
// $SHOUHOU_BENCH_DIR (default /tmp): the figure depends on that disk's fsync.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include <unistd.h>

#include "store/db.h"

namespace {

using namespace shouhou;
using namespace shouhou::store;

// One database per variant, shared by the benchmark's threads.
Database& db_for(bool group) {
  static std::mutex mu;
  static std::unique_ptr<Database> dbs[2];
  std::lock_guard lk(mu);
  auto& slot = dbs[group ? 1 : 0];
  if (!slot) {
    const char* dir = std::getenv("SHOUHOU_BENCH_DIR");
    std::string path = std::string(dir && *dir ? dir : "/tmp") + "/store_bench_" + std::to_string(::getpid()) +
                       (group ? "_group" : "_single") + ".db";
    std::filesystem::remove(path);
    if (!group) setenv("SHOUHOU_SQLITE_GROUP_COMMIT", "0", 1);  // read when the database opens
    auto d = Database::open(path);
    unsetenv("SHOUHOU_SQLITE_GROUP_COMMIT");
    if (!d) std::abort();
    slot = std::move(*d);
    auto m = migrate(*slot, {{"bench", 1, "t", "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, v TEXT NOT NULL) STRICT"}});
    if (!m) std::abort();
  }
  return *slot;
}

void write_rows(benchmark::State& state, bool group) {
  Database& db = db_for(group);
  int64_t k = state.thread_index();
  for (auto _ : state) {
    auto r = db.write([&](Conn& c) -> Result<void> {
      TRY(c.exec("INSERT INTO t (k, v) VALUES (?, ?)", {k, std::string("售后服务单")}));
      return {};
    });
    if (!r) state.SkipWithError(r.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SqliteWriteTx_GroupCommit(benchmark::State& state) { write_rows(state, true); }
void BM_SqliteWriteTx_OnePerCommit(benchmark::State& state) { write_rows(state, false); }

// Real time: the threads mostly wait for fsync, which CPU time does not see.
BENCHMARK(BM_SqliteWriteTx_OnePerCommit)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();
BENCHMARK(BM_SqliteWriteTx_GroupCommit)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();

}  // namespace
