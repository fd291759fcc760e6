#include "engine/engine_factory.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/deepseek_executor.h"
#include "engine/generation_config.h"

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

Expected<LoadedEngine> load_engine(const std::string& model_dir, const EngineOptions& o) {
  if (o.max_batch_size < 1) return Status::error("--max-batch-size must be at least 1");
  if (o.max_prefill_token_num < 1) return Status::error("--max-prefill-token-num must be at least 1");
  auto model = DeepseekModel::load(model_dir);
  if (!model) return model.status();
  LoadedEngine out;
  out.model = std::shared_ptr<const DeepseekModel>(std::move(model.value()));
  const ModelConfig& c = out.model->config();

  std::vector<int32_t> eos(c.eos_token_ids.begin(), c.eos_token_ids.end());
  auto defaults = load_generation_defaults(model_dir, eos);
  if (!defaults) return defaults.status();

  // Weights are memory-mapped: pages not yet resident still count as available, so subtract them all.
  const int64_t bpt = LatentCache::bytes_per_token(c.num_hidden_layers, c.latent_dim());
  auto n_blocks = plan_cache_blocks(o, bpt, mem_available_bytes(), out.model->weights().n_weight_bytes);
  if (!n_blocks) return n_blocks.status();
  out.n_blocks = *n_blocks;
  out.cache_bytes = static_cast<int64_t>(*n_blocks) * o.cache_block_seq_len * bpt;

  EngineConfig ec;
  ec.max_batch_size = o.max_batch_size;
  ec.max_prefill_tokens = o.max_prefill_token_num;
  ec.session_len = o.session_len > 0 ? o.session_len : c.max_position_embeddings;
  ec.enable_prefix_caching = o.enable_prefix_caching;
  ec.defaults = std::move(defaults.value());
  for (int32_t id : ec.defaults.eos_token_ids)
    if (id < 0 || id >= c.vocab_size) return Status::error("generation_config.json: eos_token_id " + std::to_string(id) + " is outside the vocabulary");
  const int64_t pool_tokens = static_cast<int64_t>(*n_blocks) * o.cache_block_seq_len;
  const int64_t max_context = std::min<int64_t>(ec.session_len > 0 ? ec.session_len : pool_tokens, pool_tokens);
  const int64_t max_tokens = static_cast<int64_t>(o.max_prefill_token_num) + o.max_batch_size;
  auto exec = std::make_unique<DeepseekExecutor>(out.model, *n_blocks, o.cache_block_seq_len, max_tokens,
                                                 max_context, o.n_threads);
  out.engine = std::make_unique<Engine>(std::move(exec), std::move(ec));
  return out;
}

}  // namespace fathom
