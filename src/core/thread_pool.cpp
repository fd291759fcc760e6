#include "core/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace fathom {

namespace {
// Threads running or ready to run on the whole machine (procs_running in /proc/stat); a large number if unknown.
int runnable_threads() {
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return 1 << 20;
  char line[256];
  int n = 1 << 20;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "procs_running %d", &n) == 1) break;
  std::fclose(f);
  return n;
}

int spin_us_from_env() {
  const char* e = std::getenv("FATHOM_SPIN_US");
  return e ? std::max(0, std::atoi(e)) : 50;
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) : spin_us_(spin_us_from_env()), spin_now_us_(spin_us_) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n_threads_ = n_threads;
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_.store(true);
  }
  cv_start_.notify_all();
  for (auto& t : threads_) t.join();
}

template <class Pred>
bool ThreadPool::spin_until(Pred done) {
  const int us = spin_now_us_.load(std::memory_order_relaxed);
  if (us <= 0) return done();
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      _mm_pause();
    }
    if (std::chrono::steady_clock::now() >= until) break;
  }
  return done();
}

static void run_part(const std::function<void(int64_t, int64_t)>& fn, int64_t n, int parts, int index) {
  const int64_t chunk = (n + parts - 1) / parts;
  const int64_t b = std::min<int64_t>(n, chunk * index), e = std::min<int64_t>(n, b + chunk);
  if (b < e) fn(b, e);
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t min_chunk) {
  if (n <= 0) return;
  const int parts = static_cast<int>(std::min<int64_t>(n_threads_, std::max<int64_t>(1, n / std::max<int64_t>(1, min_chunk))));
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  // Every kRespinEvery loops: poll only while nothing else is runnable on the machine.
  if (spin_us_ > 0 && calls_++ % kRespinEvery == 0)
    spin_now_us_.store(runnable_threads() <= n_threads_ ? spin_us_ : 0, std::memory_order_relaxed);
  job_ = &fn;
  job_n_ = n;
  job_parts_ = parts;
  pending_.store(parts - 1, std::memory_order_relaxed);
  {
    // Under the lock, so a worker between its last poll and its sleep cannot miss the new generation.
    std::lock_guard<std::mutex> lk(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_start_.notify_all();
  run_part(fn, n, parts, 0);
  if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_done_.wait(lk, [this] { return pending_.load(std::memory_order_acquire) == 0; });
  }
  job_ = nullptr;
}

void ThreadPool::parallel_for_parts(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                                    int64_t min_grab) {
  if (n <= 0) return;
  min_grab = std::max<int64_t>(1, min_grab);
  const int64_t parts = std::min<int64_t>(n_threads_, (n + min_grab - 1) / min_grab);
  if (parts <= 1) {
    fn(0, n, 0);
    return;
  }
  std::atomic<int64_t> next{0};
  parallel_for(parts, [&](int64_t p0, int64_t) {
    int64_t b = next.load(std::memory_order_relaxed);
    for (;;) {
      int64_t e;
      do {
        if (b >= n) return;
        e = std::min(n, b + std::max(min_grab, (n - b + 2 * parts - 1) / (2 * parts)));
      } while (!next.compare_exchange_weak(b, e, std::memory_order_relaxed));
      fn(b, e, static_cast<int>(p0));
      b = next.load(std::memory_order_relaxed);
    }
  });
}

void ThreadPool::parallel_for_guided(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t min_grab) {
  parallel_for_parts(n, [&](int64_t b, int64_t e, int) { fn(b, e); }, min_grab);
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    auto ready = [&] { return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen; };
    if (!spin_until(ready)) {
      std::unique_lock<std::mutex> lk(mu_);
      cv_start_.wait(lk, ready);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    const std::function<void(int64_t, int64_t)>* job = job_;
    const int64_t n = job_n_;
    const int parts = job_parts_;
    if (index < parts) {
      run_part(*job, n, parts, index);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(mu_);  // the caller may be between its last poll and its sleep
        cv_done_.notify_one();
      }
    }
  }
}

}  // namespace fathom
