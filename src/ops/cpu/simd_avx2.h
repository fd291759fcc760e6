// Inline AVX2 building blocks shared by the *_avx2.cpp kernels (include only from those files: they are the ones
// compiled with -mavx2 -mfma -mf16c). Reductions use one fixed tree (l + l+4, then l + l+2, then l + l+1).
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace fathom::avx2 {

inline __m256 load_bf16(const uint16_t* p) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
// The first n (< 8) bf16 values, the other lanes 0.
inline __m256 load_bf16_tail(const uint16_t* p, int64_t n) {
  uint16_t buf[8] = {};
  std::memcpy(buf, p, static_cast<size_t>(n) * sizeof(uint16_t));
  return load_bf16(buf);
}
// The first n (< 8) floats, the other lanes 0.
inline __m256 load_tail(const float* p, int64_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
  return _mm256_maskload_ps(p, m);
}
inline void store_tail(float* p, int64_t n, __m256 v) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  _mm256_maskstore_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx), v);
}

inline float reduce_add(__m256 v) {
  __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  __m128 s2 = _mm_add_ps(s4, _mm_permute_ps(s4, 0x4e));
  __m128 s1 = _mm_add_ps(s2, _mm_permute_ps(s2, 0xb1));
  return _mm_cvtss_f32(s1);
}

inline float reduce_max(__m256 v) {
  __m128 s4 = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  __m128 s2 = _mm_max_ps(s4, _mm_permute_ps(s4, 0x4e));
  __m128 s1 = _mm_max_ps(s2, _mm_permute_ps(s2, 0xb1));
  return _mm_cvtss_f32(s1);
}

// e^x: x = n·ln2 + r, degree-6 polynomial in r, × 2^n built in the exponent bits. x is clamped to
// [-87.3, 88.3] (so tiny results are ≈1e-38 instead of 0, and nothing overflows to inf below 88.3).
inline __m256 exp_ps(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
  x = _mm256_min_ps(x, _mm256_set1_ps(88.3f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

}  // namespace fathom::avx2
