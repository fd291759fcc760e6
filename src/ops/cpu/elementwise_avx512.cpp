// AVX-512 RMSNorm (sum of squares in 16 lanes, fixed-tree reduction; f32 or bf16 weight, other formats through
// the reference), SiLU-gating and the sampling helpers (polynomial exp). Tails are masked, so every element uses
// the same formula.
#include <cmath>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd_avx512.h"

namespace fathom::avx512 {

void rmsnorm(const float* x, const WeightView& weight, float eps, float* y, int64_t n) {
  if (weight.dtype != DType::F32 && weight.dtype != DType::BF16) return ref::rmsnorm(x, weight, eps, y, n);
  __m512 ss = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __m512 v = _mm512_maskz_loadu_ps(tail_mask(n - i), x + i);
    ss = _mm512_fmadd_ps(v, v, ss);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / std::sqrt(reduce_add(ss) / static_cast<float>(n) + eps));
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 w = weight.dtype == DType::F32 ? _mm512_maskz_loadu_ps(m, static_cast<const float*>(weight.data) + i)
                                                : load_bf16(static_cast<const uint16_t*>(weight.data) + i, m);
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv), w));
  }
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g));
    const __m512 s = _mm512_div_ps(g, _mm512_add_ps(one, e));
    _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, up + i)));
  }
}

float max_value(const float* x, int64_t n) {
  __m512 m0 = _mm512_set1_ps(x[0]), m1 = m0;  // two chains; masked-off lanes load x[0]
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i));
    m1 = _mm512_max_ps(m1, _mm512_loadu_ps(x + i + 16));
  }
  for (; i < n; i += 16) m0 = _mm512_max_ps(m0, _mm512_mask_loadu_ps(m1, tail_mask(n - i), x + i));
  return _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
}

void exp_shifted(const float* x, int64_t n, float shift, float scale, float* out) {
  const __m512 sh = _mm512_set1_ps(shift), sc = _mm512_set1_ps(scale), floor = _mm512_set1_ps(kExpShiftedFloor);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 a = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), sh), sc);
    const __mmask16 keep = _mm512_cmp_ps_mask(a, floor, _CMP_GE_OQ);
    _mm512_mask_storeu_ps(out + i, m, _mm512_maskz_mov_ps(keep, exp_ps(a)));
  }
}

// Nearest-even rounding to bf16 on the bit pattern (as f32_to_bf16), NaN kept a quiet NaN; tails masked.
void round_bf16(const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    const __m512i u = _mm512_castps_si512(v);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff)));
    r = _mm512_mask_or_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), u, _mm512_set1_epi32(0x400000));
    r = _mm512_and_si512(r, _mm512_set1_epi32(static_cast<int>(0xffff0000u)));
    _mm512_mask_storeu_ps(out + i, m, _mm512_castsi512_ps(r));
  }
}

}  // namespace fathom::avx512
