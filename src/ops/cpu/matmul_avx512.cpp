// AVX-512 matmul tile, register-blocked: MR rows of x × NR rows of W per micro-kernel, one 16-lane accumulator
// per output element. Every output element is reduced in the same order whatever the blocking (lane l sums
// k ≡ l mod 16 in increasing k, zero-filled tail, then the fixed tree of simd_avx512.h; fp8: per 128-wide block,
// then × block scale), so a row's bits do not depend on M, on n0/n1 or on which micro-kernel computed it.
// Weights are widened in registers (bf16: shift; f16: vcvtph2ps; e4m3: rebias through f16 then ×256 in the scale)
// and prefetched a few micro-blocks ahead (NR short rows read side by side are too short a stream for the
// hardware prefetcher: without it GEMV ran at a fraction of the read bandwidth).
#include <immintrin.h>

#include <algorithm>

#include "ops/cpu/kernels.h"
#include "ops/cpu/matmul_blocking_avx512.h"
#include "ops/cpu/simd_avx512.h"

namespace fathom::avx512 {

namespace {

constexpr int64_t esize(DType T) { return T == DType::F32 ? 4 : (T == DType::F8_E4M3 ? 1 : 2); }

template <DType T>
inline __m512 load_w(const void* row, int64_t k, __mmask16 m) {
  if constexpr (T == DType::F32) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(row) + k);
  } else if constexpr (T == DType::BF16) {
    return load_bf16(static_cast<const uint16_t*>(row) + k, m);
  } else if constexpr (T == DType::F16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(row) + k));
  } else {  // e4m3 → f16 bit pattern; the value is 2^-8 of the e4m3 value
    __m128i b = _mm_maskz_loadu_epi8(m, static_cast<const uint8_t*>(row) + k);
    __m256i w = _mm256_cvtepu8_epi16(b);
    __m256i sign = _mm256_slli_epi16(_mm256_and_si256(w, _mm256_set1_epi16(0x80)), 8);
    __m256i mag = _mm256_slli_epi16(_mm256_and_si256(w, _mm256_set1_epi16(0x7f)), 7);
    return _mm512_cvtph_ps(_mm256_or_si256(sign, mag));
  }
}

template <DType T, int MR, int NR>
inline void step(const float* const* xr, const void* const* wr, int64_t k, __mmask16 msk, int64_t pf,
                 __m512 (&acc)[MR][NR]) {
#pragma GCC unroll 8
  for (int n = 0; n < NR; ++n) _mm_prefetch(static_cast<const char*>(wr[n]) + pf + k * esize(T), _MM_HINT_T0);
  __m512 wv[NR];
#pragma GCC unroll 8
  for (int n = 0; n < NR; ++n) wv[n] = load_w<T>(wr[n], k, msk);
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) {
    const __m512 xv = _mm512_maskz_loadu_ps(msk, xr[m] + k);
#pragma GCC unroll 8
    for (int n = 0; n < NR; ++n) acc[m][n] = _mm512_fmadd_ps(xv, wv[n], acc[m][n]);
  }
}

// Two 16-wide steps at once for e4m3: 32 bytes of a row widened to f16 patterns with 512-bit integer ops, then two
// vcvtph2ps — half the integer work per weight of two single steps; each accumulator still sees k, then k + 16.
template <int MR, int NR>
inline void step32_e4m3(const float* const* xr, const void* const* wr, int64_t k, int64_t pf,
                        __m512 (&acc)[MR][NR]) {
  __m512 xlo[MR], xhi[MR];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) {
    xlo[m] = _mm512_loadu_ps(xr[m] + k);
    xhi[m] = _mm512_loadu_ps(xr[m] + k + 16);
  }
#pragma GCC unroll 8
  for (int n = 0; n < NR; ++n) {
    const uint8_t* p = static_cast<const uint8_t*>(wr[n]) + k;
    _mm_prefetch(reinterpret_cast<const char*>(p) + pf, _MM_HINT_T0);
    const __m512i v = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    const __m512i sign = _mm512_slli_epi16(_mm512_and_si512(v, _mm512_set1_epi16(0x80)), 8);
    const __m512i mag = _mm512_slli_epi16(_mm512_and_si512(v, _mm512_set1_epi16(0x7f)), 7);
    const __m512i h = _mm512_or_si512(sign, mag);
    const __m512 wlo = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
    const __m512 whi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      acc[m][n] = _mm512_fmadd_ps(xlo[m], wlo, acc[m][n]);
      acc[m][n] = _mm512_fmadd_ps(xhi[m], whi, acc[m][n]);
    }
  }
}

// acc[m][n] += Σ_{k in [k0,k1)} x[m][k] * w[n][k], lane-wise; pf: bytes ahead of each weight row to prefetch.
template <DType T, int MR, int NR>
inline void accumulate(const float* const* xr, const void* const* wr, int64_t k0, int64_t k1, int64_t pf,
                       __m512 (&acc)[MR][NR]) {
  int64_t k = k0;
  if constexpr (T == DType::F8_E4M3)
    for (; k + 32 <= k1; k += 32) step32_e4m3<MR, NR>(xr, wr, k, pf, acc);
  for (; k + 16 <= k1; k += 16) step<T, MR, NR>(xr, wr, k, 0xffff, pf, acc);
  if (k < k1) step<T, MR, NR>(xr, wr, k, tail_mask(k1 - k), pf, acc);
}

// y[m0 .. m0+MR, n0 .. n0+NR) over k in [kb, ke): accumulators start at zero (kb = 0) or from carry, and end in
// y (ke = K) or in carry — the per-lane sums run through k in the same order either way.
template <DType T, int MR, int NR>
void micro_block(const float* x, int64_t ldx, const WeightView& w, int64_t m0, int64_t n0, float* y, int64_t ldy,
           int64_t kb, int64_t ke, float* carry) {
  const int64_t K = w.cols;
  const int64_t row_bytes = K * esize(T);
  const int64_t pf = prefetch_distance(row_bytes, NR);
  const float* xr[MR];
  const void* wr[NR];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) xr[m] = x + (m0 + m) * ldx;
#pragma GCC unroll 8
  for (int n = 0; n < NR; ++n) wr[n] = static_cast<const uint8_t*>(w.data) + (n0 + n) * row_bytes;
  __m512 acc[MR][NR];
  load_acc(acc, kb, carry);
  if constexpr (T == DType::F8_E4M3) {
    const float* srow[NR];
#pragma GCC unroll 8
    for (int n = 0; n < NR; ++n) srow[n] = w.scale_row(n0 + n);
    for (int64_t k0 = kb; k0 < ke; k0 += kFp8Block) {
      const int64_t k1 = k0 + kFp8Block < ke ? k0 + kFp8Block : ke;
      __m512 part[MR][NR];
      load_acc(part, 0, nullptr);
      accumulate<T, MR, NR>(xr, wr, k0, k1, pf, part);
      add_scaled_block(acc, part, srow, k0 / kFp8Block, 256.0f);
    }
  } else {
    accumulate<T, MR, NR>(xr, wr, kb, ke, pf, acc);
  }
  finish_acc(acc, ke == K, y + m0 * ldy + n0, ldy, carry);
}

// fp8 keeps a block partial next to each accumulator, so its blocks are narrower: 1 × 8 for GEMV (eight
// independent FMA chains hide the latency), 2 × 4, 3–4 × 2.
template <DType T>
struct Kernel {
  static constexpr bool kBig = T != DType::F8_E4M3;
  template <int MR>
  static constexpr int nr() {
    if constexpr (T != DType::F8_E4M3) return 4;
    else return MR == 1 ? 8 : (MR == 2 ? 4 : 2);
  }
  template <int MR, int NR>
  static constexpr auto micro = &micro_block<T, MR, NR>;
};

template <DType T>
void tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
          int64_t ldy) {
  tile_blocks(BoundKernel<Kernel<T>, float>{x, ldx, w, y, ldy}, M, w.cols, w.cols * esize(T), n0, n1);
}

}  // namespace

void matmul_tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                 int64_t ldy) {
  switch (w.dtype) {
    case DType::F32: return tile<DType::F32>(x, ldx, M, w, n0, n1, y, ldy);
    case DType::BF16: return tile<DType::BF16>(x, ldx, M, w, n0, n1, y, ldy);
    case DType::F16: return tile<DType::F16>(x, ldx, M, w, n0, n1, y, ldy);
    case DType::F8_E4M3: return tile<DType::F8_E4M3>(x, ldx, M, w, n0, n1, y, ldy);
  }
}

}  // namespace fathom::avx512
