// Organisation and access administration: the org tree (HQ -> regional
// centre -> branch -> service provider / dealer), users and roles.
//
// Org units carry a materialised path ("/1/4/9/") so that "the caller's
// subtree" is one prefix comparison; every business record stores the path
// of the unit it belongs to (org_path) for the same reason.
#pragma once

#include <optional>
#include <string>

#include "api/api.h"

namespace shouhou::org {

api::Module module();

// Creates the built-in roles (and grants newly catalogued permissions to the
// built-in roles that hold them by default). Safe to run on every start.
Result<void> ensure_builtin_roles(store::Database& db);

struct OrgUnitRef {
  int64_t id;
  std::string path;
  std::string type;
  std::string name;
};
// An org unit the principal reaches, or not_found.
Result<OrgUnitRef> unit_in_scope(store::Conn& c, const http::Principal& who, int64_t id);

// Plain inserts used by the API and by demo-data/CLI tools (no scope checks).
struct NewUnit {
  std::string code, name, type;
  std::optional<int64_t> parent_id;
  std::optional<std::string> division_code, grade, phone, address;
};
Result<int64_t> insert_unit(store::Conn& c, const NewUnit& u);
struct NewUser {
  std::string username, display_name, password_hash;
  int64_t org_unit_id = 0;
  std::vector<std::string> roles;
  std::optional<std::string> phone, email;
  std::string locale = "zh-CN";
};
Result<int64_t> insert_user(store::Conn& c, const NewUser& u);

}  // namespace shouhou::org
