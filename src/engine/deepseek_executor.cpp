#include "engine/deepseek_executor.h"

#include "core/check.h"

namespace fathom {

DeepseekExecutor::DeepseekExecutor(std::shared_ptr<const DeepseekModel> model, int32_t n_blocks, int32_t block_size,
                                   int64_t max_tokens, int64_t max_context, int n_threads,
                                   std::shared_ptr<Comm> comm)
    : model_(std::move(model)),
      n_blocks_(n_blocks),
      block_size_(block_size),
      max_tokens_(max_tokens),
      comm_(std::move(comm)),
      pool_(n_threads),
      cache_(model_->make_cache(n_blocks, block_size)),
      ws_(model_->config(), max_tokens, max_context, pool_.n_threads()) {}

void DeepseekExecutor::execute(const StepPlan& plan, float* logits) {
  FATHOM_CHECK(plan.n_tokens() <= max_tokens_);
  const ForwardBatch batch{plan.token_ids, plan.positions, plan.seq_of_token, plan.block_tables,
                           plan.max_blocks_per_seq, plan.logit_rows};
  model_->forward(batch, cache_, ws_, logits, &pool_, comm_.get());
}

}  // namespace fathom
