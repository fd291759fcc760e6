// HF config.json → ModelConfig for model_type deepseek_v3 / deepseek_v2, validated (errors name the field).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace fathom {

enum class TopkMethod { GREEDY, GROUP_LIMITED_GREEDY, NOAUX_TC };
enum class ScoringFunc { SOFTMAX, SIGMOID };

struct RopeScaling {
  bool yarn = false;               // type "yarn"; otherwise plain RoPE
  double factor = 1.0;             // s
  int64_t original_max_position = 4096;  // L0
  double beta_fast = 32.0, beta_slow = 1.0;
  double mscale = 1.0, mscale_all_dim = 0.0;
};

struct QuantConfig {
  bool fp8 = false;                // quant_method "fp8", fmt "e4m3", 128x128 blocks
  int block_rows = 128, block_cols = 128;
  std::string scale_fmt;           // "" or "ue8m0" (V3.1)
};

struct ModelConfig {
  std::string model_type;          // "deepseek_v3" | "deepseek_v2"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;         // H
  int64_t intermediate_size = 0;   // I (dense MLP)
  int64_t moe_intermediate_size = 0;  // I_m (per expert)
  int64_t num_hidden_layers = 0;   // L
  int64_t num_nextn_predict_layers = 0;
  int64_t num_attention_heads = 0; // n_h
  int64_t num_key_value_heads = 0;
  int64_t n_shared_experts = 0;    // S
  int64_t n_routed_experts = 0;    // E
  int64_t num_experts_per_tok = 0; // K
  double routed_scaling_factor = 1.0;
  TopkMethod topk_method = TopkMethod::GREEDY;
  int64_t n_group = 1, topk_group = 1;
  ScoringFunc scoring_func = ScoringFunc::SOFTMAX;
  bool norm_topk_prob = false;
  int64_t moe_layer_freq = 1;
  int64_t first_k_dense_replace = 0;
  int64_t q_lora_rank = 0;         // 0: no q compression (config null)
  int64_t kv_lora_rank = 0;        // r_kv
  int64_t qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
  std::string hidden_act = "silu";
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  int64_t max_position_embeddings = 0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  std::string torch_dtype = "bfloat16";
  QuantConfig quant;

  // Derived.
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int64_t latent_dim() const { return kv_lora_rank + qk_rope_head_dim; }  // cached values per token per layer
  bool has_q_lora() const { return q_lora_rank > 0; }
  bool is_moe_layer(int64_t l) const { return n_routed_experts > 0 && l >= first_k_dense_replace && l % moe_layer_freq == 0; }
  bool has_gate_bias() const { return topk_method == TopkMethod::NOAUX_TC; }
  double softmax_scale() const;     // d_qk^-1/2 · m², m = yarn mscale(factor, mscale_all_dim)
  double rope_amplitude() const;    // mscale(factor, mscale) / mscale(factor, mscale_all_dim)
  std::vector<float> rope_inv_freq() const;  // [qk_rope_head_dim / 2], YaRN-corrected, computed in f32
};

// Parses and validates; `source` names the file in error messages.
Expected<ModelConfig> parse_model_config(const nlohmann::json& j, const std::string& source = "config.json");
Expected<ModelConfig> load_model_config(const std::string& path);
nlohmann::json model_config_to_json(const ModelConfig& c);

const char* topk_method_name(TopkMethod m);
const char* scoring_func_name(ScoringFunc s);

}  // namespace fathom
