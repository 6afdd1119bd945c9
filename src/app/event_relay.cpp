#include "app/event_relay.h"

#include <spdlog/spdlog.h>

#include "core/util.h"

namespace shouhou::app {

namespace {
constexpr const char* kChannel = "shouhou_events";
}

EventRelay::EventRelay(http::EventHub& local, store::Database& db)
    : local_(local), db_(db), origin_(random_hex(8)) {}

// Stops the deliveries before the hub they go to can disappear.
EventRelay::~EventRelay() { listening_.reset(); }

Result<void> EventRelay::start() {
  if (db_.dialect() == store::Dialect::sqlite) return {};
  listening_ = TRY(store::listen(db_, kChannel, [this](const std::string& m) { receive(m); },
                                 [this] { local_.resync("events from other servers may have been missed"); }));
  return {};
}

void EventRelay::publish(const std::string& topic, const nlohmann::json& payload,
                         const std::vector<std::string>& scopes) {
  local_.publish(topic, payload, scopes);
  if (!listening_) return;
  std::string message = nlohmann::json{{"o", origin_}, {"t", topic}, {"d", payload}, {"s", scopes}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Inside a write transaction this goes out with its COMMIT; events are
  // small (ids and kinds), a notification holds under 8 KB.
  if (auto r = store::notify(db_, kChannel, message); !r)
    spdlog::warn("event on topic {} not relayed to the other servers: {}", topic, r.error().message);
}

void EventRelay::receive(const std::string& message) {
  auto j = nlohmann::json::parse(message, nullptr, false);
  if (!j.is_object() || !j["o"].is_string() || !j["t"].is_string()) return;
  if (j["o"].get<std::string>() == origin_) return;  // already published here
  std::vector<std::string> scopes;
  if (j.contains("s") && j["s"].is_array())
    for (const auto& s : j["s"])
      if (s.is_string()) scopes.push_back(s.get<std::string>());
  local_.publish(j["t"].get<std::string>(), j["d"], scopes);
}

}  // namespace shouhou::app
