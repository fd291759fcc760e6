// Every SIMD MLA-attention kernel against the scalar reference (odd widths, page sizes, shuffled block tables,
// contexts around page and vector boundaries), and the per-head invariance contract: a head's bits do not depend
// on how many heads share the call.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "core/numeric.h"
#include "ops/cpu/isa.h"
#include "ops/cpu/kernels.h"
#include "ops/ops.h"

namespace fathom {
namespace {

struct Case {
  int kv_dim, rope_dim, block_size;
  int64_t n_ctx;
  int n_heads;
};

struct AttnInputs {
  std::vector<uint16_t> cache;  // [n_blocks, block_size, width]
  std::vector<int32_t> blocks;
  std::vector<float> q;  // [n_heads, width]
};

AttnInputs make(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  const int width = c.kv_dim + c.rope_dim;
  const int64_t nb = (c.n_ctx + c.block_size - 1) / c.block_size + 2;  // spare pages that are never read
  AttnInputs s;
  s.cache.resize(nb * c.block_size * width);
  for (auto& v : s.cache) v = f32_to_bf16(nd(rng));
  s.blocks.resize(nb);
  std::iota(s.blocks.begin(), s.blocks.end(), 0);
  std::shuffle(s.blocks.begin(), s.blocks.end(), rng);
  s.q.resize(static_cast<size_t>(c.n_heads) * width);
  for (auto& v : s.q) v = nd(rng);
  return s;
}

std::vector<MlaAttentionFn> simd_kernels() {
  std::vector<MlaAttentionFn> k;
  if (detected_isa() >= Isa::AVX2) k.push_back(avx2::mla_attention);
  if (detected_isa() >= Isa::AVX512) k.push_back(avx512::mla_attention);
  return k;
}

const Case kCases[] = {
    {2, 1, 2, 3, 1},      {128, 32, 64, 1, 1},   {128, 32, 64, 129, 2}, {256, 32, 16, 67, 1},
    {512, 64, 64, 200, 3}, {40, 9, 5, 23, 2},     {136, 24, 64, 64, 1},  {17, 3, 3, 1, 1},
    {512, 64, 7, 1000, 1}, {128, 32, 64, 4, 1},
};

TEST(AttentionParity, SimdMatchesScalarReference) {
  ASSERT_FALSE(simd_kernels().empty()) << "this machine has no AVX2: only the scalar path is tested";
  for (const Case& c : kCases) {
    const AttnInputs s = make(c, static_cast<uint32_t>(c.kv_dim * 131 + c.n_ctx));
    const int width = c.kv_dim + c.rope_dim;
    const float scale = 1.0f / std::sqrt(static_cast<float>(width));
    std::vector<float> ref(c.n_heads * c.kv_dim), got(ref.size()), scratch(kMlaHeadGroup * c.n_ctx);
    std::vector<float> ref_lse(c.n_heads), got_lse(c.n_heads);
    ref::mla_attention(s.q.data(), c.n_heads, c.kv_dim, c.rope_dim, s.cache.data(), s.blocks.data(), c.block_size,
                       c.n_ctx, scale, ref.data(), scratch.data(), ref_lse.data());
    for (MlaAttentionFn k : simd_kernels()) {
      std::fill(got.begin(), got.end(), NAN);
      k(s.q.data(), c.n_heads, c.kv_dim, c.rope_dim, s.cache.data(), s.blocks.data(), c.block_size, c.n_ctx, scale,
        got.data(), scratch.data(), got_lse.data());
      for (int h = 0; h < c.n_heads; ++h)  // log-sum-exp: the same max, a sum within the exp's rounding
        ASSERT_NEAR(got_lse[h], ref_lse[h], 2e-5 * (1 + std::fabs(ref_lse[h]))) << "n_ctx=" << c.n_ctx << " h=" << h;
      for (size_t i = 0; i < ref.size(); ++i) {
        // Outputs are convex combinations of values of size ≈ 1: the summation order and the polynomial exp
        // move them by well under 1e-5.
        ASSERT_NEAR(got[i], ref[i], 2e-5 * (1 + std::fabs(ref[i])))
            << "kv=" << c.kv_dim << " rope=" << c.rope_dim << " bs=" << c.block_size << " n_ctx=" << c.n_ctx
            << " i=" << i;
      }
    }
  }
}

TEST(AttentionParity, HeadBitsIndependentOfHeadCount) {
  const Case c{128, 32, 16, 77, 4};
  const AttnInputs s = make(c, 7);
  const int width = c.kv_dim + c.rope_dim;
  std::vector<MlaAttentionFn> kernels = simd_kernels();
  kernels.push_back(ref::mla_attention);
  kernels.push_back(mla_attention_kernel());
  for (MlaAttentionFn k : kernels) {
    std::vector<float> all(c.n_heads * c.kv_dim), one(c.kv_dim), scratch(kMlaHeadGroup * c.n_ctx);
    k(s.q.data(), c.n_heads, c.kv_dim, c.rope_dim, s.cache.data(), s.blocks.data(), c.block_size, c.n_ctx, 0.1f,
      all.data(), scratch.data(), nullptr);
    for (int h = 0; h < c.n_heads; ++h) {
      k(s.q.data() + h * width, 1, c.kv_dim, c.rope_dim, s.cache.data(), s.blocks.data(), c.block_size, c.n_ctx, 0.1f,
        one.data(), scratch.data(), nullptr);
      EXPECT_EQ(0, std::memcmp(one.data(), all.data() + h * c.kv_dim, c.kv_dim * sizeof(float))) << "head " << h;
    }
  }
}

TEST(AttentionParity, SharpSoftmaxPicksTheBestKey) {
  // One key aligned with q and a large scale: the output must be that key's latent (checks the max subtraction
  // and that masked tail lanes add nothing to the softmax sum).
  const Case c{32, 8, 4, 13, 1};
  AttnInputs s = make(c, 3);
  const int width = c.kv_dim + c.rope_dim;
  const int64_t best = 9;
  const uint16_t* kb = s.cache.data() + (s.blocks[best / c.block_size] * c.block_size + best % c.block_size) * width;
  for (int i = 0; i < width; ++i) s.q[i] = bf16_to_f32(kb[i]);
  std::vector<MlaAttentionFn> kernels = simd_kernels();
  kernels.push_back(ref::mla_attention);
  for (MlaAttentionFn k : kernels) {
    std::vector<float> out(c.kv_dim), scratch(kMlaHeadGroup * c.n_ctx);
    k(s.q.data(), 1, c.kv_dim, c.rope_dim, s.cache.data(), s.blocks.data(), c.block_size, c.n_ctx, 50.f, out.data(),
      scratch.data(), nullptr);
    for (int i = 0; i < c.kv_dim; ++i) EXPECT_NEAR(out[i], bf16_to_f32(kb[i]), 1e-4) << i;
  }
}

TEST(AttentionParity, EmptyContextGivesZeros) {
  const Case c{16, 4, 4, 0, 2};
  const AttnInputs s = make(c, 1);
  std::vector<MlaAttentionFn> kernels = simd_kernels();
  kernels.push_back(ref::mla_attention);
  for (MlaAttentionFn k : kernels) {
    std::vector<float> out(2 * 16, NAN), lse(2, 0.f);
    float scratch[1];
    k(s.q.data(), 2, 16, 4, s.cache.data(), s.blocks.data(), 4, 0, 1.f, out.data(), scratch, lse.data());
    for (float v : out) EXPECT_EQ(v, 0.f);
    for (float v : lse) EXPECT_EQ(v, -INFINITY);
  }
}

// Split-K: a context of 5000 keys in chunks of mla_chunk_keys (2048 with pages of 64: chunks of 2048, 2048, 904),
// merged in order, against one softmax over all keys (the scalar reference): the merge reweights each chunk by its
// share of the total exp-sum, so the result moves only by rounding.
TEST(AttentionParity, SplitContextMatchesOneSoftmax) {
  const Case c{128, 32, 64, 5000, 3};
  const AttnInputs s = make(c, 11);
  const int width = c.kv_dim + c.rope_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(width));
  const int64_t L = mla_chunk_keys(c.block_size), n_chunks = (c.n_ctx + L - 1) / L;
  ASSERT_EQ(L, 2048);
  ASSERT_EQ(n_chunks, 3);
  std::vector<float> ref(c.n_heads * c.kv_dim), got(ref.size()), scratch(kMlaHeadGroup * c.n_ctx);
  ref::mla_attention(s.q.data(), c.n_heads, c.kv_dim, c.rope_dim, s.cache.data(), s.blocks.data(), c.block_size,
                     c.n_ctx, scale, ref.data(), scratch.data());
  std::vector<float> parts(n_chunks * c.n_heads * c.kv_dim), lse(n_chunks * c.n_heads);
  for (int64_t ch = 0; ch < n_chunks; ++ch)
    mla_attention_chunk(s.q.data(), c.n_heads, c.kv_dim, c.rope_dim, s.cache.data(), s.blocks.data(), c.block_size,
                        c.n_ctx, ch, scale, parts.data() + ch * c.n_heads * c.kv_dim, scratch.data(),
                        lse.data() + ch * c.n_heads);
  mla_attention_merge(parts.data(), lse.data(), n_chunks, c.n_heads, c.kv_dim, got.data());
  for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(got[i], ref[i], 2e-5 * (1 + std::fabs(ref[i]))) << i;
  // One chunk merged alone is that chunk's output, bit for bit.
  std::vector<float> one(c.n_heads * c.kv_dim);
  mla_attention_merge(parts.data(), lse.data(), 1, c.n_heads, c.kv_dim, one.data());
  EXPECT_EQ(0, std::memcmp(one.data(), parts.data(), one.size() * sizeof(float)));
}

}  // namespace
}  // namespace fathom
