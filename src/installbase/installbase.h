// Install base (安装点): one record per serial number (barcode) in `assets`:
// model, production batch/date, sale (dealer, date, invoice, amount),
// installation (installer unit, engineer, date, address with division code,
// parts fitted), owner customer, status, and third-party assets (maker and
// model as text). Every change is in asset_events (the asset's timeline) and
// in the audit log.
//
// Serials are stored trimmed with ASCII letters upper-cased, so a scanned
// "kfr35-0001" finds "KFR35-0001".
//
// Scope: an asset belongs to an org unit (org_unit_id / org_path, by default
// the creator's unit); reads and writes need the asset in the caller's
// subtree, otherwise 404. Status: in_stock -> sold (sale) -> installed
// (installation); scrapped / replaced are final (PATCH).
//
// Routes: /api/v1/assets (list, create), /{id}, /by-serial/{serial},
// /{id}/sale, /{id}/installation, PATCH /{id}, /{id}/history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api.h"

namespace shouhou::installbase {

api::Module module();

struct Asset {
  int64_t id = 0;
  std::string serial;
  std::string org_path;
  int64_t org_unit_id = 0;
  std::optional<int64_t> model_id, product_line_id;
  std::string model_code, model_name, product_line_name;
  bool third_party = false;
  std::optional<std::string> maker, model_text;
  std::optional<std::string> batch, production_date;
  std::string status;
  std::optional<int64_t> owner_customer_id;
  std::string owner_name;
  std::optional<int64_t> sale_dealer_unit_id;
  std::string sale_dealer_name;
  std::optional<std::string> sale_date, sale_invoice_no;
  std::optional<int64_t> sale_amount_fen;
  std::optional<int64_t> install_unit_id, install_engineer_user_id;
  std::string install_unit_name, install_engineer_name;
  std::optional<std::string> install_date, install_address, install_division_code;
  nlohmann::json install_parts = nlohmann::json::array();  // [{part_code, name, quantity, serial}]
  std::optional<std::string> notes;
  int64_t version = 0;
  int64_t created_at = 0, updated_at = 0;
};

// The serial as stored: trimmed, ASCII letters upper-cased.
std::string normalize_serial(std::string_view raw);

// By serial, whatever the scope (for the warranty check, claim audit and the
// screen pop; callers apply their own scope rules). std::nullopt if unknown.
Result<std::optional<Asset>> find_by_serial(store::Conn& c, std::string_view serial);
Result<std::optional<Asset>> find_by_id(store::Conn& c, int64_t id);
// The assets owned by any of these customers (no scope filter), by id.
Result<std::vector<Asset>> assets_of_customers(store::Conn& c, const std::vector<int64_t>& customer_ids);

// The API representation.
nlohmann::json to_json(const Asset& a);

// Appends to the asset's timeline (asset_events) in the caller's transaction;
// for other modules that change an asset (e.g. maintenance on an order).
Result<void> add_event(api::WriteTx& tx, int64_t asset_id, std::string_view kind, const nlohmann::json& detail);

// Recording a sale / an installation (status, timeline, audit, and for a
// sale with an owner and an amount, customers::record_purchase). No scope
// or permission checks: the API does those before; demo data and imports
// call these directly.
struct Sale {
  std::optional<int64_t> dealer_unit_id;
  std::string date;  // YYYY-MM-DD
  std::optional<std::string> invoice_no;
  std::optional<int64_t> amount_fen;
  std::optional<int64_t> customer_id;  // becomes the owner
};
Result<void> record_sale(api::WriteTx& tx, int64_t asset_id, const Sale& s);
struct Installation {
  std::optional<int64_t> unit_id, engineer_user_id;
  std::string date;  // YYYY-MM-DD
  std::optional<std::string> address, division_code;
  nlohmann::json parts = nlohmann::json::array();  // [{part_code, name, quantity, serial}]
};
Result<void> record_installation(api::WriteTx& tx, int64_t asset_id, const Installation& s);

// Demo data: a plain insert (no scope checks, no audit).
struct NewAsset {
  std::string serial;
  int64_t org_unit_id = 0;
  std::optional<int64_t> model_id;
  bool third_party = false;
  std::optional<std::string> maker, model_text, batch, production_date, notes;
  std::string status = "in_stock";
  std::optional<int64_t> owner_customer_id;
};
Result<int64_t> insert_asset(store::Conn& c, const NewAsset& a);

// ---- bulk import (called by the imports module, src/installbase/bulk.cpp) ----
// A normalised serial may hold letters, digits and - _ / . only (the API's rule).
bool valid_serial(std::string_view normalized);
// A date YYYY-MM-DD that exists and is not in the future (the API's rule).
bool valid_past_date(const std::string& date);
struct ImportedAsset {
  std::string serial;  // normalised and valid
  int64_t org_unit_id = 0;
  std::string org_path;
  std::optional<int64_t> model_id;
  bool third_party = false;
  std::optional<std::string> maker, model_text, batch, production_date, notes;
  std::optional<Sale> sale;
  std::optional<Installation> installation;
  // Leave the owner's purchase of a new asset to the caller, who records a
  // batch of them with customers::record_purchases.
  bool defer_purchase = false;
};
enum class ImportOutcome { created, updated, unchanged };
struct ImportResult {
  ImportOutcome outcome = ImportOutcome::unchanged;
  int64_t id = 0;
  bool purchase_deferred = false;  // then the sale's owner bought for sale.amount_fen
};
// Creates the asset with its sale and installation in one INSERT plus the
// timeline events the API writes (created / sale / installation) and the
// owner's purchase; for a serial already known, records the sale or
// installation it lacks (record_sale / record_installation) and is
// "unchanged" when the row matches what is stored. The API's rules apply
// (dates not before production, final statuses); a different sale already
// recorded is a conflict naming the field. Scope and permission checks are
// the caller's; the caller audits created assets (one audit row per batch).
Result<ImportResult> import_asset(api::WriteTx& tx, const ImportedAsset& a);

}  // namespace shouhou::installbase
