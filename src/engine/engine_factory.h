// Building a serving engine for a model folder from the LMDeploy-shaped flags: load the model and its
// generation_config.json, size the paged cache (--cache-max-entry-count: a fraction of the memory free after
// the weights, or an explicit token count), and start the engine. Shared by `serve api_server` and the CLI.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "dist/comm.h"
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
  LoadOptions load;                      // --lm-head-dtype

  // Distributed, under mpirun (docs/distributed.md): --tp N (tensor parallel: rank 0 schedules and serves, the
  // others replay its steps) or --dp N --ep N (every rank serves its own requests; routed experts sharded).
  int tp = 1, dp = 1, ep = 1;
  std::shared_ptr<Comm> comm;            // the job's ranks; set by init_dist when tp/dp/ep ask for more than one
  double dist_timeout_s = 10;            // --dist-timeout: a rank not heard from this long ends the job
  double dist_step_timeout_s = 300;      // --dist-step-timeout: one step stuck this long ends the job
};

// Checks --tp/--dp/--ep and, when they ask for more than one rank, joins the MPI job (sets o.comm) and checks
// its size; errors say how to launch. Call once at start-up, before load_engine.
Status init_dist(EngineOptions& o);
// False only on tensor-parallel ranks > 0: they run run_dist_worker instead of an Engine (and serve no HTTP).
bool rank_serves(const EngineOptions& o);
// Tensor-parallel ranks > 0: loads this rank's shard and replays rank 0's steps until rank 0's engine stops
// (its destructor, e.g. at the end of `serve` or `generate`). Returns the process exit code; a failure that
// would leave the other ranks waiting ends the job instead.
int run_dist_worker(const std::string& model_dir, const EngineOptions& o);

// Free memory now, from /proc/meminfo MemAvailable (bytes); -1 when unreadable.
int64_t mem_available_bytes();

// Pages for the cache. With cache_tokens > 0: that many tokens (rounded up to pages); otherwise
// fraction × (available − weight bytes still to be paged in) / page bytes. Errors say what to change.
Expected<int32_t> plan_cache_blocks(const EngineOptions& o, int64_t bytes_per_token, int64_t available_bytes,
                                    int64_t weight_bytes);

struct LoadedEngine {
  std::shared_ptr<const DeepseekModel> model;
  std::unique_ptr<Engine> engine;             // null on tensor-parallel ranks > 0
  std::unique_ptr<ModelExecutor> replay;      // tensor-parallel ranks > 0: what run_dist_worker drives
  int32_t n_blocks = 0;
  int64_t cache_bytes = 0;
};

// Under --tp/--dp/--ep every rank calls this (it is collective: ranks agree on config.json, cache size and the
// engine flags; a rank that fails ends the job with a message naming it). init_dist must have run.
Expected<LoadedEngine> load_engine(const std::string& model_dir, const EngineOptions& o);

}  // namespace fathom
