// Random checkpoints for the presets: every value is a pure function of (seed, tensor name, index), so the
// bytes are identical run to run and independent of thread count.
#include <cmath>
#include <cstring>
#include <map>

#include "core/numeric.h"
#include "core/thread_pool.h"
#include "model/presets.h"
#include "model/safetensors.h"

namespace fathom {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t name_hash(const std::string& s, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ull ^ splitmix64(seed);
  for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ull;
  return splitmix64(h);
}

// Standard normal for element i of a stream (Box–Muller on two counter-based uniforms).
float normal_at(uint64_t stream, uint64_t i) {
  const uint64_t a = splitmix64(stream ^ (2 * i)), b = splitmix64(stream ^ (2 * i + 1));
  const double u1 = (static_cast<double>(a >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
  const double u2 = static_cast<double>(b >> 11) * 0x1.0p-53;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
}

class Generator {
 public:
  Generator(uint64_t seed, bool fp8, ThreadPool* pool) : seed_(seed), fp8_(fp8), pool_(pool) {}

  void linear(const std::string& name, int64_t rows, int64_t cols) {
    if (!fp8_) return random_bf16(name, {rows, cols});
    std::vector<float> w(rows * cols);
    fill_normal(name, w.data(), rows * cols, 0.02f);
    const int64_t sr = (rows + kFp8Block - 1) / kFp8Block, sc = (cols + kFp8Block - 1) / kFp8Block;
    TensorData q{DType::F8_E4M3, {rows, cols}, std::vector<uint8_t>(rows * cols)};
    TensorData s{DType::F32, {sr, sc}, std::vector<uint8_t>(sr * sc * 4)};
    float* scales = reinterpret_cast<float*>(s.bytes.data());
    for (int64_t br = 0; br < sr; ++br) {
      for (int64_t bc = 0; bc < sc; ++bc) {
        const int64_t r1 = std::min(rows, (br + 1) * kFp8Block), c1 = std::min(cols, (bc + 1) * kFp8Block);
        float amax = 0.f;
        for (int64_t r = br * kFp8Block; r < r1; ++r)
          for (int64_t c = bc * kFp8Block; c < c1; ++c) amax = std::max(amax, std::fabs(w[r * cols + c]));
        const float scale = amax > 0 ? amax / 448.0f : 1.0f;
        scales[br * sc + bc] = scale;
        for (int64_t r = br * kFp8Block; r < r1; ++r)
          for (int64_t c = bc * kFp8Block; c < c1; ++c) q.bytes[r * cols + c] = f32_to_e4m3(w[r * cols + c] / scale);
      }
    }
    tensors[name] = std::move(q);
    tensors[name + "_scale_inv"] = std::move(s);
  }
  void random_bf16(const std::string& name, std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> w(n);
    fill_normal(name, w.data(), n, 0.02f);
    TensorData t{DType::BF16, std::move(shape), std::vector<uint8_t>(n * 2)};
    uint16_t* p = reinterpret_cast<uint16_t*>(t.bytes.data());
    for (int64_t i = 0; i < n; ++i) p[i] = f32_to_bf16(w[i]);
    tensors[name] = std::move(t);
  }
  void ones(const std::string& name, int64_t n) {
    TensorData t{DType::BF16, {n}, std::vector<uint8_t>(n * 2)};
    uint16_t* p = reinterpret_cast<uint16_t*>(t.bytes.data());
    for (int64_t i = 0; i < n; ++i) p[i] = 0x3F80;  // 1.0
    tensors[name] = std::move(t);
  }
  void random_f32(const std::string& name, int64_t n) {
    TensorData t{DType::F32, {n}, std::vector<uint8_t>(n * 4)};
    fill_normal(name, reinterpret_cast<float*>(t.bytes.data()), n, 0.02f);
    tensors[name] = std::move(t);
  }
  void mlp(const std::string& p, int64_t inter, int64_t hidden) {
    linear(p + "gate_proj.weight", inter, hidden);
    linear(p + "up_proj.weight", inter, hidden);
    linear(p + "down_proj.weight", hidden, inter);
  }

  std::map<std::string, TensorData> tensors;

 private:
  void fill_normal(const std::string& name, float* out, int64_t n, float std) {
    const uint64_t stream = name_hash(name, seed_);
    pool_->parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = std * normal_at(stream, static_cast<uint64_t>(i));
    }, 4096);
  }
  uint64_t seed_;
  bool fp8_;
  ThreadPool* pool_;
};

void decoder_layer(Generator& g, const ModelConfig& c, int64_t l) {
  const std::string p = "model.layers." + std::to_string(l) + ".";
  const int64_t H = c.hidden_size, nh = c.num_attention_heads;
  g.ones(p + "input_layernorm.weight", H);
  g.ones(p + "post_attention_layernorm.weight", H);
  const std::string a = p + "self_attn.";
  if (c.has_q_lora()) {
    g.linear(a + "q_a_proj.weight", c.q_lora_rank, H);
    g.ones(a + "q_a_layernorm.weight", c.q_lora_rank);
    g.linear(a + "q_b_proj.weight", nh * c.qk_head_dim(), c.q_lora_rank);
  } else {
    g.linear(a + "q_proj.weight", nh * c.qk_head_dim(), H);
  }
  g.linear(a + "kv_a_proj_with_mqa.weight", c.latent_dim(), H);
  g.ones(a + "kv_a_layernorm.weight", c.kv_lora_rank);
  g.linear(a + "kv_b_proj.weight", nh * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank);
  g.linear(a + "o_proj.weight", H, nh * c.v_head_dim);
  // The MTP layer (index >= L) is always MoE in DeepSeek-V3.
  const bool moe = l >= c.num_hidden_layers ? c.n_routed_experts > 0 : c.is_moe_layer(l);
  if (!moe) return g.mlp(p + "mlp.", c.intermediate_size, H);
  g.random_bf16(p + "mlp.gate.weight", {c.n_routed_experts, H});
  if (c.has_gate_bias()) g.random_f32(p + "mlp.gate.e_score_correction_bias", c.n_routed_experts);
  for (int64_t e = 0; e < c.n_routed_experts; ++e)
    g.mlp(p + "mlp.experts." + std::to_string(e) + ".", c.moe_intermediate_size, H);
  if (c.n_shared_experts > 0) g.mlp(p + "mlp.shared_experts.", c.n_shared_experts * c.moe_intermediate_size, H);
}

}  // namespace

Status random_checkpoint(const ModelConfig& c, uint64_t seed, bool fp8, int n_threads, const std::string& out_dir,
                         int64_t max_shard_bytes) {
  ThreadPool pool(n_threads);
  Generator g(seed, fp8, &pool);
  const int64_t H = c.hidden_size;
  g.random_bf16("model.embed_tokens.weight", {c.vocab_size, H});
  g.ones("model.norm.weight", H);
  if (!c.tie_word_embeddings) g.random_bf16("lm_head.weight", {c.vocab_size, H});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) decoder_layer(g, c, l);
  for (int64_t m = 0; m < c.num_nextn_predict_layers; ++m) {
    const int64_t l = c.num_hidden_layers + m;
    decoder_layer(g, c, l);
    const std::string p = "model.layers." + std::to_string(l) + ".";
    g.ones(p + "enorm.weight", H);
    g.ones(p + "hnorm.weight", H);
    g.random_bf16(p + "eh_proj.weight", {H, 2 * H});
    g.ones(p + "shared_head.norm.weight", H);
  }
  return write_checkpoint(out_dir, g.tensors, max_shard_bytes);
}

}  // namespace fathom
