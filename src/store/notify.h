// Notifications between the processes sharing one database (PostgreSQL
// LISTEN/NOTIFY), e.g. so that live events reach the clients of every server.
// SQLite serves one process: notify() does nothing and listen() reports
// Error::unavailable. Channels are [a-z0-9_]+; a payload is at most 7,999 bytes.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "store/db.h"

namespace shouhou::store {

// Inside a write() on this thread the notification belongs to that
// transaction and is delivered only if it commits; otherwise it is queued and
// sent at once by a background connection. Never waits for the network.
Result<void> notify(Database& db, const std::string& channel, const std::string& payload);

// While a Listening lives, its callback receives every notification on its
// channel from every process, this one included, on a background thread (a
// dedicated connection that reconnects and listens again by itself;
// notifications sent while it is disconnected are lost: `on_gap` runs, on the
// same thread, once the LISTEN is back after such a gap, so that the listener
// can make up for them, e.g. by telling its clients to reload).
class Listening {
 public:
  virtual ~Listening() = default;  // no call of the callback runs or starts after it returns
};

// fn and on_gap must be quick and must not call listen(). Returns once the
// server has confirmed the LISTEN.
Result<std::unique_ptr<Listening>> listen(Database& db, const std::string& channel,
                                          std::function<void(const std::string& payload)> fn,
                                          std::function<void()> on_gap = {});

}  // namespace shouhou::store
