// The warranty module around decide(): policies as data, the entitlement
// endpoint GET /api/v1/warranty/{serial}.
#include <algorithm>
#include <set>

#include "contracts/contracts.h"
#include "core/input.h"
#include "core/util.h"
#include "installbase/installbase.h"
#include "products/products.h"
#include "warranty/warranty.h"

namespace shouhou::warranty {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

namespace {

const std::vector<std::string> kBases = {"sale", "installation", "production"};

constexpr const char* kSelect =
    "SELECT w.id, w.name, w.product_line_id, pl.name, w.model_id, m.name, w.valid_from, w.unit_months, "
    "w.key_parts_json, w.start_basis, w.fallback_basis, w.requires_invoice, w.production_offset_days, w.parts_pct, "
    "w.labour_pct, w.travel_pct, w.response_mode, w.response_hours, w.onsite_hours, w.exclusions_json, w.active, "
    "w.org_path, w.version, w.created_at, w.updated_at "
    "FROM warranty_policies w JOIN product_lines pl ON pl.id = w.product_line_id LEFT JOIN models m ON m.id = w.model_id";

json parse_array(const std::string& s) {
  auto j = json::parse(s, nullptr, false);
  return j.is_array() ? j : json::array();
}

json policy_json(const store::Row& r) {
  return json{{"id", r.i(0)},
              {"name", r.s(1)},
              {"product_line_id", r.i(2)},
              {"product_line_name", r.s(3)},
              {"model_id", r.null(4) ? json(nullptr) : json(r.i(4))},
              {"model_name", r.null(4) ? json(nullptr) : json(r.s(5))},
              {"valid_from", r.s(6)},
              {"unit_months", r.i(7)},
              {"key_parts", parse_array(r.s(8))},
              {"start_basis", r.s(9)},
              {"fallback_basis", r.s(10)},
              {"requires_invoice", r.i(11) != 0},
              {"production_offset_days", r.i(12)},
              {"parts_pct", r.i(13)},
              {"labour_pct", r.i(14)},
              {"travel_pct", r.i(15)},
              {"response_mode", r.s(16)},
              {"response_hours", r.i(17)},
              {"onsite_hours", r.i(18)},
              {"exclusions", parse_array(r.s(19))},
              {"active", r.i(20) != 0},
              {"org_path", r.s(21)},
              {"version", r.i(22)},
              {"created_at", iso_utc(r.i(23))},
              {"updated_at", iso_utc(r.i(24))}};
}

Policy policy_from_row(const store::Row& r) {
  Policy p;
  p.id = r.i(0);
  p.name = r.s(1);
  p.unit_months = static_cast<int>(r.i(7));
  for (auto& kp : parse_array(r.s(8)))
    if (kp.is_object()) p.key_parts.push_back({kp.value("category", ""), kp.value("months", 0)});
  p.start_basis = parse_basis(r.s(9)).value_or(Basis::installation);
  p.fallback_basis = parse_basis(r.s(10)).value_or(Basis::none);
  p.requires_invoice = r.i(11) != 0;
  p.production_offset_days = static_cast<int>(r.i(12));
  p.parts_pct = static_cast<int>(r.i(13));
  p.labour_pct = static_cast<int>(r.i(14));
  p.travel_pct = static_cast<int>(r.i(15));
  p.response_mode = r.s(16);
  p.response_hours = static_cast<int>(r.i(17));
  p.onsite_hours = static_cast<int>(r.i(18));
  return p;
}

Result<std::optional<json>> load_policy(Conn& c, int64_t id) {
  auto row = TRY(c.one(std::string(kSelect) + " WHERE w.id = ?", {id}));
  if (!row) return std::optional<json>();
  return std::optional<json>(policy_json(*row));
}

// The policy for a model / product line on the date the unit went into
// service: a model-specific one before the product line's, the latest
// valid_from first.
Result<std::optional<store::Row>> policy_row_for(Conn& c, std::optional<int64_t> model_id, int64_t line_id,
                                                 const std::string& in_service) {
  return c.one(std::string(kSelect) +
                   " WHERE w.active = 1 AND w.product_line_id = ? AND (w.model_id IS NULL OR w.model_id = ?) "
                   "AND w.valid_from <= ? ORDER BY CASE WHEN w.model_id IS NULL THEN 1 ELSE 0 END, w.valid_from DESC, "
                   "w.id DESC LIMIT 1",
               {line_id, model_id ? store::Value(*model_id) : store::Value(int64_t(0)), in_service});
}

struct PolicyIn {
  std::string name;
  int64_t product_line_id = 0;
  std::optional<int64_t> model_id;
  std::string valid_from = "1900-01-01";
  int64_t unit_months = 12;
  json key_parts = json::array();
  std::string start_basis = "installation", fallback_basis = "sale";
  bool requires_invoice = false;
  int64_t production_offset_days = 0;
  int64_t parts_pct = 100, labour_pct = 100, travel_pct = 100;
  std::string response_mode = "8x5";
  int64_t response_hours = 24, onsite_hours = 48;
  json exclusions = json::array();
  bool active = true;
};

PolicyIn from_json(const json& j) {
  PolicyIn p;
  p.name = j["name"];
  p.product_line_id = j["product_line_id"];
  if (!j["model_id"].is_null()) p.model_id = j["model_id"].get<int64_t>();
  p.valid_from = j["valid_from"];
  p.unit_months = j["unit_months"];
  p.key_parts = j["key_parts"];
  p.start_basis = j["start_basis"];
  p.fallback_basis = j["fallback_basis"];
  p.requires_invoice = j["requires_invoice"];
  p.production_offset_days = j["production_offset_days"];
  p.parts_pct = j["parts_pct"];
  p.labour_pct = j["labour_pct"];
  p.travel_pct = j["travel_pct"];
  p.response_mode = j["response_mode"];
  p.response_hours = j["response_hours"];
  p.onsite_hours = j["onsite_hours"];
  p.exclusions = j["exclusions"];
  p.active = j["active"];
  return p;
}

// Reads the fields present in the body over `p` (all of them for a create).
Result<void> read_policy(Conn& c, const json& body, PolicyIn& p, bool create) {
  Input in(body);
  auto want = [&](const char* f) { return create ? true : body.contains(f); };
  if (want("name")) p.name = TRY(in.str("name", 100));
  if (create || body.contains("product_line_id")) {
    p.product_line_id = TRY(in.integer("product_line_id", 1));
    auto line = TRY(c.one("SELECT id FROM product_lines WHERE id = ?", {p.product_line_id}));
    if (!line) return Error::invalid("product_line_id " + std::to_string(p.product_line_id) + " is not a product line", "product_line_id");
  }
  if (body.contains("model_id")) p.model_id = TRY(in.opt_integer("model_id", 1));
  if (p.model_id) {
    auto m = TRY(products::model_info(c, *p.model_id));
    if (!m) return Error::invalid("model_id " + std::to_string(*p.model_id) + " is not a model", "model_id");
    if (m->product_line_id != p.product_line_id)
      return Error::invalid("model " + m->code + " is not in this product line", "model_id");
  }
  if (in.has("valid_from")) {
    std::string v = TRY(in.str("valid_from", 10));
    if (!parse_date(v)) return Error::invalid("valid_from must be a date YYYY-MM-DD", "valid_from");
    p.valid_from = v;
  }
  if (create ? in.has("unit_months") : body.contains("unit_months")) p.unit_months = TRY(in.integer("unit_months", 0, 240));
  if (body.contains("key_parts")) {
    const json& arr = body["key_parts"];
    if (!arr.is_array()) return Error::invalid("key_parts must be an array of {category, months}", "key_parts");
    if (arr.size() > 50) return Error::invalid("key_parts has more than 50 items", "key_parts");
    json out = json::array();
    std::set<std::string> seen;
    for (size_t i = 0; i < arr.size(); ++i) {
      Input kp(arr[i], "key_parts[" + std::to_string(i) + "]");
      std::string cat = TRY(kp.str("category", 40));
      int64_t months = TRY(kp.integer("months", 0, 240));
      if (!seen.insert(cat).second) return Error::invalid("key part " + cat + " is listed twice", kp.field("category"));
      out.push_back(json{{"category", cat}, {"months", months}});
    }
    p.key_parts = out;
  }
  if (in.has("start_basis")) p.start_basis = TRY(in.one_of("start_basis", kBases));
  if (in.has("fallback_basis")) p.fallback_basis = TRY(in.one_of("fallback_basis", {"sale", "installation", "production", "none"}));
  if (in.has("requires_invoice")) p.requires_invoice = TRY(in.boolean("requires_invoice"));
  if (in.has("production_offset_days")) p.production_offset_days = TRY(in.integer("production_offset_days", 0, 3650));
  if (in.has("parts_pct")) p.parts_pct = TRY(in.integer("parts_pct", 0, 100));
  if (in.has("labour_pct")) p.labour_pct = TRY(in.integer("labour_pct", 0, 100));
  if (in.has("travel_pct")) p.travel_pct = TRY(in.integer("travel_pct", 0, 100));
  if (in.has("response_mode")) p.response_mode = TRY(in.one_of("response_mode", {"8x5", "7x24"}));
  if (in.has("response_hours")) p.response_hours = TRY(in.integer("response_hours", 1, 24 * 30));
  if (in.has("onsite_hours")) p.onsite_hours = TRY(in.integer("onsite_hours", 1, 24 * 60));
  if (body.contains("exclusions")) {
    auto ex = TRY(in.str_list("exclusions", 200, 40));
    p.exclusions = ex;
  }
  if (in.has("active")) p.active = TRY(in.boolean("active"));
  // One active policy per product line / model / valid_from.
  return {};
}

Result<void> unique_active(Conn& c, const PolicyIn& p, int64_t self_id) {
  if (!p.active) return {};
  auto dup = TRY(c.one("SELECT id FROM warranty_policies WHERE active = 1 AND product_line_id = ? AND "
                       "COALESCE(model_id, 0) = ? AND valid_from = ? AND id <> ?",
                       {p.product_line_id, p.model_id.value_or(0), p.valid_from, self_id}));
  if (dup)
    return Error::conflict("policy " + std::to_string(dup->i(0)) +
                               " is already active for this product line / model from " + p.valid_from,
                           "valid_from");
  return {};
}

store::Params policy_params(const PolicyIn& p) {
  return {p.name, p.product_line_id, p.model_id ? store::Value(*p.model_id) : store::Value(), p.valid_from,
          p.unit_months, p.key_parts.dump(), p.start_basis, p.fallback_basis, int64_t(p.requires_invoice),
          p.production_offset_days, p.parts_pct, p.labour_pct, p.travel_pct, p.response_mode, p.response_hours,
          p.onsite_hours, p.exclusions.dump(), int64_t(p.active)};
}

void policy_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/warranty-policies", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req, 100));
      std::string sql = std::string(kSelect) + " WHERE w.id > ?";
      store::Params params{pg.after_id};
      if (auto v = TRY(api::query_id(req, "product_line_id"))) {
        sql += " AND w.product_line_id = ?";
        params.push_back(*v);
      }
      sql += " ORDER BY w.id LIMIT ?";
      params.push_back(pg.limit + 1);
      auto rows = TRY(c.query(sql, params));
      json items = json::array();
      for (const auto& row : rows) items.push_back(policy_json(row));
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "List warranty policies", .tag = "warranty", .permission = "product.read",
      .query_params = {"limit", "cursor", "product_line_id"}});

  r.get("/api/v1/warranty-policies/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto j = TRY(load_policy(c, id));
      if (!j) return api::not_found("warranty policy", id);
      return Response::make_json(*j);
    });
  }, {.summary = "Get a warranty policy", .tag = "warranty", .permission = "product.read"});

  r.post("/api/v1/warranty-policies", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      PolicyIn pi;
      TRY_VOID(read_policy(tx.db, *body, pi, true));
      TRY_VOID(unique_active(tx.db, pi, 0));
      int64_t now = now_ms();
      auto params = policy_params(pi);
      params.insert(params.begin(), tx.who()->org_path);
      params.push_back(now);
      params.push_back(now);
      auto row = TRY(tx.db.one(
          "INSERT INTO warranty_policies (org_path, name, product_line_id, model_id, valid_from, unit_months, "
          "key_parts_json, start_basis, fallback_basis, requires_invoice, production_offset_days, parts_pct, "
          "labour_pct, travel_pct, response_mode, response_hours, onsite_hours, exclusions_json, active, version, "
          "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?) RETURNING id",
          params));
      int64_t id = row->i(0);
      json rec = *TRY(load_policy(tx.db, id));
      TRY_VOID(tx.audit("warranty_policy", id, "create", nullptr, rec, tx.who()->org_path));
      return Response::make_json(rec, 201);
    });
  }, {.summary = "Create a warranty policy (terms as data)", .tag = "warranty", .permission = "product.write",
      .request_schema = api::schema_object({{"name", "string"}, {"product_line_id", "integer"}, {"model_id", "integer"},
                                            {"valid_from", "string"}, {"unit_months", "integer"}, {"key_parts", "array"},
                                            {"start_basis", "string"}, {"fallback_basis", "string"},
                                            {"requires_invoice", "boolean"}, {"production_offset_days", "integer"},
                                            {"parts_pct", "integer"}, {"labour_pct", "integer"}, {"travel_pct", "integer"},
                                            {"response_mode", "string"}, {"response_hours", "integer"},
                                            {"onsite_hours", "integer"}, {"exclusions", "array"}, {"active", "boolean"}},
                                           {"name", "product_line_id"})});

  r.patch("/api/v1/warranty-policies/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto before = TRY(load_policy(tx.db, id));
      if (!before) return api::not_found("warranty policy", id);
      int64_t version = TRY(api::expected_version(req, *body));
      PolicyIn pi = from_json(*before);
      TRY_VOID(read_policy(tx.db, *body, pi, false));
      TRY_VOID(unique_active(tx.db, pi, id));
      auto params = policy_params(pi);
      params.push_back(now_ms());
      params.push_back(id);
      params.push_back(version);
      auto n = TRY(tx.db.exec(
          "UPDATE warranty_policies SET name = ?, product_line_id = ?, model_id = ?, valid_from = ?, unit_months = ?, "
          "key_parts_json = ?, start_basis = ?, fallback_basis = ?, requires_invoice = ?, production_offset_days = ?, "
          "parts_pct = ?, labour_pct = ?, travel_pct = ?, response_mode = ?, response_hours = ?, onsite_hours = ?, "
          "exclusions_json = ?, active = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
          params));
      if (n == 0) return Error::conflict("warranty policy " + std::to_string(id) + " was changed by someone else", "version");
      json after = *TRY(load_policy(tx.db, id));
      TRY_VOID(tx.audit("warranty_policy", id, "update", *before, after, (*before)["org_path"].get<std::string>()));
      return Response::make_json(after);
    });
  }, {.summary = "Update a warranty policy (send the version you read)", .tag = "warranty", .permission = "product.write"});
}

void entitlement_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/warranty/{serial}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      Date date = today_cn();
      if (auto d = req.q("date"); d && !d->empty()) {
        auto pd = parse_date(*d);
        if (!pd) return Error::invalid("date must be a date YYYY-MM-DD", "date");
        date = *pd;
      }
      std::string component = req.q("component").value_or("");
      if (utf8_length(component) > 60) return Error::invalid("component is longer than 60 characters", "component");
      std::string serial = installbase::normalize_serial(req.params["serial"]);
      if (serial.empty() || serial.size() > 64) return Error::invalid("serial must be 1..64 characters", "serial");
      Check ck = TRY(check(c, serial, date, component));
      json j = to_json(ck.decision);
      j["serial"] = serial;
      j["known"] = ck.facts.known;
      j["exclusions"] = ck.exclusions;
      j["asset"] = nullptr;
      j["owner"] = nullptr;
      j["in_scope"] = false;
      if (ck.facts.known) {
        auto a = TRY(installbase::find_by_id(c, ck.facts.asset_id));
        bool in_scope = a && req.principal->reaches(a->org_path);
        j["in_scope"] = in_scope;
        if (a) {
          // Outside the caller's scope the entitlement is answered (the unit
          // is in front of the engineer), but not who owns it or which
          // contract covers it.
          json asset{{"model_name", a->model_id ? json(a->model_name) : json(nullptr)},
                     {"model_code", a->model_id ? json(a->model_code) : json(nullptr)},
                     {"product_line_name", a->product_line_id ? json(a->product_line_name) : json(nullptr)},
                     {"third_party", a->third_party},
                     {"maker", a->maker ? json(*a->maker) : json(nullptr)},
                     {"model_text", a->model_text ? json(*a->model_text) : json(nullptr)},
                     {"status", a->status},
                     {"sale_date", a->sale_date ? json(*a->sale_date) : json(nullptr)},
                     {"install_date", a->install_date ? json(*a->install_date) : json(nullptr)},
                     {"production_date", a->production_date ? json(*a->production_date) : json(nullptr)},
                     {"has_invoice", ck.facts.has_invoice}};
          if (in_scope) {
            asset["id"] = a->id;
            if (a->owner_customer_id) j["owner"] = json{{"customer_id", *a->owner_customer_id}, {"name", a->owner_name}};
          } else if (!j["contract"].is_null()) {
            for (const char* f : {"id", "number", "name"}) j["contract"].erase(f);
            j["contracts_not_applied"] = json::array();
          }
          j["asset"] = asset;
        }
      }
      return Response::make_json(j);
    });
  }, {.summary = "Entitlement of a serial on a date: warranty per unit and key part, contract, response terms, why",
      .tag = "warranty", .permission = "asset.read", .query_params = {"date", "component"}});
}

}  // namespace

Result<Check> check(Conn& c, std::string_view serial, Date date, std::string_view component) {
  Check ck;
  ck.facts.serial = installbase::normalize_serial(serial);
  auto a = TRY(installbase::find_by_serial(c, serial));
  if (a) {
    auto& f = ck.facts;
    f.known = true;
    f.asset_id = a->id;
    f.status = a->status;
    f.third_party = a->third_party;
    if (a->sale_date) f.sale_date = parse_date(*a->sale_date);
    if (a->install_date) f.install_date = parse_date(*a->install_date);
    if (a->production_date) f.production_date = parse_date(*a->production_date);
    f.has_invoice = a->sale_invoice_no.has_value();
    if (a->model_id) {
      auto mi = TRY(products::model_info(c, *a->model_id));
      if (mi)
        for (const auto& k : mi->components)
          f.components.push_back(Component{k.position, k.name, k.key_part, k.key_part_category});
    }
    if (a->model_id && a->product_line_id && !a->third_party) {
      // The policy in force when the unit went into service.
      std::optional<Date> since = f.sale_date;
      if (f.install_date && (!since || *f.install_date < *since)) since = f.install_date;
      std::string in_service = (since ? *since : date).str();
      auto row = TRY(policy_row_for(c, a->model_id, *a->product_line_id, in_service));
      if (row) {
        ck.policy = policy_from_row(*row);
        ck.exclusions = parse_array(row->s(19)).get<std::vector<std::string>>();
      }
    }
    std::vector<Contract> cs;
    for (const auto& k : TRY(contracts::contracts_for_asset(c, a->id))) {
      Contract x;
      x.id = k.id;
      x.number = k.number;
      x.name = k.name;
      x.type = k.type;
      x.status = k.status;
      x.response_mode = k.response_mode;
      x.response_hours = static_cast<int>(k.response_hours);
      x.onsite_hours = static_cast<int>(k.onsite_hours);
      auto s = parse_date(k.start_date), e = parse_date(k.end_date);
      if (!s || !e) continue;
      x.start = *s;
      x.end = *e;
      x.parts_discount_bp = static_cast<int>(k.parts_discount_bp);
      x.labour_discount_bp = static_cast<int>(k.labour_discount_bp);
      cs.push_back(std::move(x));
    }
    ck.decision = decide(ck.facts, ck.policy, cs, date, component);
  } else {
    ck.decision = decide(ck.facts, ck.policy, {}, date, component);
  }
  return ck;
}

api::Module module() {
  api::Module m;
  m.name = "warranty";
  m.migrations = {{"warranty", 1, "warranty policies (terms as data)", R"sql(
CREATE TABLE warranty_policies (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  name TEXT NOT NULL,
  product_line_id INTEGER NOT NULL REFERENCES product_lines(id),
  model_id INTEGER REFERENCES models(id),
  valid_from TEXT NOT NULL DEFAULT '1900-01-01',
  unit_months INTEGER NOT NULL,
  key_parts_json TEXT NOT NULL DEFAULT '[]',
  start_basis TEXT NOT NULL CHECK (start_basis IN ('sale','installation','production')),
  fallback_basis TEXT NOT NULL CHECK (fallback_basis IN ('sale','installation','production','none')),
  requires_invoice INTEGER NOT NULL DEFAULT 0,
  production_offset_days INTEGER NOT NULL DEFAULT 0,
  parts_pct INTEGER NOT NULL DEFAULT 100,
  labour_pct INTEGER NOT NULL DEFAULT 100,
  travel_pct INTEGER NOT NULL DEFAULT 100,
  response_mode TEXT NOT NULL DEFAULT '8x5',
  response_hours INTEGER NOT NULL DEFAULT 24,
  onsite_hours INTEGER NOT NULL DEFAULT 48,
  exclusions_json TEXT NOT NULL DEFAULT '[]',
  active INTEGER NOT NULL DEFAULT 1,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX warranty_policies_line ON warranty_policies(product_line_id);
)sql"}};
  m.routes = [](http::Router& r, api::Platform& p) {
    policy_routes(r, p);
    entitlement_routes(r, p);
  };
  return m;
}

}  // namespace shouhou::warranty
