// The customer's own identification of a unit: the asset tag (资产#, e.g.
// "WL006" in seed 001) and the commissioning date (运行日期, the day the unit
// went into operation, after the installation). The rules live here so the
// API (installbase.cpp), the bulk import (bulk.cpp) and the report agree.
#include "core/input.h"
#include "core/util.h"
#include "installbase/installbase.h"

namespace shouhou::installbase {

bool valid_asset_tag(std::string_view tag) { return tag.size() <= 32 && valid_serial(tag); }

Result<std::optional<std::string>> read_asset_tag(const Input& in, const char* name) {
  auto raw = TRY(in.opt_str(name, 64));
  if (!raw) return std::optional<std::string>();
  // Stored like a serial (trimmed, upper-cased), so "wl006" finds "WL006".
  std::string tag = normalize_serial(*raw);
  if (tag.empty()) return std::optional<std::string>();
  if (!valid_asset_tag(tag))
    return Error::invalid(in.field(name) + " must be at most 32 letters, digits and - _ / . (like WL006)", in.field(name));
  return std::optional<std::string>(std::move(tag));
}

Result<std::optional<std::string>> read_commissioned_on(const Input& in, const char* name) {
  auto s = TRY(in.opt_str(name, 10));
  if (!s || s->empty()) return std::optional<std::string>();
  if (!valid_past_date(*s))
    return Error::invalid(in.field(name) + " must be a date YYYY-MM-DD, not in the future", in.field(name));
  return s;
}

Result<void> check_commissioning(const std::optional<std::string>& commissioned_on,
                                 const std::optional<std::string>& install_date, const std::string& field) {
  // Dates are YYYY-MM-DD, so they compare as strings.
  if (commissioned_on && install_date && *commissioned_on < *install_date)
    return Error::invalid(field + " " + *commissioned_on + " is before the installation date " + *install_date, field);
  return {};
}

Result<void> check_tag_free(store::Conn& c, std::optional<int64_t> owner, const std::optional<std::string>& tag,
                            int64_t except_id, const std::string& field) {
  // Tags are the owner's numbering: unique per owner customer; an asset
  // without an owner has nobody to clash with. The index below is the backstop.
  if (!tag || !owner) return {};
  auto row = TRY(c.one("SELECT serial FROM assets WHERE owner_customer_id = ? AND asset_tag = ? AND id <> ?",
                       {*owner, *tag, except_id}));
  if (row) return Error::conflict(field + " " + *tag + " is already the tag of this customer's asset " + row->s(0), field);
  return {};
}

Result<bool> import_identity(api::WriteTx& tx, int64_t asset_id, const std::optional<std::string>& asset_tag,
                             const std::optional<std::string>& commissioned_on) {
  auto x = TRY(find_by_id(tx.db, asset_id));
  if (!x) return api::not_found("asset", asset_id);
  auto tag = asset_tag ? asset_tag : x->asset_tag;
  auto since = commissioned_on ? commissioned_on : x->commissioned_on;
  if (tag == x->asset_tag && since == x->commissioned_on) return false;
  TRY_VOID(check_commissioning(since, x->install_date, "commissioned_on"));
  TRY_VOID(check_tag_free(tx.db, x->owner_customer_id, tag, x->id, "asset_tag"));
  TRY(tx.db.exec("UPDATE assets SET asset_tag = ?, commissioned_on = ?, version = version + 1, updated_at = ? WHERE id = ?",
                 {tag ? store::Value(*tag) : store::Value(), since ? store::Value(*since) : store::Value(), now_ms(),
                  x->id}));
  nlohmann::json changes = nlohmann::json::object();
  auto oj = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  if (tag != x->asset_tag) changes["asset_tag"] = {{"from", oj(x->asset_tag)}, {"to", oj(tag)}};
  if (since != x->commissioned_on) changes["commissioned_on"] = {{"from", oj(x->commissioned_on)}, {"to", oj(since)}};
  changes["source"] = "import";
  TRY_VOID(add_event(tx, x->id, "updated", changes));
  auto after = TRY(find_by_id(tx.db, x->id));
  TRY_VOID(tx.audit("asset", x->id, "update", to_json(*x), to_json(*after), x->org_path));
  return true;
}

store::Migration identity_migration() {
  // Its own migration key, so other changes to the install base's schema
  // number their migrations independently of this one.
  return {"installbase.identity", 1, "asset tag (资产#) and commissioning date (运行日期)", R"sql(
ALTER TABLE assets ADD COLUMN asset_tag TEXT;
ALTER TABLE assets ADD COLUMN commissioned_on TEXT;
CREATE UNIQUE INDEX assets_owner_tag ON assets(owner_customer_id, asset_tag);
)sql"};
}

}  // namespace shouhou::installbase
