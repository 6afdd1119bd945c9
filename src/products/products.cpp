#include "products/products.h"

#include <algorithm>
#include <set>

#include "core/input.h"
#include "core/util.h"

namespace shouhou::products {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

namespace {

store::Value opt(const std::optional<std::string>& s) { return s ? store::Value(*s) : store::Value(); }
store::Value opt(const std::optional<int64_t>& v) { return v ? store::Value(*v) : store::Value(); }

// One row as JSON keyed by column name; *_at columns as ISO times, the named
// columns as booleans.
json row_json(const store::Rows& rows, size_t i, std::initializer_list<const char*> bools = {}) {
  json o = json::object();
  const auto& r = rows[i];
  for (size_t c = 0; c < rows.columns.size() && c < r.cols.size(); ++c) {
    const std::string& name = rows.columns[c];
    if (r.null(c)) { o[name] = nullptr; continue; }
    if (name == "created_at" || name == "updated_at") { o[name] = iso_utc(r.i(c)); continue; }
    if (std::find_if(bools.begin(), bools.end(), [&](const char* b) { return name == b; }) != bools.end()) {
      o[name] = r.i(c) != 0;
      continue;
    }
    const auto& v = r.cols[c];
    if (auto p = std::get_if<int64_t>(&v)) o[name] = *p;
    else if (auto p = std::get_if<double>(&v)) o[name] = *p;
    else o[name] = r.s(c);
  }
  return o;
}

bool valid_code(const std::string& s, size_t max = 40) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '.' || ch == '/';
  });
}

Result<std::string> code_field(const Input& in, const char* name) {
  std::string s = TRY(in.str(name, 40));
  if (!valid_code(s)) return Error::invalid(in.field(name) + " may hold letters, digits and - _ . / only", in.field(name));
  return s;
}

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

Result<std::optional<std::string>> opt_date(const Input& in, const char* name) {
  auto s = TRY(in.opt_str(name, 10));
  if (s && !s->empty() && !valid_date(*s))
    return Error::invalid(in.field(name) + " must be a date YYYY-MM-DD", in.field(name));
  if (s && s->empty()) return std::optional<std::string>();
  return s;
}

Result<std::string> grade_field(const Input& in, const char* name) {
  std::string g = TRY(in.str(name, 10));
  if (!std::all_of(g.begin(), g.end(), [](char ch) { return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'); }))
    return Error::invalid(in.field(name) + " must be upper-case letters or digits (A, B, C...)", in.field(name));
  return g;
}

Error stale(const char* entity, int64_t id) {
  return Error::conflict(std::string(entity) + " " + std::to_string(id) + " was changed by someone else", "version");
}

// ---- loaders -------------------------------------------------------------

constexpr const char* kLineCols = "id, code, name, name_en, active, org_path, version, created_at, updated_at";

Result<std::optional<json>> load_line(Conn& c, int64_t id) {
  auto rows = TRY(c.query(std::string("SELECT ") + kLineCols + " FROM product_lines WHERE id = ?", {id}));
  if (rows.empty()) return std::optional<json>();
  return std::optional<json>(row_json(rows, 0, {"active"}));
}

constexpr const char* kModelSelect =
    "SELECT m.id AS id, m.product_line_id AS product_line_id, p.code AS product_line_code, p.name AS "
    "product_line_name, m.code AS code, m.name AS name, m.description AS description, m.active AS active, "
    "m.org_path AS org_path, m.version AS version, m.created_at AS created_at, m.updated_at AS updated_at "
    "FROM models m JOIN product_lines p ON p.id = m.product_line_id";

Result<json> batches_json(Conn& c, int64_t model_id) {
  auto rows = TRY(c.query("SELECT id, model_id, batch_code, production_date, quantity, version, created_at, updated_at "
                          "FROM model_batches WHERE model_id = ? ORDER BY production_date, id", {model_id}));
  json out = json::array();
  for (size_t i = 0; i < rows.size(); ++i) out.push_back(row_json(rows, i));
  return out;
}

constexpr const char* kComponentCols =
    "id, model_id, position, part_code, name, quantity, key_part, key_part_category, version, created_at, updated_at";

Result<json> components_json(Conn& c, int64_t model_id) {
  auto rows = TRY(c.query(std::string("SELECT ") + kComponentCols +
                          " FROM model_components WHERE model_id = ? ORDER BY position", {model_id}));
  json out = json::array();
  for (size_t i = 0; i < rows.size(); ++i) out.push_back(row_json(rows, i, {"key_part"}));
  return out;
}

Result<std::optional<json>> load_model(Conn& c, int64_t id, bool detail) {
  auto rows = TRY(c.query(std::string(kModelSelect) + " WHERE m.id = ?", {id}));
  if (rows.empty()) return std::optional<json>();
  json j = row_json(rows, 0, {"active"});
  if (detail) {
    j["batches"] = TRY(batches_json(c, id));
    j["components"] = TRY(components_json(c, id));
  }
  return std::optional<json>(std::move(j));
}

Result<std::optional<json>> load_component(Conn& c, int64_t model_id, int64_t id) {
  auto rows = TRY(c.query(std::string("SELECT ") + kComponentCols + " FROM model_components WHERE id = ? AND model_id = ?",
                          {id, model_id}));
  if (rows.empty()) return std::optional<json>();
  return std::optional<json>(row_json(rows, 0, {"key_part"}));
}

constexpr const char* kItemSelect =
    "SELECT s.id AS id, s.code AS code, s.name AS name, s.unit AS unit, s.product_line_id AS product_line_id, "
    "p.name AS product_line_name, s.description AS description, s.active AS active, s.org_path AS org_path, "
    "s.version AS version, s.created_at AS created_at, s.updated_at AS updated_at "
    "FROM service_items s LEFT JOIN product_lines p ON p.id = s.product_line_id";

Result<json> prices_json(Conn& c, int64_t item_id) {
  auto rows = TRY(c.query("SELECT grade, price_fen FROM service_item_prices WHERE service_item_id = ? ORDER BY grade",
                          {item_id}));
  json out = json::array();
  for (const auto& r : rows) out.push_back(json{{"grade", r.s(0)}, {"price_fen", r.i(1)}});
  return out;
}

Result<std::optional<json>> load_item(Conn& c, int64_t id) {
  auto rows = TRY(c.query(std::string(kItemSelect) + " WHERE s.id = ?", {id}));
  if (rows.empty()) return std::optional<json>();
  json j = row_json(rows, 0, {"active"});
  j["prices"] = TRY(prices_json(c, id));
  return std::optional<json>(std::move(j));
}

// [{grade, price_fen}] from the body, each error naming prices[i].field.
Result<std::vector<std::pair<std::string, int64_t>>> read_prices(const json& body) {
  std::vector<std::pair<std::string, int64_t>> out;
  if (!body.contains("prices") || body["prices"].is_null()) return out;
  const json& arr = body["prices"];
  if (!arr.is_array()) return Error::invalid("prices must be an array of {grade, price_fen}", "prices");
  if (arr.size() > 26) return Error::invalid("prices has more than 26 grades", "prices");
  std::set<std::string> seen;
  for (size_t i = 0; i < arr.size(); ++i) {
    Input in(arr[i], "prices[" + std::to_string(i) + "]");
    std::string g = TRY(grade_field(in, "grade"));
    int64_t fen = TRY(in.integer("price_fen", 0, 100'000'000'00));
    if (!seen.insert(g).second) return Error::invalid("grade " + g + " is listed twice", in.field("grade"));
    out.emplace_back(g, fen);
  }
  return out;
}

Result<void> set_prices(Conn& c, int64_t item_id, const std::vector<std::pair<std::string, int64_t>>& prices,
                        const std::string& org_path) {
  TRY(c.exec("DELETE FROM service_item_prices WHERE service_item_id = ?", {item_id}));
  int64_t now = now_ms();
  for (const auto& [g, fen] : prices)
    TRY(c.exec("INSERT INTO service_item_prices (org_path, service_item_id, grade, price_fen, version, created_at, "
               "updated_at) VALUES (?,?,?,?,1,?,?)",
               {org_path, item_id, g, fen, now, now}));
  return {};
}

Result<void> line_exists(Conn& c, int64_t id, const std::string& field) {
  auto row = TRY(c.one("SELECT id FROM product_lines WHERE id = ?", {id}));
  if (!row) return Error::invalid(field + " " + std::to_string(id) + " is not a product line", field);
  return {};
}

Result<json> model_in_path(Conn& c, const Request& req) {
  int64_t id = TRY(api::path_id(req));
  auto m = TRY(load_model(c, id, false));
  if (!m) return api::not_found("model", id);
  return *m;
}

// ---- routes --------------------------------------------------------------

void line_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/product-lines", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req, 100));
      std::string sql = std::string("SELECT ") + kLineCols + " FROM product_lines WHERE id > ?";
      store::Params params{pg.after_id};
      if (auto q = req.q("q"); q && !q->empty()) {
        sql += " AND (instr(name, ?) > 0 OR instr(code, ?) > 0)";
        params.insert(params.end(), {*q, *q});
      }
      if (auto a = req.q("active")) { sql += " AND active = ?"; params.push_back(int64_t(*a == "true" || *a == "1")); }
      sql += " ORDER BY id LIMIT ?";
      params.push_back(pg.limit + 1);
      auto rows = TRY(c.query(sql, params));
      json items = json::array();
      for (size_t i = 0; i < rows.size(); ++i) items.push_back(row_json(rows, i, {"active"}));
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "List product lines", .tag = "products", .permission = "product.read",
      .query_params = {"limit", "cursor", "q", "active"}});

  r.get("/api/v1/product-lines/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto j = TRY(load_line(c, id));
      if (!j) return api::not_found("product line", id);
      return Response::make_json(*j);
    });
  }, {.summary = "Get a product line", .tag = "products", .permission = "product.read"});

  r.post("/api/v1/product-lines", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      Input in(*body);
      NewProductLine pl;
      pl.code = TRY(code_field(in, "code"));
      pl.name = TRY(in.str("name", 100));
      pl.name_en = TRY(in.opt_str("name_en", 100));
      int64_t id = TRY(insert_product_line(tx.db, pl, tx.who()->org_path));
      json rec = *TRY(load_line(tx.db, id));
      TRY_VOID(tx.audit("product_line", id, "create", nullptr, rec, tx.who()->org_path));
      return Response::make_json(rec, 201);
    });
  }, {.summary = "Create a product line", .tag = "products", .permission = "product.write",
      .request_schema = api::schema_object({{"code", "string"}, {"name", "string"}, {"name_en", "string"}},
                                           {"code", "name"})});

  r.patch("/api/v1/product-lines/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto before = TRY(load_line(tx.db, id));
      if (!before) return api::not_found("product line", id);
      int64_t version = TRY(api::expected_version(req, *body));
      Input in(*body);
      json& b = *before;
      std::string name = in.has("name") ? TRY(in.str("name", 100)) : b["name"].get<std::string>();
      auto name_en = in.has("name_en") || body->contains("name_en")
                         ? TRY(in.opt_str("name_en", 100))
                         : (b["name_en"].is_null() ? std::optional<std::string>() : b["name_en"].get<std::string>());
      bool active = in.has("active") ? TRY(in.boolean("active")) : b["active"].get<bool>();
      auto n = TRY(tx.db.exec("UPDATE product_lines SET name = ?, name_en = ?, active = ?, version = version + 1, "
                              "updated_at = ? WHERE id = ? AND version = ?",
                              {name, opt(name_en), int64_t(active), now_ms(), id, version}));
      if (n == 0) return stale("product line", id);
      json after = *TRY(load_line(tx.db, id));
      TRY_VOID(tx.audit("product_line", id, "update", b, after, b["org_path"].get<std::string>()));
      return Response::make_json(after);
    });
  }, {.summary = "Update a product line (send the version you read)", .tag = "products", .permission = "product.write"});
}

void model_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/models", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req, 100));
      std::string sql = std::string(kModelSelect) + " WHERE m.id > ?";
      store::Params params{pg.after_id};
      if (auto line = TRY(api::query_id(req, "product_line_id"))) {
        sql += " AND m.product_line_id = ?";
        params.push_back(*line);
      }
      if (auto q = req.q("q"); q && !q->empty()) {
        sql += " AND (instr(m.name, ?) > 0 OR instr(m.code, ?) > 0)";
        params.insert(params.end(), {*q, *q});
      }
      if (auto a = req.q("active")) { sql += " AND m.active = ?"; params.push_back(int64_t(*a == "true" || *a == "1")); }
      sql += " ORDER BY m.id LIMIT ?";
      params.push_back(pg.limit + 1);
      auto rows = TRY(c.query(sql, params));
      json items = json::array();
      for (size_t i = 0; i < rows.size(); ++i) items.push_back(row_json(rows, i, {"active"}));
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "List models", .tag = "products", .permission = "product.read",
      .query_params = {"limit", "cursor", "product_line_id", "q", "active"}});

  r.get("/api/v1/models/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto j = TRY(load_model(c, id, true));
      if (!j) return api::not_found("model", id);
      return Response::make_json(*j);
    });
  }, {.summary = "Get a model with its batches and components", .tag = "products", .permission = "product.read"});

  r.post("/api/v1/models", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      Input in(*body);
      NewModel m;
      m.product_line_id = TRY(in.integer("product_line_id", 1));
      TRY_VOID(line_exists(tx.db, m.product_line_id, "product_line_id"));
      m.code = TRY(code_field(in, "code"));
      m.name = TRY(in.str("name", 100));
      m.description = TRY(in.opt_str("description", 2000));
      int64_t id = TRY(insert_model(tx.db, m, tx.who()->org_path));
      json rec = *TRY(load_model(tx.db, id, true));
      TRY_VOID(tx.audit("model", id, "create", nullptr, rec, tx.who()->org_path));
      return Response::make_json(rec, 201);
    });
  }, {.summary = "Create a model", .tag = "products", .permission = "product.write",
      .request_schema = api::schema_object({{"product_line_id", "integer"}, {"code", "string"}, {"name", "string"},
                                            {"description", "string"}},
                                           {"product_line_id", "code", "name"})});

  r.patch("/api/v1/models/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      json b = TRY(model_in_path(tx.db, req));
      int64_t id = b["id"];
      int64_t version = TRY(api::expected_version(req, *body));
      Input in(*body);
      std::string name = in.has("name") ? TRY(in.str("name", 100)) : b["name"].get<std::string>();
      auto desc = body->contains("description")
                      ? TRY(in.opt_str("description", 2000))
                      : (b["description"].is_null() ? std::optional<std::string>() : b["description"].get<std::string>());
      int64_t line = in.has("product_line_id") ? TRY(in.integer("product_line_id", 1)) : b["product_line_id"].get<int64_t>();
      TRY_VOID(line_exists(tx.db, line, "product_line_id"));
      bool active = in.has("active") ? TRY(in.boolean("active")) : b["active"].get<bool>();
      auto n = TRY(tx.db.exec("UPDATE models SET name = ?, description = ?, product_line_id = ?, active = ?, "
                              "version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
                              {name, opt(desc), line, int64_t(active), now_ms(), id, version}));
      if (n == 0) return stale("model", id);
      json after = *TRY(load_model(tx.db, id, false));
      TRY_VOID(tx.audit("model", id, "update", b, after, b["org_path"].get<std::string>()));
      return Response::make_json(after);
    });
  }, {.summary = "Update a model (send the version you read)", .tag = "products", .permission = "product.write"});

  r.get("/api/v1/models/{id}/batches", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      json m = TRY(model_in_path(c, req));
      auto items = TRY(batches_json(c, m["id"]));
      return Response::make_json(json{{"items", std::move(items)}});
    });
  }, {.summary = "Production batches of a model", .tag = "products", .permission = "product.read"});

  r.post("/api/v1/models/{id}/batches", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      json m = TRY(model_in_path(tx.db, req));
      Input in(*body);
      NewBatch b;
      b.batch_code = TRY(code_field(in, "batch_code"));
      b.production_date = TRY(opt_date(in, "production_date"));
      b.quantity = in.has("quantity") ? TRY(in.integer("quantity", 0, 100'000'000)) : 0;
      int64_t id = TRY(insert_batch(tx.db, m["id"], b, tx.who()->org_path));
      auto rows = TRY(tx.db.query("SELECT id, model_id, batch_code, production_date, quantity, version, created_at, "
                                  "updated_at FROM model_batches WHERE id = ?", {id}));
      json rec = row_json(rows, 0);
      TRY_VOID(tx.audit("model_batch", id, "create", nullptr, rec, tx.who()->org_path));
      return Response::make_json(rec, 201);
    });
  }, {.summary = "Add a production batch to a model", .tag = "products", .permission = "product.write",
      .request_schema = api::schema_object({{"batch_code", "string"}, {"production_date", "string"}, {"quantity", "integer"}},
                                           {"batch_code"})});

  r.get("/api/v1/models/{id}/components", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      json m = TRY(model_in_path(c, req));
      auto items = TRY(components_json(c, m["id"]));
      return Response::make_json(json{{"items", std::move(items)}});
    });
  }, {.summary = "Components of a model (位号, key parts)", .tag = "products", .permission = "product.read"});

  r.post("/api/v1/models/{id}/components", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      json m = TRY(model_in_path(tx.db, req));
      Input in(*body);
      NewComponent k;
      k.position = TRY(in.str("position", 40));
      k.name = TRY(in.str("name", 100));
      k.part_code = TRY(in.opt_str("part_code", 60));
      k.quantity = in.has("quantity") ? TRY(in.integer("quantity", 1, 10000)) : 1;
      k.key_part = in.has("key_part") ? TRY(in.boolean("key_part")) : false;
      k.key_part_category = TRY(in.opt_str("key_part_category", 40));
      if (k.key_part_category && k.key_part_category->empty()) k.key_part_category.reset();
      if (k.key_part && !k.key_part_category)
        return Error::invalid("key_part_category is required for a key part (e.g. 压缩机, 主板)", "key_part_category");
      int64_t id = TRY(insert_component(tx.db, m["id"], k, tx.who()->org_path));
      json rec = *TRY(load_component(tx.db, m["id"], id));
      TRY_VOID(tx.audit("model_component", id, "create", nullptr, rec, tx.who()->org_path));
      return Response::make_json(rec, 201);
    });
  }, {.summary = "Add a component (位号) to a model", .tag = "products", .permission = "product.write",
      .request_schema = api::schema_object({{"position", "string"}, {"name", "string"}, {"part_code", "string"},
                                            {"quantity", "integer"}, {"key_part", "boolean"},
                                            {"key_part_category", "string"}},
                                           {"position", "name"})});

  r.patch("/api/v1/models/{id}/components/{cid}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      json m = TRY(model_in_path(tx.db, req));
      int64_t cid = TRY(api::path_id(req, "cid"));
      auto before = TRY(load_component(tx.db, m["id"], cid));
      if (!before) return api::not_found("component", cid);
      json& b = *before;
      int64_t version = TRY(api::expected_version(req, *body));
      Input in(*body);
      auto keep = [&](const char* f) {
        return b[f].is_null() ? std::optional<std::string>() : std::optional<std::string>(b[f].get<std::string>());
      };
      std::string position = in.has("position") ? TRY(in.str("position", 40)) : b["position"].get<std::string>();
      std::string name = in.has("name") ? TRY(in.str("name", 100)) : b["name"].get<std::string>();
      auto part_code = body->contains("part_code") ? TRY(in.opt_str("part_code", 60)) : keep("part_code");
      int64_t qty = in.has("quantity") ? TRY(in.integer("quantity", 1, 10000)) : b["quantity"].get<int64_t>();
      bool key = in.has("key_part") ? TRY(in.boolean("key_part")) : b["key_part"].get<bool>();
      auto cat = body->contains("key_part_category") ? TRY(in.opt_str("key_part_category", 40)) : keep("key_part_category");
      if (cat && cat->empty()) cat.reset();
      if (key && !cat) return Error::invalid("key_part_category is required for a key part", "key_part_category");
      if (position != b["position"]) {
        auto dup = TRY(tx.db.one("SELECT id FROM model_components WHERE model_id = ? AND position = ? AND id <> ?",
                                 {m["id"].get<int64_t>(), position, cid}));
        if (dup) return Error::conflict("position " + position + " is already used in this model", "position");
      }
      auto n = TRY(tx.db.exec("UPDATE model_components SET position = ?, name = ?, part_code = ?, quantity = ?, "
                              "key_part = ?, key_part_category = ?, version = version + 1, updated_at = ? "
                              "WHERE id = ? AND version = ?",
                              {position, name, opt(part_code), qty, int64_t(key), opt(cat), now_ms(), cid, version}));
      if (n == 0) return stale("component", cid);
      json after = *TRY(load_component(tx.db, m["id"], cid));
      TRY_VOID(tx.audit("model_component", cid, "update", b, after, m["org_path"].get<std::string>()));
      return Response::make_json(after);
    });
  }, {.summary = "Update a component (send the version you read)", .tag = "products", .permission = "product.write"});

  r.del("/api/v1/models/{id}/components/{cid}", [&p](Request& req) {
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      json m = TRY(model_in_path(tx.db, req));
      int64_t cid = TRY(api::path_id(req, "cid"));
      auto before = TRY(load_component(tx.db, m["id"], cid));
      if (!before) return api::not_found("component", cid);
      TRY(tx.db.exec("DELETE FROM model_components WHERE id = ?", {cid}));
      TRY_VOID(tx.audit("model_component", cid, "delete", *before, nullptr, m["org_path"].get<std::string>()));
      return Response::no_content();
    });
  }, {.summary = "Remove a component from a model", .tag = "products", .permission = "product.write"});
}

void item_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/service-items", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req, 100));
      std::string sql = std::string(kItemSelect) + " WHERE s.id > ?";
      store::Params params{pg.after_id};
      if (auto line = TRY(api::query_id(req, "product_line_id"))) {
        sql += " AND (s.product_line_id = ? OR s.product_line_id IS NULL)";
        params.push_back(*line);
      }
      if (auto q = req.q("q"); q && !q->empty()) {
        sql += " AND (instr(s.name, ?) > 0 OR instr(s.code, ?) > 0)";
        params.insert(params.end(), {*q, *q});
      }
      if (auto a = req.q("active")) { sql += " AND s.active = ?"; params.push_back(int64_t(*a == "true" || *a == "1")); }
      sql += " ORDER BY s.id LIMIT ?";
      params.push_back(pg.limit + 1);
      auto rows = TRY(c.query(sql, params));
      json items = json::array();
      for (size_t i = 0; i < rows.size(); ++i) {
        json j = row_json(rows, i, {"active"});
        j["prices"] = TRY(prices_json(c, j["id"]));
        items.push_back(std::move(j));
      }
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "List service items (服务料号) with their grade prices", .tag = "products", .permission = "product.read",
      .query_params = {"limit", "cursor", "product_line_id", "q", "active"}});

  r.get("/api/v1/service-items/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto j = TRY(load_item(c, id));
      if (!j) return api::not_found("service item", id);
      return Response::make_json(*j);
    });
  }, {.summary = "Get a service item with its grade prices", .tag = "products", .permission = "product.read"});

  r.post("/api/v1/service-items", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      Input in(*body);
      NewServiceItem s;
      s.code = TRY(code_field(in, "code"));
      s.name = TRY(in.str("name", 100));
      s.unit = TRY(in.str("unit", 20));
      s.product_line_id = TRY(in.opt_integer("product_line_id", 1));
      if (s.product_line_id) TRY_VOID(line_exists(tx.db, *s.product_line_id, "product_line_id"));
      s.description = TRY(in.opt_str("description", 2000));
      s.prices = TRY(read_prices(*body));
      if (!s.prices.empty() && !tx.who()->can("pricelist.write") && !tx.who()->can("product.write"))
        return Error::forbidden("permission pricelist.write required to set prices");
      int64_t id = TRY(insert_service_item(tx.db, s, tx.who()->org_path));
      json rec = *TRY(load_item(tx.db, id));
      TRY_VOID(tx.audit("service_item", id, "create", nullptr, rec, tx.who()->org_path));
      return Response::make_json(rec, 201);
    });
  }, {.summary = "Create a service item, optionally with grade prices", .tag = "products", .permission = "product.write",
      .request_schema = api::schema_object({{"code", "string"}, {"name", "string"}, {"unit", "string"},
                                            {"product_line_id", "integer"}, {"description", "string"},
                                            {"prices", "array"}},
                                           {"code", "name", "unit"})});

  r.patch("/api/v1/service-items/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto before = TRY(load_item(tx.db, id));
      if (!before) return api::not_found("service item", id);
      json& b = *before;
      int64_t version = TRY(api::expected_version(req, *body));
      if (body->contains("prices")) return Error::invalid("change prices with PUT /api/v1/service-items/{id}/prices", "prices");
      Input in(*body);
      std::string name = in.has("name") ? TRY(in.str("name", 100)) : b["name"].get<std::string>();
      std::string unit = in.has("unit") ? TRY(in.str("unit", 20)) : b["unit"].get<std::string>();
      auto desc = body->contains("description")
                      ? TRY(in.opt_str("description", 2000))
                      : (b["description"].is_null() ? std::optional<std::string>() : b["description"].get<std::string>());
      auto line = body->contains("product_line_id")
                      ? TRY(in.opt_integer("product_line_id", 1))
                      : (b["product_line_id"].is_null() ? std::optional<int64_t>() : b["product_line_id"].get<int64_t>());
      if (line) TRY_VOID(line_exists(tx.db, *line, "product_line_id"));
      bool active = in.has("active") ? TRY(in.boolean("active")) : b["active"].get<bool>();
      auto n = TRY(tx.db.exec("UPDATE service_items SET name = ?, unit = ?, description = ?, product_line_id = ?, "
                              "active = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
                              {name, unit, opt(desc), opt(line), int64_t(active), now_ms(), id, version}));
      if (n == 0) return stale("service item", id);
      json after = *TRY(load_item(tx.db, id));
      TRY_VOID(tx.audit("service_item", id, "update", b, after, b["org_path"].get<std::string>()));
      return Response::make_json(after);
    });
  }, {.summary = "Update a service item (send the version you read)", .tag = "products", .permission = "product.write"});

  r.put("/api/v1/service-items/{id}/prices", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto before = TRY(load_item(tx.db, id));
      if (!before) return api::not_found("service item", id);
      int64_t version = TRY(api::expected_version(req, *body));
      if (!body->contains("prices")) return Error::invalid("prices is required", "prices");
      auto prices = TRY(read_prices(*body));
      // The price table is part of the item: it bumps the item's version.
      auto n = TRY(tx.db.exec("UPDATE service_items SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
                              {now_ms(), id, version}));
      if (n == 0) return stale("service item", id);
      TRY_VOID(set_prices(tx.db, id, prices, (*before)["org_path"].get<std::string>()));
      json after = *TRY(load_item(tx.db, id));
      TRY_VOID(tx.audit("service_item", id, "prices", *before, after, (*before)["org_path"].get<std::string>()));
      return Response::make_json(after);
    });
  }, {.summary = "Replace the grade price table of a service item", .tag = "products", .permission = "pricelist.write",
      .request_schema = api::schema_object({{"prices", "array"}, {"version", "integer"}}, {"prices", "version"})});
}

}  // namespace

// ---- functions for other modules -----------------------------------------------

Result<std::optional<int64_t>> service_item_price(Conn& c, int64_t service_item_id, std::string_view grade) {
  auto row = TRY(c.one("SELECT p.price_fen FROM service_item_prices p JOIN service_items s ON s.id = p.service_item_id "
                       "WHERE s.id = ? AND s.active = 1 AND p.grade = ?",
                       {service_item_id, std::string(grade)}));
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(row->i(0));
}

Result<std::optional<ServiceItemPrice>> service_item_price_by_code(Conn& c, std::string_view code, std::string_view grade) {
  auto row = TRY(c.one("SELECT s.id, s.code, s.name, s.unit, p.grade, p.price_fen FROM service_items s "
                       "JOIN service_item_prices p ON p.service_item_id = s.id "
                       "WHERE s.code = ? AND s.active = 1 AND p.grade = ?",
                       {std::string(code), std::string(grade)}));
  if (!row) return std::optional<ServiceItemPrice>();
  return std::optional<ServiceItemPrice>(ServiceItemPrice{row->i(0), row->s(1), row->s(2), row->s(3), row->s(4), row->i(5)});
}

Result<std::optional<ModelInfo>> model_info(Conn& c, int64_t model_id) {
  auto row = TRY(c.one("SELECT m.id, m.code, m.name, m.product_line_id, p.code, p.name FROM models m "
                       "JOIN product_lines p ON p.id = m.product_line_id WHERE m.id = ?", {model_id}));
  if (!row) return std::optional<ModelInfo>();
  ModelInfo mi{row->i(0), row->s(1), row->s(2), row->i(3), row->s(4), row->s(5), {}};
  auto comps = TRY(c.query("SELECT id, position, part_code, name, key_part, key_part_category FROM model_components "
                           "WHERE model_id = ? ORDER BY position", {model_id}));
  for (const auto& k : comps)
    mi.components.push_back(ComponentInfo{k.i(0), k.s(1), k.s(2), k.s(3), k.i(4) != 0, k.s(5)});
  return std::optional<ModelInfo>(std::move(mi));
}

Result<int64_t> insert_product_line(Conn& c, const NewProductLine& p, const std::string& org_path) {
  auto dup = TRY(c.one("SELECT id FROM product_lines WHERE code = ?", {p.code}));
  if (dup) return Error::conflict("product line code " + p.code + " is taken", "code");
  int64_t now = now_ms();
  auto row = TRY(c.one("INSERT INTO product_lines (org_path, code, name, name_en, active, version, created_at, updated_at) "
                       "VALUES (?,?,?,?,1,1,?,?) RETURNING id",
                       {org_path, p.code, p.name, opt(p.name_en), now, now}));
  return row->i(0);
}

Result<int64_t> insert_model(Conn& c, const NewModel& m, const std::string& org_path) {
  auto dup = TRY(c.one("SELECT id FROM models WHERE code = ?", {m.code}));
  if (dup) return Error::conflict("model code " + m.code + " is taken", "code");
  int64_t now = now_ms();
  auto row = TRY(c.one("INSERT INTO models (org_path, product_line_id, code, name, description, active, version, "
                       "created_at, updated_at) VALUES (?,?,?,?,?,1,1,?,?) RETURNING id",
                       {org_path, m.product_line_id, m.code, m.name, opt(m.description), now, now}));
  return row->i(0);
}

Result<int64_t> insert_batch(Conn& c, int64_t model_id, const NewBatch& b, const std::string& org_path) {
  auto dup = TRY(c.one("SELECT id FROM model_batches WHERE model_id = ? AND batch_code = ?", {model_id, b.batch_code}));
  if (dup) return Error::conflict("batch " + b.batch_code + " already exists for this model", "batch_code");
  int64_t now = now_ms();
  auto row = TRY(c.one("INSERT INTO model_batches (org_path, model_id, batch_code, production_date, quantity, version, "
                       "created_at, updated_at) VALUES (?,?,?,?,?,1,?,?) RETURNING id",
                       {org_path, model_id, b.batch_code, opt(b.production_date), b.quantity, now, now}));
  return row->i(0);
}

Result<int64_t> insert_component(Conn& c, int64_t model_id, const NewComponent& k, const std::string& org_path) {
  auto dup = TRY(c.one("SELECT id FROM model_components WHERE model_id = ? AND position = ?", {model_id, k.position}));
  if (dup) return Error::conflict("position " + k.position + " is already used in this model", "position");
  int64_t now = now_ms();
  auto row = TRY(c.one("INSERT INTO model_components (org_path, model_id, position, part_code, name, quantity, key_part, "
                       "key_part_category, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,1,?,?) RETURNING id",
                       {org_path, model_id, k.position, opt(k.part_code), k.name, k.quantity, int64_t(k.key_part),
                        opt(k.key_part_category), now, now}));
  return row->i(0);
}

Result<int64_t> insert_service_item(Conn& c, const NewServiceItem& s, const std::string& org_path) {
  auto dup = TRY(c.one("SELECT id FROM service_items WHERE code = ?", {s.code}));
  if (dup) return Error::conflict("service item code " + s.code + " is taken", "code");
  int64_t now = now_ms();
  auto row = TRY(c.one("INSERT INTO service_items (org_path, code, name, unit, product_line_id, description, active, "
                       "version, created_at, updated_at) VALUES (?,?,?,?,?,?,1,1,?,?) RETURNING id",
                       {org_path, s.code, s.name, s.unit, opt(s.product_line_id), opt(s.description), now, now}));
  int64_t id = row->i(0);
  TRY_VOID(set_prices(c, id, s.prices, org_path));
  return id;
}

api::Module module() {
  api::Module m;
  m.name = "products";
  m.migrations = {{"products", 1, "product lines, models, batches, components, service items and grade prices", R"sql(
CREATE TABLE product_lines (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  name_en TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  product_line_id INTEGER NOT NULL REFERENCES product_lines(id),
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX models_line ON models(product_line_id);
CREATE TABLE model_batches (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  model_id INTEGER NOT NULL REFERENCES models(id),
  batch_code TEXT NOT NULL,
  production_date TEXT,
  quantity INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (model_id, batch_code)
) STRICT;
CREATE TABLE model_components (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  model_id INTEGER NOT NULL REFERENCES models(id),
  position TEXT NOT NULL,
  part_code TEXT,
  name TEXT NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1,
  key_part INTEGER NOT NULL DEFAULT 0,
  key_part_category TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (model_id, position)
) STRICT;
CREATE TABLE service_items (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  unit TEXT NOT NULL,
  product_line_id INTEGER REFERENCES product_lines(id),
  description TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE service_item_prices (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  service_item_id INTEGER NOT NULL REFERENCES service_items(id),
  grade TEXT NOT NULL,
  price_fen INTEGER NOT NULL CHECK (price_fen >= 0),
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (service_item_id, grade)
) STRICT;
)sql"}};
  m.routes = [](http::Router& r, api::Platform& p) {
    line_routes(r, p);
    model_routes(r, p);
    item_routes(r, p);
  };
  return m;
}

}  // namespace shouhou::products
