#include "server/prepare_queue.h"

namespace fathom::server {

PrepareQueue::PrepareQueue(int n_threads) {
  for (int i = 0; i < std::max(1, n_threads); ++i) threads_.emplace_back([this] { worker(); });
}

PrepareQueue::~PrepareQueue() { stop(); }

void PrepareQueue::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

size_t PrepareQueue::n_queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_.size();
}

void PrepareQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    tasks_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void PrepareQueue::worker() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (stop_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace fathom::server
