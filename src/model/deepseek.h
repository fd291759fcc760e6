// The DeepSeek-V3/V2 forward pass over a batch of tokens from many sequences at arbitrary positions.
// The loaded model is immutable (safe to share between threads); per-step state lives in the Workspace and the
// LatentCache passed in.
#pragma once
#include <memory>
#include <string>

#include "core/status.h"
#include "core/thread_pool.h"
#include "dist/comm.h"
#include "model/config.h"
#include "model/forward_batch.h"
#include "model/latent_cache.h"
#include "model/weights.h"
#include "model/workspace.h"

namespace fathom {

class DeepseekModel {
 public:
  // Loads config.json and the safetensors checkpoint (single file or sharded) of an HF-format folder.
  // With shard.size > 1 this rank holds its tensor-parallel slice (weights.h ShardSpec).
  static Expected<std::unique_ptr<DeepseekModel>> load(const std::string& dir, ShardSpec shard = {},
                                                       LoadOptions options = {});

  const ModelConfig& config() const { return weights_->config; }
  const ModelWeights& weights() const { return *weights_; }

  // Writes each token's latent into `cache` at its position, attends over positions 0..pos of its own sequence,
  // and writes logits for batch.logit_rows: [logit_rows.size(), vocab_size] f32.
  // Each row's result is independent of the other rows in the batch (bitwise).
  // Under tensor parallelism every rank calls forward with the same batch and `comm` sums the partial outputs
  // (comm->size() must equal the shard size; null for one process).
  void forward(const ForwardBatch& batch, LatentCache& cache, Workspace& ws, float* logits, ThreadPool* pool,
               Comm* comm = nullptr) const;

  // A cache shaped for this model: n_blocks pages of block_size tokens.
  LatentCache make_cache(int64_t n_blocks, int64_t block_size) const;

 private:
  explicit DeepseekModel(std::unique_ptr<ModelWeights> w);
  std::unique_ptr<ModelWeights> weights_;
  std::vector<float> rope_inv_freq_;  // [qk_rope_head_dim / 2]
};

}  // namespace fathom
