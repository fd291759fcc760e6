// AVX2 RMSNorm (sum of squares in 8 lanes, fixed-tree reduction; f32 or bf16 weight, other formats through the
// reference), SiLU-gating and the sampling helpers (polynomial exp). Tails are loaded masked, so every element
// uses the same formula.
#include <cmath>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd_avx2.h"

namespace fathom::avx2 {

namespace {
inline __m256 load_x(const float* p, int64_t rem) { return rem >= 8 ? _mm256_loadu_ps(p) : load_tail(p, rem); }
inline void store_y(float* p, int64_t rem, __m256 v) {
  if (rem >= 8) _mm256_storeu_ps(p, v);
  else store_tail(p, rem, v);
}
}  // namespace

void rmsnorm(const float* x, const WeightView& weight, float eps, float* y, int64_t n) {
  if (weight.dtype != DType::F32 && weight.dtype != DType::BF16) return ref::rmsnorm(x, weight, eps, y, n);
  __m256 ss = _mm256_setzero_ps();
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 v = load_x(x + i, n - i);
    ss = _mm256_fmadd_ps(v, v, ss);
  }
  const __m256 inv = _mm256_set1_ps(1.0f / std::sqrt(reduce_add(ss) / static_cast<float>(n) + eps));
  for (int64_t i = 0; i < n; i += 8) {
    const int64_t rem = n - i;
    __m256 w;
    if (weight.dtype == DType::F32) {
      w = load_x(static_cast<const float*>(weight.data) + i, rem);
    } else {
      const uint16_t* wp = static_cast<const uint16_t*>(weight.data) + i;
      w = rem >= 8 ? load_bf16(wp) : load_bf16_tail(wp, rem);
    }
    store_y(y + i, rem, _mm256_mul_ps(_mm256_mul_ps(load_x(x + i, rem), inv), w));
  }
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 8) {
    const int64_t rem = n - i;
    const __m256 g = load_x(gate + i, rem);
    const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), g))));
    store_y(out + i, rem, _mm256_mul_ps(s, load_x(up + i, rem)));
  }
}

float max_value(const float* x, int64_t n) {
  __m256 m0 = _mm256_set1_ps(x[0]), m1 = m0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + i));
    m1 = _mm256_max_ps(m1, _mm256_loadu_ps(x + i + 8));
  }
  float m = reduce_max(_mm256_max_ps(m0, m1));
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

void exp_shifted(const float* x, int64_t n, float shift, float scale, float* out) {
  const __m256 sh = _mm256_set1_ps(shift), sc = _mm256_set1_ps(scale), floor = _mm256_set1_ps(kExpShiftedFloor);
  for (int64_t i = 0; i < n; i += 8) {
    const int64_t rem = n - i;
    const __m256 a = _mm256_mul_ps(_mm256_sub_ps(load_x(x + i, rem), sh), sc);
    store_y(out + i, rem, _mm256_and_ps(_mm256_cmp_ps(a, floor, _CMP_GE_OQ), exp_ps(a)));
  }
}

// Nearest-even rounding to bf16 on the bit pattern (as f32_to_bf16), NaN kept a quiet NaN.
void round_bf16(const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i += 8) {
    const int64_t rem = n - i;
    const __m256 v = load_x(x + i, rem);
    const __m256i u = _mm256_castps_si256(v);
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7fff)));
    const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    r = _mm256_blendv_epi8(r, _mm256_or_si256(u, _mm256_set1_epi32(0x400000)), nan);
    r = _mm256_and_si256(r, _mm256_set1_epi32(static_cast<int>(0xffff0000u)));
    store_y(out + i, rem, _mm256_castsi256_ps(r));
  }
}

}  // namespace fathom::avx2
