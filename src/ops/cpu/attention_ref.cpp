// Scalar reference MLA attention: the numerics the SIMD variants are checked against (two passes per head:
// scores and softmax in scratch, then the probability-weighted sum of the latent rows in key order).
#include <algorithm>
#include <cmath>

#include "core/numeric.h"
#include "ops/cpu/kernels.h"

namespace fathom::ref {

void mla_attention(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache, const int32_t* blocks,
                   int block_size, int64_t n_ctx, float scale, float* out, float* scratch, float* lse) {
  const int width = kv_dim + rope_dim;
  auto key = [&](int64_t j) {
    return cache + (static_cast<int64_t>(blocks[j / block_size]) * block_size + j % block_size) * width;
  };
  for (int h = 0; h < n_heads; ++h) {
    const float* qh = q + static_cast<int64_t>(h) * width;
    float mx = -INFINITY;
    for (int64_t j = 0; j < n_ctx; ++j) {
      const uint16_t* k = key(j);
      float s = 0.f;
      for (int c = 0; c < width; ++c) s += qh[c] * bf16_to_f32(k[c]);
      scratch[j] = s * scale;
      mx = std::max(mx, scratch[j]);
    }
    float sum = 0.f;
    for (int64_t j = 0; j < n_ctx; ++j) {
      scratch[j] = std::exp(scratch[j] - mx);
      sum += scratch[j];
    }
    if (lse) lse[h] = mx + std::log(sum);
    float* oh = out + static_cast<int64_t>(h) * kv_dim;
    std::fill(oh, oh + kv_dim, 0.f);
    for (int64_t j = 0; j < n_ctx; ++j) {
      const float p = scratch[j] / sum;
      const uint16_t* k = key(j);
      for (int c = 0; c < kv_dim; ++c) oh[c] += p * bf16_to_f32(k[c]);
    }
  }
}

}  // namespace fathom::ref
