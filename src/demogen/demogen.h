// Demo data generator (演示数据): a believable maker of air conditioners,
// water heaters (electric and solar) and UPS units selling across China over
// five years — org tree with regional centres and branches in real provinces,
// service providers, engineers and dealers in real GB/T 2260 divisions,
// customers with Chinese names, mobile and landline phones and addresses,
// products with components (位号) and production batches, install base with
// sales and installations, service contracts and service orders in every
// state, with faults concentrated on some models and batches.
//
// Everything is written through the modules' repository functions (the code
// paths the API uses: org::, customers::, products::, installbase::,
// contracts::, orders::) with the modules wired on a DomainBus, so their
// reactions run as for API writes. Records carry historic timestamps
// (ScopedClock). Work is batched many rows per transaction.
//
// On SQLite the load defers the secondary indexes whose keys land at random
// places (those of service_orders, customer names, phones, addresses) and
// re-creates them from their migrations' definitions at the end, and keeps
// statement journals in memory meanwhile: a run that is interrupted leaves
// a database without those indexes, to be deleted and generated again.
//
// Deterministic: the same seed and counts on an empty database give the same
// data (ids included). It runs on top of app::seed_demo's fixed users and org
// (generated codes never clash with them).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api.h"

namespace shouhou::demogen {

struct Counts {
  int64_t customers = 0;
  int64_t serials = 0;    // install-base assets
  int64_t orders = 0;     // service orders (0 when the orders module is absent)
  int64_t providers = 0;  // service providers (each with a few engineers)
  int64_t dealers = 0;
  int64_t contracts = 0;
};

// small (make run), medium (make bench), large (1M customers, 3M serials,
// 5M orders); errors name the field "scale".
Result<Counts> counts_for(std::string_view scale);

struct Options {
  Counts counts;
  uint64_t seed = 1;
  int64_t batch = 5000;  // customers (with their assets) per write transaction
  std::string password = "shouhou";  // of the generated users (one shared hash)
  // Called between batches: phase ("customers", "assets", ...), done, total.
  std::function<void(std::string_view phase, int64_t done, int64_t total)> progress;
};

struct Summary {
  Counts created;
  int64_t org_units = 0, users = 0, models = 0;
  double seconds = 0;
  std::vector<std::string> notes;  // what was left out, and why
};

// Generates into p.db (p.bus must be wired: app::wire_modules). Fails if the
// generated org codes already exist (the generator ran on this database).
Result<Summary> generate(api::Platform& p, const Options& o);

}  // namespace shouhou::demogen
