#include "engine/engine_factory.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "dist/config_check.h"
#include "engine/deepseek_executor.h"
#include "engine/generation_config.h"
#include "engine/lockstep.h"

namespace fathom {

int64_t mem_available_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream ss(line.substr(13));
    int64_t kb = -1;
    ss >> kb;
    return kb < 0 ? -1 : kb * 1024;
  }
  return -1;
}

Expected<int32_t> plan_cache_blocks(const EngineOptions& o, int64_t bytes_per_token, int64_t available_bytes,
                                    int64_t weight_bytes) {
  if (o.cache_block_seq_len <= 0) return Status::error("--cache-block-seq-len must be positive");
  const int64_t page_bytes = bytes_per_token * o.cache_block_seq_len;
  int64_t n_blocks = 0;
  if (o.cache_tokens > 0) {
    n_blocks = (o.cache_tokens + o.cache_block_seq_len - 1) / o.cache_block_seq_len;
  } else {
    if (!(o.cache_max_entry_count > 0 && o.cache_max_entry_count <= 1))
      return Status::error("--cache-max-entry-count must be in (0, 1] (a fraction of the memory free after weights)");
    if (available_bytes < 0) return Status::error("cannot read MemAvailable from /proc/meminfo; give the cache size in tokens");
    const int64_t free_after = std::max<int64_t>(0, available_bytes - weight_bytes);
    n_blocks = static_cast<int64_t>(o.cache_max_entry_count * static_cast<double>(free_after)) / page_bytes;
    if (n_blocks < 1)
      return Status::error("no memory left for the latent cache after the weights (" + std::to_string(free_after >> 20) +
                           " MiB free); raise --cache-max-entry-count or free memory");
  }
  if (n_blocks > (int64_t{1} << 30)) return Status::error("latent cache too large: " + std::to_string(n_blocks) + " pages");
  return static_cast<int32_t>(n_blocks);
}

namespace {

int world_size(const EngineOptions& o) { return std::max(o.tp, o.ep); }

WatchdogOptions watchdog_options(const EngineOptions& o) {
  WatchdogOptions w;
  w.silence_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.dist_timeout_s * 1000));
  w.step_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.dist_step_timeout_s * 1000));
  return w;
}

// Ranks of a TP job must index the same cache pages and size the same workspaces: the smallest cache any rank
// can hold wins, and the engine flags must match (they come from each rank's command line).
Status agree_across_ranks(Comm& comm, const EngineOptions& o, int32_t& n_blocks) {
  const int64_t mine[5] = {n_blocks, o.max_batch_size, o.max_prefill_token_num, o.cache_block_seq_len, o.session_len};
  std::vector<int64_t> all(5 * static_cast<size_t>(comm.size()));
  comm.allgather(mine, sizeof(mine), all.data());
  static const char* names[5] = {"", "--max-batch-size", "--max-prefill-token-num", "--cache-block-seq-len",
                                 "--session-len"};
  for (int r = 0; r < comm.size(); ++r) {
    n_blocks = static_cast<int32_t>(std::min<int64_t>(n_blocks, all[5 * r]));
    for (int k = 1; k < 5; ++k)
      if (all[5 * r + k] != all[k])
        return Status::error(std::string("rank ") + std::to_string(r) + " has " + names[k] + " " +
                             std::to_string(all[5 * r + k]) + " but rank 0 has " + std::to_string(all[k]));
  }
  return Status::ok();
}

}  // namespace

Status init_dist(EngineOptions& o) {
  if (o.tp < 1 || o.dp < 1 || o.ep < 1) return Status::error("--tp, --dp and --ep must be at least 1");
  if (o.tp > 1 && (o.dp > 1 || o.ep > 1))
    return Status::error("--tp cannot be combined with --dp/--ep (use --tp N alone, or --dp N --ep N)");
  if (o.dp != o.ep)
    return Status::error("--dp " + std::to_string(o.dp) + " --ep " + std::to_string(o.ep) +
                         ": data-parallel attention needs expert-parallel MoE over the same ranks (--dp N --ep N)");
  if (o.dist_timeout_s <= 0 || o.dist_step_timeout_s <= 0)
    return Status::error("--dist-timeout and --dist-step-timeout must be positive (seconds)");
  const int world = world_size(o);
  if (world == 1) return Status::ok();
  if (!o.comm) o.comm = std::shared_ptr<Comm>(make_world_comm());
  if (o.comm->size() != world) {
    const std::string flag = o.tp > 1 ? "--tp " + std::to_string(o.tp) : "--dp/--ep " + std::to_string(world);
    return Status::error(flag + " needs exactly " + std::to_string(world) + " ranks (run under mpirun -np " +
                         std::to_string(world) + "); this job has " + std::to_string(o.comm->size()) +
                         (mpi_available() ? "" : " (this build has no MPI)"));
  }
  return Status::ok();
}

bool rank_serves(const EngineOptions& o) { return !(o.tp > 1 && o.comm && o.comm->rank() != 0); }

int run_dist_worker(const std::string& model_dir, const EngineOptions& o) {
  auto le = load_engine(model_dir, o);
  if (!le) {
    std::fprintf(stderr, "error: %s\n", le.error().c_str());
    return 1;
  }
  if (!le->replay) {
    std::fprintf(stderr, "error: run_dist_worker is for tensor-parallel ranks > 0\n");
    return 1;
  }
  run_tp_replay(*le->replay, *o.comm, watchdog_options(o), o.max_batch_size);
  return 0;
}

Expected<LoadedEngine> load_engine(const std::string& model_dir, const EngineOptions& options) {
  EngineOptions o = options;
  FATHOM_TRY(init_dist(o));
  std::shared_ptr<Comm> comm = world_size(o) > 1 ? o.comm : nullptr;
  // From here on every rank takes part in the same collectives: a rank that fails must end the job, not return.
  auto fail = [&](const std::string& why) -> Status {
    if (comm) comm->abort_job(why);
    return Status::error(why);
  };
  if (o.max_batch_size < 1) return fail("--max-batch-size must be at least 1");
  if (o.max_prefill_token_num < 1) return fail("--max-prefill-token-num must be at least 1");
  if (comm) {
    Status same = check_same_config(*comm, model_dir + "/config.json");
    if (!same) return fail(same.message());
  }
  ShardSpec shard;
  if (comm) shard = ShardSpec{comm->rank(), comm->size(), o.tp > 1 ? ParallelMode::TENSOR : ParallelMode::EXPERT};
  auto model = DeepseekModel::load(model_dir, shard, o.load);
  if (!model) return fail(model.error());
  LoadedEngine out;
  out.model = std::shared_ptr<const DeepseekModel>(std::move(model.value()));
  const ModelConfig& c = out.model->config();

  std::vector<int32_t> eos(c.eos_token_ids.begin(), c.eos_token_ids.end());
  auto defaults = load_generation_defaults(model_dir, eos);
  if (!defaults) return fail(defaults.error());

  // Weights copied into memory are already resident (no longer available); mapped ones are not yet, though they
  // will be: subtract those.
  const int64_t bpt = LatentCache::bytes_per_token(c.num_hidden_layers, c.latent_dim());
  const ModelWeights& mw = out.model->weights();
  auto n_blocks = plan_cache_blocks(o, bpt, mem_available_bytes(), mw.n_weight_bytes - mw.n_in_memory_bytes);
  if (!n_blocks) return fail(n_blocks.error());
  int32_t blocks = *n_blocks;
  if (comm && o.tp > 1) {
    Status agreed = agree_across_ranks(*comm, o, blocks);
    if (!agreed) return fail(agreed.message());
  }
  out.n_blocks = blocks;
  out.cache_bytes = static_cast<int64_t>(blocks) * o.cache_block_seq_len * bpt;

  EngineConfig ec;
  ec.max_batch_size = o.max_batch_size;
  ec.max_prefill_tokens = o.max_prefill_token_num;
  ec.session_len = o.session_len > 0 ? o.session_len : c.max_position_embeddings;
  ec.enable_prefix_caching = o.enable_prefix_caching;
  ec.defaults = std::move(defaults.value());
  for (int32_t id : ec.defaults.eos_token_ids)
    if (id < 0 || id >= c.vocab_size)
      return fail("generation_config.json: eos_token_id " + std::to_string(id) + " is outside the vocabulary");
  const int64_t pool_tokens = static_cast<int64_t>(blocks) * o.cache_block_seq_len;
  const int64_t max_context = std::min<int64_t>(ec.session_len > 0 ? ec.session_len : pool_tokens, pool_tokens);
  const int64_t max_tokens = static_cast<int64_t>(o.max_prefill_token_num) + o.max_batch_size;
  auto exec = std::make_unique<DeepseekExecutor>(out.model, blocks, o.cache_block_seq_len, max_tokens, max_context,
                                                 o.n_threads, comm);
  if (!rank_serves(o)) {
    out.replay = std::move(exec);
    return out;
  }
  std::unique_ptr<Lockstep> lockstep;
  if (comm && o.tp > 1) lockstep = make_tp_leader_lockstep(comm, watchdog_options(o));
  if (comm && o.ep > 1) lockstep = make_dp_lockstep(comm, watchdog_options(o));
  out.engine = std::make_unique<Engine>(std::move(exec), std::move(ec), std::move(lockstep));
  return out;
}

}  // namespace fathom
