// Scalar ops against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/numeric.h"
#include "ops/ops.h"

namespace fathom {
namespace {

TEST(Ops, RmsNorm) {
  const float x[4] = {1, 2, 3, 4};
  const float w[4] = {1, 1, 2, 0.5f};
  WeightView wv{DType::F32, w, 1, 4, nullptr};
  float y[4];
  rmsnorm(x, wv, 1e-6f, y, 4);
  const float inv = 1.0f / std::sqrt(30.0f / 4 + 1e-6f);
  EXPECT_FLOAT_EQ(y[0], 1 * inv);
  EXPECT_FLOAT_EQ(y[2], 6 * inv);
  EXPECT_FLOAT_EQ(y[3], 2 * inv);
}

TEST(Ops, SiluMul) {
  const float g[2] = {0.f, 2.f}, u[2] = {5.f, 3.f};
  float o[2];
  silu_mul(g, u, o, 2);
  EXPECT_FLOAT_EQ(o[0], 0.f);
  EXPECT_NEAR(o[1], 2.f / (1 + std::exp(-2.f)) * 3.f, 1e-6);
}

TEST(Ops, RopeRotatesAdjacentPairs) {
  float x[4] = {1, 0, 0, 2};
  const float freq[2] = {0.5f, 0.25f};
  rope_interleaved(x, 2, 2, freq, 1.0f);  // angles 1.0 and 0.5
  EXPECT_NEAR(x[0], std::cos(1.0), 1e-6);
  EXPECT_NEAR(x[1], std::sin(1.0), 1e-6);
  EXPECT_NEAR(x[2], -2 * std::sin(0.5), 1e-6);
  EXPECT_NEAR(x[3], 2 * std::cos(0.5), 1e-6);
}

TEST(Ops, MlaAttentionOverPages) {
  // 3 keys of width 2 latent + 1 rope, pages of 2 tokens, pages [1, 0]: key j lives in page blocks[j/2].
  const int kv = 2, rope = 1, w = kv + rope, bs = 2;
  std::vector<uint16_t> cache(2 * bs * w);
  const float keys[3][3] = {{1, 0, 0}, {0, 1, 0}, {1, 1, 1}};
  const int32_t blocks[2] = {1, 0};
  for (int j = 0; j < 3; ++j)
    for (int c = 0; c < w; ++c) cache[(blocks[j / bs] * bs + j % bs) * w + c] = f32_to_bf16(keys[j][c]);
  const float q[3] = {1, 2, 1};
  float out[2], scratch[3];
  mla_attention(q, 1, kv, rope, cache.data(), blocks, bs, 3, 0.5f, out, scratch);
  const double s[3] = {0.5 * 1, 0.5 * 2, 0.5 * 4};
  double z = 0;
  for (double v : s) z += std::exp(v);
  EXPECT_NEAR(out[0], (std::exp(s[0]) + std::exp(s[2])) / z, 1e-6);
  EXPECT_NEAR(out[1], (std::exp(s[1]) + std::exp(s[2])) / z, 1e-6);
}

}  // namespace
}  // namespace fathom
