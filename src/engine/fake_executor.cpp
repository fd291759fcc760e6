#include "engine/fake_executor.h"

#include <algorithm>

#include "core/check.h"

namespace fathom {

namespace {
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
}  // namespace

FakeExecutor::FakeExecutor(int64_t vocab_size, int32_t n_blocks, int32_t block_size, int64_t max_tokens_per_step)
    : vocab_(vocab_size),
      n_blocks_(n_blocks),
      block_size_(block_size),
      max_tokens_(max_tokens_per_step),
      state_(static_cast<size_t>(n_blocks) * block_size, 0),
      pos_(static_cast<size_t>(n_blocks) * block_size, -1) {}

uint64_t FakeExecutor::advance(uint64_t prev, int32_t token, int32_t pos) {
  return mix64(prev ^ mix64(static_cast<uint64_t>(token) * 0x100000001b3ull + static_cast<uint64_t>(pos)));
}

void FakeExecutor::logits_from_state(uint64_t state, int64_t vocab_size, float* logits) {
  for (int64_t v = 0; v < vocab_size; ++v) {
    const uint64_t r = mix64(state ^ static_cast<uint64_t>(v) * 0x9e3779b97f4a7c15ull);
    logits[v] = static_cast<float>(static_cast<double>(r >> 40) * 0x1.0p-24 * 8.0 - 4.0);  // [-4, 4)
  }
}

void FakeExecutor::reference_logits(const std::vector<int32_t>& history, int64_t vocab_size, float* logits) {
  uint64_t h = 0;
  for (size_t p = 0; p < history.size(); ++p) h = advance(h, history[p], static_cast<int32_t>(p));
  logits_from_state(h, vocab_size, logits);
}

void FakeExecutor::execute(const StepPlan& plan, float* logits) {
  const int64_t n = plan.n_tokens();
  FATHOM_CHECK(n <= max_tokens_);
  ++n_steps_;
  n_tokens_computed_ += n;
  max_tokens_seen_ = std::max(max_tokens_seen_, n);
  auto slot = [&](int32_t seq, int32_t pos) -> size_t {
    const int32_t page = plan.block_tables[static_cast<size_t>(seq) * plan.max_blocks_per_seq + pos / block_size_];
    FATHOM_CHECK_MSG(page >= 0 && page < n_blocks_, "position outside the sequence's pages");
    return static_cast<size_t>(page) * block_size_ + pos % block_size_;
  };
  // Rows are processed in order: a chunk's token reads the slot its predecessor wrote in this same step.
  for (int64_t t = 0; t < n; ++t) {
    const int32_t seq = plan.seq_of_token[t], pos = plan.positions[t];
    FATHOM_CHECK(pos / block_size_ < plan.max_blocks_per_seq);
    uint64_t prev = 0;
    if (pos > 0) {
      const size_t ps = slot(seq, pos - 1);
      FATHOM_CHECK_MSG(pos_[ps] == pos - 1, "attending over a cache slot that does not hold position - 1");
      prev = state_[ps];
    }
    const size_t s = slot(seq, pos);
    state_[s] = advance(prev, plan.token_ids[t], pos);
    pos_[s] = pos;
  }
  for (size_t r = 0; r < plan.logit_rows.size(); ++r) {
    const int32_t row = plan.logit_rows[r];
    logits_from_state(state_[slot(plan.seq_of_token[row], plan.positions[row])], vocab_, logits + r * vocab_);
  }
}

}  // namespace fathom
