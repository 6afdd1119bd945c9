// Demo data for the service network (called from app::seed_demo).
#pragma once

#include <map>
#include <string>

#include "store/db.h"

namespace shouhou::network {

// Outlet settings and engineer profiles for the demo providers (units by code).
Result<void> seed_demo(store::Conn& c, const std::map<std::string, int64_t>& units);

}  // namespace shouhou::network
