// Who is making a request: the authenticated user with their org unit, roles,
// permissions and data scope. Resolved once per request by the auth
// middleware and read by every module.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shouhou::http {

struct Principal {
  enum class Via { session, token };

  int64_t user_id = 0;
  std::string username;
  std::string display_name;
  std::string locale = "zh-CN";
  int64_t org_unit_id = 0;
  std::string org_path;   // materialised path of the user's unit, e.g. "/1/4/9/"
  std::string org_name;
  std::string org_type;
  std::vector<std::string> roles;
  std::vector<std::string> permissions;  // sorted
  Via via = Via::session;
  std::string csrf_token;                // session logins only
  std::string credential_hash;           // session or token hash (for logout/revoke)

  bool can(std::string_view perm) const {
    return std::binary_search(permissions.begin(), permissions.end(), perm);
  }
  bool has_role(std::string_view r) const { return std::find(roles.begin(), roles.end(), r) != roles.end(); }
  // Data scope: a user reaches the records of their own unit's subtree.
  bool reaches(std::string_view record_org_path) const {
    return !org_path.empty() && record_org_path.substr(0, org_path.size()) == org_path;
  }
};

}  // namespace shouhou::http
