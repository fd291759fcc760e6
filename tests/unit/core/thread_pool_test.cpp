#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace fathom {

TEST(ThreadPool, CoversRangeExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {1, 2, 3, 7, 100, 1001}) {
    std::vector<std::atomic<int>> hits(n);
    for (int rep = 0; rep < 20; ++rep) {
      pool.parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[i]++;
      });
    }
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 20) << "n=" << n << " i=" << i;
  }
}

TEST(ThreadPool, MinChunkKeepsSmallJobsOnOneThread) {
  ThreadPool pool(4);
  std::atomic<int> calls{0};
  pool.parallel_for(10, [&](int64_t b, int64_t e) { calls++; }, 100);
  EXPECT_EQ(calls.load(), 1);
}

TEST(ThreadPool, GuidedClaimsCoverTheRangeOnceInRangesOfAtLeastMinGrab) {
  ThreadPool pool(3);
  for (int64_t n : {1, 2, 5, 64, 1000}) {
    for (int64_t min_grab : {1, 4, 16}) {
      std::mutex mu;
      std::vector<std::pair<int64_t, int64_t>> ranges;
      pool.parallel_for_guided(n, [&](int64_t b, int64_t e) {
        std::lock_guard<std::mutex> lk(mu);
        ranges.emplace_back(b, e);
      }, min_grab);
      std::sort(ranges.begin(), ranges.end());
      int64_t at = 0;
      for (const auto& [b, e] : ranges) {
        ASSERT_EQ(b, at) << "n=" << n << " min_grab=" << min_grab;  // contiguous, no overlap, no gap
        ASSERT_LT(b, e);
        if (e < n) EXPECT_GE(e - b, min_grab) << "only the last range may be short";
        at = e;
      }
      EXPECT_EQ(at, n);
    }
  }
}

TEST(ThreadPool, GuidedGivesMoreToTheThreadThatIsAhead) {
  // One thread is slowed down on every range it claims; the other must end up with most of the work.
  ThreadPool pool(2);
  std::mutex mu;
  std::vector<std::pair<std::thread::id, int64_t>> done;  // (thread, values in the range)
  const std::thread::id slow = std::this_thread::get_id();  // the caller runs part 0
  pool.parallel_for_guided(4096, [&](int64_t b, int64_t e) {
    if (std::this_thread::get_id() == slow) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::lock_guard<std::mutex> lk(mu);
    done.emplace_back(std::this_thread::get_id(), e - b);
  });
  int64_t by_slow = 0, total = 0;
  for (const auto& [id, n] : done) {
    total += n;
    if (id == slow) by_slow += n;
  }
  EXPECT_EQ(total, 4096);
  EXPECT_LT(by_slow, 4096 / 2) << "a static halving would give each thread 2048";
}

}  // namespace fathom
