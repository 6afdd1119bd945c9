// Cross-module plumbing that is not HTTP: in-transaction domain events and
// background jobs.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace shouhou::api {

class WriteTx;

// Domain events between modules, delivered synchronously inside the
// emitter's write transaction: a handler's writes commit or roll back with
// the emitter's, and a handler's error fails the whole write. Lets a module
// announce "order entered state X" without depending on the modules that
// react (SLA, claims, dispatch). Handlers are registered at start-up only
// (Module::wire), before any request is served.
class DomainBus {
 public:
  using Handler = std::function<Result<void>(WriteTx&, std::string_view type, int64_t id, const nlohmann::json& data)>;
  // type "" subscribes to every event.
  void on(std::string type, Handler h);
  Result<void> emit(WriteTx& tx, std::string_view type, int64_t id, const nlohmann::json& data) const;

 private:
  std::vector<std::pair<std::string, Handler>> handlers_;
};

// Background jobs (SLA timers, dispatch follow-up, imports), each on its own
// thread, never on the HTTP I/O threads. stop() wakes and joins them all;
// jobs should check stopping() between units of work. With several server
// processes on one PostgreSQL every process runs the jobs, so jobs claim
// work with row locks (FOR UPDATE SKIP LOCKED) or idempotent updates.
class Scheduler {
 public:
  Scheduler();
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs job now and then every `period` until stop(). An exception or error
  // is logged and the job runs again next period.
  void every(std::string name, std::chrono::milliseconds period, std::function<void()> job);
  // Runs a one-off long task (an import, a settlement run) on its own thread.
  void spawn(std::string name, std::function<void()> job);
  // Wakes periodic jobs early (e.g. after a write that created new work).
  void poke();
  void stop();
  bool stopping() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shouhou::api
