// AVX2 matmul tile: 8-lane f32 accumulators over K, scalar tail, one horizontal sum per output element.
#include <immintrin.h>

#include "core/numeric.h"
#include "ops/cpu/kernels.h"

namespace fathom::avx2 {

namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

template <DType T>
inline __m256 load8(const void* base, int64_t k) {
  if constexpr (T == DType::F32) {
    return _mm256_loadu_ps(static_cast<const float*>(base) + k);
  } else if constexpr (T == DType::BF16) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + k));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  } else if constexpr (T == DType::F16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + k)));
  } else {  // e4m3 via f16 rebias; the result is 2^-8 of the value
    __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(static_cast<const uint8_t*>(base) + k));
    __m128i w = _mm_cvtepu8_epi16(b);
    __m128i sign = _mm_slli_epi16(_mm_and_si128(w, _mm_set1_epi16(0x80)), 8);
    __m128i mag = _mm_slli_epi16(_mm_and_si128(w, _mm_set1_epi16(0x7f)), 7);
    return _mm256_cvtph_ps(_mm_or_si128(sign, mag));
  }
}

template <DType T>
inline float scalar_w(const void* base, int64_t k) {
  if constexpr (T == DType::F32) return static_cast<const float*>(base)[k];
  else if constexpr (T == DType::BF16) return bf16_to_f32(static_cast<const uint16_t*>(base)[k]);
  else if constexpr (T == DType::F16) return f16_to_f32(static_cast<const uint16_t*>(base)[k]);
  else return e4m3_to_f32(static_cast<const uint8_t*>(base)[k]) * (1.0f / 256.0f);
}

// Sum over [k0, k1): 8 lanes, then the tail added after the horizontal sum.
template <DType T>
inline float dot_range(const float* x, const void* wrow, int64_t k0, int64_t k1) {
  __m256 acc = _mm256_setzero_ps();
  int64_t k = k0;
  for (; k + 8 <= k1; k += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), load8<T>(wrow, k), acc);
  float s = hsum(acc);
  for (; k < k1; ++k) s += x[k] * scalar_w<T>(wrow, k);
  return s;
}

template <DType T>
void tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
          int64_t ldy) {
  const int64_t K = w.cols;
  const int64_t esz = T == DType::F32 ? 4 : (T == DType::F8_E4M3 ? 1 : 2);
  for (int64_t n = n0; n < n1; ++n) {
    const void* wrow = static_cast<const uint8_t*>(w.data) + n * K * esz;
    for (int64_t m = 0; m < M; ++m) {
      const float* xr = x + m * ldx;
      if constexpr (T == DType::F8_E4M3) {
        const float* srow = w.scale_row(n);
        float acc = 0.f;
        for (int64_t k0 = 0; k0 < K; k0 += kFp8Block) {
          const int64_t k1 = k0 + kFp8Block < K ? k0 + kFp8Block : K;
          acc += dot_range<T>(xr, wrow, k0, k1) * (srow[k0 / kFp8Block] * 256.0f);
        }
        y[m * ldy + n] = acc;
      } else {
        y[m * ldy + n] = dot_range<T>(xr, wrow, 0, K);
      }
    }
  }
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

}  // namespace fathom::avx2
