#include "engine/lockstep.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "core/check.h"

namespace fathom {

std::chrono::microseconds idle_backoff(int n_idle) {
  return std::chrono::microseconds(500 << std::min(n_idle, 5));
}

namespace {

// TENSOR mode: what rank 0 broadcasts each iteration, before the plan bytes.
struct TpHeader {
  int32_t decision = 0;  // StepDecision
  int32_t pad = 0;
  int64_t plan_bytes = 0;
};

class TpLeader final : public Lockstep {
 public:
  TpLeader(std::shared_ptr<Comm> comm, const WatchdogOptions& w) : comm_(std::move(comm)), wd_(*comm_, w) {}
  StepDecision agree(const StepPlan& plan, bool leaving) override {
    wd_.step_begin(step_++);
    TpHeader h;
    const StepDecision d = leaving ? StepDecision::STOP : plan.n_tokens() > 0 ? StepDecision::RUN : StepDecision::IDLE;
    h.decision = static_cast<int32_t>(d);
    if (d == StepDecision::RUN) {
      serialize_step_plan(plan, bytes_);
      h.plan_bytes = static_cast<int64_t>(bytes_.size());
    }
    comm_->broadcast(&h, sizeof(h), 0);
    if (d == StepDecision::RUN) comm_->broadcast(bytes_.data(), h.plan_bytes, 0);
    if (d != StepDecision::RUN) wd_.step_end();
    return d;
  }
  void step_done() override { wd_.step_end(); }
  int64_t n_steps() const override { return step_; }

 private:
  std::shared_ptr<Comm> comm_;
  Watchdog wd_;
  std::vector<uint8_t> bytes_;  // capacity reused across steps
  int64_t step_ = 0;
};

class DpLockstep final : public Lockstep {
 public:
  DpLockstep(std::shared_ptr<Comm> comm, const WatchdogOptions& w)
      : comm_(std::move(comm)), wd_(*comm_, w), all_(2 * static_cast<size_t>(comm_->size())) {}
  StepDecision agree(const StepPlan& plan, bool leaving) override {
    wd_.step_begin(step_++);
    const int64_t mine[2] = {plan.n_tokens(), leaving ? 1 : 0};
    comm_->allgather(mine, sizeof(mine), all_.data());
    bool any_tokens = false, all_leaving = true;
    for (int r = 0; r < comm_->size(); ++r) {
      any_tokens |= all_[2 * r] > 0;
      all_leaving &= all_[2 * r + 1] != 0;
    }
    const StepDecision d = any_tokens ? StepDecision::RUN : all_leaving ? StepDecision::STOP : StepDecision::IDLE;
    if (d != StepDecision::RUN) wd_.step_end();
    return d;
  }
  void step_done() override { wd_.step_end(); }
  int64_t n_steps() const override { return step_; }

 private:
  std::shared_ptr<Comm> comm_;
  Watchdog wd_;
  std::vector<int64_t> all_;  // [size, 2] {tokens, leaving} per rank
  int64_t step_ = 0;
};

}  // namespace

std::unique_ptr<Lockstep> make_tp_leader_lockstep(std::shared_ptr<Comm> comm, const WatchdogOptions& w) {
  FATHOM_CHECK(comm && comm->rank() == 0);
  return std::make_unique<TpLeader>(std::move(comm), w);
}

std::unique_ptr<Lockstep> make_dp_lockstep(std::shared_ptr<Comm> comm, const WatchdogOptions& w) {
  FATHOM_CHECK(comm != nullptr);
  return std::make_unique<DpLockstep>(std::move(comm), w);
}

int64_t run_tp_replay(ModelExecutor& exec, Comm& comm, const WatchdogOptions& w, int64_t max_logit_rows) {
  FATHOM_CHECK(comm.rank() != 0);
  Watchdog wd(comm, w);
  StepPlan plan;
  std::vector<uint8_t> bytes;
  std::vector<float> logits(static_cast<size_t>(max_logit_rows) * exec.vocab_size());  // [rows, vocab], dropped
  int64_t step = 0, n_forwards = 0;
  int n_idle = 0;
  for (;;) {
    wd.step_begin(step++);
    TpHeader h;
    comm.broadcast(&h, sizeof(h), 0);
    const auto d = static_cast<StepDecision>(h.decision);
    if (d == StepDecision::STOP) break;
    if (d == StepDecision::IDLE) {
      wd.step_end();
      std::this_thread::sleep_for(idle_backoff(n_idle++));
      continue;
    }
    FATHOM_CHECK(d == StepDecision::RUN && h.plan_bytes > 0);
    bytes.resize(static_cast<size_t>(h.plan_bytes));
    comm.broadcast(bytes.data(), h.plan_bytes, 0);
    Status st = deserialize_step_plan(bytes, plan);
    if (!st) comm.abort_job("step plan from rank 0: " + st.message());
    if (static_cast<int64_t>(plan.logit_rows.size()) > max_logit_rows)
      comm.abort_job("step plan from rank 0 has more logit rows than --max-batch-size; ranks disagree on flags");
    exec.execute(plan, logits.data());
    wd.step_end();
    ++n_forwards;
    n_idle = 0;
  }
  wd.step_end();
  return n_forwards;
}

}  // namespace fathom
