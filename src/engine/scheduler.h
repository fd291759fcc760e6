// The token-budget scheduler (one engine step at a time, engine thread only).
//
// Each step: running sequences first, in admission order — a decode costs one token, a prefill chunk takes from
// the prefill budget (--max-prefill-token-num); pages for the new tokens are allocated, and when the pool runs
// dry the most recently admitted running sequence is preempted (pages released, recomputed later) — possibly
// the one being scheduled. Then, if nothing was preempted, waiting sequences are admitted FCFS (prefix-cache
// hit first) while the batch has room (--max-batch-size) and the prefill budget lasts. A waiting sequence that
// does not fit waits; nothing behind it jumps ahead.
//
// Requests are checked at submission so that every admitted sequence fits the whole pool on its own: with all
// others preempted it can always run, so the loop never deadlocks.
#pragma once
#include <cstdint>
#include <deque>
#include <vector>

#include "engine/block_pool.h"
#include "engine/sequence.h"
#include "engine/step_plan.h"

namespace fathom {

struct SchedulerConfig {
  int32_t max_batch_size = 128;
  int32_t max_prefill_tokens = 8192;
};

// One scheduled sequence of a step: it computes tokens [n_computed, n_computed + n_new); `sample` when that
// reaches the end of its tokens (its logits row is then the next entry of plan.logit_rows).
struct ScheduledSeq {
  Sequence* seq = nullptr;
  int32_t n_new = 0;
  bool sample = false;
};

struct SchedulerOutput {
  StepPlan plan;
  std::vector<ScheduledSeq> scheduled;  // [plan.n_seqs()] in block_tables row order
  int32_t n_preempted = 0;
  bool empty() const { return scheduled.empty(); }
};

class Scheduler {
 public:
  Scheduler(SchedulerConfig cfg, BlockPool& pool);

  void add(Sequence* seq);        // joins the back of the waiting queue
  // Builds the next step into `out` (reusing its buffers). Empty when there is nothing to run.
  void schedule(SchedulerOutput& out);
  // After the forward ran: advances n_computed and registers newly full pages for prefix caching.
  void commit(const SchedulerOutput& out);
  // Removes a waiting or running sequence and releases its pages.
  void remove(Sequence* seq);

  int32_t n_running() const { return static_cast<int32_t>(running_.size()); }
  int32_t n_waiting() const { return static_cast<int32_t>(waiting_.size()); }
  bool has_work() const { return !running_.empty() || !waiting_.empty(); }
  const BlockPool& pool() const { return pool_; }
  int64_t max_tokens_per_step() const { return static_cast<int64_t>(cfg_.max_prefill_tokens) + cfg_.max_batch_size; }

 private:
  int32_t pages_for(int32_t n_tokens) const { return (n_tokens + pool_.block_size() - 1) / pool_.block_size(); }
  bool grow(Sequence* seq, int32_t n_tokens);  // pages to cover n_tokens; false (nothing taken) if short
  void preempt(Sequence* seq);
  void release_pages(Sequence* seq);
  int32_t match_prefix(Sequence* seq);          // acquires hit pages; returns cached tokens
  void emit(SchedulerOutput& out, Sequence* seq, int32_t n_new);

  SchedulerConfig cfg_;
  BlockPool& pool_;
  std::vector<Sequence*> running_;  // admission order; back = most recent
  std::deque<Sequence*> waiting_;   // FCFS; preempted sequences return to the front
  int64_t step_ = 0;
};

}  // namespace fathom
