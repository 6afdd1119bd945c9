// Private to src/store: what the two backends share with db.cpp.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "store/db.h"
#include "store/notify.h"

namespace shouhou::store::detail {

// Backends' connections also run multi-statement scripts (migrations) with
// the engine's own parser, so DDL is never split by hand.
class ScriptConn : public Conn {
 public:
  virtual Result<void> exec_script(std::string_view sql) = 0;
};

Result<std::unique_ptr<Database>> open_sqlite(const std::string& path, const Options& opts);
Result<std::unique_ptr<Database>> open_postgres(const std::string& url, const Options& opts);
// store/notify.h on a database open_postgres made.
Result<void> pg_notify(Database& db, const std::string& channel, const std::string& payload);
Result<std::unique_ptr<Listening>> pg_listen(Database& db, const std::string& channel,
                                             std::function<void(const std::string&)> fn, std::function<void()> on_gap);

// Which transaction, if any, the current thread is inside, per Database.
// A stack of frames lets read() inside write() reuse the writer connection
// and lets write() inside write() fail instead of deadlocking.
struct TxFrame {
  const void* owner;  // the Database
  ScriptConn* conn;
  bool writing;
  TxFrame* prev;
};

inline thread_local TxFrame* tx_top = nullptr;

inline TxFrame* find_frame(const void* owner) {
  for (TxFrame* f = tx_top; f; f = f->prev)
    if (f->owner == owner) return f;
  return nullptr;
}

class FrameGuard {
 public:
  FrameGuard(const void* owner, ScriptConn* conn, bool writing) : f_{owner, conn, writing, tx_top} { tx_top = &f_; }
  ~FrameGuard() { tx_top = f_.prev; }
  FrameGuard(const FrameGuard&) = delete;
  FrameGuard& operator=(const FrameGuard&) = delete;

 private:
  TxFrame f_;
};

// PostgreSQL: `?` -> $1..$n outside literals, quoted identifiers and
// comments; *count receives n.
std::string pg_rewrite_placeholders(std::string_view sql, int* count);

// Shortest text that parses back to the same double.
std::string format_double(double v);

}  // namespace shouhou::store::detail
