// Platform tables and the audit-trail read API.
#include <charconv>

#include "api/api.h"
#include "core/util.h"

namespace shouhou::api {

std::vector<store::Migration> platform_migrations() {
  return {{"platform", 1, "audit log and idempotency keys", R"sql(
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  user_id INTEGER,
  username TEXT NOT NULL,
  client_addr TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id INTEGER NOT NULL,
  action TEXT NOT NULL,
  org_path TEXT NOT NULL,
  before_json TEXT,
  after_json TEXT
) STRICT;
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id, id);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE TABLE idempotency_keys (
  user_id INTEGER NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, idem_key)
) STRICT;
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
)sql"}};
}

void audit_routes(http::Router& r, Platform& p) {
  r.get("/api/v1/audit", [&p](Request& req) {
    return read(p, [&](store::Conn& c) -> Result<Response> {
      auto pg = TRY(page(req));
      // Newest first: the cursor walks ids downwards.
      std::string sql =
          "SELECT id, at, user_id, username, client_addr, entity, entity_id, action, before_json, after_json "
          "FROM audit_log WHERE org_path LIKE ?";
      store::Params params{req.principal->org_path + "%"};
      if (pg.after_id > 0) { sql += " AND id < ?"; params.push_back(pg.after_id); }
      if (auto e = req.q("entity"); e && !e->empty()) { sql += " AND entity = ?"; params.push_back(*e); }
      if (auto id = req.q("id"); id && !id->empty()) {
        int64_t v = 0;
        auto [ptr, ec] = std::from_chars(id->data(), id->data() + id->size(), v);
        if (ec != std::errc() || ptr != id->data() + id->size()) return Error::invalid("id must be an integer", "id");
        sql += " AND entity_id = ?";
        params.push_back(v);
      }
      if (auto u = TRY(query_id(req, "user_id"))) { sql += " AND user_id = ?"; params.push_back(*u); }
      sql += " ORDER BY id DESC LIMIT ?";
      params.push_back(pg.limit + 1);
      auto rows = TRY(c.query(sql, params));
      json items = json::array();
      for (const auto& row : rows) {
        items.push_back(json{{"id", row.i(0)},
                             {"at", iso_utc(row.i(1))},
                             {"user_id", row.null(2) ? json(nullptr) : json(row.i(2))},
                             {"username", row.s(3)},
                             {"client_addr", row.s(4)},
                             {"entity", row.s(5)},
                             {"entity_id", row.i(6)},
                             {"action", row.s(7)},
                             {"before", row.null(8) ? json(nullptr) : json::parse(row.s(8), nullptr, false)},
                             {"after", row.null(9) ? json(nullptr) : json::parse(row.s(9), nullptr, false)}});
      }
      return Response::make_json(page_json(std::move(items), pg));
    });
  }, {.summary = "Audit trail of the caller's subtree, newest first (append-only; no write API exists)",
      .tag = "audit", .permission = "audit.read", .query_params = {"entity", "id", "user_id", "limit", "cursor"}});
}

}  // namespace shouhou::api
