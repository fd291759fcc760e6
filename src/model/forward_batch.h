// What one forward pass computes: a flat list of tokens from several sequences, each at its own position,
// attending over its sequence's pages of the latent cache. Plain data, no ownership.
#pragma once
#include <cstdint>
#include <span>

namespace fathom {

struct ForwardBatch {
  std::span<const int32_t> token_ids;     // [n_tokens]
  std::span<const int32_t> positions;     // [n_tokens] absolute position of each token in its sequence
  std::span<const int32_t> seq_of_token;  // [n_tokens] index of the token's sequence in block_tables
  std::span<const int32_t> block_tables;  // [n_seqs, max_blocks_per_seq] page ids of each sequence
  int32_t max_blocks_per_seq = 0;
  std::span<const int32_t> logit_rows;    // token rows whose logits are wanted, in output order
};

}  // namespace fathom
