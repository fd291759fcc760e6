#include "model/inspect.h"

namespace fathom {

ModelAccounting account(const ModelConfig& c) {
  ModelAccounting a;
  const int64_t H = c.hidden_size, V = c.vocab_size, nh = c.num_attention_heads, L = c.num_hidden_layers;
  const int64_t q_params = c.has_q_lora() ? H * c.q_lora_rank + c.q_lora_rank * nh * c.qk_head_dim()
                                          : H * nh * c.qk_head_dim();
  const int64_t attn_linear = q_params + H * c.latent_dim() + c.kv_lora_rank * nh * (c.qk_nope_head_dim + c.v_head_dim) +
                              nh * c.v_head_dim * H;
  const int64_t attn_norms = (c.has_q_lora() ? c.q_lora_rank : 0) + c.kv_lora_rank;
  const int64_t dense = 3 * H * c.intermediate_size;
  const int64_t expert = 3 * H * c.moe_intermediate_size;
  const int64_t router = c.n_routed_experts * H + (c.has_gate_bias() ? c.n_routed_experts : 0);
  const int64_t moe_total = (c.n_routed_experts + c.n_shared_experts) * expert + router;
  const int64_t moe_active = (c.num_experts_per_tok + c.n_shared_experts) * expert + router;
  int64_t n_moe = 0;
  for (int64_t l = 0; l < L; ++l) n_moe += c.is_moe_layer(l) ? 1 : 0;
  const int64_t n_dense = L - n_moe;
  const int64_t head = c.tie_word_embeddings ? 0 : V * H;
  const int64_t per_layer = attn_linear + attn_norms + 2 * H;
  a.params_total = V * H + head + H + L * per_layer + n_dense * dense + n_moe * moe_total;
  a.params_active = V * H + head + H + L * per_layer + n_dense * dense + n_moe * moe_active;
  if (c.num_nextn_predict_layers > 0)
    a.params_mtp = c.num_nextn_predict_layers * (3 * H + 2 * H * H + per_layer + moe_total);

  // Resident bytes by format: fp8 checkpoints keep linear layers in e4m3 (+ f32 block scales).
  const int64_t linear = L * attn_linear + n_dense * dense + n_moe * (c.n_routed_experts + c.n_shared_experts) * expert;
  const int64_t other = a.params_total - linear;  // embedding, head, norms, routers (bias counted as bf16-sized)
  if (c.quant.fp8) {
    a.weight_bytes_by_dtype["F8_E4M3"] = linear;
    // One f32 scale per 128x128 block: approximate by element count / 16384 (exact for multiples of 128).
    a.weight_bytes_by_dtype["F32 (scales)"] = (linear + 16383) / 16384 * 4;
    a.weight_bytes_by_dtype["BF16"] = other * 2;
  } else {
    a.weight_bytes_by_dtype["BF16"] = (linear + other) * 2;
  }
  for (const auto& [k, v] : a.weight_bytes_by_dtype) a.weight_bytes += v;
  a.cache_values_per_token_per_layer = c.latent_dim();
  a.cache_bytes_per_token = L * c.latent_dim() * 2;
  return a;
}

}  // namespace fathom
