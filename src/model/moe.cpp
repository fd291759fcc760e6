// DeepSeek MoE: router scoring (sigmoid + bias + group-limited top-k, or softmax greedy / group-limited),
// routed experts over the tokens sent to each, shared experts added unweighted.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/check.h"
#include "model/layers.h"

namespace fathom {

namespace {

// Where moe_forward keeps the shared experts' gate and up rows ([T, width] each): after the routed rows'.
struct SharedRows {
  float* gate;
  float* up;
  int64_t width;  // this rank's shared intermediate rows (S * I_m without tensor parallelism); 0 without them
};
SharedRows shared_rows(const ModelConfig& c, const LayerWeights& w, Workspace& ws) {
  const int64_t routed = ws.max_tokens * c.moe_intermediate_size;
  return {ws.ff_gate.data() + routed, ws.ff_up.data() + routed, c.n_shared_experts > 0 ? w.shared.gate.rows : 0};
}

// out = shared experts(x) + ws.acc, silu(gate) ⊙ up already in shared_rows' gate (as mlp_forward, bit for bit).
void finish_shared_experts(const ModelConfig& c, const LayerWeights& w, int64_t T, Workspace& ws, float* out,
                           ThreadPool* pool) {
  const int64_t H = c.hidden_size;
  const SharedRows s = shared_rows(c, w, ws);
  if (s.width == 0) {
    std::copy(ws.acc.begin(), ws.acc.begin() + T * H, out);
    return;
  }
  matmul(s.gate, s.width, T, w.shared.down, out, H, pool);  // [T, H]
  for (int64_t i = 0; i < T * H; ++i) out[i] += ws.acc[i];
}

// Indices of the k largest values, largest first (ties → lower index first): one pass, keeping the best k so far
// in order. A value enters only if strictly greater than the k-th, so among equal values the earlier index stays.
void top_k(const float* v, int64_t n, int64_t k, int32_t* out) {
  FATHOM_CHECK(k <= n);
  int64_t have = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (have == k && !(v[i] > v[out[k - 1]])) continue;
    int64_t p = have < k ? have++ : k - 1;
    for (; p > 0 && v[i] > v[out[p - 1]]; --p) out[p] = out[p - 1];
    out[p] = static_cast<int32_t>(i);
  }
}

}  // namespace

void route_tokens(const ModelConfig& c, const float* bias, const float* logits, int64_t T, int32_t* idx, float* weights,
                  RouteScratch& scratch) {
  const int64_t E = c.n_routed_experts, K = c.num_experts_per_tok, G = c.n_group, per_group = E / G;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  std::vector<float>& scores = scratch.scores;
  std::vector<float>& choice = scratch.choice;
  std::vector<float>& group_score = scratch.group_score;
  std::vector<int32_t>& groups = scratch.groups;
  for (int64_t t = 0; t < T; ++t) {
    const float* u = logits + t * E;
    if (c.scoring_func == ScoringFunc::SIGMOID) {
      for (int64_t e = 0; e < E; ++e) scores[e] = 1.0f / (1.0f + std::exp(-u[e]));
    } else {
      float mx = kNegInf, sum = 0.f;
      for (int64_t e = 0; e < E; ++e) mx = std::max(mx, u[e]);
      for (int64_t e = 0; e < E; ++e) sum += (scores[e] = std::exp(u[e] - mx));
      for (int64_t e = 0; e < E; ++e) scores[e] /= sum;
    }
    // Selection scores: biased for noaux_tc; the weights always come from the unbiased scores.
    for (int64_t e = 0; e < E; ++e) choice[e] = scores[e] + (bias ? bias[e] : 0.f);
    if (c.topk_method != TopkMethod::GREEDY && G > 1) {
      for (int64_t g = 0; g < G; ++g) {
        const float* s = choice.data() + g * per_group;
        if (c.topk_method == TopkMethod::NOAUX_TC) {  // sum of the group's two best
          int32_t two[2];
          top_k(s, per_group, 2, two);
          group_score[g] = s[two[0]] + s[two[1]];
        } else {  // group_limited_greedy: the group's best
          group_score[g] = *std::max_element(s, s + per_group);
        }
      }
      top_k(group_score.data(), G, c.topk_group, groups.data());
      for (int64_t g = 0; g < G; ++g) {
        const bool kept = std::find(groups.begin(), groups.begin() + c.topk_group, g) != groups.begin() + c.topk_group;
        if (!kept) std::fill(choice.begin() + g * per_group, choice.begin() + (g + 1) * per_group, kNegInf);
      }
    }
    int32_t* ti = idx + t * K;
    float* tw = weights + t * K;
    top_k(choice.data(), E, K, ti);
    std::sort(ti, ti + K);  // expert-index order: the order the combine sums in
    float sum = 0.f;
    for (int64_t k = 0; k < K; ++k) sum += (tw[k] = scores[ti[k]]);
    // V3 normalises then scales; V2 scales only when it does not normalise (MODEL_SPEC §4.2).
    const bool normalize = c.norm_topk_prob && K > 1;
    const bool scale = c.model_type == "deepseek_v3" || !normalize;
    for (int64_t k = 0; k < K; ++k) {
      if (normalize) tw[k] /= (sum + 1e-20f);
      if (scale) tw[k] *= static_cast<float>(c.routed_scaling_factor);
    }
  }
}

void moe_forward(const ModelConfig& c, const LayerWeights& w, const float* x, int64_t T, Workspace& ws, float* out,
                 ThreadPool* pool) {
  const int64_t H = c.hidden_size, E = c.n_routed_experts, K = c.num_experts_per_tok;
  // The router ([T, E] in f32, as the reference) and the shared experts' gate and up read the same x: one batch, so
  // the router (too small to split on its own) runs beside them instead of alone on one thread.
  const SharedRows shared = shared_rows(c, w, ws);
  const MatmulJob from_x[3] = {{x, H, T, w.router, ws.router.data(), E, MatmulInput::F32},
                               {x, H, T, w.shared.gate, shared.gate, shared.width, MatmulInput::Bf16, true},
                               {x, H, T, w.shared.up, shared.up, shared.width}};
  matmul_batch(from_x, shared.width > 0 ? 3 : 1, pool);
  const float* bias = w.router_bias.data ? static_cast<const float*>(w.router_bias.data) : nullptr;
  route_tokens(c, bias, ws.router.data(), T, ws.topk_idx.data(), ws.topk_w.data(), ws.route);

  // Group (token, slot) pairs by expert: counting sort keeps token order inside each expert.
  std::fill(ws.expert_count.begin(), ws.expert_count.end(), 0);
  for (int64_t i = 0; i < T * K; ++i) ws.expert_count[ws.topk_idx[i] + 1]++;
  for (int64_t e = 0; e < E; ++e) ws.expert_count[e + 1] += ws.expert_count[e];
  std::vector<int32_t>& rows = ws.expert_rows;  // pairs grouped by expert (counting sort, token order inside)
  {
    std::vector<int32_t>& cursor = ws.topk_cursor;
    cursor.assign(ws.expert_count.begin(), ws.expert_count.end() - 1);
    for (int64_t i = 0; i < T * K; ++i) {
      ws.pair_slot[i] = cursor[ws.topk_idx[i]];
      rows[cursor[ws.topk_idx[i]]++] = static_cast<int32_t>(i);
    }
  }

  // Routed experts in groups of consecutive experts whose rows fit the workspace; each group runs its gate/up and
  // then its down products as one batch of jobs (one fork/join each). Groups and experts inside them go in
  // ascending index order, so each token's sum runs in expert-index order.
  const int64_t I = c.moe_intermediate_size, cap = ws.max_tokens;
  std::fill(ws.acc.begin(), ws.acc.begin() + T * H, 0.f);
  std::vector<MatmulJob>& jobs = ws.expert_jobs;
  int64_t e = 0;
  while (e < E) {
    const int64_t g0 = e;
    int64_t n_rows = 0;  // rows of the group, from pair index ws.expert_count[g0]
    while (e < E && n_rows + (ws.expert_count[e + 1] - ws.expert_count[e]) <= cap) {
      n_rows += ws.expert_count[e + 1] - ws.expert_count[e];
      ++e;
    }
    FATHOM_CHECK(e > g0);  // one expert has at most T rows, and T fits the workspace
    const int64_t g1 = e, base = ws.expert_count[g0];
    auto gather = [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        std::memcpy(ws.ex_in.data() + r * H, x + (rows[base + r] / K) * H, H * sizeof(float));
    };
    constexpr int64_t kMinRowsPerThread = 32;
    if (pool) pool->parallel_for(n_rows, gather, kMinRowsPerThread);
    else gather(0, n_rows);
    auto owned = [&](int64_t ex) {
      return ex >= w.e0 && ex < w.e1 && ws.expert_count[ex + 1] > ws.expert_count[ex];  // TP: others own the rest
    };
    jobs.clear();
    for (int64_t ex = g0; ex < g1; ++ex) {
      if (!owned(ex)) continue;
      const int64_t b = ws.expert_count[ex] - base, n = ws.expert_count[ex + 1] - ws.expert_count[ex];
      jobs.push_back({ws.ex_in.data() + b * H, H, n, w.experts[ex].gate, ws.ff_gate.data() + b * I, I,
                      MatmulInput::Bf16, true});
      jobs.push_back({ws.ex_in.data() + b * H, H, n, w.experts[ex].up, ws.ff_up.data() + b * I, I});
    }
    matmul_batch(jobs.data(), static_cast<int64_t>(jobs.size()), pool);  // ff_gate = silu(gate) ⊙ up
    jobs.clear();
    for (int64_t ex = g0; ex < g1; ++ex) {
      if (!owned(ex)) continue;
      const int64_t b = ws.expert_count[ex] - base, n = ws.expert_count[ex + 1] - ws.expert_count[ex];
      jobs.push_back({ws.ff_gate.data() + b * I, I, n, w.experts[ex].down, ws.ex_out.data() + b * H, H});
    }
    matmul_batch(jobs.data(), static_cast<int64_t>(jobs.size()), pool);
    // Each token adds its weighted rows of this group, in slot order (= expert-index order); tokens are
    // independent, so a prefill shares them out over the pool.
    for_each_token(T, pool, [&](int64_t t) {
      float* __restrict dst = ws.acc.data() + t * H;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t pair = t * K + k, ex = ws.topk_idx[pair];
        if (ex < g0 || ex >= g1 || !owned(ex)) continue;
        const float wt = ws.topk_w[pair];
        const float* __restrict src = ws.ex_out.data() + (ws.pair_slot[pair] - base) * H;
        for (int64_t i = 0; i < H; ++i) dst[i] += wt * src[i];
      }
    });
  }
  finish_shared_experts(c, w, T, ws, out, pool);
}

void add_shared_experts(const ModelConfig& c, const LayerWeights& w, const float* x, int64_t T, Workspace& ws,
                        float* out, ThreadPool* pool) {
  const SharedRows s = shared_rows(c, w, ws);
  if (s.width > 0) {
    const int64_t H = c.hidden_size;
    const MatmulJob gate_up[2] = {{x, H, T, w.shared.gate, s.gate, s.width, MatmulInput::Bf16, true},
                                  {x, H, T, w.shared.up, s.up, s.width}};
    matmul_batch(gate_up, 2, pool);
  }
  finish_shared_experts(c, w, T, ws, out, pool);
}

}  // namespace fathom
