// Demo data: the org tree and one user per role, so a first `make run` has
// something to log in to. Goes through the same insert functions as the API.
#pragma once

#include <string>
#include <vector>

#include "store/db.h"

namespace shouhou::app {

struct DemoLogin {
  std::string username;
  std::string role;
  std::string org;
};

inline constexpr const char* kDemoPassword = "shouhou";

// Seeds when the database has no users; returns the demo logins either way.
Result<std::vector<DemoLogin>> seed_demo(store::Database& db);

}  // namespace shouhou::app
