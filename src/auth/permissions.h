// The catalogue of action permissions and the built-in roles of PRODUCT.md.
// Roles are data (table roles/role_permissions) seeded from these defaults;
// an administrator may change a role's permissions afterwards.
#pragma once

#include <string>
#include <vector>

namespace shouhou::auth {

struct PermissionInfo {
  const char* code;
  const char* name_zh;
  const char* name_en;
};
const std::vector<PermissionInfo>& permission_catalogue();
bool is_permission(std::string_view code);

struct RoleInfo {
  std::string code;
  std::string name_zh;
  std::string name_en;
  std::vector<std::string> permissions;
};
const std::vector<RoleInfo>& builtin_roles();

}  // namespace shouhou::auth
