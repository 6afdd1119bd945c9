// Bulk entry points for the imports module: one asset (import_asset) or many
// new ones (insert_imported_assets, multi-row statements) with their sale and
// installation, with the same rules and timeline as the API; one code path
// writes the rows of both (the 1,000,000-row import budget).
#include "core/util.h"
#include "customers/customers.h"
#include "installbase/installbase.h"
#include "store/bulk.h"

namespace shouhou::installbase {

using api::json;

namespace {
store::Value opt(const std::optional<std::string>& s) { return s ? store::Value(*s) : store::Value(); }
store::Value opt(const std::optional<int64_t>& v) { return v ? store::Value(*v) : store::Value(); }
json oj(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
json oj(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

json sale_detail(const Sale& s) {
  return json{{"dealer_unit_id", oj(s.dealer_unit_id)}, {"date", s.date}, {"invoice_no", oj(s.invoice_no)},
              {"amount_fen", oj(s.amount_fen)}, {"customer_id", oj(s.customer_id)}};
}
json install_detail(const Installation& s) {
  return json{{"unit_id", oj(s.unit_id)}, {"engineer_user_id", oj(s.engineer_user_id)}, {"date", s.date},
              {"address", oj(s.address)}, {"division_code", oj(s.division_code)}, {"parts", s.parts}};
}

Result<void> check_dates_(const ImportedAsset& a) {
  if (a.production_date && a.sale && a.sale->date < *a.production_date)
    return Error::invalid("sale date is before the production date " + *a.production_date, "sale_date");
  if (a.production_date && a.installation && a.installation->date < *a.production_date)
    return Error::invalid("installation date is before the production date " + *a.production_date, "install_date");
  if (a.installation) TRY_VOID(check_commissioning(a.commissioned_on, a.installation->date, "commissioned_on"));
  return {};
}

bool same_sale(const Asset& x, const Sale& s) {
  return x.sale_date == s.date && x.sale_dealer_unit_id == s.dealer_unit_id && x.sale_invoice_no == s.invoice_no &&
         x.sale_amount_fen == s.amount_fen && (!s.customer_id || x.owner_customer_id == s.customer_id);
}
bool same_install(const Asset& x, const Installation& s) {
  return x.install_date == s.date && x.install_unit_id == s.unit_id && x.install_engineer_user_id == s.engineer_user_id &&
         x.install_address == s.address && x.install_division_code == s.division_code;
}
}  // namespace

namespace {
constexpr const char* kAssetInsert =
    "INSERT INTO assets (org_path, org_unit_id, serial, model_id, third_party, maker, model_text, batch, "
    "production_date, status, owner_customer_id, sale_dealer_unit_id, sale_date, sale_invoice_no, sale_amount_fen, "
    "install_unit_id, install_engineer_user_id, install_date, install_address, install_division_code, "
    "install_parts_json, notes, asset_tag, commissioned_on, version, created_at, updated_at)";
constexpr size_t kAssetCols = 27;
constexpr const char* kEventInsert = "INSERT INTO asset_events (asset_id, at, kind, detail_json, user_id, username)";
constexpr const char* kAssetTypes =
    "text,int8,text,int8,int8,text,text,text,text,text,int8,int8,text,text,int8,int8,int8,text,text,text,text,text,"
    "text,text,int8,int8,int8";
constexpr const char* kEventTypes = "int8,int8,text,text,int8,text";

// The assets row of a new asset (kAssetCols values, in kAssetInsert's order).
void asset_values(const ImportedAsset& a, int64_t now, store::Params& ps) {
  const Sale* s = a.sale ? &*a.sale : nullptr;
  const Installation* in = a.installation ? &*a.installation : nullptr;
  ps.emplace_back(a.org_path);
  ps.emplace_back(a.org_unit_id);
  ps.emplace_back(a.serial);
  ps.push_back(opt(a.model_id));
  ps.emplace_back(int64_t(a.third_party));
  ps.push_back(opt(a.maker));
  ps.push_back(opt(a.model_text));
  ps.push_back(opt(a.batch));
  ps.push_back(opt(a.production_date));
  ps.emplace_back(std::string(a.installation ? "installed" : a.sale ? "sold" : "in_stock"));
  ps.push_back(s ? opt(s->customer_id) : store::Value());
  ps.push_back(s ? opt(s->dealer_unit_id) : store::Value());
  ps.push_back(s ? store::Value(s->date) : store::Value());
  ps.push_back(s ? opt(s->invoice_no) : store::Value());
  ps.push_back(s ? opt(s->amount_fen) : store::Value());
  ps.push_back(in ? opt(in->unit_id) : store::Value());
  ps.push_back(in ? opt(in->engineer_user_id) : store::Value());
  ps.push_back(in ? store::Value(in->date) : store::Value());
  ps.push_back(in ? opt(in->address) : store::Value());
  ps.push_back(in ? opt(in->division_code) : store::Value());
  ps.emplace_back(in ? in->parts.dump() : std::string("[]"));
  ps.push_back(opt(a.notes));
  ps.push_back(opt(a.asset_tag));
  ps.push_back(opt(a.commissioned_on));
  ps.emplace_back(int64_t(1));
  ps.emplace_back(now);
  ps.emplace_back(now);
}

// The timeline the API writes for a new asset (created, sale, installation):
// 6 values per event.
void event_values(const ImportedAsset& a, int64_t id, int64_t now, const store::Value& uid, const std::string& uname,
                  store::Params& ps) {
  json created{{"serial", a.serial}, {"model_id", oj(a.model_id)}, {"third_party", a.third_party},
               {"batch", oj(a.batch)}, {"production_date", oj(a.production_date)}, {"source", "import"}};
  if (a.asset_tag) created["asset_tag"] = *a.asset_tag;
  if (a.commissioned_on) created["commissioned_on"] = *a.commissioned_on;
  auto add = [&](const char* kind, const json& detail) {
    for (store::Value v : {store::Value(id), store::Value(now), store::Value(std::string(kind)),
                           store::Value(detail.dump()), uid, store::Value(uname)})
      ps.push_back(std::move(v));
  };
  add("created", created);
  if (a.sale) add("sale", sale_detail(*a.sale));
  if (a.installation) add("installation", install_detail(*a.installation));
}

}  // namespace

Result<void> check_import_dates(const ImportedAsset& a) { return check_dates_(a); }

Result<std::unordered_map<std::string, int64_t>> find_serial_ids(store::Conn& c, const std::vector<std::string>& serials) {
  std::unordered_map<std::string, int64_t> out;
  std::vector<store::Value> keys(serials.begin(), serials.end());
  for (const auto& r : TRY(store::select_in(c, "SELECT serial, id FROM assets WHERE serial", keys)))
    out.emplace(r.s(0), r.i(1));
  return out;
}

Result<std::vector<int64_t>> insert_imported_assets(api::WriteTx& tx, const std::vector<const ImportedAsset*>& assets) {
  for (const auto* a : assets)
    if (a->asset_tag)
      TRY_VOID(check_tag_free(tx.db, a->sale ? a->sale->customer_id : std::nullopt, a->asset_tag, 0, "asset_tag"));
  int64_t now = now_ms();
  store::Params ps;
  ps.reserve(assets.size() * kAssetCols);
  for (const auto* a : assets) asset_values(*a, now, ps);
  auto ids = TRY(store::insert_rows(tx.db, kAssetInsert, kAssetCols, std::move(ps), true, kAssetTypes));
  store::Value uid = tx.who() ? store::Value(tx.who()->user_id) : store::Value();
  std::string uname = tx.who() ? tx.who()->username : std::string("system");
  ps.clear();
  for (size_t i = 0; i < assets.size(); ++i) event_values(*assets[i], ids[i], now, uid, uname, ps);
  TRY(store::insert_rows(tx.db, kEventInsert, 6, std::move(ps), false, kEventTypes));
  return ids;
}

Result<ImportResult> import_asset(api::WriteTx& tx, const ImportedAsset& a) {
  TRY_VOID(check_dates_(a));
  auto existing = TRY(tx.db.one("SELECT id FROM assets WHERE serial = ?", {a.serial}));
  if (existing) {
    Asset x = *TRY(find_by_id(tx.db, existing->i(0)));
    if (x.third_party != a.third_party || (a.model_id && x.model_id != a.model_id))
      return Error::conflict("serial " + a.serial + " is already registered as model " +
                                 (x.third_party ? x.model_text.value_or("") : x.model_code) + "; the row says otherwise",
                             "model_code");
    bool changed = false;
    if (a.sale) {
      if (x.sale_date) {
        if (!same_sale(x, *a.sale))
          return Error::conflict("serial " + a.serial + " already has a different sale recorded (on " + *x.sale_date + ")",
                                 "sale_date");
      } else {
        TRY_VOID(record_sale(tx, x.id, *a.sale));
        changed = true;
      }
    }
    if (a.installation && !same_install(x, *a.installation)) {
      TRY_VOID(record_installation(tx, x.id, *a.installation));
      changed = true;
    }
    if ((a.asset_tag || a.commissioned_on) && TRY(import_identity(tx, x.id, a.asset_tag, a.commissioned_on))) changed = true;
    return ImportResult{changed ? ImportOutcome::updated : ImportOutcome::unchanged, x.id};
  }

  // The same rows as the bulk path (one asset: single-row statements).
  auto ids = TRY(insert_imported_assets(tx, {&a}));
  ImportResult res{ImportOutcome::created, ids.at(0)};
  const Sale* s = a.sale ? &*a.sale : nullptr;
  if (s && s->customer_id && s->amount_fen && *s->amount_fen > 0) {
    if (a.defer_purchase) {
      res.purchase_deferred = true;
    } else {
      auto by = tx.who() ? std::optional<int64_t>(tx.who()->user_id) : std::nullopt;
      TRY(customers::record_purchase(tx.db, *s->customer_id, sale_purchase(a.serial, *s, "import", by)));
    }
  }
  return res;
}

}  // namespace shouhou::installbase
