#include "model/workspace.h"

#include <algorithm>

namespace fathom {

Workspace::Workspace(const ModelConfig& c, int64_t T, int64_t max_ctx, int parts)
    : max_tokens(T), max_context(max_ctx), n_parts(parts), route(c) {
  const int64_t H = c.hidden_size, nh = c.num_attention_heads;
  // Routed experts' rows take [T, I_m] of ff_gate / ff_up, and the shared experts' [T, S * I_m] follow them.
  const int64_t ff = std::max(c.intermediate_size, (c.n_shared_experts + 1) * c.moe_intermediate_size);
  const int64_t K = std::max<int64_t>(1, c.num_experts_per_tok);
  h.resize(T * H);
  x.resize(T * H);
  out.resize(T * H);
  q_a.resize(T * std::max<int64_t>(1, c.q_lora_rank));
  q.resize(T * nh * c.qk_head_dim());
  kv.resize(T * c.latent_dim());
  q_abs.resize(T * nh * c.latent_dim());
  lat.resize(T * nh * c.kv_lora_rank);
  attn.resize(T * nh * c.v_head_dim);
  ff_gate.resize(T * ff);
  ff_up.resize(T * ff);
  router.resize(T * std::max<int64_t>(1, c.n_routed_experts));
  topk_idx.resize(T * K);
  topk_w.resize(T * K);
  expert_count.resize(c.n_routed_experts + 1);
  expert_rows.resize(T * K);
  pair_slot.resize(T * K);
  topk_cursor.resize(c.n_routed_experts);
  expert_jobs.reserve(2 * c.n_routed_experts);
  ex_in.resize(T * H);
  ex_out.resize(T * H);
  acc.resize(T * H);
  part_scratch.resize(static_cast<size_t>(parts) * std::max<int64_t>(kMlaHeadGroup * max_ctx, c.kv_lora_rank));
  max_chunks = (max_ctx + mla_chunk_keys(1) - 1) / mla_chunk_keys(1);  // chunks are at least mla_chunk_keys(1) keys
  if (max_chunks > 1) {
    attn_parts.resize(static_cast<size_t>(2 * parts * max_chunks * kMlaHeadGroup * c.kv_lora_rank));
    attn_lse.resize(static_cast<size_t>(2 * parts * max_chunks * kMlaHeadGroup));
    attn_first.resize(static_cast<size_t>(2 * parts + 1));
  }
  final_x.resize(T * H);
}

}  // namespace fathom
