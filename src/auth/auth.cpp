#include "auth/auth.h"

#include <sodium.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "core/input.h"
#include "core/util.h"

namespace shouhou::auth {

using api::json;
using http::Principal;
using http::Request;
using http::Response;
using store::Conn;

// ---- passwords ------------------------------------------------------------

namespace {
struct HashGate {
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  int waiting = 0;
  int limit = 2;
  static constexpr int kMaxWaiting = 64;
};
HashGate& gate() {
  static HashGate g;
  return g;
}

// Holds one of the `limit` hashing slots for its lifetime.
class HashSlot {
 public:
  HashSlot() {
    auto& g = gate();
    std::unique_lock lk(g.mu);
    if (g.waiting >= HashGate::kMaxWaiting) return;
    ++g.waiting;
    g.cv.wait(lk, [&] { return g.running < g.limit; });
    --g.waiting;
    ++g.running;
    ok_ = true;
  }
  ~HashSlot() {
    if (!ok_) return;
    auto& g = gate();
    {
      std::lock_guard lk(g.mu);
      --g.running;
    }
    g.cv.notify_one();
  }
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
};
}  // namespace

void set_password_concurrency(int n) {
  std::lock_guard lk(gate().mu);
  gate().limit = n < 1 ? 1 : n;
}

Result<void> check_password_policy(const std::string& password) {
  if (utf8_length(password) < 6) return Error::invalid("password must have at least 6 characters", "password");
  if (password.size() > 128) return Error::invalid("password must have at most 128 bytes", "password");
  return {};
}

Result<std::string> hash_password(const std::string& password) {
  if (sodium_init() < 0) return Error::internal("libsodium unavailable");
  HashSlot slot;
  if (!slot.ok()) return Error::unavailable("too many password operations queued, retry shortly");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return Error::unavailable("out of memory hashing a password");
  return std::string(out);
}

bool verify_password(const std::string& hash, const std::string& password) {
  if (sodium_init() < 0) return false;
  HashSlot slot;
  if (!slot.ok()) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

// ---- principals -----------------------------------------------------------

Result<std::shared_ptr<Principal>> load_principal(Conn& c, int64_t user_id) {
  auto row = TRY(c.one(
      "SELECT u.id, u.username, u.display_name, u.locale, u.org_unit_id, o.path, o.name, o.type FROM users u "
      "JOIN org_units o ON o.id = u.org_unit_id WHERE u.id = ? AND u.active = 1 AND o.active = 1",
      {user_id}));
  if (!row) return std::shared_ptr<Principal>();
  auto p = std::make_shared<Principal>();
  p->user_id = row->i(0);
  p->username = row->s(1);
  p->display_name = row->s(2);
  p->locale = row->s(3);
  p->org_unit_id = row->i(4);
  p->org_path = row->s(5);
  p->org_name = row->s(6);
  p->org_type = row->s(7);
  auto roles = TRY(c.query("SELECT role_code FROM user_roles WHERE user_id = ? ORDER BY role_code", {user_id}));
  for (const auto& r : roles) p->roles.push_back(r.s(0));
  auto perms = TRY(c.query(
      "SELECT DISTINCT rp.permission FROM user_roles ur JOIN role_permissions rp ON rp.role_code = ur.role_code "
      "WHERE ur.user_id = ? ORDER BY rp.permission",
      {user_id}));
  for (const auto& r : perms) p->permissions.push_back(r.s(0));
  std::sort(p->permissions.begin(), p->permissions.end());
  return p;
}

json Auth::principal_json(const Principal& p) {
  return json{{"id", p.user_id},
              {"username", p.username},
              {"display_name", p.display_name},
              {"locale", p.locale},
              {"org_unit", {{"id", p.org_unit_id}, {"name", p.org_name}, {"type", p.org_type}, {"path", p.org_path}}},
              {"roles", p.roles},
              {"permissions", p.permissions},
              {"csrf_token", p.csrf_token}};
}

// ---- Auth -----------------------------------------------------------------

namespace {
constexpr int64_t kSessionTtlMs = 24 * 3600 * 1000LL;
constexpr int64_t kCacheTtlMs = 30 * 1000;  // another server's logout reaches us within this
constexpr int64_t kFailWindowMs = 15 * 60 * 1000;
constexpr size_t kMaxFailsPerUser = 5;
constexpr size_t kMaxFailsPerAddr = 30;

bool unsafe(const std::string& m) { return m != "GET" && m != "HEAD" && m != "OPTIONS"; }

std::optional<std::string> bearer(const Request& req) {
  auto h = req.header("authorization");
  if (!h) return std::nullopt;
  if (h->size() > 7 && (h->compare(0, 7, "Bearer ") == 0 || h->compare(0, 7, "bearer ") == 0)) return h->substr(7);
  return std::string();  // present but not Bearer: refused below
}
}  // namespace

struct Auth::Impl {
  store::Database& db;
  std::string dummy_hash;  // verified against for unknown users: same timing

  struct Cached {
    std::shared_ptr<const Principal> p;
    int64_t loaded_at;
    int64_t expires_at;
  };
  std::mutex mu;
  std::unordered_map<std::string, Cached> cache;
  std::unordered_map<std::string, std::deque<int64_t>> fails;  // "u:name|addr" and "a:addr"

  explicit Impl(store::Database& d) : db(d) {}

  bool limited(const std::string& key, size_t max, int64_t now) {
    auto it = fails.find(key);
    if (it == fails.end()) return false;
    while (!it->second.empty() && it->second.front() < now - kFailWindowMs) it->second.pop_front();
    return it->second.size() >= max;
  }
  void record_fail(const std::string& key, int64_t now) {
    if (fails.size() > 100000) fails.clear();  // bounded memory under a spraying attack
    fails[key].push_back(now);
  }

  std::shared_ptr<const Principal> cached(const std::string& hash, int64_t now) {
    std::lock_guard lk(mu);
    auto it = cache.find(hash);
    if (it == cache.end()) return nullptr;
    if (now - it->second.loaded_at > kCacheTtlMs || now > it->second.expires_at) {
      cache.erase(it);
      return nullptr;
    }
    return it->second.p;
  }
  void put(const std::string& hash, std::shared_ptr<const Principal> p, int64_t now, int64_t expires) {
    std::lock_guard lk(mu);
    if (cache.size() > 50000) cache.clear();
    cache[hash] = Cached{std::move(p), now, expires};
  }
};

Auth::Auth(store::Database& db) : impl_(std::make_unique<Impl>(db)) {}
Auth::~Auth() = default;

void Auth::invalidate_all() {
  std::lock_guard lk(impl_->mu);
  impl_->cache.clear();
}

Result<Auth::Login> Auth::login(const std::string& username, const std::string& password,
                                const std::string& client_addr) {
  int64_t now = now_ms();
  std::string ukey = "u:" + username + "|" + client_addr, akey = "a:" + client_addr;
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->limited(ukey, kMaxFailsPerUser, now) || impl_->limited(akey, kMaxFailsPerAddr, now))
      return Error{Error::Code::rate_limited, "too many failed logins, try again in 15 minutes", {}};
  }
  auto user = TRY(impl_->db.read_as([&](Conn& c) -> Result<std::optional<store::Row>> {
    return c.one("SELECT u.id, u.password_hash FROM users u JOIN org_units o ON o.id = u.org_unit_id "
                 "WHERE u.username = ? AND u.active = 1 AND o.active = 1",
                 {username});
  }));
  if (impl_->dummy_hash.empty()) {
    auto h = hash_password("timing-equaliser");
    if (h) impl_->dummy_hash = *h;
  }
  bool good = verify_password(user ? user->s(1) : impl_->dummy_hash, password) && user;
  if (!good) {
    std::lock_guard lk(impl_->mu);
    impl_->record_fail(ukey, now);
    impl_->record_fail(akey, now);
    return Error::unauthorized("wrong username or password");
  }
  int64_t uid = user->i(0);
  Login out;
  out.session_token = random_hex(32);
  std::string hash = token_hash(out.session_token);
  std::string csrf = random_hex(16);
  auto principal = TRY(impl_->db.write_as([&](Conn& c) -> Result<std::shared_ptr<Principal>> {
    TRY(c.exec("DELETE FROM sessions WHERE expires_at < ?", {now}));
    TRY(c.exec("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, client_addr) "
               "VALUES (?,?,?,?,?,?)",
               {hash, uid, csrf, now, now + kSessionTtlMs, client_addr}));
    auto p = TRY(load_principal(c, uid));
    if (!p) return Error::unauthorized("wrong username or password");
    api::WriteTx tx(c, p.get(), client_addr);
    TRY_VOID(tx.audit("session", uid, "login", nullptr, json{{"username", username}}, p->org_path));
    return p;
  }));
  principal->csrf_token = csrf;
  principal->credential_hash = hash;
  principal->via = Principal::Via::session;
  out.principal = principal;
  impl_->put(hash, principal, now, now + kSessionTtlMs);
  {
    std::lock_guard lk(impl_->mu);
    impl_->fails.erase(ukey);
  }
  return out;
}

void Auth::logout(const Principal& p) {
  {
    std::lock_guard lk(impl_->mu);
    impl_->cache.erase(p.credential_hash);
  }
  if (p.via == Principal::Via::session)
    (void)impl_->db.write([&](Conn& c) -> Result<void> {
      TRY(c.exec("DELETE FROM sessions WHERE token_hash = ?", {p.credential_hash}));
      return {};
    });
}

Result<std::shared_ptr<const Principal>> Auth::authenticate(const Request& req) {
  int64_t now = now_ms();
  if (auto b = bearer(req)) {
    if (b->empty()) return Error::unauthorized("Authorization must be 'Bearer <token>'");
    std::string hash = token_hash(*b);
    if (auto p = impl_->cached(hash, now)) return p;
    auto p = TRY(impl_->db.read_as([&](Conn& c) -> Result<std::shared_ptr<Principal>> {
      auto t = TRY(c.one("SELECT user_id, expires_at FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
                         {hash}));
      if (!t || (!t->null(1) && t->i(1) < now)) return std::shared_ptr<Principal>();
      auto pr = TRY(load_principal(c, t->i(0)));
      if (pr) pr->credential_hash = hash;
      return pr;
    }));
    if (!p) return Error::unauthorized("API token is unknown, revoked or expired");
    p->via = Principal::Via::token;
    impl_->put(hash, p, now, INT64_MAX);
    return std::shared_ptr<const Principal>(p);
  }
  auto cookie = req.cookie(kSessionCookie);
  if (!cookie || cookie->empty()) return std::shared_ptr<const Principal>();
  std::string hash = token_hash(*cookie);
  if (auto p = impl_->cached(hash, now)) return p;
  int64_t expires = 0;
  auto p = TRY(impl_->db.read_as([&](Conn& c) -> Result<std::shared_ptr<Principal>> {
    auto s = TRY(c.one("SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?",
                       {hash, now}));
    if (!s) return std::shared_ptr<Principal>();
    auto pr = TRY(load_principal(c, s->i(0)));
    if (pr) {
      pr->csrf_token = s->s(1);
      pr->credential_hash = hash;
      expires = s->i(2);
    }
    return pr;
  }));
  if (!p) return std::shared_ptr<const Principal>();  // expired cookie: treated as anonymous
  p->via = Principal::Via::session;
  impl_->put(hash, p, now, expires);
  return std::shared_ptr<const Principal>(p);
}

Result<std::string> Auth::create_token(Conn& c, int64_t user_id, const std::string& name, int64_t expires_at) {
  std::string token = "shk_" + random_hex(24);
  TRY(c.exec("INSERT INTO api_tokens (name, token_hash, user_id, created_at, expires_at) VALUES (?,?,?,?,?)",
             {name, token_hash(token), user_id, now_ms(), expires_at > 0 ? store::Value(expires_at) : store::Value()}));
  return token;
}

http::Router::Middleware Auth::middleware() {
  return [this](Request& req, const http::Route& route, const http::Handler& next) -> Response {
    auto p = authenticate(req);
    if (!p) return Response::error(p.error());
    req.principal = *p;
    if (route.doc.public_route) return next(req);
    if (!req.principal) return Response::error(Error::unauthorized("login required"));
    if (req.principal->via == Principal::Via::session && unsafe(req.method)) {
      auto t = req.header("x-csrf-token");
      if (!t || !secure_equals(*t, req.principal->csrf_token))
        return Response::error(Error{Error::Code::forbidden, "X-CSRF-Token header missing or wrong", "X-CSRF-Token"});
    }
    if (!route.doc.permission.empty() && !req.principal->can(route.doc.permission))
      return Response::error(Error::forbidden("permission " + route.doc.permission + " required"));
    return next(req);
  };
}

void Auth::routes(http::Router& r, api::Platform& p) {
  r.post("/api/v1/auth/login", [this](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    Input in(*body);
    auto username = in.str("username", 40);
    if (!username) return Response::error(username.error());
    auto password = in.str("password", 128, 0);
    if (!password) return Response::error(password.error());
    auto l = login(*username, (*body)["password"].get<std::string>(), req.client_addr);
    if (!l) return Response::error(l.error());
    auto resp = Response::make_json(json{{"user", principal_json(*l->principal)}, {"csrf_token", l->principal->csrf_token}});
    resp.headers.add("set-cookie", std::string(kSessionCookie) + "=" + l->session_token +
                                       "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(kSessionTtlMs / 1000));
    return resp;
  }, {.summary = "Log in; sets the session cookie and returns the CSRF token", .tag = "auth", .public_route = true,
      .request_schema = api::schema_object({{"username", "string"}, {"password", "string"}}, {"username", "password"})});

  r.post("/api/v1/auth/logout", [this](Request& req) {
    logout(*req.principal);
    auto resp = Response::no_content();
    resp.headers.add("set-cookie", std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    return resp;
  }, {.summary = "Log out (ends the session)", .tag = "auth"});

  r.get("/api/v1/me", [](Request& req) { return Response::make_json(principal_json(*req.principal)); },
        {.summary = "The logged-in user with org unit, roles and permissions", .tag = "auth"})
      .inline_ok = true;

  r.get("/api/v1/api-tokens", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto rows = TRY(c.query(
          "SELECT t.id, t.name, t.user_id, u.username, t.created_at, t.expires_at, t.revoked_at FROM api_tokens t "
          "JOIN users u ON u.id = t.user_id JOIN org_units o ON o.id = u.org_unit_id WHERE o.path LIKE ? ORDER BY t.id",
          {req.principal->org_path + "%"}));
      json items = json::array();
      for (const auto& t : rows)
        items.push_back(json{{"id", t.i(0)}, {"name", t.s(1)}, {"user_id", t.i(2)}, {"username", t.s(3)},
                             {"created_at", iso_utc(t.i(4))},
                             {"expires_at", t.null(5) ? json(nullptr) : json(iso_utc(t.i(5)))},
                             {"revoked_at", t.null(6) ? json(nullptr) : json(iso_utc(t.i(6)))}});
      return Response::make_json(json{{"items", items}});
    });
  }, {.summary = "List API tokens", .tag = "auth", .permission = "token.write"});

  r.post("/api/v1/api-tokens", [this, &p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      Input in(*body);
      std::string name = TRY(in.str("name", 80));
      auto days = TRY(in.opt_integer("expires_days", 1, 3650));
      int64_t expires = days ? now_ms() + *days * 86400000LL : 0;
      std::string token = TRY(create_token(tx.db, tx.who()->user_id, name, expires));
      auto row = TRY(tx.db.one("SELECT id FROM api_tokens WHERE token_hash = ?", {token_hash(token)}));
      json rec{{"id", row->i(0)}, {"name", name}, {"user_id", tx.who()->user_id}};
      TRY_VOID(tx.audit("api_token", row->i(0), "create", nullptr, rec, tx.who()->org_path));
      rec["token"] = token;  // shown once, never stored in clear
      return Response::make_json(rec, 201);
    });
  }, {.summary = "Create an API token for the caller (returned once)", .tag = "auth", .permission = "token.write"});

  r.del("/api/v1/api-tokens/{id}", [this, &p](Request& req) {
    auto resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      auto row = TRY(tx.db.one("SELECT t.name, o.path FROM api_tokens t JOIN users u ON u.id = t.user_id "
                               "JOIN org_units o ON o.id = u.org_unit_id WHERE t.id = ? AND t.revoked_at IS NULL", {id}));
      if (!row || !tx.who()->reaches(row->s(1))) return api::not_found("api token", id);
      TRY(tx.db.exec("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", {now_ms(), id}));
      TRY_VOID(tx.audit("api_token", id, "revoke", json{{"name", row->s(0)}}, nullptr, row->s(1)));
      return Response::no_content();
    });
    if (resp.status < 300) invalidate_all();
    return resp;
  }, {.summary = "Revoke an API token", .tag = "auth", .permission = "token.write"});
}

api::Module module() {
  api::Module m;
  m.name = "auth";
  m.migrations = {{"auth", 1, "sessions and api tokens", R"sql(
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  client_addr TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  user_id INTEGER NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER
) STRICT;
)sql"}};
  return m;
}

}  // namespace shouhou::auth
