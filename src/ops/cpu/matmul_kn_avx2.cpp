// AVX2 matmul_kn (y = x · W, W as [K, N]): as the AVX-512 kernel with 8 columns per vector — each element is the
// scalar reference's FMA chain over k, bit for bit. 2 rows of x × 32 columns per micro-kernel.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/numeric.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/simd_avx2.h"

namespace fathom::avx2 {

namespace {

constexpr int64_t esize(DType T) { return T == DType::F32 ? 4 : (T == DType::F8_E4M3 ? 1 : 2); }

// W[k, n .. n+8) as f32; cnt < 8 reads only cnt values (the other lanes 0).
template <DType T>
inline __m256 load_row(const WeightView& w, int64_t k, int64_t n, int64_t cnt) {
  const uint8_t* p = static_cast<const uint8_t*>(w.data) + (k * w.cols + n) * esize(T);
  alignas(32) uint8_t buf[32];
  if (cnt < 8) {
    std::memset(buf, 0, sizeof(buf));
    std::memcpy(buf, p, static_cast<size_t>(cnt * esize(T)));
    p = buf;
  }
  if constexpr (T == DType::F32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  } else if constexpr (T == DType::BF16) {
    return load_bf16(reinterpret_cast<const uint16_t*>(p));
  } else if constexpr (T == DType::F16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  } else {
    const __m128i v = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    const __m128i sign = _mm_slli_epi16(_mm_and_si128(v, _mm_set1_epi16(0x80)), 8);
    const __m128i mag = _mm_slli_epi16(_mm_and_si128(v, _mm_set1_epi16(0x7f)), 7);
    const __m256 f = _mm256_mul_ps(_mm256_cvtph_ps(_mm_or_si128(sign, mag)), _mm256_set1_ps(256.0f));
    return _mm256_mul_ps(f, _mm256_set1_ps(w.scale_row(k)[n / kFp8Block]));
  }
}

// y[m0 .. m0+MR, n .. n + 8·NV); the last vector holds nlast (1..8) valid columns.
template <DType T, int MR, int NV>
void micro(const float* x, int64_t ldx, const WeightView& w, int64_t m0, int64_t n, int64_t nlast, float* y,
           int64_t ldy) {
  __m256 acc[MR][NV];
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[m][v] = _mm256_setzero_ps();
  for (int64_t k = 0; k < w.rows; ++k) {
    __m256 wv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) wv[v] = load_row<T>(w, k, n + 8 * v, v == NV - 1 ? nlast : 8);
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m) {
      const __m256 xv = _mm256_set1_ps(x[(m0 + m) * ldx + k]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[m][v] = _mm256_fmadd_ps(xv, wv[v], acc[m][v]);
    }
  }
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* dst = y + (m0 + m) * ldy + n + 8 * v;
      if (v == NV - 1 && nlast < 8) store_tail(dst, nlast, acc[m][v]);
      else _mm256_storeu_ps(dst, acc[m][v]);
    }
}

template <DType T, int MR>
void rows(const float* x, int64_t ldx, const WeightView& w, int64_t m0, int64_t n0, int64_t n1, float* y,
          int64_t ldy) {
  int64_t n = n0;
  for (; n + 32 <= n1; n += 32) micro<T, MR, 4>(x, ldx, w, m0, n, 8, y, ldy);
  for (; n < n1; n += 8) micro<T, MR, 1>(x, ldx, w, m0, n, std::min<int64_t>(8, n1 - n), y, ldy);
}

template <DType T>
void tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
          int64_t ldy) {
  int64_t m = 0;
  for (; m + 2 <= M; m += 2) rows<T, 2>(x, ldx, w, m, n0, n1, y, ldy);
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

}  // namespace fathom::avx2
