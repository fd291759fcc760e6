#include "model/weights.h"

#include <cstdio>
#include <cstring>
#include <optional>

#include "core/sysinfo.h"
#include "model/place_weights.h"
#include "model/quantize_fp8.h"

namespace fathom {

namespace {

// Columns [c0, c1) of a weight, copied into storage owned by the model (row-major [rows, c1 - c0]). fp8 scales
// follow their 128-column blocks, so c0 and c1 must sit on block boundaries (or c1 at the end).
Expected<WeightView> copy_columns(const WeightView& w, int64_t c0, int64_t c1, ModelWeights* owner,
                                  const std::string& name) {
  if (c0 == 0 && c1 == w.cols) return w;
  const int es = dtype_size(w.dtype);
  const int64_t n = c1 - c0;
  if (w.dtype == DType::F8_E4M3 && (c0 % kFp8Block != 0 || (c1 % kFp8Block != 0 && c1 != w.cols)))
    return Status::error("tensor '" + name + "': tensor-parallel slice [" + std::to_string(c0) + ", " +
                         std::to_string(c1) + ") does not fall on the 128-column blocks of its fp8 scales");
  std::vector<uint8_t>& bytes = owner->owned_bytes.emplace_back(static_cast<size_t>(w.rows * n * es));
  for (int64_t r = 0; r < w.rows; ++r)
    std::memcpy(bytes.data() + r * n * es, static_cast<const uint8_t*>(w.data) + (r * w.cols + c0) * es, n * es);
  WeightView v = w;
  v.data = bytes.data();
  v.cols = n;
  if (w.dtype == DType::F8_E4M3) {
    const int64_t sr = (w.rows + kFp8Block - 1) / kFp8Block, sc0 = c0 / kFp8Block, sc = v.scale_cols();
    std::vector<float>& sc_out = owner->owned_scales.emplace_back(static_cast<size_t>(sr * sc));
    for (int64_t r = 0; r < sr; ++r)
      for (int64_t c = 0; c < sc; ++c) sc_out[r * sc + c] = w.scale_inv[r * w.scale_cols() + sc0 + c];
    v.scale_inv = sc_out.data();
  }
  return v;
}

class Binder {
 public:
  Binder(const Checkpoint& ck, int64_t* n_bytes) : ck_(ck), n_bytes_(n_bytes) {}

  // A linear weight [rows, cols]: F32/BF16/F16, or F8_E4M3 with its weight_scale_inv.
  Status linear(const std::string& name, int64_t rows, int64_t cols, WeightView* out) {
    auto t = ck_.get(name, {rows, cols});
    if (!t) return t.status();
    *out = view(*t, rows, cols);
    if (t->dtype == DType::F8_E4M3) {
      const int64_t sr = (rows + kFp8Block - 1) / kFp8Block, sc = (cols + kFp8Block - 1) / kFp8Block;
      auto s = ck_.get(name + "_scale_inv", {sr, sc});
      if (!s) return s.status();
      if (s->dtype != DType::F32)
        return Status::error(s->file + ": tensor '" + s->name + "' has dtype " + dtype_name(s->dtype) + ", expected F32");
      out->scale_inv = reinterpret_cast<const float*>(s->data);
      *n_bytes_ += static_cast<int64_t>(s->n_bytes);
    }
    return Status::ok();
  }
  // A vector [n] (norm weight or bias): float formats only.
  Status vector(const std::string& name, int64_t n, WeightView* out, bool f32_only = false) {
    auto t = ck_.get(name, {n});
    if (!t) return t.status();
    if (t->dtype == DType::F8_E4M3 || (f32_only && t->dtype != DType::F32))
      return Status::error(t->file + ": tensor '" + name + "' has dtype " + dtype_name(t->dtype) + ", expected " +
                           (f32_only ? "F32" : "F32, BF16 or F16"));
    *out = view(*t, 1, n);
    return Status::ok();
  }
  // A table read by row (embedding, lm_head, router): no fp8.
  Status dense(const std::string& name, int64_t rows, int64_t cols, WeightView* out) {
    auto t = ck_.get(name, {rows, cols});
    if (!t) return t.status();
    if (t->dtype == DType::F8_E4M3)
      return Status::error(t->file + ": tensor '" + name + "' has dtype F8_E4M3, expected F32, BF16 or F16");
    *out = view(*t, rows, cols);
    return Status::ok();
  }
  // A SwiGLU MLP; under TP only intermediate rows [i0, i1) (gate, up) and the matching down columns.
  Status mlp(const std::string& prefix, int64_t inter, int64_t hidden, MlpWeights* m, int64_t i0 = 0,
             int64_t i1 = -1, ModelWeights* owner = nullptr) {
    if (i1 < 0) i1 = inter;
    FATHOM_TRY(linear(prefix + "gate_proj.weight", inter, hidden, &m->gate));
    FATHOM_TRY(linear(prefix + "up_proj.weight", inter, hidden, &m->up));
    FATHOM_TRY(linear(prefix + "down_proj.weight", hidden, inter, &m->down));
    if (i0 == 0 && i1 == inter) return Status::ok();
    m->gate = m->gate.slice_rows(i0, i1);
    m->up = m->up.slice_rows(i0, i1);
    auto down = copy_columns(m->down, i0, i1, owner, prefix + "down_proj.weight");
    if (!down) return down.status();
    m->down = *down;
    return Status::ok();
  }

 private:
  WeightView view(const TensorInfo& t, int64_t rows, int64_t cols) {
    *n_bytes_ += static_cast<int64_t>(t.n_bytes);
    WeightView v;
    v.dtype = t.dtype;
    v.data = t.data;
    v.rows = rows;
    v.cols = cols;
    return v;
  }
  const Checkpoint& ck_;
  int64_t* n_bytes_;
};

}  // namespace

// [begin, end) of `n` items for rank `r` of `size`, or an error when they do not divide evenly.
static Expected<std::pair<int64_t, int64_t>> split(int64_t n, ShardSpec s, const char* what) {
  if (n % s.size != 0)
    return Status::error(std::string(what) + " (" + std::to_string(n) + ") is not divisible by the tensor-parallel size " +
                         std::to_string(s.size));
  const int64_t per = n / s.size;
  return std::make_pair(per * s.rank, per * (s.rank + 1));
}

Expected<std::unique_ptr<ModelWeights>> load_weights(const ModelConfig& c, Checkpoint checkpoint, ShardSpec shard,
                                                     LoadOptions options) {
  auto w = std::make_unique<ModelWeights>();
  w->config = c;
  w->checkpoint = std::move(checkpoint);
  w->shard = shard;
  Binder b(w->checkpoint, &w->n_weight_bytes);
  const int64_t H = c.hidden_size, V = c.vocab_size, nh = c.num_attention_heads;
  // Expert parallelism splits only the routed experts; everything else is whole on every rank.
  const ShardSpec dense_shard = shard.mode == ParallelMode::EXPERT ? ShardSpec{} : shard;
  auto heads = split(nh, dense_shard, "num_attention_heads");
  if (!heads) return heads.status();
  auto dense_cols = split(c.intermediate_size, dense_shard, "intermediate_size");
  if (!dense_cols) return dense_cols.status();
  auto shared_cols =
      split(c.n_shared_experts * c.moe_intermediate_size, dense_shard, "n_shared_experts * moe_intermediate_size");
  if (!shared_cols) return shared_cols.status();
  auto experts = split(c.n_routed_experts, shard, "n_routed_experts");
  if (!experts) return experts.status();
  const auto [h0, h1] = *heads;
  FATHOM_TRY(b.dense("model.embed_tokens.weight", V, H, &w->embed));
  FATHOM_TRY(b.vector("model.norm.weight", H, &w->final_norm));
  if (c.tie_word_embeddings && !w->checkpoint.has("lm_head.weight")) {
    w->lm_head = w->embed;
  } else {
    FATHOM_TRY(b.dense("lm_head.weight", V, H, &w->lm_head));
  }
  std::optional<ThreadPool> pool;  // for the load-time passes below, started only if one runs
  auto load_pool = [&pool] {
    if (!pool) pool.emplace(0);
    return &*pool;
  };
  if (options.lm_head_fp8 && w->lm_head.dtype != DType::F8_E4M3) {
    const int64_t before = w->lm_head.rows * w->lm_head.cols * dtype_size(w->lm_head.dtype);
    w->lm_head = quantize_fp8(w->lm_head, w->owned_bytes.emplace_back(), w->owned_scales.emplace_back(), load_pool());
    // The forward pass now reads the e4m3 copy and its scales instead of the mapped tensor.
    w->n_weight_bytes += w->lm_head.rows * w->lm_head.cols +
                         static_cast<int64_t>(w->owned_scales.back().size() * sizeof(float)) - before;
  }
  w->layers.resize(c.num_hidden_layers);
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    LayerWeights& L = w->layers[l];
    L.h0 = h0;
    L.h1 = h1;
    L.e0 = experts->first;
    L.e1 = experts->second;
    const std::string p = "model.layers." + std::to_string(l) + ".";
    FATHOM_TRY(b.vector(p + "input_layernorm.weight", H, &L.input_norm));
    FATHOM_TRY(b.vector(p + "post_attention_layernorm.weight", H, &L.post_attn_norm));
    const std::string a = p + "self_attn.";
    if (c.has_q_lora()) {
      FATHOM_TRY(b.linear(a + "q_a_proj.weight", c.q_lora_rank, H, &L.q_a_proj));
      FATHOM_TRY(b.vector(a + "q_a_layernorm.weight", c.q_lora_rank, &L.q_a_norm));
      FATHOM_TRY(b.linear(a + "q_b_proj.weight", nh * c.qk_head_dim(), c.q_lora_rank, &L.q_b_proj));
    } else {
      FATHOM_TRY(b.linear(a + "q_proj.weight", nh * c.qk_head_dim(), H, &L.q_proj));
    }
    FATHOM_TRY(b.linear(a + "kv_a_proj_with_mqa.weight", c.latent_dim(), H, &L.kv_a_proj));
    FATHOM_TRY(b.vector(a + "kv_a_layernorm.weight", c.kv_lora_rank, &L.kv_a_norm));
    FATHOM_TRY(b.linear(a + "kv_b_proj.weight", nh * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank, &L.kv_b_proj));
    FATHOM_TRY(b.linear(a + "o_proj.weight", H, nh * c.v_head_dim, &L.o_proj));
    if (dense_shard.size > 1) {  // this rank's heads: q rows, kv_b rows, o_proj columns
      const int64_t dqk = c.qk_head_dim(), dkv = c.qk_nope_head_dim + c.v_head_dim;
      if (c.has_q_lora()) L.q_b_proj = L.q_b_proj.slice_rows(h0 * dqk, h1 * dqk);
      else L.q_proj = L.q_proj.slice_rows(h0 * dqk, h1 * dqk);
      L.kv_b_proj = L.kv_b_proj.slice_rows(h0 * dkv, h1 * dkv);
      auto o = copy_columns(L.o_proj, h0 * c.v_head_dim, h1 * c.v_head_dim, w.get(), a + "o_proj.weight");
      if (!o) return o.status();
      L.o_proj = *o;
    }
    L.is_moe = c.is_moe_layer(l);
    if (!L.is_moe) {
      FATHOM_TRY(b.mlp(p + "mlp.", c.intermediate_size, H, &L.dense, dense_cols->first, dense_cols->second, w.get()));
      continue;
    }
    FATHOM_TRY(b.dense(p + "mlp.gate.weight", c.n_routed_experts, H, &L.router));
    if (c.has_gate_bias())
      FATHOM_TRY(b.vector(p + "mlp.gate.e_score_correction_bias", c.n_routed_experts, &L.router_bias, true));
    L.experts.resize(c.n_routed_experts);
    for (int64_t e = L.e0; e < L.e1; ++e)
      FATHOM_TRY(b.mlp(p + "mlp.experts." + std::to_string(e) + ".", c.moe_intermediate_size, H, &L.experts[e]));
    if (c.n_shared_experts > 0)
      FATHOM_TRY(b.mlp(p + "mlp.shared_experts.", c.n_shared_experts * c.moe_intermediate_size, H, &L.shared,
                       shared_cols->first, shared_cols->second, w.get()));
  }
  if (!options.mmap_weights) {
    const int64_t available = available_memory_bytes();  // 0: unknown
    if (Status placed = place_weights_in_memory(*w, load_pool(), available > 0 ? available : -1,
                                                !options.plain_weights);
        !placed)
      std::fprintf(stderr, "warning: %s\n", placed.message().c_str());  // still correct, only slower
  }
  return w;
}

}  // namespace fathom
