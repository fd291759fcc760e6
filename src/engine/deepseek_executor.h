// ModelExecutor over the real model: DeepseekModel + its LatentCache + a Workspace + a ThreadPool, all sized
// once here. execute() only turns the StepPlan's arrays into a ForwardBatch (spans, no copies).
#pragma once
#include <memory>

#include "core/thread_pool.h"
#include "engine/model_executor.h"
#include "model/deepseek.h"

namespace fathom {

class DeepseekExecutor : public ModelExecutor {
 public:
  // max_tokens: tokens per forward at most; max_context: positions per sequence at most. comm: the ranks a
  // sharded model runs its collectives over (null for one process); it must outlive the executor.
  DeepseekExecutor(std::shared_ptr<const DeepseekModel> model, int32_t n_blocks, int32_t block_size,
                   int64_t max_tokens, int64_t max_context, int n_threads, std::shared_ptr<Comm> comm = nullptr);

  int64_t vocab_size() const override { return model_->config().vocab_size; }
  int32_t n_blocks() const override { return n_blocks_; }
  int32_t block_size() const override { return block_size_; }
  int64_t max_tokens_per_step() const override { return max_tokens_; }
  void execute(const StepPlan& plan, float* logits) override;
  ThreadPool* thread_pool() override { return &pool_; }

  const DeepseekModel& model() const { return *model_; }

 private:
  std::shared_ptr<const DeepseekModel> model_;
  int32_t n_blocks_, block_size_;
  int64_t max_tokens_;
  std::shared_ptr<Comm> comm_;
  ThreadPool pool_;
  LatentCache cache_;  // [L, n_blocks, block_size, latent_dim] bf16
  Workspace ws_;
};

}  // namespace fathom
