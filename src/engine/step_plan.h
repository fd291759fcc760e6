// One engine step as plain data: the flat token batch the forward pass runs (ids, positions, page tables, which
// rows to return logits for). It holds no pointers, so it can be broadcast over MPI unchanged; buffers are
// reserved once and reused (clear() keeps capacity).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace fathom {

struct StepPlan {
  int64_t step = 0;
  int32_t max_blocks_per_seq = 0;
  std::vector<int32_t> token_ids;     // [n_tokens]
  std::vector<int32_t> positions;     // [n_tokens] absolute position in its sequence
  std::vector<int32_t> seq_of_token;  // [n_tokens] row of block_tables
  std::vector<int32_t> block_tables;  // [n_seqs, max_blocks_per_seq] page ids, -1 past a sequence's pages
  std::vector<int32_t> logit_rows;    // [n_logit_rows] token rows whose logits are sampled, in output order

  int64_t n_tokens() const { return static_cast<int64_t>(token_ids.size()); }
  int64_t n_seqs() const { return max_blocks_per_seq == 0 ? 0 : static_cast<int64_t>(block_tables.size()) / max_blocks_per_seq; }
  void reserve(int64_t max_tokens, int64_t max_seqs, int64_t max_blocks);
  void clear();
};

// Wire format: little-endian header {step, max_blocks_per_seq, n_tokens, n_seqs, n_logit_rows} then the arrays.
// `out` is resized (its capacity reused across steps).
void serialize_step_plan(const StepPlan& plan, std::vector<uint8_t>& out);
Status deserialize_step_plan(std::span<const uint8_t> bytes, StepPlan& plan);

}  // namespace fathom
