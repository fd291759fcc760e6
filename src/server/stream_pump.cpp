#include "server/stream_pump.h"

#include <chrono>
#include <deque>

namespace fathom::server {

namespace {
// A scan runs when the engine has stepped (new tokens are likely) and at least this often regardless: the engine
// publishes its step counter before its last deliveries of a step, and aborts can finish without a step.
constexpr auto kMaxScanInterval = std::chrono::milliseconds(5);
constexpr auto kPollInterval = std::chrono::microseconds(500);
}  // namespace

StreamPump::StreamPump(const Engine& engine, int max_in_engine) : engine_(engine), max_in_engine_(max_in_engine) {
  thread_ = std::thread([this] { run(); });
}

StreamPump::~StreamPump() { stop(); }

void StreamPump::add(std::shared_ptr<PumpJob> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    incoming_.push_back(std::move(job));
  }
  n_jobs_.fetch_add(1, std::memory_order_relaxed);
  cv_.notify_one();
}

void StreamPump::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void StreamPump::run() {
  std::vector<std::shared_ptr<PumpJob>> active, fresh;
  std::deque<std::shared_ptr<PumpJob>> waiting;
  int in_engine = 0;
  int64_t last_steps = -1, last_finished = -1;
  auto last_scan = std::chrono::steady_clock::now();
  auto retire = [&](std::vector<std::shared_ptr<PumpJob>>& jobs, size_t k) {
    in_engine -= jobs[k]->n_requests();
    jobs[k] = std::move(jobs.back());
    jobs.pop_back();
    n_jobs_.fetch_sub(1, std::memory_order_relaxed);
  };
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      const auto wait = active.empty() && waiting.empty() ? std::chrono::microseconds(50'000) : kPollInterval;
      cv_.wait_for(lock, wait, [&] { return stop_ || !incoming_.empty(); });
      if (stop_) break;
      for (auto& j : incoming_) waiting.push_back(std::move(j));
      incoming_.clear();
    }
    // Admit in arrival order while the budget allows (a job larger than the budget runs alone).
    while (!waiting.empty() && (in_engine == 0 || in_engine + waiting.front()->n_requests() <= max_in_engine_)) {
      std::shared_ptr<PumpJob> job = std::move(waiting.front());
      waiting.pop_front();
      if (job->start()) {
        n_jobs_.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      in_engine += job->n_requests();
      fresh.push_back(std::move(job));
    }
    for (size_t k = 0; k < fresh.size();) {
      if (fresh[k]->poll()) {
        retire(fresh, k);
      } else {
        active.push_back(std::move(fresh[k]));
        ++k;
      }
    }
    fresh.clear();
    const EngineStats s = engine_.stats();
    const auto now = std::chrono::steady_clock::now();
    if (s.n_steps == last_steps && s.n_finished == last_finished && now - last_scan < kMaxScanInterval) continue;
    last_steps = s.n_steps;
    last_finished = s.n_finished;
    last_scan = now;
    for (size_t k = 0; k < active.size();) {
      if (active[k]->poll()) {
        retire(active, k);
      } else {
        ++k;
      }
    }
  }
}

}  // namespace fathom::server
