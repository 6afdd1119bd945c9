#include "org/org.h"

#include <algorithm>
#include <set>

#include "auth/auth.h"
#include "auth/permissions.h"
#include "core/input.h"
#include "core/util.h"

namespace shouhou::org {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

namespace {

const std::vector<std::string> kUnitTypes = {"hq", "region", "branch", "provider", "dealer"};

int type_rank(const std::string& t) {
  if (t == "hq") return 0;
  if (t == "region") return 1;
  if (t == "branch") return 2;
  return 3;  // provider, dealer
}

constexpr const char* kUnitCols =
    "id, parent_id, path, code, name, type, division_code, grade, phone, address, active, version, created_at, "
    "updated_at";

json unit_json(const store::Row& r) {
  return json{{"id", r.i(0)},
              {"parent_id", r.null(1) ? json(nullptr) : json(r.i(1))},
              {"path", r.s(2)},
              {"code", r.s(3)},
              {"name", r.s(4)},
              {"type", r.s(5)},
              {"division_code", r.null(6) ? json(nullptr) : json(r.s(6))},
              {"grade", r.null(7) ? json(nullptr) : json(r.s(7))},
              {"phone", r.null(8) ? json(nullptr) : json(r.s(8))},
              {"address", r.null(9) ? json(nullptr) : json(r.s(9))},
              {"active", r.i(10) != 0},
              {"version", r.i(11)},
              {"created_at", iso_utc(r.i(12))},
              {"updated_at", iso_utc(r.i(13))}};
}

Result<std::optional<json>> load_unit(Conn& c, int64_t id) {
  auto row = TRY(c.one(std::string("SELECT ") + kUnitCols + " FROM org_units WHERE id = ?", {id}));
  if (!row) return std::optional<json>();
  return std::optional<json>(unit_json(*row));
}

store::Value opt(const std::optional<std::string>& s) { return s ? store::Value(*s) : store::Value(); }

bool valid_code(const std::string& s) {
  if (s.empty() || s.size() > 40) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
  });
}

bool valid_username(const std::string& s) {
  if (s.size() < 2 || s.size() > 40) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
  });
}

Result<void> check_division(const std::optional<std::string>& d) {
  if (!d || d->empty()) return {};
  if (d->size() != 6 || !std::all_of(d->begin(), d->end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return Error::invalid("division_code must be a 6-digit GB/T 2260 code", "division_code");
  return {};
}

// ---- users -------------------------------------------------------------

constexpr const char* kUserSelect =
    "SELECT u.id, u.username, u.display_name, u.org_unit_id, o.name, o.path, u.phone, u.email, u.active, u.locale, "
    "u.version, u.created_at, u.updated_at FROM users u JOIN org_units o ON o.id = u.org_unit_id";

Result<json> user_json(Conn& c, const store::Row& r) {
  auto roles = TRY(c.query("SELECT role_code FROM user_roles WHERE user_id = ? ORDER BY role_code", {r.i(0)}));
  json rl = json::array();
  for (const auto& x : roles) rl.push_back(x.s(0));
  return json{{"id", r.i(0)},
              {"username", r.s(1)},
              {"display_name", r.s(2)},
              {"org_unit_id", r.i(3)},
              {"org_unit_name", r.s(4)},
              {"roles", rl},
              {"phone", r.null(6) ? json(nullptr) : json(r.s(6))},
              {"email", r.null(7) ? json(nullptr) : json(r.s(7))},
              {"active", r.i(8) != 0},
              {"locale", r.s(9)},
              {"version", r.i(10)},
              {"created_at", iso_utc(r.i(11))},
              {"updated_at", iso_utc(r.i(12))}};
}

// Loads a user the caller reaches (by the user's unit), or not_found.
Result<std::pair<json, std::string>> user_in_scope(Conn& c, const http::Principal& who, int64_t id) {
  auto row = TRY(c.one(std::string(kUserSelect) + " WHERE u.id = ?", {id}));
  if (!row || !who.reaches(row->s(5))) return api::not_found("user", id);
  json j = TRY(user_json(c, *row));
  return std::make_pair(std::move(j), row->s(5));
}

// A user may only hand out roles whose permissions they hold themselves;
// otherwise user.write would be a way to become admin.
Result<void> check_grantable(Conn& c, const http::Principal& who, const std::vector<std::string>& roles) {
  for (size_t i = 0; i < roles.size(); ++i) {
    std::string f = "roles[" + std::to_string(i) + "]";
    auto exists = TRY(c.one("SELECT code FROM roles WHERE code = ?", {roles[i]}));
    if (!exists) return Error::invalid("unknown role " + roles[i], f);
    auto perms = TRY(c.query("SELECT permission FROM role_permissions WHERE role_code = ?", {roles[i]}));
    for (const auto& p : perms)
      if (!who.can(p.s(0))) return Error::forbidden("you cannot grant role " + roles[i] + " (it holds " + p.s(0) + ")");
  }
  return {};
}

Result<void> set_roles(Conn& c, int64_t user_id, const std::vector<std::string>& roles) {
  TRY(c.exec("DELETE FROM user_roles WHERE user_id = ?", {user_id}));
  std::set<std::string> uniq(roles.begin(), roles.end());
  for (const auto& r : uniq) TRY(c.exec("INSERT INTO user_roles (user_id, role_code) VALUES (?, ?)", {user_id, r}));
  return {};
}

Result<json> roles_json(Conn& c) {
  auto roles = TRY(c.query("SELECT code, name, name_en, builtin, version FROM roles ORDER BY builtin DESC, code"));
  auto perms = TRY(c.query("SELECT role_code, permission FROM role_permissions ORDER BY permission"));
  json items = json::array();
  for (const auto& r : roles) {
    json ps = json::array();
    for (const auto& p : perms)
      if (p.s(0) == r.s(0)) ps.push_back(p.s(1));
    items.push_back(json{{"code", r.s(0)}, {"name", r.s(1)}, {"name_en", r.s(2)}, {"builtin", r.i(3) != 0},
                         {"version", r.i(4)}, {"permissions", ps}});
  }
  return items;
}

void unit_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/org-units", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req));
      std::string sql = std::string("SELECT ") + kUnitCols + " FROM org_units WHERE path LIKE ? AND id > ?";
      store::Params params{req.principal->org_path + "%", pg.after_id};
      if (auto t = req.q("type")) { sql += " AND type = ?"; params.push_back(*t); }
      if (auto v = TRY(api::query_id(req, "parent_id"))) { sql += " AND parent_id = ?"; params.push_back(*v); }
      if (auto q = req.q("q"); q && !q->empty()) {
        sql += " AND (instr(name, ?) > 0 OR instr(code, ?) > 0)"; params.push_back(*q); params.push_back(*q);
      }
      if (auto a = req.q("active")) { sql += " AND active = ?"; params.push_back(int64_t(*a == "true" || *a == "1")); }
      sql += " ORDER BY id LIMIT ?";
      params.push_back(pg.limit + 1);
      auto rows = TRY(c.query(sql, params));
      json items = json::array();
      for (const auto& row : rows) items.push_back(unit_json(row));
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "List org units in the caller's subtree", .tag = "org", .permission = "org.read",
      .query_params = {"limit", "cursor", "type", "parent_id", "q", "active"}});

  r.get("/api/v1/org-units/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      TRY(unit_in_scope(c, *req.principal, id));
      auto u = TRY(load_unit(c, id));
      return Response::make_json(*u);
    });
  }, {.summary = "Get an org unit", .tag = "org", .permission = "org.read"});

  r.post("/api/v1/org-units", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      Input in(*body);
      NewUnit u;
      u.code = TRY(in.str("code", 40));
      if (!valid_code(u.code)) return Error::invalid("code may hold letters, digits, '-' and '_' only", "code");
      u.name = TRY(in.str("name", 100));
      u.type = TRY(in.one_of("type", kUnitTypes));
      u.parent_id = TRY(in.opt_integer("parent_id", 1));
      u.division_code = TRY(in.opt_str("division_code", 6));
      TRY_VOID(check_division(u.division_code));
      u.grade = TRY(in.opt_str("grade", 20));
      u.phone = TRY(in.opt_str("phone", 40));
      u.address = TRY(in.opt_str("address", 200));
      if (!u.parent_id) return Error::invalid("parent_id is required (only the one HQ unit has no parent)", "parent_id");
      auto parent = unit_in_scope(tx.db, *tx.who(), *u.parent_id);
      if (!parent) return Error::invalid("parent_id " + std::to_string(*u.parent_id) + " is not an org unit you manage", "parent_id");
      if (type_rank(parent->type) >= type_rank(u.type) || (u.type == "dealer" && parent->type != "branch"))
        return Error::invalid("a " + u.type + " cannot sit under a " + parent->type, "parent_id");
      int64_t id = TRY(insert_unit(tx.db, u));
      auto rec = TRY(load_unit(tx.db, id));
      TRY_VOID(tx.audit("org_unit", id, "create", nullptr, *rec, (*rec)["path"].get<std::string>()));
      return Response::make_json(*rec, 201);
    });
  }, {.summary = "Create an org unit", .tag = "org", .permission = "org.write",
      .request_schema = api::schema_object({{"code", "string"}, {"name", "string"}, {"type", "string"},
                                            {"parent_id", "integer"}, {"division_code", "string"}, {"grade", "string"},
                                            {"phone", "string"}, {"address", "string"}},
                                           {"code", "name", "type", "parent_id"})});

  r.patch("/api/v1/org-units/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      int64_t version = TRY(api::expected_version(req, *body));
      auto ref = TRY(unit_in_scope(tx.db, *tx.who(), id));
      json before = *TRY(load_unit(tx.db, id));
      Input in(*body);
      std::string name = in.has("name") ? TRY(in.str("name", 100)) : before["name"].get<std::string>();
      auto division = in.has("division_code") ? TRY(in.opt_str("division_code", 6))
                                             : (before["division_code"].is_null() ? std::optional<std::string>()
                                                                                  : before["division_code"].get<std::string>());
      TRY_VOID(check_division(division));
      auto keep = [&](const char* f) -> std::optional<std::string> {
        return before[f].is_null() ? std::optional<std::string>() : before[f].get<std::string>();
      };
      auto grade = in.has("grade") ? TRY(in.opt_str("grade", 20)) : keep("grade");
      auto phone = in.has("phone") ? TRY(in.opt_str("phone", 40)) : keep("phone");
      auto address = in.has("address") ? TRY(in.opt_str("address", 200)) : keep("address");
      bool active = in.has("active") ? TRY(in.boolean("active")) : before["active"].get<bool>();
      if (!active && ref.id == tx.who()->org_unit_id)
        return Error::invalid("you cannot deactivate your own org unit", "active");
      auto n = TRY(tx.db.exec(
          "UPDATE org_units SET name = ?, division_code = ?, grade = ?, phone = ?, address = ?, active = ?, "
          "version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
          {name, opt(division), opt(grade), opt(phone), opt(address), int64_t(active), now_ms(), id, version}));
      if (n == 0)
        return Error::conflict("org unit " + std::to_string(id) + " was changed by someone else (version " +
                                   std::to_string(before["version"].get<int64_t>()) + ")", "version");
      json after = *TRY(load_unit(tx.db, id));
      TRY_VOID(tx.audit("org_unit", id, "update", before, after, ref.path));
      return Response::make_json(after);
    });
  }, {.summary = "Update an org unit (optimistic: send the version you read)", .tag = "org", .permission = "org.write"});
}

void user_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/users", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req));
      std::string sql = std::string(kUserSelect) + " WHERE o.path LIKE ? AND u.id > ?";
      store::Params params{req.principal->org_path + "%", pg.after_id};
      if (auto q = req.q("q"); q && !q->empty()) {
        sql += " AND (instr(u.username, ?) > 0 OR instr(u.display_name, ?) > 0 OR instr(COALESCE(u.phone, ''), ?) > 0)";
        params.insert(params.end(), {*q, *q, *q});
      }
      if (auto o = TRY(api::query_id(req, "org_unit_id"))) { sql += " AND u.org_unit_id = ?"; params.push_back(*o); }
      if (auto role = req.q("role")) {
        sql += " AND EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role_code = ?)";
        params.push_back(*role);
      }
      sql += " ORDER BY u.id LIMIT ?";
      params.push_back(pg.limit + 1);
      auto rows = TRY(c.query(sql, params));
      json items = json::array();
      for (const auto& row : rows) items.push_back(TRY(user_json(c, row)));
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "List users of the caller's subtree", .tag = "org", .permission = "user.read",
      .query_params = {"limit", "cursor", "q", "org_unit_id", "role"}});

  r.get("/api/v1/users/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto u = TRY(user_in_scope(c, *req.principal, id));
      return Response::make_json(u.first);
    });
  }, {.summary = "Get a user", .tag = "org", .permission = "user.read"});

  r.post("/api/v1/users", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    Input in(*body);
    // Validate and hash before the transaction: argon2 takes ~80 ms and must
    // not hold the writer.
    auto password = in.str("password", 128, 0);
    if (!password) return Response::error(password.error());
    if (auto pol = auth::check_password_policy(*password); !pol) return Response::error(pol.error());
    auto hash = auth::hash_password(*password);
    if (!hash) return Response::error(hash.error());
    auto resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      NewUser u;
      u.username = TRY(in.str("username", 40));
      if (!valid_username(u.username))
        return Error::invalid("username may hold lower-case letters, digits, '.', '-' and '_' (2-40)", "username");
      u.display_name = TRY(in.str("display_name", 60));
      u.org_unit_id = TRY(in.integer("org_unit_id", 1));
      u.roles = TRY(in.str_list("roles", 20, 40));
      u.phone = TRY(in.opt_str("phone", 40));
      u.email = TRY(in.opt_str("email", 120));
      if (u.email && !u.email->empty() && u.email->find('@') == std::string::npos)
        return Error::invalid("email is not an e-mail address", "email");
      if (in.has("locale")) u.locale = TRY(in.one_of("locale", {"zh-CN", "en"}));
      u.password_hash = *hash;
      auto unit = unit_in_scope(tx.db, *tx.who(), u.org_unit_id);
      if (!unit) return Error::invalid("org_unit_id " + std::to_string(u.org_unit_id) + " is not an org unit you manage", "org_unit_id");
      TRY_VOID(check_grantable(tx.db, *tx.who(), u.roles));
      auto taken = TRY(tx.db.one("SELECT id FROM users WHERE username = ?", {u.username}));
      if (taken) return Error::conflict("username " + u.username + " is taken", "username");
      int64_t id = TRY(insert_user(tx.db, u));
      auto rec = TRY(user_in_scope(tx.db, *tx.who(), id));
      TRY_VOID(tx.audit("user", id, "create", nullptr, rec.first, rec.second));
      return Response::make_json(rec.first, 201);
    });
    return resp;
  }, {.summary = "Create a user", .tag = "org", .permission = "user.write",
      .request_schema = api::schema_object({{"username", "string"}, {"display_name", "string"}, {"password", "string"},
                                            {"org_unit_id", "integer"}, {"roles", "array"}, {"phone", "string"},
                                            {"email", "string"}, {"locale", "string"}},
                                           {"username", "display_name", "password", "org_unit_id", "roles"})});

  r.patch("/api/v1/users/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    Input in(*body);
    std::optional<std::string> hash;
    if (in.has("password")) {
      auto password = in.str("password", 128, 0);
      if (!password) return Response::error(password.error());
      if (auto pol = auth::check_password_policy(*password); !pol) return Response::error(pol.error());
      auto h = auth::hash_password(*password);
      if (!h) return Response::error(h.error());
      hash = *h;
    }
    auto resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      int64_t version = TRY(api::expected_version(req, *body));
      auto [before, path] = TRY(user_in_scope(tx.db, *tx.who(), id));
      std::string display = in.has("display_name") ? TRY(in.str("display_name", 60)) : before["display_name"].get<std::string>();
      int64_t unit_id = in.has("org_unit_id") ? TRY(in.integer("org_unit_id", 1)) : before["org_unit_id"].get<int64_t>();
      if (!unit_in_scope(tx.db, *tx.who(), unit_id))
        return Error::invalid("org_unit_id " + std::to_string(unit_id) + " is not an org unit you manage", "org_unit_id");
      auto keep = [&](const char* f) -> std::optional<std::string> {
        return before[f].is_null() ? std::optional<std::string>() : before[f].get<std::string>();
      };
      auto phone = in.has("phone") ? TRY(in.opt_str("phone", 40)) : keep("phone");
      auto email = in.has("email") ? TRY(in.opt_str("email", 120)) : keep("email");
      std::string locale = in.has("locale") ? TRY(in.one_of("locale", {"zh-CN", "en"})) : before["locale"].get<std::string>();
      bool active = in.has("active") ? TRY(in.boolean("active")) : before["active"].get<bool>();
      if (!active && id == tx.who()->user_id) return Error::invalid("you cannot disable yourself", "active");
      auto n = TRY(tx.db.exec(
          "UPDATE users SET display_name = ?, org_unit_id = ?, phone = ?, email = ?, locale = ?, active = ?, "
          "password_hash = COALESCE(?, password_hash), version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
          {display, unit_id, opt(phone), opt(email), locale, int64_t(active), opt(hash), now_ms(), id, version}));
      if (n == 0)
        return Error::conflict("user " + std::to_string(id) + " was changed by someone else (version " +
                                   std::to_string(before["version"].get<int64_t>()) + ")", "version");
      if (in.has("roles")) {
        auto roles = TRY(in.str_list("roles", 20, 40));
        TRY_VOID(check_grantable(tx.db, *tx.who(), roles));
        TRY_VOID(set_roles(tx.db, id, roles));
      }
      // A disabled user or a new password ends every session of that user.
      if (!active || hash) TRY(tx.db.exec("DELETE FROM sessions WHERE user_id = ?", {id}));
      auto after = TRY(user_in_scope(tx.db, *tx.who(), id));
      json audit_after = after.first;
      if (hash) audit_after["password_changed"] = true;
      TRY_VOID(tx.audit("user", id, "update", before, audit_after, after.second));
      return Response::make_json(after.first);
    });
    if (resp.status < 300) p.access_changed();
    return resp;
  }, {.summary = "Update a user (optimistic: send the version you read)", .tag = "org", .permission = "user.write"});

  r.get("/api/v1/roles", [&p](Request&) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto items = TRY(roles_json(c));
      return Response::make_json(json{{"items", std::move(items)}});
    });
  }, {.summary = "List roles with their permissions", .tag = "org", .permission = "role.read"});

  r.get("/api/v1/permissions", [](Request&) {
    json items = json::array();
    for (const auto& pi : auth::permission_catalogue())
      items.push_back(json{{"code", pi.code}, {"name", pi.name_zh}, {"name_en", pi.name_en}});
    return Response::make_json(json{{"items", items}});
  }, {.summary = "The permission catalogue", .tag = "org", .permission = "role.read"}).inline_ok = true;

  r.put("/api/v1/roles/{code}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    auto resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      std::string code = req.params["code"];
      Input in(*body);
      auto perms = TRY(in.str_list("permissions", 200, 60));
      for (size_t i = 0; i < perms.size(); ++i)
        if (!auth::is_permission(perms[i]))
          return Error::invalid("unknown permission " + perms[i], "permissions[" + std::to_string(i) + "]");
      for (const auto& perm : perms)
        if (!tx.who()->can(perm)) return Error::forbidden("you cannot grant " + perm);
      auto existing = TRY(tx.db.one("SELECT name, name_en, version FROM roles WHERE code = ?", {code}));
      json all_before = TRY(roles_json(tx.db));
      json before = nullptr;
      for (auto& r : all_before) if (r["code"] == code) before = r;
      std::string name, name_en;
      if (existing) {
        int64_t version = TRY(api::expected_version(req, *body));
        name = in.has("name") ? TRY(in.str("name", 40)) : existing->s(0);
        name_en = in.has("name_en") ? TRY(in.str("name_en", 60)) : existing->s(1);
        auto n = TRY(tx.db.exec("UPDATE roles SET name = ?, name_en = ?, version = version + 1, updated_at = ? "
                                "WHERE code = ? AND version = ?", {name, name_en, now_ms(), code, version}));
        if (n == 0) return Error::conflict("role " + code + " was changed by someone else", "version");
      } else {
        if (!valid_username(code)) return Error::invalid("role code may hold a-z, 0-9, '.', '-', '_'", "code");
        name = TRY(in.str("name", 40));
        name_en = in.has("name_en") ? TRY(in.str("name_en", 60)) : name;
        TRY(tx.db.exec("INSERT INTO roles (code, name, name_en, builtin, version, updated_at) VALUES (?,?,?,0,1,?)",
                       {code, name, name_en, now_ms()}));
      }
      TRY(tx.db.exec("DELETE FROM role_permissions WHERE role_code = ?", {code}));
      std::set<std::string> uniq(perms.begin(), perms.end());
      for (const auto& perm : uniq)
        TRY(tx.db.exec("INSERT INTO role_permissions (role_code, permission) VALUES (?, ?)", {code, perm}));
      json after = nullptr;
      for (auto& r : TRY(roles_json(tx.db))) if (r["code"] == code) after = r;
      TRY_VOID(tx.audit("role", 0, existing ? "update" : "create", before, after, tx.who()->org_path));
      return Response::make_json(after, existing ? 200 : 201);
    });
    if (resp.status < 300) p.access_changed();
    return resp;
  }, {.summary = "Create or change a role's permissions", .tag = "org", .permission = "role.write"});
}

}  // namespace

Result<OrgUnitRef> unit_in_scope(Conn& c, const http::Principal& who, int64_t id) {
  auto row = TRY(c.one("SELECT id, path, type, name FROM org_units WHERE id = ?", {id}));
  if (!row || !who.reaches(row->s(1))) return api::not_found("org unit", id);
  return OrgUnitRef{row->i(0), row->s(1), row->s(2), row->s(3)};
}

Result<int64_t> insert_unit(Conn& c, const NewUnit& u) {
  std::string parent_path = "/";
  if (u.parent_id) {
    auto parent = TRY(c.one("SELECT path FROM org_units WHERE id = ?", {*u.parent_id}));
    if (!parent) return Error::invalid("parent_id does not exist", "parent_id");
    parent_path = parent->s(0);
  } else {
    auto root = TRY(c.one("SELECT id FROM org_units WHERE parent_id IS NULL"));
    if (root) return Error::invalid("there is already a root (HQ) unit", "parent_id");
  }
  auto dup = TRY(c.one("SELECT id FROM org_units WHERE code = ?", {u.code}));
  if (dup) return Error::conflict("org unit code " + u.code + " is taken", "code");
  int64_t now = now_ms();
  auto row = TRY(c.one(
      "INSERT INTO org_units (parent_id, path, code, name, type, division_code, grade, phone, address, active, version, "
      "created_at, updated_at) VALUES (?, '', ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?) RETURNING id",
      {u.parent_id ? store::Value(*u.parent_id) : store::Value(), u.code, u.name, u.type, opt(u.division_code),
       opt(u.grade), opt(u.phone), opt(u.address), now, now}));
  int64_t id = row->i(0);
  TRY(c.exec("UPDATE org_units SET path = ? WHERE id = ?", {parent_path + std::to_string(id) + "/", id}));
  return id;
}

Result<int64_t> insert_user(Conn& c, const NewUser& u) {
  int64_t now = now_ms();
  auto row = TRY(c.one(
      "INSERT INTO users (username, display_name, password_hash, org_unit_id, phone, email, locale, active, version, "
      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?) RETURNING id",
      {u.username, u.display_name, u.password_hash, u.org_unit_id, opt(u.phone), opt(u.email), u.locale, now, now}));
  int64_t id = row->i(0);
  TRY_VOID(set_roles(c, id, u.roles));
  return id;
}

Result<void> ensure_builtin_roles(store::Database& db) {
  return db.write([](Conn& c) -> Result<void> {
    auto seen_rows = TRY(c.query("SELECT code FROM permissions_seen"));
    std::set<std::string> seen;
    for (const auto& r : seen_rows) seen.insert(r.s(0));
    int64_t now = now_ms();
    for (const auto& role : auth::builtin_roles()) {
      auto exists = TRY(c.one("SELECT code FROM roles WHERE code = ?", {role.code}));
      if (!exists)
        TRY(c.exec("INSERT INTO roles (code, name, name_en, builtin, version, updated_at) VALUES (?,?,?,1,1,?)",
                   {role.code, role.name_zh, role.name_en, now}));
      for (const auto& perm : role.permissions) {
        // New roles get all defaults; existing roles get only permissions that
        // are new to the catalogue, so an admin's removals stick.
        if (exists && seen.count(perm)) continue;
        TRY(c.exec("INSERT INTO role_permissions (role_code, permission) VALUES (?, ?) ON CONFLICT DO NOTHING",
                   {role.code, perm}));
      }
    }
    for (const auto& pi : auth::permission_catalogue())
      if (!seen.count(pi.code)) TRY(c.exec("INSERT INTO permissions_seen (code) VALUES (?)", {std::string(pi.code)}));
    return {};
  });
}

api::Module module() {
  api::Module m;
  m.name = "org";
  m.migrations = {{"org", 1, "org units, users, roles", R"sql(
CREATE TABLE org_units (
  id INTEGER PRIMARY KEY,
  parent_id INTEGER REFERENCES org_units(id),
  path TEXT NOT NULL,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('hq','region','branch','provider','dealer')),
  division_code TEXT,
  grade TEXT,
  phone TEXT,
  address TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX org_units_path ON org_units(path);
CREATE INDEX org_units_parent ON org_units(parent_id);
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  phone TEXT,
  email TEXT,
  locale TEXT NOT NULL DEFAULT 'zh-CN',
  active INTEGER NOT NULL DEFAULT 1,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX users_org ON users(org_unit_id);
CREATE TABLE roles (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  name_en TEXT NOT NULL,
  builtin INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE role_permissions (
  role_code TEXT NOT NULL REFERENCES roles(code),
  permission TEXT NOT NULL,
  PRIMARY KEY (role_code, permission)
) STRICT;
CREATE TABLE user_roles (
  user_id INTEGER NOT NULL REFERENCES users(id),
  role_code TEXT NOT NULL REFERENCES roles(code),
  PRIMARY KEY (user_id, role_code)
) STRICT;
CREATE TABLE permissions_seen (code TEXT PRIMARY KEY) STRICT;
)sql"}};
  m.routes = [](http::Router& r, api::Platform& p) {
    unit_routes(r, p);
    user_routes(r, p);
  };
  return m;
}

}  // namespace shouhou::org
