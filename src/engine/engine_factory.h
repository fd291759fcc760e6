// Building a serving engine for a model folder from the LMDeploy-shaped flags: load the model and its
// generation_config.json, size the paged cache (--cache-max-entry-count: a fraction of the memory free after
// the weights, or an explicit token count), and start the engine. Shared by `serve api_server` and the CLI.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "engine/engine.h"
#include "model/deepseek.h"

namespace fathom {

struct EngineOptions {
  int32_t max_batch_size = 128;          // --max-batch-size
  double cache_max_entry_count = 0.8;    // --cache-max-entry-count: fraction of free memory after weights
  int64_t cache_tokens = 0;              // explicit cache size in tokens (overrides the fraction when > 0)
  int32_t cache_block_seq_len = 64;      // --cache-block-seq-len
  int32_t max_prefill_token_num = 8192;  // --max-prefill-token-num
  int64_t session_len = 0;               // --session-len (0: the model's max_position_embeddings)
  bool enable_prefix_caching = false;    // --enable-prefix-caching
  int n_threads = 0;                     // compute threads (0: one per hardware thread)
};

// Free memory now, from /proc/meminfo MemAvailable (bytes); -1 when unreadable.
int64_t mem_available_bytes();

// Pages for the cache. With cache_tokens > 0: that many tokens (rounded up to pages); otherwise
// fraction × (available − weight bytes still to be paged in) / page bytes. Errors say what to change.
Expected<int32_t> plan_cache_blocks(const EngineOptions& o, int64_t bytes_per_token, int64_t available_bytes,
                                    int64_t weight_bytes);

struct LoadedEngine {
  std::shared_ptr<const DeepseekModel> model;
  std::unique_ptr<Engine> engine;
  int32_t n_blocks = 0;
  int64_t cache_bytes = 0;
};

Expected<LoadedEngine> load_engine(const std::string& model_dir, const EngineOptions& o);

}  // namespace fathom
