// Authentication: argon2id passwords on a bounded pool, browser sessions
// (HttpOnly cookie + CSRF token), API tokens (Bearer), login rate limiting,
// and the middleware that resolves every request's Principal and enforces
// the route's permission.
#pragma once

#include <memory>
#include <string>

#include "api/api.h"

namespace shouhou::auth {

inline constexpr const char* kSessionCookie = "shouhou_session";

// argon2id (libsodium interactive preset). At most `concurrency` hashes run at
// once because each takes ~80 ms and 64 MiB; further callers wait, and when
// too many wait the call fails with unavailable rather than piling up memory.
Result<std::string> hash_password(const std::string& password);
bool verify_password(const std::string& hash, const std::string& password);
void set_password_concurrency(int n);

// Password rules for new passwords (names the field "password").
Result<void> check_password_policy(const std::string& password);

class Auth {
 public:
  explicit Auth(store::Database& db);
  ~Auth();

  struct Login {
    std::string session_token;  // goes into the cookie; only its hash is stored
    std::shared_ptr<const http::Principal> principal;
  };
  Result<Login> login(const std::string& username, const std::string& password, const std::string& client_addr);
  void logout(const http::Principal& p);

  // Resolves cookie or Bearer credentials; null principal when none given.
  Result<std::shared_ptr<const http::Principal>> authenticate(const http::Request& req);

  // Creates an API token for user_id; returns the token text (shown once).
  Result<std::string> create_token(store::Conn& c, int64_t user_id, const std::string& name, int64_t expires_at);

  // Drops cached principals (after a user's roles, unit or status changed).
  void invalidate_all();

  // The middleware: sets req.principal, requires login unless the route is
  // public, checks CSRF for cookie sessions on unsafe methods, and checks the
  // route's permission.
  http::Router::Middleware middleware();

  // Auth routes: login, logout, me, API tokens.
  void routes(http::Router& r, api::Platform& p);

  static api::json principal_json(const http::Principal& p);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Loads the principal of an active user (null when unknown or disabled).
Result<std::shared_ptr<http::Principal>> load_principal(store::Conn& c, int64_t user_id);

api::Module module();  // sessions and api_tokens tables

}  // namespace shouhou::auth
