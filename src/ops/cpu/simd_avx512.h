// Inline AVX-512 building blocks shared by the *_avx512.cpp kernels (include only from those files: they are the
// ones compiled with -mavx512*). Every reduction here uses one fixed tree, so a value reduced alone or together
// with others (reduce_add vs reduce_add4) has the same bits.
#pragma once
#include <immintrin.h>

// GCC 12 reports its own _mm512_undefined_* temporaries inside masked intrinsics as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cstdint>

namespace fathom::avx512 {

inline __mmask16 tail_mask(int64_t rem) { return rem >= 16 ? 0xffff : static_cast<__mmask16>((1u << rem) - 1); }

// 16 bf16 values (masked lanes read nothing and give 0) widened to f32.
inline __m512 load_bf16(const uint16_t* p, __mmask16 m) {
  const __m256i h = _mm256_maskz_loadu_epi16(m, p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
inline __m512 load_bf16(const uint16_t* p) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// The reduction tree: lane l + lane l+8, then l + l+4, then l + l+2, then l + l+1 (lane 0 holds the sum).
inline float reduce_add(__m512 v) {
  __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  __m128 s2 = _mm_add_ps(s4, _mm_permute_ps(s4, 0x4e));  // i + (i ^ 2)
  __m128 s1 = _mm_add_ps(s2, _mm_permute_ps(s2, 0xb1));  // i + (i ^ 1)
  return _mm_cvtss_f32(s1);
}

// Four reductions at once with the same tree as reduce_add: returns {Σa, Σb, Σc, Σd}.
inline __m128 reduce_add4(__m512 a, __m512 b, __m512 c, __m512 d) {
  // l + l+8: [a lo | b lo] and [c lo | d lo] (each 8 sums).
  const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xee));
  const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xee));
  // l + l+4: quarters [a b c d], 4 sums each.
  __m512 s = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xdd));
  s = _mm512_add_ps(s, _mm512_permute_ps(s, 0x4e));
  s = _mm512_add_ps(s, _mm512_permute_ps(s, 0xb1));
  // lane 0 of each quarter
  const __m512i idx = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0);
  return _mm512_castps512_ps128(_mm512_permutexvar_ps(idx, s));
}

// e^x for f32 lanes: range reduction x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial, then × 2^n (scalef).
// Relative error ≈ 2 ulp; x < -104 gives 0, x > 88.7 gives +inf.
inline __m512 exp_ps(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
  x = _mm512_min_ps(x, _mm512_set1_ps(89.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

}  // namespace fathom::avx512
