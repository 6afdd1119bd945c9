// The storage ceiling for the HTTP benchmarks (`shouhou bench-sql`): runs the
// SQL an endpoint needs directly against the database, in a loop on N
// threads (each with its own pooled connection), without HTTP, auth or JSON.
// scripts/bench.sh divides the endpoint's throughput by this figure.
//
// Scenarios (keys are drawn round-robin from the key file):
//   lookup        screen pop: phone probe, the customer with phones,
//                 contacts and addresses, its assets, open orders and
//                 last contacts                            (keys: phones)
//   warranty      asset by serial with model and line, its contracts, the
//                 line's policy and the model's components (keys: serials)
//   order-list    newest 50 orders in an org subtree in one state
//   order-page    one order with its names joined          (keys: order ids)
//   order-create  insert an order and its timeline entry, one transaction
//   keys          writes phones.txt, serials.txt, owned_serials.txt,
//                 orders.txt, org_paths.txt (samples of the data) into the
//                 directory --keys for wrk and bench-sql
#pragma once

#include <ostream>
#include <string>

#include "store/db.h"

namespace shouhou::demogen {

struct SqlBenchOptions {
  std::string scenario;
  double seconds = 5;
  int threads = 2;
  std::string keys_file;  // a file of keys, or the directory for "keys"
};

// Prints one line: "<scenario> ops/s=<n> p50_ms=<x> p99_ms=<y> ops=<n>".
Result<void> run_sql_bench(store::Database& db, const SqlBenchOptions& o, std::ostream& out);

}  // namespace shouhou::demogen
