// Every SIMD matmul variant against the scalar reference, for every weight format, odd shapes, misaligned
// pointers and row slices; plus the batch-invariance contract (a row's bits do not depend on M or the n-range).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <utility>

#include "core/numeric.h"
#include "ops/cpu/isa.h"
#include "ops/cpu/kernels.h"

namespace fathom {
namespace {

struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  WeightView view;
};

Weights make(DType t, int64_t rows, int64_t cols, uint32_t seed, int offset_bytes) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  Weights w;
  const int es = dtype_size(t);
  w.bytes.resize(rows * cols * es + offset_bytes);
  uint8_t* p = w.bytes.data() + offset_bytes;
  for (int64_t i = 0; i < rows * cols; ++i) {
    const float v = nd(rng) * 0.1f;
    if (t == DType::F32) std::memcpy(p + i * 4, &v, 4);
    else if (t == DType::BF16) { uint16_t h = f32_to_bf16(v); std::memcpy(p + i * 2, &h, 2); }
    else if (t == DType::F16) {  // finite f16 patterns: sign, exponent 10..20, random mantissa
      uint16_t h = static_cast<uint16_t>(((rng() & 1) << 15) | ((10 + rng() % 11) << 10) | (rng() & 0x3ff));
      std::memcpy(p + i * 2, &h, 2);
    } else {
      uint8_t b = static_cast<uint8_t>(rng());
      if ((b & 0x7f) == 0x7f) b = 0x38;  // no NaN
      p[i] = b;
    }
  }
  if (t == DType::F8_E4M3) {
    const int64_t sr = (rows + 127) / 128, sc = (cols + 127) / 128;
    w.scales.resize(sr * sc);
    for (auto& s : w.scales) s = 0.001f + (rng() % 1000) * 1e-5f;
  }
  w.view = {t, p, rows, cols, w.scales.empty() ? nullptr : w.scales.data()};
  return w;
}

std::vector<MatmulTileFn> simd_kernels() {
  std::vector<MatmulTileFn> k;
  if (detected_isa() >= Isa::AVX2) k.push_back(avx2::matmul_tile);
  if (detected_isa() >= Isa::AVX512) k.push_back(avx512::matmul_tile);
  return k;
}

TEST(MatmulParity, SimdMatchesScalarReference) {
  const DType types[] = {DType::F32, DType::BF16, DType::F16, DType::F8_E4M3};
  const int64_t shapes[][3] = {{1, 1, 1}, {3, 5, 17}, {2, 130, 300}, {5, 64, 128}, {1, 33, 1000}, {4, 257, 129}, {7, 9, 1300}};
  ASSERT_FALSE(simd_kernels().empty()) << "this machine has no AVX2: only the scalar path is tested";
  for (DType t : types) {
    for (auto& s : shapes) {
      const int64_t M = s[0], N = s[1], K = s[2];
      for (int misalign : {0, 1, 3}) {
        Weights w = make(t, N, K, static_cast<uint32_t>(N * 7 + K), misalign * dtype_size(t));
        std::vector<float> xbuf(M * K + 1);
        std::mt19937 rng(11);
        std::normal_distribution<float> nd;
        for (auto& v : xbuf) v = nd(rng);
        const float* x = xbuf.data() + (misalign ? 1 : 0);
        std::vector<float> ref(M * N), got(M * N);
        ref::matmul_tile(x, K, M, w.view, 0, N, ref.data(), N);
        for (MatmulTileFn k : simd_kernels()) {
          k(x, K, M, w.view, 0, N, got.data(), N);
          for (int64_t i = 0; i < M * N; ++i) {
            // Only the summation order differs: bound by K ulps of the sum of |terms|.
            double mag = 0;
            const int64_t m = i / N, n = i % N;
            std::vector<float> row(K);
            decode_rows(w.view, n, n + 1, row.data());
            for (int64_t j = 0; j < K; ++j) mag += std::fabs(x[m * K + j] * row[j]);
            ASSERT_NEAR(got[i], ref[i], 2e-7 * K * mag + 1e-30)
                << dtype_name(t) << " M=" << M << " N=" << N << " K=" << K << " misalign=" << misalign;
          }
        }
      }
    }
  }
}

// |got - want| within K ulps of the sum of |terms| (only the summation order may differ).
void expect_close(const std::vector<float>& got, const std::vector<float>& want, const float* x, int64_t M,
                  const WeightView& w, const char* what) {
  const int64_t N = w.rows, K = w.cols;
  std::vector<float> row(K);
  for (int64_t n = 0; n < N; ++n) {
    decode_rows(w, n, n + 1, row.data());
    for (int64_t m = 0; m < M; ++m) {
      double mag = 0;
      for (int64_t j = 0; j < K; ++j) mag += std::fabs(x[m * K + j] * row[j]);
      ASSERT_NEAR(got[m * N + n], want[m * N + n], 2e-7 * K * mag + 1e-30)
          << what << " " << dtype_name(w.dtype) << " M=" << M << " N=" << N << " K=" << K << " n=" << n;
    }
  }
}

// MatmulInput::Bf16: 16- and 8-bit weights meet x rounded to bf16 (every ISA: the bf16 kernel where the machine
// has one, else the f32 kernels on rounded x); f32 weights and MatmulInput::F32 take x as it is.
TEST(MatmulParity, Bf16InputIsRoundedX) {
  const int64_t shapes[][3] = {{1, 1, 1}, {3, 5, 17}, {2, 130, 300}, {5, 64, 128}, {1, 33, 1000}, {7, 40, 1300},
                               {13, 21, 200}, {64, 48, 2816}};
  ThreadPool pool(2);
  for (DType t : {DType::F32, DType::BF16, DType::F16, DType::F8_E4M3}) {
    for (auto& s : shapes) {
      const int64_t M = s[0], N = s[1], K = s[2];
      Weights w = make(t, N, K, static_cast<uint32_t>(N + K), 0);
      std::vector<float> x(M * K), xr(M * K);
      std::mt19937 rng(17);
      std::normal_distribution<float> nd;
      for (auto& v : x) v = nd(rng);
      ref::round_bf16(x.data(), xr.data(), M * K);
      std::vector<float> want(M * N), want_f32(M * N), got(M * N);
      ref::matmul_tile(t == DType::F32 ? x.data() : xr.data(), K, M, w.view, 0, N, want.data(), N);
      ref::matmul_tile(x.data(), K, M, w.view, 0, N, want_f32.data(), N);
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        matmul(x.data(), K, M, w.view, got.data(), N, p);
        expect_close(got, want, x.data(), M, w.view, "bf16 input");
        matmul(x.data(), K, M, w.view, got.data(), N, p, MatmulInput::F32);
        expect_close(got, want_f32, x.data(), M, w.view, "f32 input");
      }
      if (t == DType::BF16 || t == DType::F8_E4M3) {
        if (detected_isa() < Isa::AVX512_BF16) continue;
        // The bf16 kernel itself, on input packed by the reference packer.
        const int64_t ld = bf16_input_width(K) + 64;
        std::vector<uint16_t> xb(M * ld), xb2(M * ld, 0xdead);
        ref::pack_bf16_input(x.data(), K, M, K, t == DType::F8_E4M3, xb.data(), ld);
        avx512bf16::pack_bf16_input(x.data(), K, M, K, t == DType::F8_E4M3, xb2.data(), ld);
        for (int64_t m = 0; m < M; ++m)
          ASSERT_EQ(0, std::memcmp(xb.data() + m * ld, xb2.data() + m * ld, bf16_input_width(K) * 2)) << "pack m=" << m;
        avx512bf16::matmul_tile(xb.data(), ld, M, w.view, 0, N, got.data(), N);
        expect_close(got, want, x.data(), M, w.view, "bf16 kernel");
      }
    }
  }
}

// The bf16 kernel's batch invariance: fp8 with 4+ rows decodes weight chunks once, fewer rows decode inline;
// bf16 uses 6-, 4- and 1–3-row blocks. A row's bits must not depend on which.
TEST(MatmulParity, Bf16KernelRowBitsIndependentOfBatch) {
  if (detected_isa() < Isa::AVX512_BF16) GTEST_SKIP() << "no AVX512-BF16 on this machine";
  for (auto [t, K] : {std::pair{DType::BF16, int64_t{384}}, std::pair{DType::F8_E4M3, int64_t{384}},
                      std::pair{DType::BF16, int64_t{1300}}, std::pair{DType::F8_E4M3, int64_t{1300}},
                      std::pair{DType::F8_E4M3, int64_t{100}}}) {
    const int64_t N = 50, M = 13;
    Weights w = make(t, N, K, 21, 0);
    std::vector<float> x(M * K);
    std::mt19937 rng(8);
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(rng);
    const int64_t ld = bf16_input_width(K);
    std::vector<uint16_t> xb(M * ld);
    ref::pack_bf16_input(x.data(), K, M, K, t == DType::F8_E4M3, xb.data(), ld);
    std::vector<float> all(M * N), part(M * N);
    avx512bf16::matmul_tile(xb.data(), ld, M, w.view, 0, N, all.data(), N);
    for (int64_t m0 : {0, 5, 12}) {
      for (int64_t rows : {int64_t{1}, int64_t{3}, int64_t{4}}) {
        if (m0 + rows > M) continue;
        avx512bf16::matmul_tile(xb.data() + m0 * ld, ld, rows, w.view, 0, N, part.data(), N);
        EXPECT_EQ(0, std::memcmp(all.data() + m0 * N, part.data(), rows * N * 4))
            << dtype_name(t) << " K=" << K << " rows " << m0 << "+" << rows;
      }
    }
    avx512bf16::matmul_tile(xb.data(), ld, M, w.view, 7, 31, part.data(), N);
    for (int64_t m = 0; m < M; ++m)
      EXPECT_EQ(0, std::memcmp(all.data() + m * N + 7, part.data() + m * N + 7, 24 * 4)) << dtype_name(t) << " m=" << m;
  }
}

// Packed pair panels. Every M (bf16 and fp8 read 64 rows side by side from M = 1 on; fp8 decodes inline below 4
// rows and once per (panel, block) from 4), every column range (starting inside a panel, crossing panels), every
// K block (K = 2048: bf16 carries its sums past 1024, fp8 adds 16 scaled blocks) and a panel-aligned row slice
// give each layout's own bits; packed and row-major agree within rounding (the order is the layout's: pair by
// pair per output lane, against k by k per lane and a tree). weight_row() reads the checkpoint's bytes back from
// either layout.
TEST(MatmulParity, PackedPanelsKeepEachLayoutsBits) {
  if (!panels_supported()) GTEST_SKIP() << "packed panels are read only by the AVX512-BF16 kernel";
  for (auto [t, K] : {std::pair{DType::BF16, int64_t{384}}, std::pair{DType::F8_E4M3, int64_t{384}},
                      std::pair{DType::BF16, int64_t{2048}}, std::pair{DType::F8_E4M3, int64_t{2048}},
                      std::pair{DType::BF16, int64_t{96}}, std::pair{DType::F8_E4M3, int64_t{192}}}) {
    const bool fp8 = t == DType::F8_E4M3;
    const int64_t N = 192, s0 = 64, s1 = 192;  // three panels; a panel-aligned slice
    Weights w = make(t, N, K, 31, 0);
    ASSERT_TRUE(can_pack_panels(w.view));
    std::vector<uint8_t> packed_bytes(w.bytes.size());
    const WeightView packed = pack_panels(w.view, packed_bytes.data());
    ASSERT_EQ(packed.panel, kPairPanelRows);
    ASSERT_NE(0, std::memcmp(packed_bytes.data(), w.bytes.data(), w.bytes.size()));  // the layout did change
    const int64_t row = K * dtype_size(t);
    std::vector<uint8_t> got(row);
    for (int64_t r = 0; r < N; ++r) {
      weight_row(packed, r, got.data());
      ASSERT_EQ(0, std::memcmp(got.data(), w.bytes.data() + r * row, row)) << dtype_name(t) << " row " << r;
    }
    const int64_t Mmax = 32, ld = bf16_input_width(K);
    std::vector<float> x(Mmax * K), xr(Mmax * K);
    std::mt19937 rng(static_cast<uint32_t>(K));
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(rng);
    ref::round_bf16(x.data(), xr.data(), Mmax * K);
    // x as each layout reads it: row-major fp8 in the decode's order, pair panels in natural order.
    std::vector<uint16_t> xb_rows(Mmax * ld), xb_pairs(Mmax * ld);
    ref::pack_bf16_input(x.data(), K, Mmax, K, fp8, xb_rows.data(), ld);
    ref::pack_bf16_input(x.data(), K, Mmax, K, false, xb_pairs.data(), ld);
    std::vector<float> rows_all(Mmax * N), packed_all(Mmax * N), want(Mmax * N);
    avx512bf16::matmul_tile(xb_rows.data(), ld, Mmax, w.view, 0, N, rows_all.data(), N);
    avx512bf16::matmul_tile(xb_pairs.data(), ld, Mmax, packed, 0, N, packed_all.data(), N);
    ref::matmul_tile(xr.data(), K, Mmax, w.view, 0, N, want.data(), N);
    expect_close(packed_all, want, x.data(), Mmax, w.view, "pair panels");
    expect_close(rows_all, want, x.data(), Mmax, w.view, "row-major");
    for (int64_t M : {1, 2, 3, 4, 7, 13, 32}) {
      for (auto [n0, n1] : {std::pair{int64_t{0}, N}, std::pair{int64_t{5}, int64_t{31}},
                            std::pair{int64_t{37}, N - 3}}) {
        std::vector<float> a(M * N, -1.f), b(M * N, -1.f);
        avx512bf16::matmul_tile(xb_rows.data(), ld, M, w.view, n0, n1, a.data(), N);
        avx512bf16::matmul_tile(xb_pairs.data(), ld, M, packed, n0, n1, b.data(), N);
        for (int64_t m = 0; m < M; ++m) {
          EXPECT_EQ(0, std::memcmp(a.data() + m * N + n0, rows_all.data() + m * N + n0, (n1 - n0) * 4))
              << dtype_name(t) << " row-major K=" << K << " M=" << M << " n " << n0 << ".." << n1;
          EXPECT_EQ(0, std::memcmp(b.data() + m * N + n0, packed_all.data() + m * N + n0, (n1 - n0) * 4))
              << dtype_name(t) << " packed K=" << K << " M=" << M << " n " << n0 << ".." << n1;
          for (int64_t n = 0; n < N; ++n)
            if (n < n0 || n >= n1) ASSERT_EQ(b[m * N + n], -1.f) << "packed wrote column " << n << " of " << n0 << ".." << n1;
        }
      }
      const int64_t ns = s1 - s0;
      std::vector<float> b(M * ns);
      avx512bf16::matmul_tile(xb_pairs.data(), ld, M, packed.slice_rows(s0, s1), 0, ns, b.data(), ns);
      for (int64_t m = 0; m < M; ++m)
        EXPECT_EQ(0, std::memcmp(b.data() + m * ns, packed_all.data() + m * N + s0, ns * 4))
            << dtype_name(t) << " K=" << K << " slice";
    }
  }
  // What cannot be packed stays row-major.
  EXPECT_FALSE(can_pack_panels(make(DType::BF16, 96, 64, 1, 0).view));      // bf16 rows not a multiple of 64
  EXPECT_FALSE(can_pack_panels(make(DType::F8_E4M3, 96, 128, 1, 0).view));  // fp8 rows not a multiple of 64
  EXPECT_FALSE(can_pack_panels(make(DType::BF16, 64, 100, 1, 0).view));     // rows of 200 bytes: not whole chunks
  EXPECT_FALSE(can_pack_panels(make(DType::F8_E4M3, 64, 96, 1, 0).view));   // rows of 96 bytes: not whole chunks
  EXPECT_FALSE(can_pack_panels(make(DType::F32, 64, 64, 1, 0).view));       // f32 weights take the f32 kernels
  Weights f = make(DType::F8_E4M3, 256, 128, 1, 0);
  EXPECT_FALSE(can_pack_panels(f.view.slice_rows(8, 72)));  // fp8 from row 8: a group of 16 would span two scales
  EXPECT_TRUE(can_pack_panels(f.view.slice_rows(16, 80)));
}

TEST(MatmulParity, RoundBf16MatchesScalar) {
  std::vector<float> x = {0.f, -0.f, 1.f, 1.00390625f, 1.005859375f, 1.0019531f, -3.3e-39f, 1e-45f, 3.4e38f,
                          INFINITY, -INFINITY, NAN, 65504.f, 0.1f, -0.7f, 123456.789f, 1.1754944e-38f};
  for (int i = 0; i < 50; ++i) x.push_back(std::ldexp(static_cast<float>(i * 7919 % 1000) / 997.f, i % 40 - 20));
  std::vector<float> want(x.size()), got(x.size());
  ref::round_bf16(x.data(), want.data(), static_cast<int64_t>(x.size()));
  std::vector<RoundBf16Fn> fns;
  if (detected_isa() >= Isa::AVX2) fns.push_back(avx2::round_bf16);
  if (detected_isa() >= Isa::AVX512) fns.push_back(avx512::round_bf16);
  for (RoundBf16Fn f : fns) {
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{16}, static_cast<int64_t>(x.size())}) {
      std::fill(got.begin(), got.end(), 42.f);
      f(x.data(), got.data(), n);
      EXPECT_EQ(0, std::memcmp(want.data(), got.data(), n * 4)) << "n=" << n;
      if (n < static_cast<int64_t>(x.size())) EXPECT_EQ(got[n], 42.f) << "wrote past n=" << n;
    }
  }
}

TEST(MatmulParity, RowBitsIndependentOfBatchAndRange) {
  // K = 1300: long rows are reduced in K blocks with carried accumulators (plus a tail).
  for (auto [t, K] : {std::pair{DType::BF16, int64_t{384}}, std::pair{DType::F8_E4M3, int64_t{384}},
                      std::pair{DType::BF16, int64_t{1300}}, std::pair{DType::F8_E4M3, int64_t{1300}}}) {
    const int64_t N = 200;
    Weights w = make(t, N, K, 3, 0);
    std::vector<float> x(9 * K);
    std::mt19937 rng(5);
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(rng);
    const MatmulTileFn k = matmul_tile_kernel();
    std::vector<float> all(9 * N), one(N), part(9 * N, 0.f);
    k(x.data(), K, 9, w.view, 0, N, all.data(), N);
    k(x.data() + 4 * K, K, 1, w.view, 0, N, one.data(), N);
    EXPECT_EQ(0, std::memcmp(all.data() + 4 * N, one.data(), N * 4)) << dtype_name(t);
    // [37, 102): 65 columns, so column 101 goes through the single-column tail here and a full block in `all`.
    k(x.data(), K, 9, w.view, 37, 102, part.data(), N);
    for (int64_t m = 0; m < 9; ++m)
      EXPECT_EQ(0, std::memcmp(all.data() + m * N + 37, part.data() + m * N + 37, 65 * 4)) << dtype_name(t);
    // Each SIMD kernel on its own: M = 9 (4 + 4 + 1 rows) against M = 1, and against a 3-row batch (M tail 3).
    for (MatmulTileFn kk : simd_kernels()) {
      kk(x.data(), K, 9, w.view, 0, N, all.data(), N);
      for (int64_t m : {0, 4, 8}) {
        kk(x.data() + m * K, K, 1, w.view, 0, N, one.data(), N);
        EXPECT_EQ(0, std::memcmp(all.data() + m * N, one.data(), N * 4)) << dtype_name(t) << " m=" << m;
      }
      kk(x.data() + 5 * K, K, 3, w.view, 0, N, part.data(), N);
      EXPECT_EQ(0, std::memcmp(all.data() + 5 * N, part.data(), 3 * N * 4)) << dtype_name(t);
    }
  }
}

TEST(MatmulParity, Fp8RowSliceUsesFullTensorScales) {
  // Rows 64..191 of a [256, 256] fp8 weight straddle two scale rows.
  Weights w = make(DType::F8_E4M3, 256, 256, 9, 0);
  const WeightView s = w.view.slice_rows(64, 192);
  std::vector<float> full(256 * 256), sliced(128 * 256);
  decode_rows(w.view, 0, 256, full.data());
  decode_rows(s, 0, 128, sliced.data());
  EXPECT_EQ(0, std::memcmp(full.data() + 64 * 256, sliced.data(), sliced.size() * 4));
  std::vector<float> x(256, 1.0f), y_full(256), y_slice(128);
  matmul(x.data(), 256, 1, w.view, y_full.data(), 256, nullptr);
  matmul(x.data(), 256, 1, s, y_slice.data(), 128, nullptr);
  EXPECT_EQ(0, std::memcmp(y_full.data() + 64, y_slice.data(), 128 * 4));
}

TEST(Isa, EnvironmentCanOnlyLower) {
  EXPECT_LE(static_cast<int>(active_isa()), static_cast<int>(detected_isa()));
}

}  // namespace
}  // namespace fathom
