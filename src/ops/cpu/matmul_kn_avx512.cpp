// AVX-512 matmul_kn (y = x · W, W as [K, N], N contiguous): the output row is held in registers, 16 columns per
// vector, and each k adds x[m, k] · W[k, n..n+16) with one FMA — so every element is the same FMA chain over k
// as the scalar reference, bit for bit. MR rows of x share each weight load. A single row takes 256 columns at a
// time, so each k reads one contiguous 256-wide stretch of W: a per-head W_UK (64 × 256 fp8, read once per decode
// step and cold) is then one forward stream for the hardware prefetcher instead of four strided passes
// (matmul_bench BM_MlaHeadsCold, 16 heads' W_UK and W_UV on one thread: 74–79 → 52–54 µs).
#include <immintrin.h>

#include <algorithm>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd_avx512.h"

namespace fathom::avx512 {

namespace {

// W[k, n .. n+16) as f32 (masked lanes 0); fp8 values are multiplied by their block's scale (exact dequant).
template <DType T>
inline __m512 load_row(const WeightView& w, int64_t k, int64_t n, __mmask16 m) {
  const int64_t i = k * w.cols + n;
  if constexpr (T == DType::F32) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(w.data) + i);
  } else if constexpr (T == DType::BF16) {
    return load_bf16(static_cast<const uint16_t*>(w.data) + i, m);
  } else if constexpr (T == DType::F16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(w.data) + i));
  } else {
    const __m128i b = _mm_maskz_loadu_epi8(m, static_cast<const uint8_t*>(w.data) + i);
    const __m256i v = _mm256_cvtepu8_epi16(b);
    const __m256i sign = _mm256_slli_epi16(_mm256_and_si256(v, _mm256_set1_epi16(0x80)), 8);
    const __m256i mag = _mm256_slli_epi16(_mm256_and_si256(v, _mm256_set1_epi16(0x7f)), 7);
    // f16 pattern = 2^-8 · value; × 256 is exact, then × scale rounds once as the reference does.
    const __m512 f = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_or_si256(sign, mag)), _mm512_set1_ps(256.0f));
    return _mm512_mul_ps(f, _mm512_set1_ps(w.scale_row(k)[n / kFp8Block]));
  }
}

// y[m0 .. m0+MR, n .. n + 16·NV) with the last vector masked by mlast.
template <DType T, int MR, int NV>
void micro(const float* x, int64_t ldx, const WeightView& w, int64_t m0, int64_t n, __mmask16 mlast, float* y,
           int64_t ldy) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[m][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < w.rows; ++k) {
    __m512 wv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) wv[v] = load_row<T>(w, k, n + 16 * v, v == NV - 1 ? mlast : 0xffff);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      const __m512 xv = _mm512_set1_ps(x[(m0 + m) * ldx + k]);
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[m][v] = _mm512_fmadd_ps(xv, wv[v], acc[m][v]);
    }
  }
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v)
      _mm512_mask_storeu_ps(y + (m0 + m) * ldy + n + 16 * v, v == NV - 1 ? mlast : 0xffff, acc[m][v]);
}

template <DType T, int MR>
void rows(const float* x, int64_t ldx, const WeightView& w, int64_t m0, int64_t n0, int64_t n1, float* y,
          int64_t ldy) {
  int64_t n = n0;
  if constexpr (MR == 1)  // 16 accumulators and 16 weight vectors: the 32 registers
    for (; n + 256 <= n1; n += 256) micro<T, MR, 16>(x, ldx, w, m0, n, 0xffff, y, ldy);
  for (; n + 64 <= n1; n += 64) micro<T, MR, 4>(x, ldx, w, m0, n, 0xffff, y, ldy);
  for (; n < n1; n += 16) micro<T, MR, 1>(x, ldx, w, m0, n, tail_mask(n1 - n), y, ldy);
}

template <DType T>
void tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
          int64_t ldy) {
  int64_t m = 0;
  for (; m + 4 <= M; m += 4) rows<T, 4>(x, ldx, w, m, n0, n1, y, ldy);
  for (; m < M; ++m) rows<T, 1>(x, ldx, w, m, n0, n1, y, ldy);
}

}  // namespace

void matmul_kn_tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                    int64_t ldy) {
  switch (w.dtype) {
    case DType::F32: return tile<DType::F32>(x, ldx, M, w, n0, n1, y, ldy);
    case DType::BF16: return tile<DType::BF16>(x, ldx, M, w, n0, n1, y, ldy);
    case DType::F16: return tile<DType::F16>(x, ldx, M, w, n0, n1, y, ldy);
    case DType::F8_E4M3: return tile<DType::F8_E4M3>(x, ldx, M, w, n0, n1, y, ldy);
  }
}

}  // namespace fathom::avx512
