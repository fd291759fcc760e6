// A deterministic stand-in for the model, for engine tests and a model-free server: its logits are a pure
// function of the sequence's token history, computed the way the real model computes them — through its own
// paged cache. Each token's cache slot stores a running hash of (previous slot's hash, token, position), read
// from the page the block table names for position - 1. A wrong page table, a prefix page with the wrong
// content, or a missed recompute therefore changes the output (or trips a check), just as with real latents.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/model_executor.h"

namespace fathom {

class FakeExecutor : public ModelExecutor {
 public:
  FakeExecutor(int64_t vocab_size, int32_t n_blocks, int32_t block_size, int64_t max_tokens_per_step);

  int64_t vocab_size() const override { return vocab_; }
  int32_t n_blocks() const override { return n_blocks_; }
  int32_t block_size() const override { return block_size_; }
  int64_t max_tokens_per_step() const override { return max_tokens_; }
  void execute(const StepPlan& plan, float* logits) override;

  // The logits the fake model gives after `history` (computed without any cache): the test oracle.
  static void reference_logits(const std::vector<int32_t>& history, int64_t vocab_size, float* logits);

  int64_t n_steps() const { return n_steps_; }
  int64_t n_tokens_computed() const { return n_tokens_computed_; }
  int64_t max_tokens_seen() const { return max_tokens_seen_; }

 private:
  static uint64_t advance(uint64_t prev, int32_t token, int32_t pos);
  static void logits_from_state(uint64_t state, int64_t vocab_size, float* logits);

  int64_t vocab_;
  int32_t n_blocks_, block_size_;
  int64_t max_tokens_;
  std::vector<uint64_t> state_;  // [n_blocks, block_size] running hash per cached token
  std::vector<int32_t> pos_;     // [n_blocks, block_size] position written there (-1: never)
  int64_t n_steps_ = 0, n_tokens_computed_ = 0, max_tokens_seen_ = 0;
};

}  // namespace fathom
