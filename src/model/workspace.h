// Scratch memory for one forward pass of up to max_tokens tokens over contexts of up to max_context positions.
// Allocated once (engine start-up); the forward pass allocates nothing.
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"
#include "ops/ops.h"

namespace fathom {

// Per-token router scratch: [E] scores and choice scores, [n_group] group scores and chosen groups.
struct RouteScratch {
  explicit RouteScratch(const ModelConfig& c)
      : scores(c.n_routed_experts), choice(c.n_routed_experts), group_score(c.n_group), groups(c.n_group) {}
  std::vector<float> scores, choice, group_score;
  std::vector<int32_t> groups;
};

struct Workspace {
  Workspace(const ModelConfig& c, int64_t max_tokens, int64_t max_context, int n_parts);

  int64_t max_tokens, max_context;
  int n_parts;                       // thread-pool parts that get their own scratch
  std::vector<float> h;              // [T, H] residual stream
  std::vector<float> x;              // [T, H] normed input of the current block
  std::vector<float> out;            // [T, H] output of the current block
  std::vector<float> q_a;            // [T, r_q]
  std::vector<float> q;              // [T, n_h * d_qk]
  std::vector<float> kv;             // [T, r_kv + d_r]
  std::vector<float> q_abs;          // [T, n_h, r_kv + d_r]  absorbed query: [W_UKᵀ q_nope | rope(q_rope)]
  std::vector<float> lat;            // [T, n_h, r_kv]        attention output in latent space
  std::vector<float> attn;           // [T, n_h * d_v]
  std::vector<float> ff_gate, ff_up; // [T, max(I, (S + 1) * I_m)]: MoE: routed rows, then shared ones
  std::vector<float> router;         // [T, E] router logits, then scores
  std::vector<int32_t> topk_idx;     // [T, K]
  std::vector<float> topk_w;         // [T, K]
  std::vector<int32_t> expert_count; // [E + 1]
  std::vector<int32_t> expert_rows;  // [T * K] (token, slot) pairs grouped by expert, as token * K + slot
  std::vector<int32_t> pair_slot;    // [T * K] where each (token, slot) pair sits in expert_rows
  RouteScratch route;                // router scratch
  std::vector<int32_t> topk_cursor;  // [E] fill cursor of the grouping
  std::vector<MatmulJob> expert_jobs;  // [2 E] one group's expert products
  std::vector<float> ex_in, ex_out;  // [T, H] rows routed to one expert
  std::vector<float> acc;            // [T, H] routed-expert sum
  std::vector<float> part_scratch;   // [n_parts, max(kMlaHeadGroup · max_context, r_kv)] per-part scratch
  // Split-K attention (contexts longer than one chunk, mla_chunk_keys): each chunk's output and log-sum-exp before
  // the merge. [2 · n_parts, max_chunks, kMlaHeadGroup, r_kv] and [.., kMlaHeadGroup]: a part's own slot when it
  // runs a query's chunks in turn, or, with fewer than 2 · n_parts queries × head groups, every chunk's slot at once.
  int64_t max_chunks;
  std::vector<float> attn_parts, attn_lse;
  std::vector<int64_t> attn_first;   // [2 · n_parts + 1] first chunk slot of each query × head group
  std::vector<float> final_x;        // [T, H] final-normed rows that produce logits
  // Expert parallelism (grow to the largest exchange seen, then reused).
  std::vector<float> ep_send, ep_recv;        // [pairs, H] rows sent to / received from experts' owners
  std::vector<int32_t> ep_send_expert, ep_recv_expert;  // [pairs] expert of each row
  std::vector<int32_t> ep_pair_slot;          // [T * K] where each local (token, slot) pair sits in ep_send
};

}  // namespace fathom
