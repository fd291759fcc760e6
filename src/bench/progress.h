// A progress bar on stderr, redrawn a few times a second from its own thread while requests complete (a line per
// 10% instead when stderr is not a terminal, so logs stay readable). Disabled: prints nothing.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

namespace fathom::bench {

class ProgressBar {
 public:
  ProgressBar(size_t total, bool enabled, std::string label);
  ~ProgressBar();  // draws the final state and stops the thread
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void tick(bool failed) {  // any thread
    n_done_.fetch_add(1, std::memory_order_relaxed);
    if (failed) n_failed_.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  void loop();
  void draw(bool final);

  size_t total_;
  bool enabled_;
  bool tty_;
  std::string label_;
  std::atomic<size_t> n_done_{0}, n_failed_{0};
  size_t last_decile_ = 0;
  double t0_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace fathom::bench
