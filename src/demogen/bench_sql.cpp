#include "demogen/bench_sql.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/util.h"

namespace shouhou::demogen {

using store::Conn;

namespace {

std::vector<std::string> read_keys(const std::string& path) {
  std::vector<std::string> keys;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) keys.push_back(line);
  return keys;
}

// Writes up to n values of column 0 of sql, spread over the table.
Result<void> write_keys(Conn& c, const std::string& sql, const std::string& path) {
  auto rows = TRY(c.query(sql));
  std::ofstream out(path);
  if (!out) return Error::invalid("cannot write " + path, "keys");
  for (const auto& r : rows) out << r.s(0) << "\n";
  return {};
}

Result<int64_t> count_of(Conn& c, const std::string& table) {
  auto row = TRY(c.one("SELECT COALESCE(MAX(id), 0) FROM " + table));
  return row->i(0);
}

// Whether the orders module's tables exist. A failed statement aborts a
// PostgreSQL transaction: probed in a read of its own.
bool has_orders_table(store::Database& db) {
  return bool(db.read([](Conn& c) -> Result<void> {
    TRY(c.query("SELECT id FROM service_orders WHERE id = 0"));
    return {};
  }));
}

// The order as GET /api/v1/service-orders/{id} and the list select it (the
// joins of orders.cpp's order_select(): customer, provider, engineer, unit).
constexpr const char* kOrderSelect =
    "SELECT o.*, c.name, pu.name, eu.display_name, ou.name FROM service_orders o "
    "LEFT JOIN customers c ON c.id = o.customer_id LEFT JOIN org_units pu ON pu.id = o.provider_unit_id "
    "LEFT JOIN users eu ON eu.id = o.engineer_id LEFT JOIN org_units ou ON ou.id = o.org_unit_id";

// One unit of work of a scenario, on a connection, for a key.
using Op = std::function<Result<void>(store::Database& db, const std::string& key, uint64_t n)>;

Result<void> read_ok(store::Database& db, const std::function<Result<void>(Conn&)>& fn) { return db.read(fn); }

Op lookup_op(bool has_orders) {
  return [has_orders](store::Database& db, const std::string& phone, uint64_t) {
    return read_ok(db, [&](Conn& c) -> Result<void> {
      auto hits = TRY(c.query("SELECT p.customer_id, p.contact_id, c.org_path FROM customer_phones p "
                              "JOIN customers c ON c.id = p.customer_id WHERE p.phone_norm = ? ORDER BY p.customer_id LIMIT 50",
                              {phone}));
      for (const auto& h : hits) {
        store::Params id{h.i(0)};
        TRY(c.one("SELECT id, org_path, org_unit_id, parent_id, code, name, kind, type, tier, purchase_total_fen, email, "
                  "notes, active, version, created_at, updated_at FROM customers WHERE id = ?", id));
        TRY(c.query("SELECT id, customer_id, name, title, email, is_primary FROM customer_contacts WHERE customer_id = ? "
                    "ORDER BY sort_order, id", id));
        TRY(c.query("SELECT id, customer_id, contact_id, phone_norm, ext, kind, label, raw FROM customer_phones "
                    "WHERE customer_id = ? ORDER BY sort_order, id", id));
        TRY(c.query("SELECT id, customer_id, label, province_code, city_code, county_code, division_name, detail, "
                    "postcode, is_default FROM customer_addresses WHERE customer_id = ? ORDER BY sort_order, id", id));
        TRY(c.query("SELECT a.id, a.serial, a.status, a.sale_date, a.install_date, m.code, m.name FROM assets a "
                    "LEFT JOIN models m ON m.id = a.model_id WHERE a.owner_customer_id = ? ORDER BY a.id LIMIT 20", id));
        // Its open service orders (count and newest 10, as orders' provider
        // to the screen pop reads them) and its last contacts (audit).
        if (has_orders) {
          store::Params scope{h.i(0), std::string("/") + "%", int64_t(0)};
          TRY(c.one("SELECT COUNT(*) FROM service_orders o WHERE o.customer_id = ? AND (o.org_path LIKE ? OR "
                    "o.engineer_id = ?) AND o.closed_at IS NULL", scope));
          scope.push_back(int64_t(10));
          TRY(c.query(std::string(kOrderSelect) + " WHERE o.customer_id = ? AND (o.org_path LIKE ? OR o.engineer_id = ?) "
                      "AND o.closed_at IS NULL ORDER BY o.id DESC LIMIT ?", scope));
        }
        TRY(c.query("SELECT id, at, username, action, before_json, after_json FROM audit_log WHERE entity = 'customer' "
                    "AND entity_id = ? ORDER BY id DESC LIMIT ?", {h.i(0), int64_t(5)}));
      }
      return {};
    });
  };
}

Op warranty_op() {
  return [](store::Database& db, const std::string& serial, uint64_t) {
    return read_ok(db, [&](Conn& c) -> Result<void> {
      auto a = TRY(c.one("SELECT a.id, a.org_path, a.model_id, m.product_line_id, a.sale_date, a.install_date, "
                         "a.production_date, a.sale_invoice_no, a.owner_customer_id, m.code, m.name, p.name "
                         "FROM assets a LEFT JOIN models m ON m.id = a.model_id "
                         "LEFT JOIN product_lines p ON p.id = m.product_line_id WHERE a.serial = ?", {serial}));
      if (!a) return {};
      TRY(c.query("SELECT k.id, k.type, k.status, k.response_mode, k.response_hours, k.onsite_hours, k.start_date, "
                  "k.end_date FROM contract_assets ca JOIN service_contracts k ON k.id = ca.contract_id "
                  "WHERE ca.asset_id = ?", {a->i(0)}));
      TRY(c.query("SELECT id, unit_months, key_parts_json, start_basis, fallback_basis, requires_invoice, "
                  "production_offset_days, exclusions_json FROM warranty_policies WHERE active = 1 AND "
                  "(model_id = ? OR (model_id IS NULL AND product_line_id = ?)) ORDER BY model_id IS NULL, valid_from DESC "
                  "LIMIT 1", {a->i(2), a->i(3)}));
      TRY(c.query("SELECT id, position, part_code, name, key_part, key_part_category FROM model_components "
                  "WHERE model_id = ? ORDER BY position", {a->i(2)}));
      return {};
    });
  };
}

Result<Op> order_op(store::Database& db, const std::string& scenario) {
  // The service-order tables belong to src/orders; their names are checked
  // here so a missing module is a clear error, not a crash.
  if (!has_orders_table(db)) return Error::invalid("no service_orders table (orders module not built)", "scenario");
  if (scenario == "order-page") {
    return Op([](store::Database& db, const std::string& id, uint64_t) {
      return read_ok(db, [&](Conn& c) -> Result<void> {
        int64_t oid = std::atoll(id.c_str());
        TRY(c.one(std::string(kOrderSelect) + " WHERE o.id = ?", {oid}));
        return {};
      });
    });
  }
  if (scenario == "order-list") {
    // As the list endpoint for a user at `path` (the key): newest 51 in the
    // subtree with a state and a type filter, with the customer's name.
    return Op([](store::Database& db, const std::string& path, uint64_t n) {
      static const char* const states[] = {"closed", "completed", "dispatched", "created"};
      return read_ok(db, [&](Conn& c) -> Result<void> {
        TRY(c.query(std::string(kOrderSelect) + " WHERE (o.org_path LIKE ? OR o.engineer_id = ?) AND o.type = ? "
                    "AND o.state = ? ORDER BY o.id DESC LIMIT 51",
                    {path + "%", int64_t(0), std::string("repair"), std::string(states[n % 4])}));
        return {};
      });
    });
  }
  if (scenario == "order-create") {
    // What creating a repair order for a serial writes and reads: the asset
    // and its contracts (warranty), the number sequence, the order, its
    // first timeline entry and the audit entry, in one transaction.
    return Op([](store::Database& db, const std::string& serial, uint64_t) {
      return db.write([&](Conn& c) -> Result<void> {
        auto a = TRY(c.one("SELECT a.id, a.model_id, m.product_line_id, a.owner_customer_id, a.org_path FROM assets a "
                           "LEFT JOIN models m ON m.id = a.model_id WHERE a.serial = ?", {serial}));
        if (!a) return {};
        TRY(c.query("SELECT ca.contract_id FROM contract_assets ca WHERE ca.asset_id = ?", {a->i(0)}));
        TRY(c.query("SELECT id FROM warranty_policies WHERE active = 1 AND product_line_id = ? LIMIT 1", {a->i(2)}));
        int64_t now = now_ms();
        std::string day = iso_utc(now).substr(0, 10);
        TRY(c.exec("INSERT INTO order_number_seq (day, n) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET n = order_number_seq.n + 1",
                   {day}));
        auto seq = TRY(c.one("SELECT n FROM order_number_seq WHERE day = ?", {day}));
        std::string number = "BENCH" + std::to_string(now) + "-" + seq->s(0);
        auto wf = TRY(c.one("SELECT workflow_id FROM workflow_bindings WHERE order_type = 'repair'"));
        auto row = TRY(c.one(
            "INSERT INTO service_orders (number, type, channel, state, workflow_id, state_entered_at, customer_id, "
            "contact_json, site_json, asset_id, serial, model_id, product_line_id, warranty, priority, severity, "
            "description, org_unit_id, org_path, version, created_at, updated_at) "
            "VALUES (?,'repair','call_centre','created',?,?,?,'{}','{}',?,?,?,?,'in','medium','normal','bench',1,?,1,?,?) "
            "RETURNING id",
            {number, wf ? wf->i(0) : int64_t(1), now, a->oi(3) ? store::Value(*a->oi(3)) : store::Value(), a->i(0), serial,
             a->i(1), a->i(2), a->s(4), now, now}));
        TRY(c.exec("INSERT INTO order_timeline (order_id, org_path, at, kind, action, to_state, username, result) "
                   "VALUES (?,?,?,'transition','create','created','bench','ok')", {row->i(0), a->s(4), now}));
        TRY(c.exec("INSERT INTO audit_log (at, username, client_addr, entity, entity_id, action, org_path, before_json, "
                   "after_json) VALUES (?,'bench','127.0.0.1','service_order',?,'create',?,NULL,'{}')",
                   {now, row->i(0), a->s(4)}));
        return {};
      });
    });
  }
  return Error::invalid("unknown scenario " + scenario, "scenario");
}

}  // namespace

Result<void> run_sql_bench(store::Database& db, const SqlBenchOptions& o, std::ostream& out) {
  if (o.scenario == "keys") {
    if (o.keys_file.empty()) return Error::invalid("--keys DIR is required", "--keys");
    std::filesystem::create_directories(o.keys_file);
    bool has_orders = has_orders_table(db);
    return db.read([&](Conn& c) -> Result<void> {
      // Every n-th row, so the keys spread over the table (and the cache).
      int64_t phones = TRY(count_of(c, "customer_phones")), assets = TRY(count_of(c, "assets"));
      int64_t sp = std::max<int64_t>(1, phones / 20000), sa = std::max<int64_t>(1, assets / 20000);
      TRY_VOID(write_keys(c, "SELECT phone_norm FROM customer_phones WHERE id % " + std::to_string(sp) +
                                 " = 0 ORDER BY id LIMIT 20000", o.keys_file + "/phones.txt"));
      TRY_VOID(write_keys(c, "SELECT serial FROM assets WHERE id % " + std::to_string(sa) + " = 0 ORDER BY id LIMIT 20000",
                          o.keys_file + "/serials.txt"));
      // A repair order needs a customer: serials with an owner (not in stock).
      TRY_VOID(write_keys(c, "SELECT serial FROM assets WHERE id % " + std::to_string(sa) +
                                 " = 0 AND owner_customer_id IS NOT NULL ORDER BY id LIMIT 20000",
                          o.keys_file + "/owned_serials.txt"));
      if (has_orders) {
        int64_t orders = TRY(count_of(c, "service_orders"));
        int64_t so = std::max<int64_t>(1, orders / 20000);
        TRY_VOID(write_keys(c, "SELECT id FROM service_orders WHERE id % " + std::to_string(so) +
                                   " = 0 ORDER BY id LIMIT 20000", o.keys_file + "/orders.txt"));
      }
      TRY_VOID(write_keys(c, "SELECT path FROM org_units WHERE type IN ('hq','region','branch','provider') ORDER BY id",
                          o.keys_file + "/org_paths.txt"));
      out << "keys written to " << o.keys_file << "\n";
      return {};
    });
  }
  Op op;
  if (o.scenario == "lookup") {
    // Without the orders module the screen pop lists no orders.
    op = lookup_op(has_orders_table(db));
  }
  else if (o.scenario == "warranty") op = warranty_op();
  else op = TRY(order_op(db, o.scenario));
  std::vector<std::string> keys = read_keys(o.keys_file);
  if (keys.empty()) return Error::invalid("no keys in " + o.keys_file + " (run: shouhou bench-sql keys --keys DIR)", "--keys");

  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.seconds * 1000));
  std::atomic<uint64_t> next{0};
  std::mutex mu;
  std::vector<double> lat_ms;
  std::optional<Error> failure;
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, o.threads); ++t) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      mine.reserve(1 << 16);
      while (Clock::now() < deadline) {
        uint64_t n = next.fetch_add(1);
        auto s = Clock::now();
        auto r = op(db, keys[n % keys.size()], n);
        if (!r) {
          std::lock_guard lk(mu);
          if (!failure) failure = r.error();
          return;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
      }
      std::lock_guard lk(mu);
      lat_ms.insert(lat_ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  if (failure) return *failure;
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(lat_ms.begin(), lat_ms.end());
  auto pct = [&](double p) { return lat_ms.empty() ? 0.0 : lat_ms[std::min(lat_ms.size() - 1, static_cast<size_t>(p * lat_ms.size()))]; };
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s ops/s=%.0f p50_ms=%.3f p99_ms=%.3f ops=%zu\n", o.scenario.c_str(),
                lat_ms.size() / secs, pct(0.50), pct(0.99), lat_ms.size());
  out << buf;
  return {};
}

}  // namespace shouhou::demogen
