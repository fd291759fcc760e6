// Keeping the ranks of a distributed job in step, on the engine thread (the only thread that runs collectives).
//
//   TENSOR (--tp N): rank 0's engine schedules. Each loop iteration it broadcasts a header {RUN | IDLE | STOP}
//     and, for RUN, the serialised StepPlan; ranks > 0 run run_tp_replay(): the same forward over the same plan
//     (their logits are dropped; rank 0 samples). STOP ends the replay when rank 0's engine stops.
//   EXPERT (--dp N --ep N): every rank schedules its own requests. Each iteration the ranks allgather
//     {tokens planned, leaving}: if any rank has tokens, every rank runs the forward (idle ones with an empty
//     plan, since the MoE alltoallv is collective); if none has, nobody does and all back off; when every rank
//     is leaving they all stop together (a rank that stops early keeps hosting its experts for the others).
//
// Idle iterations back off the same way on every rank (they see the same decisions), so idle ranks meet again
// at about the same time instead of spinning inside MPI. A watchdog (dist/watchdog.h) brackets each step.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>

#include "dist/comm.h"
#include "dist/watchdog.h"
#include "engine/model_executor.h"
#include "engine/step_plan.h"

namespace fathom {

enum class StepDecision { RUN, IDLE, STOP };

// How long to wait after the n-th consecutive idle iteration (n from 0): 0.5 ms doubling up to 16 ms.
std::chrono::microseconds idle_backoff(int n_idle);

class Lockstep {
 public:
  virtual ~Lockstep() = default;
  // Collective, once per engine-loop iteration. plan: this rank's step (no tokens: nothing to run);
  // leaving: this rank's engine is stopping. RUN means: run the forward (the plan, or an empty one).
  virtual StepDecision agree(const StepPlan& plan, bool leaving) = 0;
  virtual void step_done() = 0;  // after the forward of a RUN, or at once after IDLE
  virtual int64_t n_steps() const = 0;  // iterations agreed so far (the same on every rank)
};

std::unique_ptr<Lockstep> make_tp_leader_lockstep(std::shared_ptr<Comm> comm, const WatchdogOptions& w);
std::unique_ptr<Lockstep> make_dp_lockstep(std::shared_ptr<Comm> comm, const WatchdogOptions& w);

// TP ranks > 0: replays rank 0's steps on `exec` until rank 0's engine stops. max_logit_rows: the largest
// plan.logit_rows (the engine's max batch size). Returns the number of forwards run.
int64_t run_tp_replay(ModelExecutor& exec, Comm& comm, const WatchdogOptions& w, int64_t max_logit_rows);

}  // namespace fathom
