// A persistent pool of worker threads for data-parallel loops (no thread creation per op).
// parallel_for splits [0, n) into contiguous chunks, one per thread; the split depends only on n and the
// thread count, and callers never reduce across chunks, so results do not depend on scheduling.
// parallel_for_guided and parallel_for_parts hand out ranges as threads ask for them, for work whose results do
// not depend on the split.
// Waiting is spin-then-sleep: idle workers and the waiting caller poll for up to spin_us (FATHOM_SPIN_US, default
// 50 µs; 0 sleeps at once) before sleeping on a condition variable. A forward pass runs hundreds of short loops
// back to back, and a futex wake-up per loop cost ~20% of a decoded token on an idle machine. When another
// process wants the cores, polling takes a core from the thread that would do the work (measured: decode 3–4×
// slower), so every kRespinEvery loops the pool reads how many threads are runnable machine-wide and polls only
// while that is no more than its own.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fathom {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads <= 0: one per hardware thread; spin_us from FATHOM_SPIN_US
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }
  // fn(begin, end) over disjoint ranges covering [0, n). Blocks until all are done. Not reentrant.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t min_chunk = 1);
  // fn(begin, end) over contiguous ranges covering [0, n), claimed while running: each claim takes half of what is
  // left shared among the threads (at least min_grab), so a thread that gets ahead takes more and all of them
  // finish within one small range of each other. Which thread runs which range depends on timing: use it only
  // where the results cannot depend on the split.
  void parallel_for_guided(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t min_grab = 1);
  // As parallel_for_guided, and fn also gets the claiming thread's part index in [0, n_threads()) — for per-part
  // scratch buffers.
  void parallel_for_parts(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t min_grab = 1);

 private:
  void worker(int index);
  // Polls done() for up to spin_now_us_ (spin_us_, or 0 while other threads want the cores); true if it became
  // true.
  template <class Pred>
  bool spin_until(Pred done);
  static constexpr uint64_t kRespinEvery = 256;
  int n_threads_;
  int spin_us_;
  std::atomic<int> spin_now_us_;
  uint64_t calls_ = 0;  // parallel_for calls (caller thread only)
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_start_, cv_done_;
  // The current job: written by the caller before it bumps generation_ (release), read after (acquire).
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int job_parts_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace fathom
