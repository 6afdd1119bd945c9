// Live events across server processes. Several `shouhou serve` processes on
// one PostgreSQL database each have their own WebSocket clients; the relay
// wraps this server's EventHub so that a publish reaches this server's
// clients directly and every other server's clients through a database
// notification (store/notify.h), and theirs come back the
// same way. On SQLite (one process) it is the local hub alone.
//
// Events carry their scopes (org paths) across, so each server filters them
// for its own clients. While this server's LISTEN connection is down the
// other servers' events are lost; once it listens again its clients get a
// resync message (their pages reload their data).
#pragma once

#include <memory>
#include <string>

#include "http/http.h"
#include "store/db.h"
#include "store/notify.h"

namespace shouhou::app {

class EventRelay final : public http::EventHub {
 public:
  EventRelay(http::EventHub& local, store::Database& db);
  ~EventRelay() override;
  // Starts listening for the other servers' events (PostgreSQL). An error
  // leaves events local to this server.
  Result<void> start();
  using http::EventHub::publish;
  void publish(const std::string& topic, const nlohmann::json& payload, const std::vector<std::string>& scopes) override;
  void resync(const std::string& reason) override { local_.resync(reason); }
  size_t clients() const override { return local_.clients(); }

 private:
  void receive(const std::string& message);

  http::EventHub& local_;
  store::Database& db_;
  std::string origin_;  // this process, so it skips its own events coming back
  std::unique_ptr<store::Listening> listening_;
};

}  // namespace shouhou::app
