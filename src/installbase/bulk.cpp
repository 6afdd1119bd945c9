// Bulk entry point for the imports module: one asset with its sale and
// installation in few statements (the 1,000,000-row import budget), with the
// same rules and timeline as the API.
#include "core/util.h"
#include "customers/customers.h"
#include "installbase/installbase.h"

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

Result<void> check_dates(const ImportedAsset& a) {
  if (a.production_date && a.sale && a.sale->date < *a.production_date)
    return Error::invalid("sale date is before the production date " + *a.production_date, "sale_date");
  if (a.production_date && a.installation && a.installation->date < *a.production_date)
    return Error::invalid("installation date is before the production date " + *a.production_date, "install_date");
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

Result<ImportResult> import_asset(api::WriteTx& tx, const ImportedAsset& a) {
  TRY_VOID(check_dates(a));
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
    return ImportResult{changed ? ImportOutcome::updated : ImportOutcome::unchanged, x.id};
  }

  std::optional<int64_t> owner = a.sale && a.sale->customer_id ? a.sale->customer_id : std::nullopt;
  std::string status = a.installation ? "installed" : a.sale ? "sold" : "in_stock";
  const Sale* s = a.sale ? &*a.sale : nullptr;
  const Installation* in = a.installation ? &*a.installation : nullptr;
  int64_t now = now_ms();
  auto row = TRY(tx.db.one(
      "INSERT INTO assets (org_path, org_unit_id, serial, model_id, third_party, maker, model_text, batch, "
      "production_date, status, owner_customer_id, sale_dealer_unit_id, sale_date, sale_invoice_no, sale_amount_fen, "
      "install_unit_id, install_engineer_user_id, install_date, install_address, install_division_code, "
      "install_parts_json, notes, version, created_at, updated_at) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?) RETURNING id",
      {a.org_path, a.org_unit_id, a.serial, opt(a.model_id), int64_t(a.third_party), opt(a.maker), opt(a.model_text),
       opt(a.batch), opt(a.production_date), status, opt(owner), s ? opt(s->dealer_unit_id) : store::Value(),
       s ? store::Value(s->date) : store::Value(), s ? opt(s->invoice_no) : store::Value(),
       s ? opt(s->amount_fen) : store::Value(), in ? opt(in->unit_id) : store::Value(),
       in ? opt(in->engineer_user_id) : store::Value(), in ? store::Value(in->date) : store::Value(),
       in ? opt(in->address) : store::Value(), in ? opt(in->division_code) : store::Value(),
       in ? in->parts.dump() : std::string("[]"), opt(a.notes), now, now}));
  int64_t id = row->i(0);
  // The timeline the API writes (created, sale, installation) in one statement.
  json created{{"serial", a.serial}, {"model_id", oj(a.model_id)}, {"third_party", a.third_party},
               {"batch", oj(a.batch)}, {"production_date", oj(a.production_date)}, {"source", "import"}};
  store::Value uid = tx.who() ? store::Value(tx.who()->user_id) : store::Value();
  std::string uname = tx.who() ? tx.who()->username : std::string("system");
  std::string sql = "INSERT INTO asset_events (asset_id, at, kind, detail_json, user_id, username) VALUES (?,?,?,?,?,?)";
  store::Params ps{id, now, std::string("created"), created.dump(), uid, uname};
  for (auto [kind, detail] : {std::pair<const char*, json>{s ? "sale" : nullptr, s ? sale_detail(*s) : json()},
                              std::pair<const char*, json>{in ? "installation" : nullptr, in ? install_detail(*in) : json()}}) {
    if (!kind) continue;
    sql += ",(?,?,?,?,?,?)";
    for (store::Value v : {store::Value(id), store::Value(now), store::Value(std::string(kind)), store::Value(detail.dump()),
                           uid, store::Value(uname)})
      ps.push_back(std::move(v));
  }
  TRY(tx.db.exec(sql, ps));
  ImportResult res{ImportOutcome::created, id};
  if (s) {
    if (owner && s->amount_fen && *s->amount_fen > 0 && a.defer_purchase) {
      res.purchase_deferred = true;
    } else if (owner && s->amount_fen && *s->amount_fen > 0) {
      customers::Purchase p;
      p.amount_fen = *s->amount_fen;
      p.source = "import";
      p.reference = a.serial + (s->invoice_no ? " / " + *s->invoice_no : std::string());
      p.purchased_on = s->date;
      if (tx.who()) p.created_by = tx.who()->user_id;
      TRY(customers::record_purchase(tx.db, *owner, p));
    }
  }
  return res;
}

}  // namespace shouhou::installbase
