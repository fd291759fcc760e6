// matmul()'s split across the pool: fixed by shape, tiny products stay on the calling thread, and the result is
// bitwise the same with and without the pool for every kind of split.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/numeric.h"
#include "ops/matmul_split.h"
#include "ops/ops.h"

namespace fathom {
namespace {

TEST(MatmulSplit, ByShape) {
  EXPECT_EQ(1, matmul_split(1, 64, 128, 2).parts);           // per-head W_UV in decode: too small to share
  EXPECT_EQ(1, matmul_split(512, 4096, 4096, 1).parts);      // one thread
  const MatmulSplit gemv = matmul_split(1, 129280, 512, 2);  // lm_head: split the weight rows
  EXPECT_EQ(2, gemv.parts);
  EXPECT_FALSE(gemv.over_rows);
  const MatmulSplit wide = matmul_split(512, 16, 1024, 2);  // few weight rows, many tokens: split the batch
  EXPECT_EQ(2, wide.parts);
  EXPECT_TRUE(wide.over_rows);
  EXPECT_EQ(matmul_split(32, 288, 1024, 2).parts, matmul_split(32, 288, 1024, 2).parts);
}

TEST(MatmulSplit, PoolDoesNotChangeBits) {
  ThreadPool pool(2);
  const int64_t shapes[][3] = {{1, 2000, 384}, {64, 24, 1024}, {37, 300, 520}, {1, 64, 128}};
  for (auto& s : shapes) {
    const int64_t M = s[0], N = s[1], K = s[2];
    std::mt19937 rng(static_cast<uint32_t>(M + N + K));
    std::normal_distribution<float> nd;
    std::vector<uint16_t> w(N * K);
    std::vector<float> x(M * K), a(M * N), b(M * N);
    for (auto& v : w) v = f32_to_bf16(nd(rng));
    for (auto& v : x) v = nd(rng);
    const WeightView wv{DType::BF16, w.data(), N, K};
    matmul(x.data(), K, M, wv, a.data(), N, nullptr);
    matmul(x.data(), K, M, wv, b.data(), N, &pool);
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << M << "x" << N << "x" << K;
  }
}

}  // namespace
}  // namespace fathom
