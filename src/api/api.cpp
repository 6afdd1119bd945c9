#include "api/api.h"

#include <charconv>

#include "core/util.h"

namespace shouhou::api {

Result<const Principal*> require(const Request& req, std::string_view permission) {
  if (!req.principal) return Error::unauthorized("login required");
  if (!permission.empty() && !req.principal->can(permission))
    return Error::forbidden("permission " + std::string(permission) + " required");
  return req.principal.get();
}

Result<void> WriteTx::audit(std::string_view entity, int64_t id, std::string_view action, const json& before,
                            const json& after, std::string_view org_path) {
  auto r = db.exec(
      "INSERT INTO audit_log (at, user_id, username, client_addr, entity, entity_id, action, org_path, before_json, "
      "after_json) VALUES (?,?,?,?,?,?,?,?,?,?)",
      {now_ms(), who_ ? store::Value(who_->user_id) : store::Value(), who_ ? who_->username : std::string("system"),
       client_addr_, std::string(entity), id, std::string(action), std::string(org_path),
       before.is_null() ? store::Value() : store::Value(before.dump()),
       after.is_null() ? store::Value() : store::Value(after.dump())});
  if (!r) return std::move(r).error();
  return {};
}

namespace {
struct Stored {
  std::string request_hash;
  int status;
  std::string body;
};

Result<std::optional<Stored>> find_key(store::Conn& c, int64_t user_id, const std::string& key) {
  auto row = TRY(c.one("SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = ? AND idem_key = ?",
                       {user_id, key}));
  if (!row) return std::optional<Stored>();
  return std::optional<Stored>(Stored{row->s(0), static_cast<int>(row->i(1)), row->s(2)});
}

Result<Response> replay(const Stored& s, const std::string& hash) {
  if (s.request_hash != hash)
    return Error::conflict("Idempotency-Key was already used for a different request", "Idempotency-Key");
  Response r;
  r.status = s.status;
  r.body = s.body;
  r.headers.set("idempotent-replayed", "true");
  return r;
}
}  // namespace

Result<json> write_as(Platform& p, const Principal* who, const std::function<Result<json>(WriteTx&)>& fn) {
  json out;
  TRY_VOID(p.db.write([&](store::Conn& c) -> Result<void> {
    WriteTx tx(c, who, "system");
    out = TRY(fn(tx));
    return {};
  }));
  return out;
}

Response write(Platform& p, const Request& req, const WriteFn& fn) {
  std::optional<std::string> key = req.header("idempotency-key");
  if (key && (key->empty() || key->size() > 200))
    return Response::error(Error::invalid("Idempotency-Key must be 1..200 characters", "Idempotency-Key"));
  const int64_t uid = req.principal ? req.principal->user_id : 0;
  std::string hash;
  if (key) hash = token_hash(req.method + " " + req.path + "\n" + req.body);

  std::optional<Response> out;
  auto r = p.db.write([&](store::Conn& c) -> Result<void> {
    out.reset();
    if (key) {
      auto stored = TRY(find_key(c, uid, *key));
      if (stored) {
        out = TRY(replay(*stored, hash));
        return {};
      }
    }
    WriteTx tx(c, req.principal.get(), req.client_addr);
    Response resp = TRY(fn(tx));
    if (key && resp.status < 300) {
      TRY(c.exec("INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, body, created_at) "
                 "VALUES (?,?,?,?,?,?)",
                 {uid, *key, hash, static_cast<int64_t>(resp.status), resp.body, now_ms()}));
    }
    out = std::move(resp);
    return {};
  });
  if (!r) {
    // Two servers raced on the same key: the loser replays the winner.
    if (key && r.error().code == Error::Code::conflict) {
      auto again = p.db.read_as([&](store::Conn& c) { return find_key(c, uid, *key); });
      if (again && *again) {
        auto rep = replay(**again, hash);
        if (rep) return std::move(*rep);
      }
    }
    return Response::error(r.error());
  }
  return std::move(*out);
}

Response read(Platform& p, const std::function<Result<Response>(store::Conn&)>& fn) {
  auto r = p.db.read_as(fn);
  if (!r) return Response::error(r.error());
  return std::move(*r);
}

Result<Page> page(const Request& req, int64_t default_limit, int64_t max_limit) {
  Page pg;
  pg.limit = default_limit;
  auto parse = [](const std::string& s, int64_t& out) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
  };
  if (auto l = req.q("limit")) {
    if (!parse(*l, pg.limit) || pg.limit < 1 || pg.limit > max_limit)
      return Error::invalid("limit must be an integer from 1 to " + std::to_string(max_limit), "limit");
  }
  if (auto c = req.q("cursor"); c && !c->empty()) {
    if (!parse(*c, pg.after_id) || pg.after_id < 0) return Error::invalid("cursor is not valid", "cursor");
  }
  return pg;
}

json page_json(json items, const Page& p) {
  json next = nullptr;
  if (static_cast<int64_t>(items.size()) > p.limit) {
    items.erase(items.begin() + p.limit, items.end());
  }
  if (static_cast<int64_t>(items.size()) == p.limit && !items.empty())
    next = std::to_string(items.back().value("id", int64_t{0}));
  return json{{"items", std::move(items)}, {"next_cursor", next}};
}

Result<int64_t> path_id(const Request& req, const char* name) {
  auto it = req.params.find(name);
  int64_t id = 0;
  if (it != req.params.end()) {
    auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), id);
    if (ec == std::errc() && ptr == it->second.data() + it->second.size() && id > 0) return id;
  }
  return Error::not_found("no record with id " + (it == req.params.end() ? std::string() : it->second));
}

Result<std::optional<int64_t>> query_id(const Request& req, const char* name) {
  auto v = req.q(name);
  if (!v || v->empty()) return std::optional<int64_t>();
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), id);
  if (ec != std::errc() || ptr != v->data() + v->size() || id <= 0)
    return Error::invalid(std::string(name) + " must be a positive integer", name);
  return std::optional<int64_t>(id);
}

Result<int64_t> expected_version(const Request& req, const json& body) {
  if (body.is_object() && body.contains("version")) {
    const auto& v = body["version"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1) return Error::invalid("version must be a positive integer", "version");
    return v.get<int64_t>();
  }
  if (auto m = req.header("if-match")) {
    std::string s = *m;
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && ptr == s.data() + s.size() && v > 0) return v;
    return Error::invalid("If-Match must hold the record version", "If-Match");
  }
  return Error::invalid("version is required (the version you last read), in the body or If-Match", "version");
}

Error not_found(std::string_view entity, int64_t id) {
  return Error::not_found(std::string(entity) + " " + std::to_string(id) + " not found");
}

json schema_object(std::initializer_list<std::pair<const char*, const char*>> props,
                   std::initializer_list<const char*> required) {
  json s{{"type", "object"}, {"properties", json::object()}};
  for (auto& [name, type] : props) s["properties"][name] = json{{"type", type}};
  if (required.size()) {
    s["required"] = json::array();
    for (auto r : required) s["required"].push_back(r);
  }
  return s;
}

}  // namespace shouhou::api
