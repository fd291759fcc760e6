// Worker threads for the CPU-heavy first half of a generation request — JSON parsing, chat template,
// tokenization — so that a long prompt never holds an io thread (and the SSE streams it serves) for
// milliseconds. Tasks run in arrival order; stop() drops the tasks still queued.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fathom::server {

class PrepareQueue {
 public:
  explicit PrepareQueue(int n_threads);
  ~PrepareQueue();  // stop()
  PrepareQueue(const PrepareQueue&) = delete;
  PrepareQueue& operator=(const PrepareQueue&) = delete;

  void post(std::function<void()> task);  // thread-safe; ignored after stop()
  void stop();                            // joins the workers; queued tasks are dropped
  size_t n_queued() const;

 private:
  void worker();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace fathom::server
