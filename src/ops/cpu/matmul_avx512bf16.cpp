// AVX512-BF16 matmul tile: x rounded to bf16 (pack_bf16_input) times weights with vdpbf16ps, which multiplies
// pairs of bf16 values exactly and adds them into f32 lanes (twice the f32 FMA rate per cycle). Weights in pair
// panels go to the outer-product tiles (matmul_pairs_avx512bf16.cpp for bf16, matmul_fp8_pairs_avx512bf16.cpp for
// e4m3); this file holds row-major weights (mapped, or rows that fill no whole panel), in inner-product form: a
// vector holds 32 consecutive k of one row, and lane l sums fixed k positions in increasing k (e4m3: per 128-wide
// block, then × block scale), then the fixed tree of simd_avx512.h — the same whatever M, n0, n1. e4m3 weights
// become bf16 in registers, exactly (simd_avx512bf16.h), as weights 0-7, 16-23, ... of each 64, then the others —
// the order pack_bf16_input gives x for fp8.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <vector>

#include "core/numeric.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/matmul_blocking_avx512.h"
#include "ops/cpu/simd_avx512.h"
#include "ops/cpu/simd_avx512bf16.h"

namespace fathom::avx512bf16 {

using avx512::add_scaled_block;
using avx512::BoundKernel;
using avx512::finish_acc;
using avx512::load_acc;
using avx512::prefetch_distance;

namespace {

constexpr int64_t kDecodeOnceRows = 4;    // fp8 with at least this many x rows: decode weight chunks once

inline __mmask32 mask32(int64_t rem) { return rem >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((1u << rem) - 1); }
inline __mmask64 mask64(int64_t rem) {
  return rem >= 64 ? ~__mmask64{0} : static_cast<__mmask64>((uint64_t{1} << rem) - 1);
}

// bf16 weights: 32 values of k per step. x rows are zero-padded, so only the weights need a mask.
template <int MR, int NR>
inline void step_bf16(const uint16_t* const* xr, const uint16_t* const* wr, int64_t k, __mmask32 msk, int64_t pf,
                      __m512 (&acc)[MR][NR]) {
  __m512i wv[NR];
#pragma GCC unroll 8
  for (int n = 0; n < NR; ++n) {
    _mm_prefetch(reinterpret_cast<const char*>(wr[n] + k) + pf, _MM_HINT_T0);
    wv[n] = _mm512_maskz_loadu_epi16(msk, wr[n] + k);
    asm("" : "+v"(wv[n]));  // keep the weights in registers: GCC re-loads them for every x row at MR = 3
  }
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) {
    const __m512i xv = _mm512_loadu_si512(xr[m] + k);
#pragma GCC unroll 8
    for (int n = 0; n < NR; ++n) acc[m][n] = dot(acc[m][n], xv, wv[n]);
  }
}

// e4m3 weights: 64 values of k per step (x in fp8 order).
template <int MR, int NR>
inline void step_e4m3(const uint16_t* const* xr, const uint8_t* const* wr, int64_t k, __mmask64 msk, int64_t pf,
                      const E4m3Decoder& d, __m512 (&acc)[MR][NR]) {
  __m512i x0[MR], x1[MR];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) {
    x0[m] = _mm512_loadu_si512(xr[m] + k);
    x1[m] = _mm512_loadu_si512(xr[m] + k + 32);
  }
#pragma GCC unroll 8
  for (int n = 0; n < NR; ++n) {
    // The empty asm statements keep each row's prefetch, load, decode and dots in that order, row after row.
    // Left free, GCC issues the four prefetches together and runs the rows' loads ahead; when memory is slow
    // that streamed the fp8 lm_head at 31 GB/s against 42 GB/s in this order (matmul_bench, 5 alternating runs).
    _mm_prefetch(reinterpret_cast<const char*>(wr[n] + k) + pf, _MM_HINT_T0);
    asm volatile("" ::: "memory");
    __m512i w0, w1;
    d.decode(_mm512_maskz_loadu_epi8(msk, wr[n] + k), w0, w1);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      acc[m][n] = dot(acc[m][n], x0[m], w0);
      acc[m][n] = dot(acc[m][n], x1[m], w1);
    }
    asm volatile("" : "+v"(acc[0][n]) :: "memory");
  }
}

// y[m0 .. m0+MR, n0 .. n0+NR) over k in [kb, ke): accumulators start at zero (kb = 0) or from carry, and end in
// y (ke = K) or in carry — the per-lane sums run through k in the same order either way.
template <DType T, int MR, int NR>
void micro_block(const uint16_t* xb, int64_t ldxb, const WeightView& w, int64_t m0, int64_t n0, float* y, int64_t ldy,
                 int64_t kb, int64_t ke, float* carry) {
  const int64_t K = w.cols;
  const int64_t pf = prefetch_distance(K * dtype_size(T), NR);
  const uint16_t* xr[MR];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) xr[m] = xb + (m0 + m) * ldxb;
  __m512 acc[MR][NR];
  load_acc(acc, kb, carry);
  if constexpr (T == DType::F8_E4M3) {
    const E4m3Decoder d;
    const uint8_t* wr[NR];
    const float* srow[NR];
#pragma GCC unroll 8
    for (int n = 0; n < NR; ++n) {
      wr[n] = w.row_bytes(n0 + n);
      srow[n] = w.scale_row(n0 + n);
    }
    for (int64_t k0 = kb; k0 < ke; k0 += kFp8Block) {
      const int64_t k1 = std::min(ke, k0 + kFp8Block);
      __m512 part[MR][NR];
      load_acc(part, 0, nullptr);
      for (int64_t k = k0; k < k1; k += 64) step_e4m3<MR, NR>(xr, wr, k, mask64(k1 - k), pf, d, part);
      add_scaled_block(acc, part, srow, k0 / kFp8Block, 1.0f);
    }
  } else {
    const uint16_t* wr[NR];
#pragma GCC unroll 8
    for (int n = 0; n < NR; ++n) wr[n] = reinterpret_cast<const uint16_t*>(w.row_bytes(n0 + n));
    int64_t k = kb;  // kb is a multiple of 32
    for (; k + 32 <= ke; k += 32) step_bf16<MR, NR>(xr, wr, k, ~__mmask32{0}, pf, acc);
    if (k < ke) step_bf16<MR, NR>(xr, wr, k, mask32(ke - k), pf, acc);
  }
  finish_acc(acc, ke == K, y + m0 * ldy + n0, ldy, carry);
}

// One x row (GEMV, decode at batch 1): one weight row at a time, so each thread reads one contiguous stream —
// measured 12% more decoded tokens per second on the small preset than four rows side by side. More rows: bf16
// 6 × 4 and 4 × 4 blocks; fp8 keeps a block partial next to each accumulator and x in two registers per row: 2 × 4,
// 3 × 2.
template <DType T>
struct Kernel {
  static constexpr bool kBig = T != DType::F8_E4M3;
  template <int MR>
  static constexpr int nr() {
    if constexpr (MR == 1) return 1;
    else if constexpr (T != DType::F8_E4M3) return 4;
    else return MR == 2 ? 4 : 2;
  }
  template <int MR, int NR>
  static constexpr auto micro = &micro_block<T, MR, NR>;
};

// fp8 with several x rows: each chunk of weight rows is decoded once into bf16 (fp8 order, zero past K) and
// shared by every block of x rows. Each (m, n) sees the same dot products in the same order as the inline-decode
// micro-kernel above — per 64-wide group the [0-7, 16-23, ...] half then the other, per 128-wide block a partial
// then × scale, reduced by the same tree — so its bits match M = 1.
template <int MR, int NR>
void micro_decoded(const uint16_t* xb, int64_t ldxb, const uint16_t* wd, int64_t ldw, const WeightView& w,
                   int64_t m0, int64_t n0, int64_t nd, float* y, int64_t ldy) {
  const int64_t K = w.cols;
  const uint16_t* xr[MR];
  const uint16_t* wr[NR];
  const float* srow[NR];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) xr[m] = xb + (m0 + m) * ldxb;
#pragma GCC unroll 8
  for (int n = 0; n < NR; ++n) wr[n] = wd + (nd + n) * ldw, srow[n] = w.scale_row(n0 + n);
  __m512 acc[MR][NR];
  load_acc(acc, 0, nullptr);
  for (int64_t k0 = 0; k0 < K; k0 += kFp8Block) {
    const int64_t k1 = std::min(K, k0 + kFp8Block);
    __m512 part[MR][NR];
    load_acc(part, 0, nullptr);
    // Whole 64-groups, both halves (the second holds values 8-15, 24-31, ... of the group), as inline.
    for (int64_t k = k0; k < k0 + (k1 - k0 + 63) / 64 * 64; k += 32) {
      __m512i wv[NR];
#pragma GCC unroll 8
      for (int n = 0; n < NR; ++n) wv[n] = _mm512_loadu_si512(wr[n] + k);
#pragma GCC unroll 8
      for (int m = 0; m < MR; ++m) {
        const __m512i xv = _mm512_loadu_si512(xr[m] + k);
#pragma GCC unroll 8
        for (int n = 0; n < NR; ++n) part[m][n] = dot(part[m][n], xv, wv[n]);
      }
    }
    add_scaled_block(acc, part, srow, k0 / kFp8Block, 1.0f);
  }
  finish_acc(acc, true, y + m0 * ldy + n0, ldy, nullptr);
}

template <int MR>
void rows_decoded(const uint16_t* xb, int64_t ldxb, const uint16_t* wd, int64_t ldw, const WeightView& w,
                  int64_t m0, int64_t n0, int64_t n1, float* y, int64_t ldy) {
  int64_t n = n0;
  for (; n + 3 <= n1; n += 3) micro_decoded<MR, 3>(xb, ldxb, wd, ldw, w, m0, n, n - n0, y, ldy);
  for (; n < n1; ++n) micro_decoded<MR, 1>(xb, ldxb, wd, ldw, w, m0, n, n - n0, y, ldy);
}

// Rows [r0, r1) of an e4m3 weight → bf16 in fp8 order: out[(r - r0) * ldw + k], k < ldw (zero past K).
void decode_e4m3_rows(const WeightView& w, int64_t r0, int64_t r1, uint16_t* out, int64_t ldw) {
  const E4m3Decoder d;
  const int64_t K = w.cols;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* src = w.row_bytes(r);
    uint16_t* o = out + (r - r0) * ldw;
    for (int64_t k = 0; k < ldw; k += 64) {
      __m512i w0, w1;
      d.decode(_mm512_maskz_loadu_epi8(mask64(k < K ? K - k : 0), src + k), w0, w1);
      _mm512_storeu_si512(o + k, w0);
      _mm512_storeu_si512(o + k + 32, w1);
    }
  }
}

void tile_fp8_decoded(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t n0, int64_t n1,
                      float* y, int64_t ldy) {
  const int64_t ldw = bf16_input_width(w.cols);
  const int64_t n_chunk = std::max<int64_t>(3, (256 * 1024) / (ldw * 2) / 3 * 3);
  thread_local std::vector<uint16_t> wd;  // this thread's decoded rows (grows to its largest chunk)
  if (static_cast<int64_t>(wd.size()) < n_chunk * ldw) wd.resize(static_cast<size_t>(n_chunk * ldw));
  for (int64_t nc = n0; nc < n1; nc += n_chunk) {
    const int64_t nc1 = std::min(n1, nc + n_chunk);
    decode_e4m3_rows(w, nc, nc1, wd.data(), ldw);
    int64_t m = 0;
    for (; m + 4 <= M; m += 4) rows_decoded<4>(xb, ldxb, wd.data(), ldw, w, m, nc, nc1, y, ldy);
    switch (M - m) {
      case 3: rows_decoded<3>(xb, ldxb, wd.data(), ldw, w, m, nc, nc1, y, ldy); break;
      case 2: rows_decoded<2>(xb, ldxb, wd.data(), ldw, w, m, nc, nc1, y, ldy); break;
      case 1: rows_decoded<1>(xb, ldxb, wd.data(), ldw, w, m, nc, nc1, y, ldy); break;
      default: break;
    }
  }
}

// Inline decode (fp8, fewer than kDecodeOnceRows x rows), or bf16.
template <DType T>
void tile_rows(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
               int64_t ldy) {
  avx512::tile_blocks(BoundKernel<Kernel<T>, uint16_t>{xb, ldxb, w, y, ldy}, M, w.cols, w.cols * dtype_size(T), n0,
                      n1);
}

// 16 f32 → 16 bf16, nearest even; NaN stays a quiet NaN (bit-identical to f32_to_bf16).
inline __m256i to_bf16(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff))), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(r);
}

}  // namespace

void matmul_tile(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                 int64_t ldy) {
  if (w.panel == kPairPanelRows) {
    if (w.dtype == DType::F8_E4M3) return matmul_fp8_pairs_tile(xb, ldxb, M, w, n0, n1, y, ldy);
    if (w.codes) return matmul_coded_pairs_tile(xb, ldxb, M, w, n0, n1, y, ldy);
    return matmul_pairs_tile(xb, ldxb, M, w, n0, n1, y, ldy);
  }
  if (w.dtype == DType::BF16) return tile_rows<DType::BF16>(xb, ldxb, M, w, n0, n1, y, ldy);
  // Decoding once per chunk pays from a few x rows on; a lone row decodes in registers as it streams.
  if (M >= kDecodeOnceRows) return tile_fp8_decoded(xb, ldxb, M, w, n0, n1, y, ldy);
  return tile_rows<DType::F8_E4M3>(xb, ldxb, M, w, n0, n1, y, ldy);
}

void pack_bf16_input(const float* x, int64_t ldx, int64_t M, int64_t K, bool fp8_order, uint16_t* out, int64_t ldo) {
  const int64_t Kp = bf16_input_width(K);
  for (int64_t m = 0; m < M; ++m) {
    const float* xr = x + m * ldx;
    uint16_t* o = out + m * ldo;
    for (int64_t g = 0; g < Kp; g += 64) {
      __m256i v[4];  // values g + 16 q .. g + 16 q + 15
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        const int64_t k = g + 16 * q;
        v[q] = to_bf16(_mm512_maskz_loadu_ps(avx512::tail_mask(k < K ? K - k : 0), xr + k));
      }
      if (!fp8_order) {
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q) _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + g + 16 * q), v[q]);
        continue;
      }
      // fp8 order: the low 8 of each 16 first (q = 0..3), then the high 8 of each.
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o + g + 8 * q), _mm256_castsi256_si128(v[q]));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o + g + 32 + 8 * q), _mm256_extracti128_si256(v[q], 1));
      }
    }
  }
}

}  // namespace fathom::avx512bf16
