// Built-in model presets (DESIGN.md §1) and random checkpoints for them: deterministic bytes for a given seed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "model/config.h"

namespace fathom {

// config.json of a preset: "tiny", "small", "v2-lite" (DeepSeek-V2-Lite), "v3-671b" (DeepSeek-V3).
Expected<nlohmann::json> preset_config_json(const std::string& preset);
std::vector<std::string> preset_names();

struct CreateOptions {
  std::string preset = "tiny";
  std::string out_dir;
  uint64_t seed = 0;
  bool fp8 = false;                         // --dtype fp8: linear weights e4m3 with 128x128 block scales
  std::string override_json;                // merged into the preset's config before validation
  bool config_only = false;                 // only config.json (+ generation_config.json, tokenizer files)
  int64_t max_shard_bytes = 4LL << 30;      // split the checkpoint into shards of at most this size
  int n_threads = 0;
};

// Writes config.json, generation_config.json, the safetensors checkpoint and the tokenizer files into out_dir.
Status create_model(const CreateOptions& opt);

// The random tensors of a checkpoint for `config` (exposed for tests). Normal(0, 0.02) weights, norms 1,
// e_score_correction_bias random; fp8 → e4m3 + weight_scale_inv. MTP layers get their own tensors except the
// copies of the embedding and lm_head, which the real checkpoint duplicates.
Status random_checkpoint(const ModelConfig& config, uint64_t seed, bool fp8, int n_threads,
                         const std::string& out_dir, int64_t max_shard_bytes);

}  // namespace fathom
