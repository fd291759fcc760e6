// Coded bf16 pair panels (Bf16Codes): lossless for every bf16 pattern (read back through weight_row, a reader
// written apart from the packer), about 3/4 of the bytes on normal-like weights, and a product over them has the
// plain pair panels' bits for every M, column range and row slice.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <utility>

#include "core/numeric.h"
#include "ops/cpu/kernels.h"

namespace fathom {
namespace {

struct Bf16Weight {
  std::vector<uint16_t> v;
  WeightView view;
  Bf16Weight(int64_t rows, int64_t cols, uint32_t seed, float std) : v(rows * cols) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, std);
    for (auto& x : v) x = f32_to_bf16(nd(rng));
    view = {DType::BF16, v.data(), rows, cols};
  }
};

struct AlignedBytes {
  std::unique_ptr<uint8_t, decltype(&std::free)> p{nullptr, &std::free};
  explicit AlignedBytes(int64_t n) : p(static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64)), &std::free) {}
};

WeightView coded(const WeightView& w, AlignedBytes& out, int64_t* bytes = nullptr) {
  const int64_t n = coded_panels_bytes(w);
  if (bytes) *bytes = n;
  out = AlignedBytes(n);
  return pack_coded_panels(w, out.p.get());
}

void expect_rows_equal(const WeightView& c, const Bf16Weight& w, const char* what) {
  std::vector<uint16_t> got(w.view.cols);
  for (int64_t r = 0; r < w.view.rows; ++r) {
    weight_row(c, r, reinterpret_cast<uint8_t*>(got.data()));
    ASSERT_EQ(0, std::memcmp(got.data(), w.v.data() + r * w.view.cols, w.view.cols * 2)) << what << " row " << r;
  }
}

TEST(CodedPanels, KeepEveryBf16Pattern) {
  if (!panels_supported()) GTEST_SKIP() << "packed panels are read only by the AVX512-BF16 kernel";
  const int64_t N = 128, K = 256;
  Bf16Weight w(N, K, 7, 0.02f);
  // Patterns no table reaches or that sit at its edges: zeros, subnormals, the smallest normals, infinities, NaNs,
  // the largest finite values, and values far below their rows' largest.
  const uint16_t specials[] = {0x0000, 0x8000, 0x0001, 0x807f, 0x0080, 0x8080, 0x7f80, 0xff80, 0x7fc1,
                               0xffff, 0x7f7f, 0xff7f, 0x2000, 0x1234, 0xa5a5, 0x3f80, 0x4780};
  std::mt19937 rng(3);
  for (int i = 0; i < 400; ++i) w.v[rng() % w.v.size()] = specials[i % std::size(specials)];
  for (int64_t k = 0; k < K; ++k) w.v[16 * K + k] = static_cast<uint16_t>(rng());  // a row of any patterns
  for (int64_t k = 0; k < K; ++k) w.v[40 * K + k] = 0;                              // a row of zeros
  AlignedBytes buf(0);
  int64_t bytes = 0;
  const WeightView c = coded(w.view, buf, &bytes);
  ASSERT_NE(c.codes, nullptr);
  EXPECT_GT(c.codes->first[N / 16], 0) << "the specials must have sent units to the escapes";
  expect_rows_equal(c, w, "specials");
  const int64_t s0 = 64;  // a row slice reads its own rows
  const WeightView s = c.slice_rows(s0, N);
  std::vector<uint16_t> got(K);
  for (int64_t r = 0; r < N - s0; ++r) {
    weight_row(s, r, reinterpret_cast<uint8_t*>(got.data()));
    ASSERT_EQ(0, std::memcmp(got.data(), w.v.data() + (s0 + r) * K, K * 2)) << "slice row " << r;
  }
}

TEST(CodedPanels, TakeThreeQuartersOfTheBytesOnNormalWeights) {
  if (!panels_supported()) GTEST_SKIP() << "packed panels are read only by the AVX512-BF16 kernel";
  Bf16Weight w(512, 1024, 11, 0.02f);
  AlignedBytes buf(0);
  int64_t bytes = 0;
  const WeightView c = coded(w.view, buf, &bytes);
  const double plain = 512.0 * 1024 * 2;
  // 12 bits a value plus 64 bytes per escaped unit of 64 values (measured: about 2% of units) and the tables.
  EXPECT_LT(bytes, 0.78 * plain);
  EXPECT_GT(bytes, 0.75 * plain);
  const double escaped = static_cast<double>(c.codes->first[512 / 16]) / (512 / 16 * 1024 / 4);
  EXPECT_LT(escaped, 0.05);
  expect_rows_equal(c, w, "normal");
}

TEST(CodedPanels, ProductsHaveThePlainPanelsBits) {
  if (!panels_supported()) GTEST_SKIP() << "packed panels are read only by the AVX512-BF16 kernel";
  for (int64_t K : {32, 96, 384, 1024, 2080}) {
    const int64_t N = 192, s0 = 64;  // three panels; a panel-aligned slice
    Bf16Weight w(N, K, static_cast<uint32_t>(K), 0.05f);
    std::mt19937 rng(static_cast<uint32_t>(K) + 1);
    for (int i = 0; i < 64; ++i) w.v[rng() % w.v.size()] = 0x2000 | (rng() & 0x807f);  // tiny: escaped units
    std::vector<uint16_t> plain_bytes(w.v.size());
    const WeightView plain = pack_panels(w.view, plain_bytes.data());
    AlignedBytes buf(0);
    const WeightView c = coded(w.view, buf);
    ASSERT_GT(c.codes->first[N / 16], 0);
    const int64_t Mmax = 32, ld = bf16_input_width(K);
    std::vector<float> x(Mmax * K);
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(rng);
    std::vector<uint16_t> xb(Mmax * ld);
    ref::pack_bf16_input(x.data(), K, Mmax, K, false, xb.data(), ld);
    for (int64_t M : {1, 2, 3, 4, 5, 7, 13, 32}) {
      for (auto [n0, n1] : {std::pair{int64_t{0}, N}, std::pair{int64_t{5}, int64_t{31}},
                            std::pair{int64_t{37}, N - 3}}) {
        std::vector<float> a(M * N, -1.f), b(M * N, -1.f);
        avx512bf16::matmul_tile(xb.data(), ld, M, plain, n0, n1, a.data(), N);
        avx512bf16::matmul_tile(xb.data(), ld, M, c, n0, n1, b.data(), N);
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            if (n < n0 || n >= n1) ASSERT_EQ(b[m * N + n], -1.f) << "coded wrote column " << n;
            else ASSERT_EQ(0, std::memcmp(&a[m * N + n], &b[m * N + n], 4))
                << "K=" << K << " M=" << M << " row " << m << " column " << n << ": " << a[m * N + n] << " vs "
                << b[m * N + n];
          }
      }
      std::vector<float> a(M * (N - s0)), b(M * (N - s0));
      avx512bf16::matmul_tile(xb.data(), ld, M, plain.slice_rows(s0, N), 0, N - s0, a.data(), N - s0);
      avx512bf16::matmul_tile(xb.data(), ld, M, c.slice_rows(s0, N), 0, N - s0, b.data(), N - s0);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4)) << "K=" << K << " M=" << M << " slice";
    }
  }
}

}  // namespace
}  // namespace fathom
