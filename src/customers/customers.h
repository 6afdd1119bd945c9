// M1 Customers (客户): individuals and organisations, their contacts with
// several phones, addresses with GB/T 2260 division codes, two-level accounts
// (a national customer with its sites: parent_id), the VIP / key / small tier
// computed from purchase history, duplicate warnings, the customer 360 view
// and the CTI screen pop (GET /api/v1/cti/lookup?phone=).
//
// Tables: customers, customer_contacts, customer_phones (normalised numbers,
// indexed: the screen pop is one index probe), customer_addresses,
// customer_purchases, customer_tier_thresholds (one row).
//
// tier and purchase_total_fen are maintained by the system (record_purchase,
// threshold changes) and are not covered by the record's optimistic version,
// so a sale recorded meanwhile never makes a user's edit fail.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api.h"
#include "customers/phone.h"

namespace shouhou::customers {

api::Module module();

// ---- tiers ---------------------------------------------------------------
struct TierThresholds {
  int64_t vip_min_fen = 50'000'000;  // ¥500,000
  int64_t key_min_fen = 5'000'000;   // ¥50,000
};
// "vip" when total >= vip_min, "key" when total >= key_min, else "small".
const char* tier_for(int64_t purchase_total_fen, const TierThresholds& t);
// 0 <= key_min_fen < vip_min_fen; errors name the field.
Result<void> validate_thresholds(const TierThresholds& t);
Result<TierThresholds> tier_thresholds(store::Conn& c);

// A sale to a customer: adds to purchase_total_fen and recomputes the tier,
// in the caller's transaction. amount_fen may be negative (a return), but
// the total never drops below zero. Called by the install-base module when a
// sale is recorded, and by POST /api/v1/customers/{id}/purchases.
struct Purchase {
  int64_t amount_fen = 0;
  std::string source = "manual";               // "manual", "installbase", "import", ...
  std::optional<std::string> reference;        // invoice / serial / order number
  std::optional<std::string> purchased_on;     // YYYY-MM-DD
  std::optional<std::string> note;
  std::optional<int64_t> created_by;           // user id
};
struct PurchaseResult {
  int64_t purchase_id = 0;
  int64_t total_fen = 0;
  std::string tier;
  std::string previous_tier;
};
Result<PurchaseResult> record_purchase(store::Conn& c, int64_t customer_id, int64_t amount_fen);
Result<PurchaseResult> record_purchase(store::Conn& c, int64_t customer_id, const Purchase& p);
// The same, plus an audit entry on the customer (use this from API writes).
Result<PurchaseResult> record_purchase(api::WriteTx& tx, int64_t customer_id, const Purchase& p);
// Many sales at once (bulk imports): one purchase row each, then one total /
// tier update per customer (amounts must be positive).
Result<void> record_purchases(store::Conn& c, const std::vector<std::pair<int64_t, Purchase>>& purchases);

// ---- lookups for other modules -----------------------------------------
struct CustomerRef {
  int64_t id = 0;
  std::string org_path;
  std::string name;
  std::string tier;
  std::string type;
  std::optional<int64_t> parent_id;
};
// A customer by id in any scope (background jobs, other modules' checks); nullopt when unknown.
Result<std::optional<CustomerRef>> find_ref(store::Conn& c, int64_t id);
// A customer the principal reaches, or not_found (same error as an unknown id).
Result<CustomerRef> customer_in_scope(store::Conn& c, const http::Principal& who, int64_t id);
// Ids of the customers (in the principal's scope) having this phone number,
// written any common way. Invalid numbers find nothing.
Result<std::vector<int64_t>> find_by_phone(store::Conn& c, const http::Principal& who, std::string_view raw,
                                           std::string_view default_area = {});
// Ids of customers owning the asset with this serial (install base), in any
// scope: callers filter by their own scope.
Result<std::vector<int64_t>> find_by_serial(store::Conn& c, const std::string& serial);

// ---- hooks other modules install (customers never includes them) --------
// The service orders of a customer for the 360 view and the screen pop. The
// orders module installs the provider in its `wire` hook; until then (or in
// tools without orders) both show no orders. The provider applies the
// caller's order scope itself (404-equivalent: invisible orders are left out).
struct CustomerOrders {
  nlohmann::json items = nlohmann::json::array();  // newest first: {id, number, type, state, state_name, ...}
  int64_t open_count = 0;                          // open (not closed / cancelled) orders `who` sees
};
using OrdersOfCustomer = std::function<Result<CustomerOrders>(
    store::Conn& c, const http::Principal& who, int64_t customer_id, bool open_only, size_t limit)>;
// Called once at start-up (before serving); later calls replace the provider.
void set_orders_of_customer(OrdersOfCustomer fn);

// Demo customers (call from app::seed_demo). unit_ids: org unit code -> id.
Result<void> seed_demo(store::Conn& c, const std::map<std::string, int64_t>& unit_ids);

// Plain insert for generated demo data and imports: the customer with its
// phones, contacts and addresses, stored exactly as POST /api/v1/customers
// stores them (phones normalised, divisions resolved and checked), but
// without scope checks, duplicate warnings or audit. Tier starts "small";
// record_purchase moves it. Returns the new id.
struct NewCustomer {
  int64_t org_unit_id = 0;
  std::string org_path;                  // the unit's path
  std::optional<int64_t> parent_id;      // national account
  std::optional<std::string> code, email, notes;
  std::string name, kind = "individual", type = "direct";
  std::vector<std::string> phones;       // as written ("0531-86061234", "139 1234 5678")
  struct Contact {
    std::string name;
    std::optional<std::string> title;
    std::vector<std::string> phones;
  };
  std::vector<Contact> contacts;         // the first is primary
  struct Address {
    std::string county;                  // GB/T 2260 county code
    std::string detail;
    std::optional<std::string> postcode;
  };
  std::vector<Address> addresses;        // the first is the default
};
Result<int64_t> insert_customer(store::Conn& c, const NewCustomer& n);
// Many at once (bulk imports, src/customers/bulk.cpp): the same rows, with
// multi-row INSERTs for customers without contacts or addresses (the others
// go through insert_customer). The new ids, in list order.
Result<std::vector<int64_t>> insert_customers(store::Conn& c, const std::vector<NewCustomer>& list);

// The import's customer key: for each (normalised phone, normalize_text(name))
// the customers having that phone (customer or contact) and name, by id, any
// scope (the caller applies its own). Keys without a match are absent.
struct CustomerKeyMatch {
  int64_t id = 0;
  std::string org_path;
};
Result<std::map<std::pair<std::string, std::string>, std::vector<CustomerKeyMatch>>> find_by_phone_and_name(
    store::Conn& c, const std::vector<std::pair<std::string, std::string>>& keys);

// ---- pure rules (unit-tested) -------------------------------------------
// Text for matching names and addresses: ASCII and full-width letters folded
// to lower-case ASCII, whitespace and punctuation (ASCII and CJK) removed.
std::string normalize_text(std::string_view s);

// What identifies a customer for duplicate warnings.
struct DuplicateKeys {
  std::vector<std::string> phones;  // normalised numbers (customer and contacts)
  std::string name_norm;
  struct Address {
    std::string division;           // most specific division code known ("" if none)
    std::string detail_norm;
  };
  std::vector<Address> addresses;
};
// Why b looks like a duplicate of a: "phone" (a shared number) and/or
// "name_address" (same name and the same address). Empty: not a duplicate.
std::vector<std::string> duplicate_reasons(const DuplicateKeys& a, const DuplicateKeys& b);

}  // namespace shouhou::customers
