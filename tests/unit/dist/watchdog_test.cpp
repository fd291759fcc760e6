// The watchdog's verdicts with two fake ranks in one process whose heartbeats travel through shared queues:
// a rank that goes quiet is named; a stuck step names the rank that never reached it, or the one still
// computing; a rank that leaves normally is not reported.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <mutex>

#include "dist/watchdog.h"

namespace fathom {
namespace {

struct Wire {
  std::mutex mu;
  std::deque<std::pair<int, std::vector<uint8_t>>> to[2];  // messages waiting at each rank
  bool muted[2] = {false, false};                          // a muted rank sends nothing (stopped process)
};

class FakeComm final : public Comm {
 public:
  FakeComm(Wire& w, int rank) : w_(w), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return 2; }
  std::string name() const override { return "fake"; }
  void allreduce_sum(float*, int64_t) override {}
  void broadcast(void*, int64_t, int) override {}
  void allgather(const void*, int64_t, void*) override {}
  void alltoallv(const void*, const std::vector<int64_t>&, const std::vector<int64_t>&, void*,
                 const std::vector<int64_t>&, const std::vector<int64_t>&) override {}
  void barrier() override {}
  [[noreturn]] void abort_job(const std::string&) override { std::abort(); }
  bool has_heartbeats() const override { return true; }
  void heartbeat_send(const void* data, int64_t bytes) override {
    std::lock_guard<std::mutex> lock(w_.mu);
    if (w_.muted[rank_]) return;
    const auto* p = static_cast<const uint8_t*>(data);
    w_.to[1 - rank_].emplace_back(rank_, std::vector<uint8_t>(p, p + bytes));
  }
  int heartbeat_poll(void* data, int64_t bytes) override {
    std::lock_guard<std::mutex> lock(w_.mu);
    auto& q = w_.to[rank_];
    if (q.empty()) return -1;
    auto [from, msg] = std::move(q.front());
    q.pop_front();
    std::memcpy(data, msg.data(), std::min<int64_t>(bytes, static_cast<int64_t>(msg.size())));
    return from;
  }
  bool in_collective() const override { return waiting; }
  std::atomic<bool> waiting{false};

 private:
  Wire& w_;
  int rank_;
};

struct Verdict {
  std::mutex mu;
  std::string why;
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& s) {
      std::lock_guard<std::mutex> lock(mu);
      if (why.empty()) why = s;
    };
  }
  std::string get() {
    std::lock_guard<std::mutex> lock(mu);
    return why;
  }
};

WatchdogOptions fast(int silence_ms, int step_ms) {
  WatchdogOptions o;
  o.silence_timeout = std::chrono::milliseconds(silence_ms);
  o.step_timeout = std::chrono::milliseconds(step_ms);
  o.period = std::chrono::milliseconds(20);
  return o;
}

std::string wait_for(Verdict& v, int ms) {
  for (int i = 0; i < ms / 10 && v.get().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return v.get();
}

TEST(Watchdog, NamesARankThatGoesQuiet) {
  Wire w;
  FakeComm c0(w, 0), c1(w, 1);
  Verdict v0, v1;
  Watchdog d0(c0, fast(300, 60'000), v0.sink()), d1(c1, fast(300, 60'000), v1.sink());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(v0.get(), "");
  {
    std::lock_guard<std::mutex> lock(w.mu);
    w.muted[1] = true;  // rank 1 is stopped: its heartbeats stop
  }
  const std::string why = wait_for(v0, 3000);
  EXPECT_NE(why.find("rank 1 has not been heard from"), std::string::npos) << why;
}

TEST(Watchdog, ARankLeavingNormallyIsNotReported) {
  Wire w;
  FakeComm c0(w, 0), c1(w, 1);
  Verdict v0, v1;
  Watchdog d0(c0, fast(200, 60'000), v0.sink());
  {
    Watchdog d1(c1, fast(200, 60'000), v1.sink());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }  // rank 1 says goodbye
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(v0.get(), "");
}

TEST(Watchdog, StuckStepNamesTheRankThatNeverReachedIt) {
  Wire w;
  FakeComm c0(w, 0), c1(w, 1);
  Verdict v0, v1;
  Watchdog d0(c0, fast(60'000, 300), v0.sink()), d1(c1, fast(60'000, 300), v1.sink());
  d1.step_begin(4);
  d1.step_end();
  d0.step_begin(5);  // rank 0 waits in step 5; rank 1 finished step 4 and never enters step 5
  c0.waiting = true;
  const std::string why = wait_for(v0, 3000);
  EXPECT_NE(why.find("step 5"), std::string::npos) << why;
  EXPECT_NE(why.find("rank(s) 1 never reached it"), std::string::npos) << why;
}

TEST(Watchdog, StuckStepNamesTheRankStillComputing) {
  Wire w;
  FakeComm c0(w, 0), c1(w, 1);
  Verdict v0, v1;
  Watchdog d0(c0, fast(60'000, 300), v0.sink()), d1(c1, fast(60'000, 5'000), v1.sink());
  d0.step_begin(5);
  c0.waiting = true;  // rank 0 waits inside a collective
  d1.step_begin(5);   // rank 1 is in the step but not in a collective: computing (forever)
  const std::string why = wait_for(v0, 3000);
  EXPECT_NE(why.find("rank(s) 1 are still computing it"), std::string::npos) << why;
}

}  // namespace
}  // namespace fathom
