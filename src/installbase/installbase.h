// Install base (安装点): one record per serial number (barcode) in `assets`:
// model, production batch/date, sale (dealer, date, invoice, amount),
// installation (installer unit, engineer, date, address with division code,
// parts fitted), owner customer, status, and third-party assets (maker and
// model as text), the owner's asset tag (资产#, unique per owner) and the
// commissioning date (运行日期, not before the installation). Every change is
// in asset_events (the asset's timeline) and in the audit log.
//
// Serials are stored trimmed with ASCII letters upper-cased, so a scanned
// "kfr35-0001" finds "KFR35-0001".
//
// Scope: an asset belongs to an org unit (org_unit_id / org_path, by default
// the creator's unit); reads and writes need the asset in the caller's
// subtree, otherwise 404. Status: in_stock -> sold (sale) -> installed
// (installation); scrapped / replaced are final (PATCH).
//
// Routes: /api/v1/assets (list with ?q= serial / tag / model / owner / address
// and ?asset_tag=, create), /{id}, /by-serial/{serial},
// /{id}/sale, /{id}/installation, PATCH /{id}, /{id}/history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/api.h"
#include "customers/customers.h"

namespace shouhou {
class Input;
}

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
  std::optional<std::string> asset_tag;        // 资产#: the owner's own number (unique per owner)
  std::optional<std::string> commissioned_on;  // 运行日期 YYYY-MM-DD, not before the installation
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
// The purchase a sale of `serial` records for its owner (the customer tier's
// input): amount, sale date, reference "serial / invoice", `source` and who.
customers::Purchase sale_purchase(const std::string& serial, const Sale& s, std::string source,
                                  std::optional<int64_t> by);
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
  std::optional<std::string> asset_tag, commissioned_on;
};
Result<int64_t> insert_asset(store::Conn& c, const NewAsset& a);

// ---- asset tag (资产#) and commissioning date (运行日期), identity.cpp ----
// A tag as stored (normalize_serial) holds at most 32 letters, digits and - _ / .
bool valid_asset_tag(std::string_view normalized);
// Field readers: std::nullopt for absent / null / ""; 400 naming the field.
Result<std::optional<std::string>> read_asset_tag(const Input& in, const char* name);
Result<std::optional<std::string>> read_commissioned_on(const Input& in, const char* name);
// 400 naming `field` when the commissioning date is before the installation date.
Result<void> check_commissioning(const std::optional<std::string>& commissioned_on,
                                 const std::optional<std::string>& install_date, const std::string& field);
// 409 naming `field` when another asset (id != except_id) of `owner` has the tag.
Result<void> check_tag_free(store::Conn& c, std::optional<int64_t> owner, const std::optional<std::string>& tag,
                            int64_t except_id, const std::string& field);
store::Migration identity_migration();

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
  std::optional<std::string> asset_tag, commissioned_on;  // normalised and valid
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
// The fast path for many rows (imports; usable by generated data): which of
// these normalised serials are stored (serial -> id), in few statements;
Result<std::unordered_map<std::string, int64_t>> find_serial_ids(store::Conn& c, const std::vector<std::string>& serials);
// the date rules import_asset applies, without touching the database;
Result<void> check_import_dates(const ImportedAsset& a);
// and many new assets in multi-row INSERTs: the same assets rows and timeline
// events as import_asset, the owners' purchases always left to the caller
// (customers::record_purchases for those with an owner and an amount > 0).
// The caller guarantees: serials new (find_serial_ids) and distinct, dates
// checked, asset tags distinct per owner (tags already stored are checked
// here). Returns the new ids in order.
Result<std::vector<int64_t>> insert_imported_assets(api::WriteTx& tx, const std::vector<const ImportedAsset*>& assets);
// Sets a known asset's tag / commissioning date where the row gives one that
// differs (rules as in the API, timeline and audit); false when nothing changed.
Result<bool> import_identity(api::WriteTx& tx, int64_t asset_id, const std::optional<std::string>& asset_tag,
                             const std::optional<std::string>& commissioned_on);

}  // namespace shouhou::installbase
