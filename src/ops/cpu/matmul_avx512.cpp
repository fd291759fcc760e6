// AVX-512 matmul tile: 16-lane f32 accumulators over K, one horizontal sum per output element.
// Weights are widened in registers (bf16: shift; f16: vcvtph2ps; e4m3: rebias through f16 then x256).
#include <immintrin.h>

#include "ops/cpu/kernels.h"

namespace fathom::avx512 {

namespace {

inline __m512 load_w(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load_w(const uint16_t* p, __mmask16 m, bool is_bf16) {
  __m256i h = _mm256_maskz_loadu_epi16(m, p);
  if (is_bf16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  return _mm512_cvtph_ps(h);
}
// e4m3 → f16 bit pattern (sign kept, exponent/mantissa shifted); the value is then 2^-8 of the e4m3 value.
inline __m512 load_e4m3(const uint8_t* p, __mmask16 m) {
  __m128i b = _mm_maskz_loadu_epi8(m, p);
  __m256i w = _mm256_cvtepu8_epi16(b);
  __m256i sign = _mm256_slli_epi16(_mm256_and_si256(w, _mm256_set1_epi16(0x80)), 8);
  __m256i mag = _mm256_slli_epi16(_mm256_and_si256(w, _mm256_set1_epi16(0x7f)), 7);
  return _mm512_cvtph_ps(_mm256_or_si256(sign, mag));
}

inline __mmask16 tail_mask(int64_t rem) { return rem >= 16 ? 0xffff : static_cast<__mmask16>((1u << rem) - 1); }

template <DType T>
float dot(const float* x, const void* wrow, int64_t K, const float* srow) {
  if constexpr (T == DType::F8_E4M3) {
    const uint8_t* r = static_cast<const uint8_t*>(wrow);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t k0 = 0; k0 < K; k0 += kFp8Block) {
      const int64_t k1 = k0 + kFp8Block < K ? k0 + kFp8Block : K;
      __m512 part = _mm512_setzero_ps();
      for (int64_t k = k0; k < k1; k += 16) {
        const __mmask16 m = tail_mask(k1 - k);
        part = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + k), load_e4m3(r + k, m), part);
      }
      acc = _mm512_fmadd_ps(part, _mm512_set1_ps(srow[k0 / kFp8Block] * 256.0f), acc);
    }
    return _mm512_reduce_add_ps(acc);
  } else {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += 16) {
      const __mmask16 m = tail_mask(K - k);
      __m512 wv;
      if constexpr (T == DType::F32) wv = load_w(static_cast<const float*>(wrow) + k, m);
      else wv = load_w(static_cast<const uint16_t*>(wrow) + k, m, T == DType::BF16);
      acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + k), wv, acc);
    }
    return _mm512_reduce_add_ps(acc);
  }
}

template <DType T>
void tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
          int64_t ldy) {
  const int64_t K = w.cols;
  const int64_t esz = T == DType::F32 ? 4 : (T == DType::F8_E4M3 ? 1 : 2);
  for (int64_t n = n0; n < n1; ++n) {
    const void* wrow = static_cast<const uint8_t*>(w.data) + n * K * esz;
    const float* srow = T == DType::F8_E4M3 ? w.scale_row(n) : nullptr;
    for (int64_t m = 0; m < M; ++m) y[m * ldy + n] = dot<T>(x + m * ldx, wrow, K, srow);
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

}  // namespace fathom::avx512
