// Demo data: the org tree and one user per role, so a first `make run` has
// something to log in to. Goes through the same insert functions as the API.
#pragma once

#include <string>
#include <vector>

#include "api/api.h"

namespace shouhou::app {

struct DemoLogin {
  std::string username;
  std::string role;
  std::string org;
};

inline constexpr const char* kDemoPassword = "shouhou";

// Seeds when the database has no users; returns the demo logins either way.
// p must be wired (app::wire_modules) so module reactions run as for the API.
Result<std::vector<DemoLogin>> seed_demo(api::Platform& p);

}  // namespace shouhou::app
