#include "installbase/installbase.h"

#include <algorithm>

#include "core/input.h"
#include "core/util.h"
#include "customers/customers.h"
#include "org/org.h"
#include "products/products.h"

namespace shouhou::installbase {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

namespace {

const std::vector<std::string> kStatuses = {"in_stock", "sold", "installed", "scrapped", "replaced"};

store::Value opt(const std::optional<std::string>& s) { return s ? store::Value(*s) : store::Value(); }
store::Value opt(const std::optional<int64_t>& v) { return v ? store::Value(*v) : store::Value(); }
json oj(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
json oj(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

bool valid_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)), d = std::stoi(s.substr(8, 2));
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= (m == 2 && leap ? 29 : dim[m - 1]);
}

// Tomorrow in China (UTC+8) as YYYY-MM-DD: dates after it are "in the future"
// (one day of slack for clocks and time zones).
std::string latest_allowed_date() {
  std::string iso = iso_utc(now_ms() + (8 + 24) * 3600 * 1000LL);
  return iso.substr(0, 10);
}

Result<std::optional<std::string>> opt_date(const Input& in, const char* name, bool not_future = true) {
  auto s = TRY(in.opt_str(name, 10));
  if (!s || s->empty()) return std::optional<std::string>();
  if (!valid_date(*s)) return Error::invalid(in.field(name) + " must be a date YYYY-MM-DD", in.field(name));
  if (not_future && *s > latest_allowed_date())
    return Error::invalid(in.field(name) + " cannot be in the future", in.field(name));
  return s;
}

Result<std::string> req_date(const Input& in, const char* name) {
  if (!in.has(name)) return Error::invalid(in.field(name) + " is required", in.field(name));
  auto d = TRY(opt_date(in, name));
  if (!d) return Error::invalid(in.field(name) + " is required", in.field(name));
  return *d;
}

Result<std::string> serial_field(const Input& in, const char* name) {
  std::string raw = TRY(in.str(name, 64));
  std::string s = normalize_serial(raw);
  if (!valid_serial(s)) return Error::invalid(in.field(name) + " may hold letters, digits and - _ / . only", in.field(name));
  return s;
}

Result<std::optional<std::string>> division_field(const Input& in, const char* name) {
  auto d = TRY(in.opt_str(name, 6));
  if (!d || d->empty()) return std::optional<std::string>();
  if (d->size() != 6 || !std::all_of(d->begin(), d->end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return Error::invalid(in.field(name) + " must be a 6-digit GB/T 2260 code", in.field(name));
  return d;
}

constexpr const char* kSelect =
    "SELECT a.id, a.serial, a.org_path, a.org_unit_id, a.model_id, m.product_line_id, m.code, m.name, pl.name, "
    "a.third_party, a.maker, a.model_text, a.batch, a.production_date, a.status, a.owner_customer_id, cu.name, "
    "a.sale_dealer_unit_id, du.name, a.sale_date, a.sale_invoice_no, a.sale_amount_fen, a.install_unit_id, iu.name, "
    "a.install_engineer_user_id, eu.display_name, a.install_date, a.install_address, a.install_division_code, "
    "a.install_parts_json, a.notes, a.version, a.created_at, a.updated_at, a.asset_tag, a.commissioned_on "
    "FROM assets a LEFT JOIN models m ON m.id = a.model_id LEFT JOIN product_lines pl ON pl.id = m.product_line_id "
    "LEFT JOIN customers cu ON cu.id = a.owner_customer_id LEFT JOIN org_units du ON du.id = a.sale_dealer_unit_id "
    "LEFT JOIN org_units iu ON iu.id = a.install_unit_id LEFT JOIN users eu ON eu.id = a.install_engineer_user_id";

Asset from_row(const store::Row& r) {
  Asset a;
  a.id = r.i(0);
  a.serial = r.s(1);
  a.org_path = r.s(2);
  a.org_unit_id = r.i(3);
  a.model_id = r.oi(4);
  a.product_line_id = r.oi(5);
  a.model_code = r.s(6);
  a.model_name = r.s(7);
  a.product_line_name = r.s(8);
  a.third_party = r.i(9) != 0;
  a.maker = r.os(10);
  a.model_text = r.os(11);
  a.batch = r.os(12);
  a.production_date = r.os(13);
  a.status = r.s(14);
  a.owner_customer_id = r.oi(15);
  a.owner_name = r.s(16);
  a.sale_dealer_unit_id = r.oi(17);
  a.sale_dealer_name = r.s(18);
  a.sale_date = r.os(19);
  a.sale_invoice_no = r.os(20);
  a.sale_amount_fen = r.oi(21);
  a.install_unit_id = r.oi(22);
  a.install_unit_name = r.s(23);
  a.install_engineer_user_id = r.oi(24);
  a.install_engineer_name = r.s(25);
  a.install_date = r.os(26);
  a.install_address = r.os(27);
  a.install_division_code = r.os(28);
  if (!r.null(29)) {
    auto p = json::parse(r.s(29), nullptr, false);
    if (p.is_array()) a.install_parts = std::move(p);
  }
  a.notes = r.os(30);
  a.version = r.i(31);
  a.created_at = r.i(32);
  a.updated_at = r.i(33);
  a.asset_tag = r.os(34);
  a.commissioned_on = r.os(35);
  return a;
}

// The asset when the principal reaches it, else not_found.
Result<Asset> asset_in_scope(Conn& c, const http::Principal& who, int64_t id) {
  auto a = TRY(find_by_id(c, id));
  if (!a || !who.reaches(a->org_path)) return api::not_found("asset", id);
  return std::move(*a);
}

Result<customers::CustomerRef> customer_field(Conn& c, const http::Principal& who, int64_t id, const std::string& field) {
  auto ref = customers::customer_in_scope(c, who, id);
  if (!ref) return Error::invalid(field + " " + std::to_string(id) + " is not a customer you can see", field);
  return std::move(*ref);
}

Result<org::OrgUnitRef> unit_field(Conn& c, const http::Principal& who, int64_t id, const std::string& field) {
  auto u = org::unit_in_scope(c, who, id);
  if (!u) return Error::invalid(field + " " + std::to_string(id) + " is not an org unit you manage", field);
  return std::move(*u);
}

Result<void> engineer_field(Conn& c, const http::Principal& who, int64_t id, const std::string& field) {
  auto row = TRY(c.one("SELECT o.path FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE u.id = ?", {id}));
  if (!row || !who.reaches(row->s(0)))
    return Error::invalid(field + " " + std::to_string(id) + " is not a user you can see", field);
  return {};
}

Result<void> model_field(Conn& c, int64_t id, const std::string& field) {
  auto m = TRY(products::model_info(c, id));
  if (!m) return Error::invalid(field + " " + std::to_string(id) + " is not a model", field);
  return {};
}

Error stale(int64_t id, int64_t current) {
  return Error::conflict("asset " + std::to_string(id) + " was changed by someone else (version " +
                             std::to_string(current) + ")", "version");
}

// Optional optimistic check for actions (sale, installation): only when the
// client sends a version (body or If-Match).
Result<void> check_version_if_sent(const Request& req, const json& body, const Asset& a) {
  if (!body.contains("version") && !req.header("if-match")) return {};
  int64_t v = TRY(api::expected_version(req, body));
  if (v != a.version) return stale(a.id, a.version);
  return {};
}

// ---- sale / installation ---------------------------------------------------

using SaleIn = Sale;

Result<SaleIn> read_sale(Conn& c, const http::Principal& who, const json& obj, const std::string& prefix) {
  Input in(obj, prefix);
  if (!obj.is_object()) return Error::invalid((prefix.empty() ? "body" : prefix) + " must be an object", prefix.empty() ? "body" : prefix);
  SaleIn s;
  s.date = TRY(req_date(in, "date"));
  s.dealer_unit_id = TRY(in.opt_integer("dealer_unit_id", 1));
  if (s.dealer_unit_id) TRY(unit_field(c, who, *s.dealer_unit_id, in.field("dealer_unit_id")));
  s.invoice_no = TRY(in.opt_str("invoice_no", 60));
  if (s.invoice_no && s.invoice_no->empty()) s.invoice_no.reset();
  s.amount_fen = TRY(in.opt_integer("amount_fen", 0, 100'000'000'000));
  s.customer_id = TRY(in.opt_integer("customer_id", 1));
  if (s.customer_id) TRY(customer_field(c, who, *s.customer_id, in.field("customer_id")));
  return s;
}

using InstallIn = Installation;

Result<InstallIn> read_install(Conn& c, const http::Principal& who, const json& obj, const std::string& prefix) {
  if (!obj.is_object()) return Error::invalid((prefix.empty() ? "body" : prefix) + " must be an object", prefix.empty() ? "body" : prefix);
  Input in(obj, prefix);
  InstallIn s;
  s.date = TRY(req_date(in, "date"));
  s.unit_id = TRY(in.opt_integer("unit_id", 1));
  if (s.unit_id) TRY(unit_field(c, who, *s.unit_id, in.field("unit_id")));
  s.engineer_user_id = TRY(in.opt_integer("engineer_user_id", 1));
  if (s.engineer_user_id) TRY_VOID(engineer_field(c, who, *s.engineer_user_id, in.field("engineer_user_id")));
  s.address = TRY(in.opt_str("address", 300));
  s.division_code = TRY(division_field(in, "division_code"));
  if (obj.contains("parts") && !obj["parts"].is_null()) {
    const json& arr = obj["parts"];
    if (!arr.is_array()) return Error::invalid(in.field("parts") + " must be an array", in.field("parts"));
    if (arr.size() > 100) return Error::invalid(in.field("parts") + " has more than 100 items", in.field("parts"));
    for (size_t i = 0; i < arr.size(); ++i) {
      std::string pf = in.field("parts") + "[" + std::to_string(i) + "]";
      if (!arr[i].is_object()) return Error::invalid(pf + " must be an object", pf);
      Input pi(arr[i], pf);
      auto name = TRY(pi.str("name", 100));  // not inside the braces: TRY's early return would leak them
      json part{{"name", std::move(name)}};
      auto code = TRY(pi.opt_str("part_code", 60));
      part["part_code"] = oj(code);
      part["quantity"] = pi.has("quantity") ? TRY(pi.integer("quantity", 1, 10000)) : 1;
      auto serial = TRY(pi.opt_str("serial", 64));
      part["serial"] = oj(serial);
      s.parts.push_back(std::move(part));
    }
  }
  return s;
}

Result<void> apply_sale(api::WriteTx& tx, const Asset& before, const SaleIn& s) {
  if (before.status == "scrapped" || before.status == "replaced")
    return Error::conflict("asset " + before.serial + " is " + before.status + ": no sale can be recorded", "status");
  if (before.sale_date)
    return Error::conflict("a sale is already recorded for " + before.serial + " (on " + *before.sale_date + ")", "date");
  if (before.production_date && s.date < *before.production_date)
    return Error::invalid("sale date is before the production date " + *before.production_date, "date");
  std::optional<int64_t> owner = s.customer_id ? s.customer_id : before.owner_customer_id;
  if (owner != before.owner_customer_id) TRY_VOID(check_tag_free(tx.db, owner, before.asset_tag, before.id, "asset_tag"));
  std::string status = before.status == "installed" ? "installed" : "sold";
  auto n = TRY(tx.db.exec(
      "UPDATE assets SET sale_dealer_unit_id = ?, sale_date = ?, sale_invoice_no = ?, sale_amount_fen = ?, "
      "owner_customer_id = ?, status = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
      {opt(s.dealer_unit_id), s.date, opt(s.invoice_no), opt(s.amount_fen), opt(owner), status, now_ms(), before.id,
       before.version}));
  if (n == 0) return stale(before.id, before.version);
  json detail{{"dealer_unit_id", oj(s.dealer_unit_id)}, {"date", s.date}, {"invoice_no", oj(s.invoice_no)},
              {"amount_fen", oj(s.amount_fen)}, {"customer_id", oj(owner)}};
  TRY_VOID(add_event(tx, before.id, "sale", detail));
  // The customer's purchase history (drives the VIP / key / small tier).
  if (owner && s.amount_fen && *s.amount_fen > 0) {
    auto by = tx.who() ? std::optional<int64_t>(tx.who()->user_id) : std::nullopt;
    TRY(customers::record_purchase(tx, *owner, sale_purchase(before.serial, s, "installbase", by)));
  }
  json after = to_json(*TRY(find_by_id(tx.db, before.id)));
  TRY_VOID(tx.audit("asset", before.id, "sale", to_json(before), after, before.org_path));
  return {};
}

Result<void> apply_install(api::WriteTx& tx, const Asset& before, const InstallIn& s) {
  if (before.status == "scrapped" || before.status == "replaced")
    return Error::conflict("asset " + before.serial + " is " + before.status + ": it cannot be installed", "status");
  if (before.production_date && s.date < *before.production_date)
    return Error::invalid("installation date is before the production date " + *before.production_date, "date");
  // The unit ran from its commissioning date on, so its first installation
  // cannot come later (a reinstallation elsewhere may).
  if (!before.install_date && before.commissioned_on && s.date > *before.commissioned_on)
    return Error::invalid("installation date is after the commissioning date " + *before.commissioned_on, "date");
  auto n = TRY(tx.db.exec(
      "UPDATE assets SET install_unit_id = ?, install_engineer_user_id = ?, install_date = ?, install_address = ?, "
      "install_division_code = ?, install_parts_json = ?, status = 'installed', version = version + 1, updated_at = ? "
      "WHERE id = ? AND version = ?",
      {opt(s.unit_id), opt(s.engineer_user_id), s.date, opt(s.address), opt(s.division_code), s.parts.dump(), now_ms(),
       before.id, before.version}));
  if (n == 0) return stale(before.id, before.version);
  json detail{{"unit_id", oj(s.unit_id)}, {"engineer_user_id", oj(s.engineer_user_id)}, {"date", s.date},
              {"address", oj(s.address)}, {"division_code", oj(s.division_code)}, {"parts", s.parts}};
  if (before.install_date) detail["previous_date"] = *before.install_date;
  TRY_VOID(add_event(tx, before.id, before.install_date ? "reinstallation" : "installation", detail));
  json after = to_json(*TRY(find_by_id(tx.db, before.id)));
  TRY_VOID(tx.audit("asset", before.id, "installation", to_json(before), after, before.org_path));
  return {};
}

// ---- routes --------------------------------------------------------------


void routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/assets", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req));
      std::string sql = std::string(kSelect) + " WHERE a.org_path LIKE ? AND a.id > ?";
      store::Params params{req.principal->org_path + "%", pg.after_id};
      if (auto s = req.q("serial"); s && !s->empty()) { sql += " AND a.serial = ?"; params.push_back(normalize_serial(*s)); }
      if (auto t = req.q("asset_tag"); t && !t->empty()) {
        sql += " AND a.asset_tag = ?";
        params.push_back(normalize_serial(*t));
      }
      if (auto v = TRY(api::query_id(req, "customer_id"))) { sql += " AND a.owner_customer_id = ?"; params.push_back(*v); }
      if (auto v = TRY(api::query_id(req, "model_id"))) { sql += " AND a.model_id = ?"; params.push_back(*v); }
      if (auto st = req.q("status"); st && !st->empty()) {
        if (std::find(kStatuses.begin(), kStatuses.end(), *st) == kStatuses.end())
          return Error::invalid("status must be one of in_stock, sold, installed, scrapped, replaced", "status");
        sql += " AND a.status = ?";
        params.push_back(*st);
      }
      if (auto q = req.q("q"); q && !q->empty()) {
        std::string up = normalize_serial(*q);
        sql += " AND (instr(a.serial, ?) > 0 OR instr(COALESCE(m.name, ''), ?) > 0 OR instr(COALESCE(m.code, ''), ?) > 0 "
               "OR instr(COALESCE(cu.name, ''), ?) > 0 OR instr(COALESCE(a.install_address, ''), ?) > 0 "
               "OR instr(COALESCE(a.model_text, ''), ?) > 0 OR instr(COALESCE(a.asset_tag, ''), ?) > 0)";
        params.insert(params.end(), {up, *q, *q, *q, *q, *q, up});
      }
      sql += " ORDER BY a.id LIMIT ?";
      params.push_back(pg.limit + 1);
      auto rows = TRY(c.query(sql, params));
      json items = json::array();
      for (const auto& row : rows) items.push_back(to_json(from_row(row)));
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "List assets (install base) in the caller's scope", .tag = "installbase", .permission = "asset.read",
      .query_params = {"limit", "cursor", "serial", "asset_tag", "customer_id", "model_id", "status", "q"}});

  r.get("/api/v1/assets/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto a = TRY(asset_in_scope(c, *req.principal, id));
      return Response::make_json(to_json(a));
    });
  }, {.summary = "Get an asset", .tag = "installbase", .permission = "asset.read"});

  r.get("/api/v1/assets/by-serial/{serial}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      std::string serial = normalize_serial(req.params["serial"]);
      auto a = TRY(find_by_serial(c, serial));
      if (!a || !req.principal->reaches(a->org_path))
        return Error::not_found("no asset with serial " + serial);
      return Response::make_json(to_json(*a));
    });
  }, {.summary = "Find an asset by serial number (barcode)", .tag = "installbase", .permission = "asset.read"});

  r.get("/api/v1/assets/{id}/history", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      TRY(asset_in_scope(c, *req.principal, id));
      auto rows = TRY(c.query("SELECT id, at, kind, detail_json, user_id, username FROM asset_events WHERE asset_id = ? "
                              "ORDER BY at, id", {id}));
      json items = json::array();
      for (const auto& e : rows) {
        auto detail = json::parse(e.s(3), nullptr, false);
        items.push_back(json{{"id", e.i(0)}, {"at", iso_utc(e.i(1))}, {"kind", e.s(2)},
                             {"detail", detail.is_discarded() ? json(nullptr) : detail},
                             {"user_id", e.null(4) ? json(nullptr) : json(e.i(4))}, {"username", e.s(5)}});
      }
      return Response::make_json(json{{"items", items}});
    });
  }, {.summary = "The asset's timeline (created, sale, installation, changes)", .tag = "installbase",
      .permission = "asset.read"});

  r.post("/api/v1/assets", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      Input in(*body);
      NewAsset a;
      a.serial = TRY(serial_field(in, "serial"));
      a.third_party = in.has("third_party") ? TRY(in.boolean("third_party")) : false;
      if (a.third_party) {
        if (in.has("model_id")) return Error::invalid("a third-party asset has no model_id (use maker and model_text)", "model_id");
        a.maker = TRY(in.str("maker", 100));
        a.model_text = TRY(in.str("model_text", 100));
      } else {
        a.model_id = TRY(in.integer("model_id", 1));
        TRY_VOID(model_field(tx.db, *a.model_id, "model_id"));
      }
      a.batch = TRY(in.opt_str("batch", 40));
      if (a.batch && a.batch->empty()) a.batch.reset();
      a.production_date = TRY(opt_date(in, "production_date"));
      if (a.model_id && a.batch && !a.production_date) {
        // The batch knows its production date.
        auto b = TRY(tx.db.one("SELECT production_date FROM model_batches WHERE model_id = ? AND batch_code = ?",
                               {*a.model_id, *a.batch}));
        if (b && !b->null(0)) a.production_date = b->s(0);
      }
      a.notes = TRY(in.opt_str("notes", 2000));
      a.asset_tag = TRY(read_asset_tag(in, "asset_tag"));
      a.commissioned_on = TRY(read_commissioned_on(in, "commissioned_on"));
      auto unit_id = TRY(in.opt_integer("org_unit_id", 1));
      a.org_unit_id = unit_id ? TRY(unit_field(tx.db, who, *unit_id, "org_unit_id")).id : who.org_unit_id;
      a.owner_customer_id = TRY(in.opt_integer("owner_customer_id", 1));
      if (a.owner_customer_id) TRY(customer_field(tx.db, who, *a.owner_customer_id, "owner_customer_id"));
      if (in.has("status")) {
        std::string st = TRY(in.one_of("status", {"in_stock", "sold", "installed"}));
        if (st != "in_stock" && !body->contains("sale") && !body->contains("installation"))
          return Error::invalid("status " + st + " needs a sale or installation record", "status");
      }
      // Read nested records before writing anything (errors name sale.* / installation.*).
      std::optional<SaleIn> sale;
      std::optional<InstallIn> install;
      if (body->contains("sale") && !(*body)["sale"].is_null()) sale = TRY(read_sale(tx.db, who, (*body)["sale"], "sale"));
      if (body->contains("installation") && !(*body)["installation"].is_null())
        install = TRY(read_install(tx.db, who, (*body)["installation"], "installation"));
      auto dup = TRY(tx.db.one("SELECT id FROM assets WHERE serial = ?", {a.serial}));
      if (dup) return Error::conflict("serial " + a.serial + " is already in the install base", "serial");
      if (install) TRY_VOID(check_commissioning(a.commissioned_on, install->date, "commissioned_on"));
      TRY_VOID(check_tag_free(tx.db, sale && sale->customer_id ? sale->customer_id : a.owner_customer_id, a.asset_tag, 0,
                              "asset_tag"));
      int64_t id = TRY(insert_asset(tx.db, a));
      Asset created = *TRY(find_by_id(tx.db, id));
      TRY_VOID(add_event(tx, id, "created", json{{"serial", a.serial}, {"model_id", oj(a.model_id)},
                                                  {"third_party", a.third_party}, {"batch", oj(a.batch)},
                                                  {"production_date", oj(a.production_date)},
                                                  {"asset_tag", oj(a.asset_tag)},
                                                  {"commissioned_on", oj(a.commissioned_on)}}));
      TRY_VOID(tx.audit("asset", id, "create", nullptr, to_json(created), created.org_path));
      if (sale) {
        TRY_VOID(apply_sale(tx, created, *sale));
        created = *TRY(find_by_id(tx.db, id));
      }
      if (install) {
        TRY_VOID(apply_install(tx, created, *install));
        created = *TRY(find_by_id(tx.db, id));
      }
      return Response::make_json(to_json(created), 201);
    });
  }, {.summary = "Register an asset (serial number), optionally with its sale and installation", .tag = "installbase",
      .permission = "asset.write",
      .request_schema = api::schema_object({{"serial", "string"}, {"model_id", "integer"}, {"third_party", "boolean"},
                                            {"maker", "string"}, {"model_text", "string"}, {"batch", "string"},
                                            {"production_date", "string"}, {"owner_customer_id", "integer"},
                                            {"org_unit_id", "integer"}, {"notes", "string"}, {"asset_tag", "string"},
                                            {"commissioned_on", "string"}, {"sale", "object"},
                                            {"installation", "object"}},
                                           {"serial"})});

  r.post("/api/v1/assets/{id}/sale", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      Asset before = TRY(asset_in_scope(tx.db, *tx.who(), id));
      TRY_VOID(check_version_if_sent(req, *body, before));
      SaleIn s = TRY(read_sale(tx.db, *tx.who(), *body, ""));
      TRY_VOID(apply_sale(tx, before, s));
      return Response::make_json(to_json(*TRY(find_by_id(tx.db, id))));
    });
  }, {.summary = "Record the sale of an asset (dealer, date, invoice, amount, customer)", .tag = "installbase",
      .permission = "asset.write",
      .request_schema = api::schema_object({{"date", "string"}, {"dealer_unit_id", "integer"}, {"invoice_no", "string"},
                                            {"amount_fen", "integer"}, {"customer_id", "integer"}, {"version", "integer"}},
                                           {"date"})});

  r.post("/api/v1/assets/{id}/installation", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      Asset before = TRY(asset_in_scope(tx.db, *tx.who(), id));
      TRY_VOID(check_version_if_sent(req, *body, before));
      InstallIn s = TRY(read_install(tx.db, *tx.who(), *body, ""));
      TRY_VOID(apply_install(tx, before, s));
      return Response::make_json(to_json(*TRY(find_by_id(tx.db, id))));
    });
  }, {.summary = "Record the installation of an asset (installer, engineer, date, address, parts fitted)",
      .tag = "installbase", .permission = "asset.write",
      .request_schema = api::schema_object({{"date", "string"}, {"unit_id", "integer"}, {"engineer_user_id", "integer"},
                                            {"address", "string"}, {"division_code", "string"}, {"parts", "array"},
                                            {"version", "integer"}},
                                           {"date"})});

  r.patch("/api/v1/assets/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      int64_t id = TRY(api::path_id(req));
      Asset b = TRY(asset_in_scope(tx.db, who, id));
      int64_t version = TRY(api::expected_version(req, *body));
      for (const char* f : {"serial", "sale", "installation", "third_party"})
        if (body->contains(f))
          return Error::invalid(std::string(f) + " cannot be changed here" +
                                    (std::string(f) == "sale" || std::string(f) == "installation"
                                         ? std::string(" (use POST /api/v1/assets/{id}/") + f + ")" : std::string()),
                                f);
      Input in(*body);
      std::string status = b.status;
      if (in.has("status")) {
        status = TRY(in.one_of("status", kStatuses));
        if (status != b.status) {
          if (b.status == "scrapped" || b.status == "replaced")
            return Error::conflict("asset is " + b.status + "; its status is final", "status");
          if (status != "scrapped" && status != "replaced")
            return Error::invalid("status can only be set to scrapped or replaced here (sale and installation set the others)",
                                  "status");
        }
      }
      auto model_id = b.model_id;
      if (body->contains("model_id")) {
        if (b.third_party) return Error::invalid("a third-party asset has no model_id", "model_id");
        model_id = TRY(in.integer("model_id", 1));
        TRY_VOID(model_field(tx.db, *model_id, "model_id"));
      }
      auto maker = b.maker, model_text = b.model_text;
      if (b.third_party) {
        if (in.has("maker")) maker = TRY(in.str("maker", 100));
        if (in.has("model_text")) model_text = TRY(in.str("model_text", 100));
      }
      auto batch = body->contains("batch") ? TRY(in.opt_str("batch", 40)) : b.batch;
      if (batch && batch->empty()) batch.reset();
      auto production_date = body->contains("production_date") ? TRY(opt_date(in, "production_date")) : b.production_date;
      auto notes = body->contains("notes") ? TRY(in.opt_str("notes", 2000)) : b.notes;
      auto owner = b.owner_customer_id;
      if (body->contains("owner_customer_id")) {
        owner = TRY(in.opt_integer("owner_customer_id", 1));
        if (owner) TRY(customer_field(tx.db, who, *owner, "owner_customer_id"));
      }
      auto asset_tag = body->contains("asset_tag") ? TRY(read_asset_tag(in, "asset_tag")) : b.asset_tag;
      auto commissioned_on =
          body->contains("commissioned_on") ? TRY(read_commissioned_on(in, "commissioned_on")) : b.commissioned_on;
      if (commissioned_on != b.commissioned_on)
        TRY_VOID(check_commissioning(commissioned_on, b.install_date, "commissioned_on"));
      if (asset_tag != b.asset_tag || owner != b.owner_customer_id)
        TRY_VOID(check_tag_free(tx.db, owner, asset_tag, id, "asset_tag"));
      int64_t unit_id = b.org_unit_id;
      std::string org_path = b.org_path;
      if (in.has("org_unit_id")) {
        auto u = TRY(unit_field(tx.db, who, TRY(in.integer("org_unit_id", 1)), "org_unit_id"));
        unit_id = u.id;
        org_path = u.path;
      }
      auto n = TRY(tx.db.exec(
          "UPDATE assets SET status = ?, model_id = ?, maker = ?, model_text = ?, batch = ?, production_date = ?, "
          "notes = ?, owner_customer_id = ?, org_unit_id = ?, org_path = ?, asset_tag = ?, commissioned_on = ?, "
          "version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
          {status, opt(model_id), opt(maker), opt(model_text), opt(batch), opt(production_date), opt(notes), opt(owner),
           unit_id, org_path, opt(asset_tag), opt(commissioned_on), now_ms(), id, version}));
      if (n == 0) return stale(id, b.version);
      Asset a = *TRY(find_by_id(tx.db, id));
      json before = to_json(b), after = to_json(a);
      json changes = json::object();
      for (auto& [k, v] : after.items())
        if (k != "version" && k != "updated_at" && before[k] != v) changes[k] = json{{"from", before[k]}, {"to", v}};
      std::string kind = status != b.status ? status : (owner != b.owner_customer_id ? "owner_changed" : "updated");
      TRY_VOID(add_event(tx, id, kind, changes));
      TRY_VOID(tx.audit("asset", id, "update", before, after, b.org_path));
      return Response::make_json(after);
    });
  }, {.summary = "Update an asset: status (scrapped / replaced), owner, batch, notes, unit, asset_tag (资产#), "
                 "commissioned_on (运行日期) (send the version you read)",
      .tag = "installbase", .permission = "asset.write"});
}

}  // namespace

customers::Purchase sale_purchase(const std::string& serial, const Sale& s, std::string source,
                                  std::optional<int64_t> by) {
  customers::Purchase p;
  p.amount_fen = s.amount_fen.value_or(0);
  p.source = std::move(source);
  p.reference = serial + (s.invoice_no ? " / " + *s.invoice_no : std::string());
  p.purchased_on = s.date;
  p.created_by = by;
  return p;
}

Result<void> record_sale(api::WriteTx& tx, int64_t asset_id, const Sale& s) {
  auto a = TRY(find_by_id(tx.db, asset_id));
  if (!a) return api::not_found("asset", asset_id);
  return apply_sale(tx, *a, s);
}

Result<void> record_installation(api::WriteTx& tx, int64_t asset_id, const Installation& s) {
  auto a = TRY(find_by_id(tx.db, asset_id));
  if (!a) return api::not_found("asset", asset_id);
  return apply_install(tx, *a, s);
}

bool valid_serial(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '/' || ch == '.';
  });
}

bool valid_past_date(const std::string& s) { return valid_date(s) && s <= latest_allowed_date(); }

std::string normalize_serial(std::string_view raw) {
  size_t b = 0, e = raw.size();
  while (b < e && (raw[b] == ' ' || raw[b] == '\t' || raw[b] == '\r' || raw[b] == '\n')) ++b;
  while (e > b && (raw[e - 1] == ' ' || raw[e - 1] == '\t' || raw[e - 1] == '\r' || raw[e - 1] == '\n')) --e;
  std::string s(raw.substr(b, e - b));
  for (auto& ch : s)
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  return s;
}

Result<std::optional<Asset>> find_by_serial(Conn& c, std::string_view serial) {
  auto row = TRY(c.one(std::string(kSelect) + " WHERE a.serial = ?", {normalize_serial(serial)}));
  if (!row) return std::optional<Asset>();
  return std::optional<Asset>(from_row(*row));
}

Result<std::optional<Asset>> find_by_id(Conn& c, int64_t id) {
  auto row = TRY(c.one(std::string(kSelect) + " WHERE a.id = ?", {id}));
  if (!row) return std::optional<Asset>();
  return std::optional<Asset>(from_row(*row));
}

Result<std::vector<Asset>> assets_of_customers(Conn& c, const std::vector<int64_t>& ids) {
  std::vector<Asset> out;
  for (size_t at = 0; at < ids.size(); at += 200) {
    size_t n = std::min<size_t>(200, ids.size() - at);
    std::string sql = std::string(kSelect) + " WHERE a.owner_customer_id IN (";
    store::Params params;
    for (size_t i = 0; i < n; ++i) {
      sql += i ? ",?" : "?";
      params.push_back(ids[at + i]);
    }
    sql += ") ORDER BY a.id";
    auto rows = TRY(c.query(sql, params));
    for (const auto& r : rows) out.push_back(from_row(r));
  }
  std::sort(out.begin(), out.end(), [](const Asset& a, const Asset& b) { return a.id < b.id; });
  return out;
}

json to_json(const Asset& a) {
  json sale = nullptr, install = nullptr;
  if (a.sale_date)
    sale = json{{"dealer_unit_id", oj(a.sale_dealer_unit_id)},
                {"dealer_name", a.sale_dealer_unit_id ? json(a.sale_dealer_name) : json(nullptr)},
                {"date", *a.sale_date},
                {"invoice_no", oj(a.sale_invoice_no)},
                {"amount_fen", oj(a.sale_amount_fen)}};
  if (a.install_date)
    install = json{{"unit_id", oj(a.install_unit_id)},
                   {"unit_name", a.install_unit_id ? json(a.install_unit_name) : json(nullptr)},
                   {"engineer_user_id", oj(a.install_engineer_user_id)},
                   {"engineer_name", a.install_engineer_user_id ? json(a.install_engineer_name) : json(nullptr)},
                   {"date", *a.install_date},
                   {"address", oj(a.install_address)},
                   {"division_code", oj(a.install_division_code)},
                   {"parts", a.install_parts}};
  return json{{"id", a.id},
              {"serial", a.serial},
              {"org_unit_id", a.org_unit_id},
              {"org_path", a.org_path},
              {"model_id", oj(a.model_id)},
              {"model_code", a.model_id ? json(a.model_code) : json(nullptr)},
              {"model_name", a.model_id ? json(a.model_name) : json(nullptr)},
              {"product_line_id", oj(a.product_line_id)},
              {"product_line_name", a.product_line_id ? json(a.product_line_name) : json(nullptr)},
              {"third_party", a.third_party},
              {"maker", oj(a.maker)},
              {"model_text", oj(a.model_text)},
              {"batch", oj(a.batch)},
              {"production_date", oj(a.production_date)},
              {"status", a.status},
              {"owner_customer_id", oj(a.owner_customer_id)},
              {"owner_name", a.owner_customer_id ? json(a.owner_name) : json(nullptr)},
              {"sale", sale},
              {"installation", install},
              {"notes", oj(a.notes)},
              {"asset_tag", oj(a.asset_tag)},
              {"commissioned_on", oj(a.commissioned_on)},
              {"version", a.version},
              {"created_at", iso_utc(a.created_at)},
              {"updated_at", iso_utc(a.updated_at)}};
}

Result<void> add_event(api::WriteTx& tx, int64_t asset_id, std::string_view kind, const json& detail) {
  TRY(tx.db.exec("INSERT INTO asset_events (asset_id, at, kind, detail_json, user_id, username) VALUES (?,?,?,?,?,?)",
                 {asset_id, now_ms(), std::string(kind), detail.dump(),
                  tx.who() ? store::Value(tx.who()->user_id) : store::Value(),
                  tx.who() ? tx.who()->username : std::string("system")}));
  return {};
}

Result<int64_t> insert_asset(Conn& c, const NewAsset& a) {
  auto unit = TRY(c.one("SELECT path FROM org_units WHERE id = ?", {a.org_unit_id}));
  if (!unit) return Error::invalid("org_unit_id does not exist", "org_unit_id");
  int64_t now = now_ms();
  auto row = TRY(c.one(
      "INSERT INTO assets (org_path, org_unit_id, serial, model_id, third_party, maker, model_text, batch, "
      "production_date, status, owner_customer_id, install_parts_json, notes, asset_tag, commissioned_on, version, "
      "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,'[]',?,?,?,1,?,?) RETURNING id",
      {unit->s(0), a.org_unit_id, normalize_serial(a.serial), opt(a.model_id), int64_t(a.third_party), opt(a.maker),
       opt(a.model_text), opt(a.batch), opt(a.production_date), a.status, opt(a.owner_customer_id), opt(a.notes),
       opt(a.asset_tag), opt(a.commissioned_on), now, now}));
  return row->i(0);
}

api::Module module() {
  api::Module m;
  m.name = "installbase";
  m.migrations = {{"installbase", 1, "assets (install base) and their timeline", R"sql(
CREATE TABLE assets (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  serial TEXT NOT NULL UNIQUE,
  model_id INTEGER REFERENCES models(id),
  third_party INTEGER NOT NULL DEFAULT 0,
  maker TEXT,
  model_text TEXT,
  batch TEXT,
  production_date TEXT,
  status TEXT NOT NULL CHECK (status IN ('in_stock','sold','installed','scrapped','replaced')),
  owner_customer_id INTEGER REFERENCES customers(id),
  sale_dealer_unit_id INTEGER REFERENCES org_units(id),
  sale_date TEXT,
  sale_invoice_no TEXT,
  sale_amount_fen INTEGER,
  install_unit_id INTEGER REFERENCES org_units(id),
  install_engineer_user_id INTEGER REFERENCES users(id),
  install_date TEXT,
  install_address TEXT,
  install_division_code TEXT,
  install_parts_json TEXT NOT NULL DEFAULT '[]',
  notes TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX assets_org_path ON assets(org_path);
CREATE INDEX assets_owner ON assets(owner_customer_id);
CREATE INDEX assets_model ON assets(model_id);
CREATE TABLE asset_events (
  id INTEGER PRIMARY KEY,
  asset_id INTEGER NOT NULL REFERENCES assets(id),
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  detail_json TEXT NOT NULL,
  user_id INTEGER REFERENCES users(id),
  username TEXT NOT NULL
) STRICT;
CREATE INDEX asset_events_asset ON asset_events(asset_id, at);
)sql"},
                  identity_migration()};
  m.routes = routes;
  return m;
}

}  // namespace shouhou::installbase
