// matmul_kn (y = x · W, W as [K, N]): every SIMD kernel equals the scalar FMA-chain reference bit for bit, for every
// weight format, odd shapes, fp8 row slices; the pooled op equals the single-thread one; values match a double sum.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/numeric.h"
#include "ops/cpu/isa.h"
#include "ops/cpu/kernels.h"
#include "ops/ops.h"

namespace fathom {
namespace {

struct W {
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  WeightView view;
};

W make(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 0.5f);
  W w;
  const int es = dtype_size(t);
  w.bytes.resize(rows * cols * es);
  for (int64_t i = 0; i < rows * cols; ++i) {
    const float v = nd(rng);
    if (t == DType::F32) std::memcpy(&w.bytes[i * 4], &v, 4);
    else if (t == DType::BF16) { const uint16_t h = f32_to_bf16(v); std::memcpy(&w.bytes[i * 2], &h, 2); }
    else if (t == DType::F16) {
      const uint16_t h = static_cast<uint16_t>(((rng() & 1) << 15) | ((12 + rng() % 6) << 10) | (rng() & 0x3ff));
      std::memcpy(&w.bytes[i * 2], &h, 2);
    } else {
      uint8_t b = static_cast<uint8_t>(rng());
      if ((b & 0x7f) == 0x7f) b = 0x30;
      w.bytes[i] = b;
    }
  }
  if (t == DType::F8_E4M3) {
    w.scales.resize(((rows + 127) / 128) * ((cols + 127) / 128));
    for (auto& s : w.scales) s = 0.002f + (rng() % 100) * 1e-4f;
  }
  w.view = {t, w.bytes.data(), rows, cols, w.scales.empty() ? nullptr : w.scales.data()};
  return w;
}

std::vector<MatmulKnTileFn> kernels() {
  std::vector<MatmulKnTileFn> k;
  if (detected_isa() >= Isa::AVX2) k.push_back(avx2::matmul_kn_tile);
  if (detected_isa() >= Isa::AVX512) k.push_back(avx512::matmul_kn_tile);
  return k;
}

TEST(MatmulKn, SimdEqualsReferenceBitwise) {
  ASSERT_FALSE(kernels().empty());
  const int64_t shapes[][3] = {{1, 1, 1}, {3, 5, 17}, {5, 64, 128}, {2, 130, 300}, {7, 33, 129}, {4, 64, 512}, {1, 64, 256}, {3, 40, 600}};
  for (DType t : {DType::F32, DType::BF16, DType::F16, DType::F8_E4M3}) {
    for (auto& s : shapes) {
      const int64_t M = s[0], K = s[1], N = s[2];
      const W w = make(t, K, N, static_cast<uint32_t>(K * 3 + N));
      std::vector<float> x(M * K + 1);
      std::mt19937 rng(2);
      std::normal_distribution<float> nd;
      for (auto& v : x) v = nd(rng);
      std::vector<float> ref(M * N), got(M * N);
      ref::matmul_kn_tile(x.data() + 1, K, M, w.view, 0, N, ref.data(), N);
      for (MatmulKnTileFn k : kernels()) {
        std::fill(got.begin(), got.end(), NAN);
        k(x.data() + 1, K, M, w.view, 0, N, got.data(), N);
        ASSERT_EQ(0, std::memcmp(ref.data(), got.data(), ref.size() * 4))
            << dtype_name(t) << " M=" << M << " K=" << K << " N=" << N;
      }
      // And the values themselves, against a double-precision sum.
      std::vector<float> wf(K * N);
      decode_rows(w.view, 0, K, wf.data());
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          double acc = 0, mag = 0;
          for (int64_t k = 0; k < K; ++k) {
            acc += static_cast<double>(x[1 + m * K + k]) * wf[k * N + n];
            mag += std::fabs(static_cast<double>(x[1 + m * K + k]) * wf[k * N + n]);
          }
          ASSERT_NEAR(ref[m * N + n], acc, 1e-6 * K * mag + 1e-30);
        }
    }
  }
}

TEST(MatmulKn, Fp8RowSliceAndPool) {
  // Rows 64..191 of an fp8 [256, 192] weight (two scale rows), as MLA slices W_UK[h] out of kv_b_proj.
  const W w = make(DType::F8_E4M3, 256, 192, 5);
  const WeightView s = w.view.slice_rows(64, 192);
  const int64_t M = 9, K = 128, N = 192;
  std::vector<float> x(M * K), a(M * N), b(M * N), c(M * N);
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  for (auto& v : x) v = nd(rng);
  ref::matmul_kn_tile(x.data(), K, M, s, 0, N, a.data(), N);
  ThreadPool pool(2);
  matmul_kn(x.data(), K, M, s, b.data(), N, nullptr);
  matmul_kn(x.data(), K, M, s, c.data(), N, &pool);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4));
  EXPECT_EQ(0, std::memcmp(a.data(), c.data(), a.size() * 4));
}

}  // namespace
}  // namespace fathom
