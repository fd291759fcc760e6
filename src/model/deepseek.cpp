#include "model/deepseek.h"

#include <algorithm>

#include "core/check.h"
#include "model/layers.h"

namespace fathom {

DeepseekModel::DeepseekModel(std::unique_ptr<ModelWeights> w)
    : weights_(std::move(w)), rope_inv_freq_(weights_->config.rope_inv_freq()) {}

Expected<std::unique_ptr<DeepseekModel>> DeepseekModel::load(const std::string& dir, ShardSpec shard,
                                                             LoadOptions options) {
  auto config = load_model_config(dir + "/config.json");
  if (!config) return config.status();
  auto ck = Checkpoint::open(dir);
  if (!ck) return ck.status();
  auto w = load_weights(*config, std::move(*ck), shard, options);
  if (!w) return w.status();
  return std::unique_ptr<DeepseekModel>(new DeepseekModel(std::move(*w)));
}

LatentCache DeepseekModel::make_cache(int64_t n_blocks, int64_t block_size) const {
  const ModelConfig& c = config();
  return LatentCache(c.num_hidden_layers, n_blocks, block_size, c.latent_dim());
}

void DeepseekModel::forward(const ForwardBatch& batch, LatentCache& cache, Workspace& ws, float* logits,
                            ThreadPool* pool, Comm* comm) const {
  const ModelConfig& c = config();
  const ModelWeights& W = *weights_;
  const int64_t T = static_cast<int64_t>(batch.token_ids.size()), H = c.hidden_size;
  FATHOM_CHECK(T <= ws.max_tokens);
  FATHOM_CHECK(batch.positions.size() == batch.token_ids.size() && batch.seq_of_token.size() == batch.token_ids.size());
  const int n_ranks = W.shard.size;
  FATHOM_CHECK(n_ranks == 1 || (comm && comm->size() == n_ranks));
  const bool tensor_parallel = n_ranks > 1 && W.shard.mode == ParallelMode::TENSOR;
  const bool expert_parallel = n_ranks > 1 && W.shard.mode == ParallelMode::EXPERT;
  auto sum_ranks = [&](float* p, int64_t n) {  // partial outputs of row/column-parallel blocks
    if (tensor_parallel) comm->allreduce_sum(p, n);
  };
  const float eps = static_cast<float>(c.rms_norm_eps);
  float* h = ws.h.data();    // [T, H] residual stream
  float* x = ws.x.data();    // [T, H] normed block input
  float* out = ws.out.data();  // [T, H] block output

  for (int64_t t = 0; t < T; ++t) {
    const int32_t id = batch.token_ids[t];
    FATHOM_CHECK(id >= 0 && id < c.vocab_size);
    decode_rows(W.embed, id, id + 1, h + t * H);  // h_0 = Emb[token]
  }
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const LayerWeights& L = W.layers[l];
    for_each_token(T, pool, [&](int64_t t) { rmsnorm(h + t * H, L.input_norm, eps, x + t * H, H); });
    mla_forward(c, L, rope_inv_freq_.data(), l, batch, x, cache, ws, out, pool);
    sum_ranks(out, T * H);
    for_each_token(T, pool, [&](int64_t t) {
      for (int64_t i = t * H; i < (t + 1) * H; ++i) h[i] += out[i];
      rmsnorm(h + t * H, L.post_attn_norm, eps, x + t * H, H);
    });
    if (L.is_moe && expert_parallel) moe_forward_ep(c, L, x, T, ws, out, pool, *comm);
    else if (L.is_moe) moe_forward(c, L, x, T, ws, out, pool);
    else mlp_forward(L.dense, x, T, ws, out, pool);
    sum_ranks(out, T * H);
    for_each_token(T, pool, [&](int64_t t) {
      for (int64_t i = t * H; i < (t + 1) * H; ++i) h[i] += out[i];
    });
  }
  // Final norm and lm_head, only for the rows whose logits are wanted.
  const int64_t R = static_cast<int64_t>(batch.logit_rows.size());
  for (int64_t r = 0; r < R; ++r) {
    const int32_t t = batch.logit_rows[r];
    FATHOM_CHECK(t >= 0 && t < T);
    rmsnorm(h + t * H, W.final_norm, eps, ws.final_x.data() + r * H, H);
  }
  matmul(ws.final_x.data(), H, R, W.lm_head, logits, c.vocab_size, pool);  // [R, V]
}

}  // namespace fathom
