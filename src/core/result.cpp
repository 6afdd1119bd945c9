#include "core/result.h"

namespace shouhou {

// The wire names of error codes; clients switch on these, so they are part of
// the API and must not change.
const char* code_name(Error::Code c) {
  switch (c) {
    case Error::Code::invalid: return "invalid";
    case Error::Code::unauthorized: return "unauthorized";
    case Error::Code::forbidden: return "forbidden";
    case Error::Code::not_found: return "not_found";
    case Error::Code::conflict: return "conflict";
    case Error::Code::too_large: return "too_large";
    case Error::Code::unsupported: return "unsupported";
    case Error::Code::rate_limited: return "rate_limited";
    case Error::Code::unavailable: return "unavailable";
    case Error::Code::internal: return "internal";
  }
  return "internal";
}

}  // namespace shouhou
