// Parameter, memory and cache accounting from a config (MODEL_SPEC §8), and what an actual checkpoint holds.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "model/config.h"

namespace fathom {

struct ModelAccounting {
  int64_t params_total = 0;        // main model (embedding and lm_head included; MTP excluded)
  int64_t params_active = 0;       // per token: dense parts + K routed + shared experts (embedding included)
  int64_t params_mtp = 0;          // MTP modules' own parameters (without their embedding/head copies)
  std::map<std::string, int64_t> weight_bytes_by_dtype;  // predicted resident bytes of the main model
  int64_t weight_bytes = 0;
  int64_t cache_values_per_token_per_layer = 0;  // kv_lora_rank + qk_rope_head_dim
  int64_t cache_bytes_per_token = 0;             // bf16, all layers
};

ModelAccounting account(const ModelConfig& c);

}  // namespace fathom
