#include "api/background.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "api/api.h"

namespace shouhou::api {

void DomainBus::on(std::string type, Handler h) { handlers_.emplace_back(std::move(type), std::move(h)); }

Result<void> DomainBus::emit(WriteTx& tx, std::string_view type, int64_t id, const nlohmann::json& data) const {
  for (const auto& [t, h] : handlers_)
    if (t.empty() || t == type) TRY_VOID(h(tx, type, id, data));
  return {};
}

struct Scheduler::Impl {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> stopping{false};
  uint64_t pokes = 0;
  std::vector<std::thread> threads;

  template <class F>
  void guarded(const std::string& name, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      spdlog::error("background job {}: {}", name, e.what());
    } catch (...) {
      spdlog::error("background job {}: unknown exception", name);
    }
  }
};

Scheduler::Scheduler() : impl_(std::make_unique<Impl>()) {}
Scheduler::~Scheduler() { stop(); }

void Scheduler::every(std::string name, std::chrono::milliseconds period, std::function<void()> job) {
  std::lock_guard lk(impl_->mu);
  if (impl_->stopping) return;
  impl_->threads.emplace_back([this, name = std::move(name), period, job = std::move(job)] {
    auto& d = *impl_;
    while (!d.stopping) {
      d.guarded(name, job);
      std::unique_lock lk(d.mu);
      uint64_t seen = d.pokes;
      d.cv.wait_for(lk, period, [&] { return d.stopping.load() || d.pokes != seen; });
    }
  });
}

void Scheduler::spawn(std::string name, std::function<void()> job) {
  std::lock_guard lk(impl_->mu);
  if (impl_->stopping) return;
  impl_->threads.emplace_back([this, name = std::move(name), job = std::move(job)] { impl_->guarded(name, job); });
}

void Scheduler::poke() {
  {
    std::lock_guard lk(impl_->mu);
    ++impl_->pokes;
  }
  impl_->cv.notify_all();
}

void Scheduler::stop() {
  std::vector<std::thread> ts;
  {
    std::lock_guard lk(impl_->mu);
    impl_->stopping = true;
    ts.swap(impl_->threads);
  }
  impl_->cv.notify_all();
  for (auto& t : ts)
    if (t.joinable()) t.join();
}

bool Scheduler::stopping() const { return impl_->stopping; }

}  // namespace shouhou::api
