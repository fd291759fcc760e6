// What the engine needs from a model: run one StepPlan over its paged cache and return logits for the sampled
// rows. The engine never sees the concrete model (DeepseekExecutor adapts DeepseekModel; FakeExecutor serves
// the unit tests).
#pragma once
#include <cstdint>

#include "core/thread_pool.h"
#include "engine/step_plan.h"

namespace fathom {

class ModelExecutor {
 public:
  virtual ~ModelExecutor() = default;
  virtual int64_t vocab_size() const = 0;
  virtual int32_t n_blocks() const = 0;            // pages in the cache
  virtual int32_t block_size() const = 0;          // tokens per page
  virtual int64_t max_tokens_per_step() const = 0;  // workspace capacity of one forward
  // logits: [plan.logit_rows.size(), vocab_size] f32. Each row depends only on its own sequence's tokens.
  virtual void execute(const StepPlan& plan, float* logits) = 0;
  // The executor's threads, idle between steps: the engine samples a step's rows over them. Null: one thread.
  virtual ThreadPool* thread_pool() { return nullptr; }
};

}  // namespace fathom
