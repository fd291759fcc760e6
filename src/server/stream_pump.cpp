#include "server/stream_pump.h"

#include <chrono>
#include <deque>

namespace fathom::server {

namespace {
// Without a step (an idle engine) the open jobs are still scanned this often: a client that went away while its
// request waited is noticed here.
constexpr auto kIdleScan = std::chrono::milliseconds(20);
}  // namespace

StreamPump::StreamPump(Engine& engine, int max_in_engine) : engine_(engine), max_in_engine_(max_in_engine) {
  engine_.set_step_listener([w = w_] {
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->stepped = true;
    }
    w->cv.notify_one();
  });
  thread_ = std::thread([this] { run(); });
}

StreamPump::~StreamPump() { stop(); }

void StreamPump::add(std::shared_ptr<PumpJob> job) {
  {
    std::lock_guard<std::mutex> lock(w_->mu);
    w_->incoming.push_back(std::move(job));
  }
  n_jobs_.fetch_add(1, std::memory_order_relaxed);
  w_->cv.notify_one();
}

void StreamPump::stop() {
  {
    std::lock_guard<std::mutex> lock(w_->mu);
    if (w_->stop) return;
    w_->stop = true;
  }
  engine_.set_step_listener(nullptr);
  w_->cv.notify_one();
  if (thread_.joinable()) thread_.join();
}

void StreamPump::run() {
  std::vector<std::shared_ptr<PumpJob>> active;
  std::deque<std::shared_ptr<PumpJob>> waiting;
  int in_engine = 0;
  auto retire = [&](std::vector<std::shared_ptr<PumpJob>>& jobs, size_t k) {
    in_engine -= jobs[k]->n_requests();
    jobs[k] = std::move(jobs.back());
    jobs.pop_back();
    n_jobs_.fetch_sub(1, std::memory_order_relaxed);
  };
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(w_->mu);
      w_->cv.wait_for(lock, kIdleScan, [&] { return w_->stop || w_->stepped || !w_->incoming.empty(); });
      if (w_->stop) break;
      w_->stepped = false;
      for (auto& j : w_->incoming) waiting.push_back(std::move(j));
      w_->incoming.clear();
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
      active.push_back(std::move(job));
    }
    n_waiting_.store(waiting.size(), std::memory_order_relaxed);
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
