#include "model/weights.h"

namespace fathom {

namespace {

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
  Status mlp(const std::string& prefix, int64_t inter, int64_t hidden, MlpWeights* m) {
    FATHOM_TRY(linear(prefix + "gate_proj.weight", inter, hidden, &m->gate));
    FATHOM_TRY(linear(prefix + "up_proj.weight", inter, hidden, &m->up));
    return linear(prefix + "down_proj.weight", hidden, inter, &m->down);
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

Expected<std::unique_ptr<ModelWeights>> load_weights(const ModelConfig& c, Checkpoint checkpoint) {
  auto w = std::make_unique<ModelWeights>();
  w->config = c;
  w->checkpoint = std::move(checkpoint);
  Binder b(w->checkpoint, &w->n_weight_bytes);
  const int64_t H = c.hidden_size, V = c.vocab_size, nh = c.num_attention_heads;
  FATHOM_TRY(b.dense("model.embed_tokens.weight", V, H, &w->embed));
  FATHOM_TRY(b.vector("model.norm.weight", H, &w->final_norm));
  if (c.tie_word_embeddings && !w->checkpoint.has("lm_head.weight")) {
    w->lm_head = w->embed;
  } else {
    FATHOM_TRY(b.dense("lm_head.weight", V, H, &w->lm_head));
  }
  w->layers.resize(c.num_hidden_layers);
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    LayerWeights& L = w->layers[l];
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
    L.is_moe = c.is_moe_layer(l);
    if (!L.is_moe) {
      FATHOM_TRY(b.mlp(p + "mlp.", c.intermediate_size, H, &L.dense));
      continue;
    }
    FATHOM_TRY(b.dense(p + "mlp.gate.weight", c.n_routed_experts, H, &L.router));
    if (c.has_gate_bias())
      FATHOM_TRY(b.vector(p + "mlp.gate.e_score_correction_bias", c.n_routed_experts, &L.router_bias, true));
    L.experts.resize(c.n_routed_experts);
    for (int64_t e = 0; e < c.n_routed_experts; ++e)
      FATHOM_TRY(b.mlp(p + "mlp.experts." + std::to_string(e) + ".", c.moe_intermediate_size, H, &L.experts[e]));
    if (c.n_shared_experts > 0)
      FATHOM_TRY(b.mlp(p + "mlp.shared_experts.", c.n_shared_experts * c.moe_intermediate_size, H, &L.shared));
  }
  return w;
}

}  // namespace fathom
