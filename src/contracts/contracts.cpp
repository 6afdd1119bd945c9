#include "contracts/contracts.h"

#include <algorithm>
#include <set>

#include "core/input.h"
#include "core/util.h"
#include "customers/customers.h"
#include "installbase/installbase.h"
#include "org/org.h"

namespace shouhou::contracts {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

namespace {

const std::vector<std::string> kTypes = {"on_site", "depot", "parts_only", "full"};
const std::vector<std::string> kStatuses = {"draft", "active", "expired", "cancelled"};
const std::vector<std::string> kModes = {"8x5", "7x24"};

store::Value opt(const std::optional<std::string>& s) { return s ? store::Value(*s) : store::Value(); }

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

Result<std::string> date_field(const Input& in, const char* name) {
  std::string s = TRY(in.str(name, 10));
  if (!valid_date(s)) return Error::invalid(in.field(name) + " must be a date YYYY-MM-DD", in.field(name));
  return s;
}

bool valid_number(const std::string& s) {
  return !s.empty() && s.size() <= 40 && std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '/' || ch == '.';
  });
}

// Allowed status changes.
bool can_move(const std::string& from, const std::string& to) {
  if (from == to) return true;
  if (from == "draft") return to == "active" || to == "cancelled";
  if (from == "active") return to == "expired" || to == "cancelled";
  return false;  // expired and cancelled are final
}

constexpr const char* kSelect =
    "SELECT k.id, k.number, k.name, k.customer_id, cu.name, k.org_path, k.org_unit_id, k.type, k.status, "
    "k.response_mode, k.response_hours, k.onsite_hours, k.start_date, k.end_date, k.parts_discount_bp, "
    "k.labour_discount_bp, k.notes, k.version, k.created_at, k.updated_at "
    "FROM service_contracts k JOIN customers cu ON cu.id = k.customer_id";

Contract from_row(const store::Row& r) {
  Contract k;
  k.id = r.i(0);
  k.number = r.s(1);
  k.name = r.s(2);
  k.customer_id = r.i(3);
  k.customer_name = r.s(4);
  k.org_path = r.s(5);
  k.org_unit_id = r.i(6);
  k.type = r.s(7);
  k.status = r.s(8);
  k.response_mode = r.s(9);
  k.response_hours = r.i(10);
  k.onsite_hours = r.i(11);
  k.start_date = r.s(12);
  k.end_date = r.s(13);
  k.parts_discount_bp = r.i(14);
  k.labour_discount_bp = r.i(15);
  k.notes = r.os(16);
  k.version = r.i(17);
  k.created_at = r.i(18);
  k.updated_at = r.i(19);
  return k;
}

Result<json> assets_json(Conn& c, int64_t contract_id) {
  auto rows = TRY(c.query("SELECT ca.asset_id FROM contract_assets ca WHERE ca.contract_id = ? ORDER BY ca.asset_id",
                          {contract_id}));
  json out = json::array();
  for (const auto& r : rows) {
    auto a = TRY(installbase::find_by_id(c, r.i(0)));
    if (!a) continue;
    out.push_back(json{{"id", a->id}, {"serial", a->serial},
                       {"model_name", a->model_id ? json(a->model_name) : json(a->model_text ? *a->model_text : "")},
                       {"status", a->status}, {"owner_customer_id", a->owner_customer_id ? json(*a->owner_customer_id) : json(nullptr)}});
  }
  return out;
}

Result<json> detail_json(Conn& c, const Contract& k) {
  json j = to_json(k);
  j["assets"] = TRY(assets_json(c, k.id));
  return j;
}

Result<Contract> contract_in_scope(Conn& c, const http::Principal& who, int64_t id) {
  auto row = TRY(c.one(std::string(kSelect) + " WHERE k.id = ?", {id}));
  if (!row || !who.reaches(row->s(5))) return api::not_found("contract", id);
  return from_row(*row);
}

// Validates asset_ids: in scope and owned by the customer (or one of its sites).
Result<std::vector<int64_t>> read_assets(Conn& c, const http::Principal& who, const json& body, int64_t customer_id) {
  std::vector<int64_t> out;
  if (!body.contains("asset_ids") || body["asset_ids"].is_null()) return out;
  const json& arr = body["asset_ids"];
  if (!arr.is_array()) return Error::invalid("asset_ids must be an array of asset ids", "asset_ids");
  if (arr.size() > 1000) return Error::invalid("asset_ids has more than 1000 items", "asset_ids");
  std::set<int64_t> seen;
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string f = "asset_ids[" + std::to_string(i) + "]";
    if (!arr[i].is_number_integer() || arr[i].get<int64_t>() < 1) return Error::invalid(f + " must be an asset id", f);
    int64_t id = arr[i].get<int64_t>();
    if (!seen.insert(id).second) continue;
    auto a = TRY(installbase::find_by_id(c, id));
    if (!a || !who.reaches(a->org_path)) return Error::invalid(f + ": asset " + std::to_string(id) + " is not an asset you can see", f);
    bool owned = a->owner_customer_id && *a->owner_customer_id == customer_id;
    if (!owned && a->owner_customer_id) {
      auto parent = TRY(c.one("SELECT parent_id FROM customers WHERE id = ?", {*a->owner_customer_id}));
      owned = parent && !parent->null(0) && parent->i(0) == customer_id;
    }
    if (!owned)
      return Error::invalid(f + ": asset " + a->serial + " is not owned by the contract's customer or its sites", f);
    out.push_back(id);
  }
  return out;
}

Result<void> set_assets(Conn& c, int64_t contract_id, const std::vector<int64_t>& ids) {
  TRY(c.exec("DELETE FROM contract_assets WHERE contract_id = ?", {contract_id}));
  for (int64_t a : ids)
    TRY(c.exec("INSERT INTO contract_assets (contract_id, asset_id) VALUES (?, ?)", {contract_id, a}));
  return {};
}

// Default response terms per mode: 8x5 next business day on site, 7x24 four hours.
int64_t default_response(const std::string& mode) { return mode == "7x24" ? 2 : 4; }
int64_t default_onsite(const std::string& mode) { return mode == "7x24" ? 4 : 24; }

Result<std::vector<Contract>> select_many(Conn& c, const std::string& where, const store::Params& params) {
  auto rows = TRY(c.query(std::string(kSelect) + " " + where, params));
  std::vector<Contract> out;
  for (const auto& r : rows) out.push_back(from_row(r));
  return out;
}

void routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/contracts", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req));
      std::string where = "WHERE k.org_path LIKE ? AND k.id > ?";
      store::Params params{req.principal->org_path + "%", pg.after_id};
      if (auto v = TRY(api::query_id(req, "customer_id"))) { where += " AND k.customer_id = ?"; params.push_back(*v); }
      if (auto v = TRY(api::query_id(req, "asset_id"))) {
        where += " AND EXISTS (SELECT 1 FROM contract_assets ca WHERE ca.contract_id = k.id AND ca.asset_id = ?)";
        params.push_back(*v);
      }
      if (auto s = req.q("status"); s && !s->empty()) {
        if (std::find(kStatuses.begin(), kStatuses.end(), *s) == kStatuses.end())
          return Error::invalid("status must be one of draft, active, expired, cancelled", "status");
        where += " AND k.status = ?";
        params.push_back(*s);
      }
      if (auto q = req.q("q"); q && !q->empty()) {
        where += " AND (instr(k.number, ?) > 0 OR instr(k.name, ?) > 0 OR instr(cu.name, ?) > 0)";
        params.insert(params.end(), {*q, *q, *q});
      }
      where += " ORDER BY k.id LIMIT ?";
      params.push_back(pg.limit + 1);
      auto list = TRY(select_many(c, where, params));
      json items = json::array();
      for (const auto& k : list) {
        json j = to_json(k);
        auto n = TRY(c.one("SELECT COUNT(*) FROM contract_assets WHERE contract_id = ?", {k.id}));
        j["asset_count"] = n->i(0);
        items.push_back(std::move(j));
      }
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "List service contracts in the caller's scope", .tag = "contracts", .permission = "contract.read",
      .query_params = {"limit", "cursor", "customer_id", "asset_id", "status", "q"}});

  r.get("/api/v1/contracts/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto k = TRY(contract_in_scope(c, *req.principal, id));
      return Response::make_json(TRY(detail_json(c, k)));
    });
  }, {.summary = "Get a service contract with its covered assets", .tag = "contracts", .permission = "contract.read"});

  r.post("/api/v1/contracts", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      Input in(*body);
      Contract k;
      k.number = TRY(in.str("number", 40));
      if (!valid_number(k.number)) return Error::invalid("number may hold letters, digits and - _ / . only", "number");
      k.name = TRY(in.str("name", 100));
      k.customer_id = TRY(in.integer("customer_id", 1));
      auto cust = customers::customer_in_scope(tx.db, who, k.customer_id);
      if (!cust) return Error::invalid("customer_id " + std::to_string(k.customer_id) + " is not a customer you can see", "customer_id");
      k.type = TRY(in.one_of("type", kTypes));
      k.status = in.has("status") ? TRY(in.one_of("status", {"draft", "active"})) : "draft";
      k.response_mode = TRY(in.one_of("response_mode", kModes));
      k.response_hours = in.has("response_hours") ? TRY(in.integer("response_hours", 1, 24 * 30)) : default_response(k.response_mode);
      k.onsite_hours = in.has("onsite_hours") ? TRY(in.integer("onsite_hours", 1, 24 * 60)) : default_onsite(k.response_mode);
      k.start_date = TRY(date_field(in, "start_date"));
      k.end_date = TRY(date_field(in, "end_date"));
      if (k.end_date < k.start_date) return Error::invalid("end_date is before start_date", "end_date");
      k.parts_discount_bp = in.has("parts_discount_bp") ? TRY(in.integer("parts_discount_bp", 0, 10000)) : 0;
      k.labour_discount_bp = in.has("labour_discount_bp") ? TRY(in.integer("labour_discount_bp", 0, 10000)) : 0;
      k.notes = TRY(in.opt_str("notes", 2000));
      auto unit_id = TRY(in.opt_integer("org_unit_id", 1));
      if (unit_id) {
        auto u = org::unit_in_scope(tx.db, who, *unit_id);
        if (!u) return Error::invalid("org_unit_id " + std::to_string(*unit_id) + " is not an org unit you manage", "org_unit_id");
        k.org_unit_id = u->id;
      } else {
        k.org_unit_id = who.org_unit_id;
      }
      auto assets = TRY(read_assets(tx.db, who, *body, k.customer_id));
      auto dup = TRY(tx.db.one("SELECT id FROM service_contracts WHERE number = ?", {k.number}));
      if (dup) return Error::conflict("contract number " + k.number + " is taken", "number");
      int64_t id = TRY(insert_contract(tx.db, k, assets));
      auto rec = TRY(contract_in_scope(tx.db, who, id));
      json j = TRY(detail_json(tx.db, rec));
      TRY_VOID(tx.audit("contract", id, "create", nullptr, j, rec.org_path));
      for (int64_t a : assets)
        TRY_VOID(installbase::add_event(tx, a, "contract_added", json{{"contract_id", id}, {"number", k.number},
                                                                      {"start_date", k.start_date}, {"end_date", k.end_date}}));
      return Response::make_json(j, 201);
    });
  }, {.summary = "Create a service contract", .tag = "contracts", .permission = "contract.write",
      .request_schema = api::schema_object({{"number", "string"}, {"name", "string"}, {"customer_id", "integer"},
                                            {"type", "string"}, {"status", "string"}, {"response_mode", "string"},
                                            {"response_hours", "integer"}, {"onsite_hours", "integer"},
                                            {"start_date", "string"}, {"end_date", "string"},
                                            {"parts_discount_bp", "integer"}, {"labour_discount_bp", "integer"},
                                            {"asset_ids", "array"}, {"notes", "string"}, {"org_unit_id", "integer"}},
                                           {"number", "name", "customer_id", "type", "response_mode", "start_date", "end_date"})});

  r.patch("/api/v1/contracts/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      int64_t id = TRY(api::path_id(req));
      Contract b = TRY(contract_in_scope(tx.db, who, id));
      int64_t version = TRY(api::expected_version(req, *body));
      for (const char* f : {"number", "customer_id"})
        if (body->contains(f)) return Error::invalid(std::string(f) + " cannot be changed", f);
      json before = TRY(detail_json(tx.db, b));
      Input in(*body);
      Contract k = b;
      if (in.has("name")) k.name = TRY(in.str("name", 100));
      if (in.has("type")) k.type = TRY(in.one_of("type", kTypes));
      if (in.has("status")) {
        k.status = TRY(in.one_of("status", kStatuses));
        if (!can_move(b.status, k.status))
          return Error::conflict("a " + b.status + " contract cannot become " + k.status, "status");
      }
      if (in.has("response_mode")) k.response_mode = TRY(in.one_of("response_mode", kModes));
      if (in.has("response_hours")) k.response_hours = TRY(in.integer("response_hours", 1, 24 * 30));
      if (in.has("onsite_hours")) k.onsite_hours = TRY(in.integer("onsite_hours", 1, 24 * 60));
      if (in.has("start_date")) k.start_date = TRY(date_field(in, "start_date"));
      if (in.has("end_date")) k.end_date = TRY(date_field(in, "end_date"));
      if (k.end_date < k.start_date) return Error::invalid("end_date is before start_date", in.has("end_date") ? "end_date" : "start_date");
      if (in.has("parts_discount_bp")) k.parts_discount_bp = TRY(in.integer("parts_discount_bp", 0, 10000));
      if (in.has("labour_discount_bp")) k.labour_discount_bp = TRY(in.integer("labour_discount_bp", 0, 10000));
      if (body->contains("notes")) k.notes = TRY(in.opt_str("notes", 2000));
      auto n = TRY(tx.db.exec(
          "UPDATE service_contracts SET name = ?, type = ?, status = ?, response_mode = ?, response_hours = ?, "
          "onsite_hours = ?, start_date = ?, end_date = ?, parts_discount_bp = ?, labour_discount_bp = ?, notes = ?, "
          "version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
          {k.name, k.type, k.status, k.response_mode, k.response_hours, k.onsite_hours, k.start_date, k.end_date,
           k.parts_discount_bp, k.labour_discount_bp, opt(k.notes), now_ms(), id, version}));
      if (n == 0)
        return Error::conflict("contract " + std::to_string(id) + " was changed by someone else (version " +
                                   std::to_string(b.version) + ")", "version");
      if (body->contains("asset_ids")) {
        auto assets = TRY(read_assets(tx.db, who, *body, b.customer_id));
        std::set<int64_t> old_ids;
        for (auto& a : before["assets"]) old_ids.insert(a["id"].get<int64_t>());
        TRY_VOID(set_assets(tx.db, id, assets));
        for (int64_t a : assets)
          if (!old_ids.count(a))
            TRY_VOID(installbase::add_event(tx, a, "contract_added", json{{"contract_id", id}, {"number", k.number}}));
        for (int64_t a : old_ids)
          if (std::find(assets.begin(), assets.end(), a) == assets.end())
            TRY_VOID(installbase::add_event(tx, a, "contract_removed", json{{"contract_id", id}, {"number", k.number}}));
      }
      auto rec = TRY(contract_in_scope(tx.db, who, id));
      json after = TRY(detail_json(tx.db, rec));
      TRY_VOID(tx.audit("contract", id, "update", before, after, b.org_path));
      return Response::make_json(after);
    });
  }, {.summary = "Update a service contract: terms, status, covered assets (send the version you read)",
      .tag = "contracts", .permission = "contract.write"});
}

}  // namespace

Result<std::vector<Contract>> contracts_for_asset(Conn& c, int64_t asset_id) {
  return select_many(c, "WHERE k.id IN (SELECT contract_id FROM contract_assets WHERE asset_id = ?) ORDER BY k.id",
                     {asset_id});
}

Result<std::vector<Contract>> contracts_of_customers(Conn& c, const std::vector<int64_t>& ids) {
  std::vector<Contract> out;
  for (size_t at = 0; at < ids.size(); at += 200) {
    size_t n = std::min<size_t>(200, ids.size() - at);
    std::string where = "WHERE k.customer_id IN (";
    store::Params params;
    for (size_t i = 0; i < n; ++i) {
      where += i ? ",?" : "?";
      params.push_back(ids[at + i]);
    }
    auto part = TRY(select_many(c, where + ") ORDER BY k.id", params));
    out.insert(out.end(), part.begin(), part.end());
  }
  std::sort(out.begin(), out.end(), [](const Contract& a, const Contract& b) { return a.id < b.id; });
  return out;
}

json to_json(const Contract& k) {
  return json{{"id", k.id},
              {"number", k.number},
              {"name", k.name},
              {"customer_id", k.customer_id},
              {"customer_name", k.customer_name},
              {"org_unit_id", k.org_unit_id},
              {"org_path", k.org_path},
              {"type", k.type},
              {"status", k.status},
              {"response_mode", k.response_mode},
              {"response_hours", k.response_hours},
              {"onsite_hours", k.onsite_hours},
              {"start_date", k.start_date},
              {"end_date", k.end_date},
              {"parts_discount_bp", k.parts_discount_bp},
              {"labour_discount_bp", k.labour_discount_bp},
              {"notes", k.notes ? json(*k.notes) : json(nullptr)},
              {"version", k.version},
              {"created_at", iso_utc(k.created_at)},
              {"updated_at", iso_utc(k.updated_at)}};
}

Result<int64_t> insert_contract(Conn& c, const Contract& k, const std::vector<int64_t>& asset_ids) {
  auto unit = TRY(c.one("SELECT path FROM org_units WHERE id = ?", {k.org_unit_id}));
  if (!unit) return Error::invalid("org_unit_id does not exist", "org_unit_id");
  int64_t now = now_ms();
  auto row = TRY(c.one(
      "INSERT INTO service_contracts (org_path, org_unit_id, number, name, customer_id, type, status, response_mode, "
      "response_hours, onsite_hours, start_date, end_date, parts_discount_bp, labour_discount_bp, notes, version, "
      "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?) RETURNING id",
      {unit->s(0), k.org_unit_id, k.number, k.name, k.customer_id, k.type, k.status, k.response_mode, k.response_hours,
       k.onsite_hours, k.start_date, k.end_date, k.parts_discount_bp, k.labour_discount_bp, opt(k.notes), now, now}));
  int64_t id = row->i(0);
  TRY_VOID(set_assets(c, id, asset_ids));
  return id;
}

api::Module module() {
  api::Module m;
  m.name = "contracts";
  m.migrations = {{"contracts", 1, "service contracts and the assets they cover", R"sql(
CREATE TABLE service_contracts (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  number TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  type TEXT NOT NULL CHECK (type IN ('on_site','depot','parts_only','full')),
  status TEXT NOT NULL CHECK (status IN ('draft','active','expired','cancelled')),
  response_mode TEXT NOT NULL CHECK (response_mode IN ('8x5','7x24')),
  response_hours INTEGER NOT NULL,
  onsite_hours INTEGER NOT NULL,
  start_date TEXT NOT NULL,
  end_date TEXT NOT NULL,
  parts_discount_bp INTEGER NOT NULL DEFAULT 0 CHECK (parts_discount_bp BETWEEN 0 AND 10000),
  labour_discount_bp INTEGER NOT NULL DEFAULT 0 CHECK (labour_discount_bp BETWEEN 0 AND 10000),
  notes TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX service_contracts_customer ON service_contracts(customer_id);
CREATE INDEX service_contracts_org_path ON service_contracts(org_path);
CREATE TABLE contract_assets (
  id INTEGER PRIMARY KEY,
  contract_id INTEGER NOT NULL REFERENCES service_contracts(id),
  asset_id INTEGER NOT NULL REFERENCES assets(id),
  UNIQUE (contract_id, asset_id)
) STRICT;
CREATE INDEX contract_assets_asset ON contract_assets(asset_id);
)sql"}};
  m.routes = routes;
  return m;
}

}  // namespace shouhou::contracts
