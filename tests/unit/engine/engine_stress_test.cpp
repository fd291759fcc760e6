// 10,000 short requests through the engine (a tenth aborted once their first tokens arrive, a tenth right after
// submission): afterwards no page is in use, every request got a final event, and resident memory did not grow
// past the warm-up.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <thread>
#include <unistd.h>

#include "engine_test_util.h"

namespace fathom {
namespace {

int64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  int64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Runs `n` requests, at most `concurrency` in flight; aborts every tenth after its first tokens arrive (unless it
// finished first: how many do depends on timing) and another tenth as soon as it is submitted.
void run_wave(Engine& e, int n, int concurrency, std::mt19937& rng, int64_t& n_aborted, int64_t& n_done) {
  std::vector<std::shared_ptr<ResultChannel>> live;
  std::vector<bool> to_abort;
  int submitted = 0;
  while (submitted < n || !live.empty()) {
    while (submitted < n && static_cast<int>(live.size()) < concurrency) {
      GenerateRequest r;
      r.prompt_ids = test::random_prompt(rng, std::uniform_int_distribution<int>(1, 40)(rng));
      r.sampling.max_tokens = std::uniform_int_distribution<int>(1, 12)(rng);
      r.sampling.temperature = (submitted % 3 == 0) ? 0.7f : 0.0f;
      live.push_back(e.submit(std::move(r)));
      if (submitted % 10 == 7) e.abort(live.back()->request_id());
      to_abort.push_back(submitted % 10 == 3);
      ++submitted;
    }
    for (size_t i = 0; i < live.size();) {
      GenerationEvent ev;
      if (live[i]->next(ev, std::chrono::milliseconds(0))) {
        if (to_abort[i] && !ev.finished()) {
          e.abort(live[i]->request_id());
          to_abort[i] = false;
        }
        if (!ev.finished()) continue;
        EXPECT_NE(ev.finish, FinishReason::ERROR) << ev.error;
        n_aborted += ev.finish == FinishReason::ABORT;
        ++n_done;
        live[i] = live.back();
        live.pop_back();
        to_abort[i] = to_abort.back();
        to_abort.pop_back();
      } else {
        ++i;
      }
    }
    std::this_thread::yield();
  }
}

TEST(EngineStress, TenThousandShortRequestsLeaveNoPagesAndNoGrowth) {
  auto cfg = test::fake_config(64, 512, /*prefix=*/true);
  auto e = test::fake_engine(cfg, 256, 8);  // 2048 token slots for up to 64 × 52 tokens: preemption happens too
  std::mt19937 rng(11);
  int64_t n_aborted = 0, n_done = 0;
  run_wave(*e, 1000, 128, rng, n_aborted, n_done);  // warm-up: buffers, maps and allocator arenas settle
  const int64_t rss_before = rss_bytes();
  run_wave(*e, 9000, 128, rng, n_aborted, n_done);
  const int64_t rss_after = rss_bytes();
  EXPECT_EQ(n_done, 10000);
  EXPECT_GT(n_aborted, 100);
  const EngineStats st = e->stats();
  EXPECT_EQ(st.pages_in_use, 0);
  EXPECT_EQ(st.n_running, 0);
  EXPECT_EQ(st.n_waiting, 0);
  EXPECT_EQ(st.n_finished, 10000);
  EXPECT_LT(rss_after - rss_before, 4 << 20) << "resident memory grew by " << (rss_after - rss_before) << " bytes";
}

}  // namespace
}  // namespace fathom
