// AVX-512 interleaved-pair RoPE: 8 pairs per step. The angle is one f32 multiply (as the reference), its cos and
// sin are computed in double (Cody–Waite reduction by π/2 in three parts, exact for |n| < 2^20 quadrants, i.e.
// angles below ≈ 1.6e6; degree-13/14 polynomials on |r| ≤ π/4) and rounded to f32, then scaled and applied
// with separate multiplies and adds, in the reference's expression order.
#include <immintrin.h>

#include <cmath>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd_avx512.h"

namespace fathom::avx512 {

namespace {

// sin and cos of 8 doubles.
inline void sincos_pd(__m512d x, __m512d* s_out, __m512d* c_out) {
  const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(6.36619772367581382433e-01)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // π/2 split so that n·P1 and n·P2 are exact (fdlibm's pio2_1, pio2_2, pio2_2t).
  __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(1.57079632673412561417e+00), x);
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(6.07710050630396597660e-11), r);
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(2.02226624879595063154e-21), r);
  const __m512d z = _mm512_mul_pd(r, r);
  // sin(r) = r + r·z·(S1 + z·(S2 + ...)), cos(r) = 1 - z/2 + z²·(C1 + z·(C2 + ...)) (fdlibm kernel coefficients).
  __m512d ps = _mm512_set1_pd(1.58969099521155010221e-10);
  ps = _mm512_fmadd_pd(ps, z, _mm512_set1_pd(-2.50507602534068634195e-08));
  ps = _mm512_fmadd_pd(ps, z, _mm512_set1_pd(2.75573137070700676789e-06));
  ps = _mm512_fmadd_pd(ps, z, _mm512_set1_pd(-1.98412698298579493134e-04));
  ps = _mm512_fmadd_pd(ps, z, _mm512_set1_pd(8.33333333332248946124e-03));
  ps = _mm512_fmadd_pd(ps, z, _mm512_set1_pd(-1.66666666666666324348e-01));
  const __m512d sr = _mm512_fmadd_pd(_mm512_mul_pd(r, z), ps, r);
  __m512d pc = _mm512_set1_pd(-1.13596475577881948265e-11);
  pc = _mm512_fmadd_pd(pc, z, _mm512_set1_pd(2.08757232129817482790e-09));
  pc = _mm512_fmadd_pd(pc, z, _mm512_set1_pd(-2.75573143513906633035e-07));
  pc = _mm512_fmadd_pd(pc, z, _mm512_set1_pd(2.48015872894767294178e-05));
  pc = _mm512_fmadd_pd(pc, z, _mm512_set1_pd(-1.38888888888741095749e-03));
  pc = _mm512_fmadd_pd(pc, z, _mm512_set1_pd(4.16666666666666019037e-02));
  const __m512d cr =
      _mm512_fmadd_pd(_mm512_mul_pd(z, z), pc, _mm512_fnmadd_pd(z, _mm512_set1_pd(0.5), _mm512_set1_pd(1.0)));
  // Quadrant q = n mod 4: sin x = (sr, cr, -sr, -cr)[q], cos x = (cr, -sr, -cr, sr)[q].
  const __m256i q = _mm512_cvtpd_epi32(n);
  const __mmask8 odd = _mm256_test_epi32_mask(q, _mm256_set1_epi32(1));
  const __mmask8 neg_s = _mm256_test_epi32_mask(q, _mm256_set1_epi32(2));
  const __mmask8 neg_c = _mm256_test_epi32_mask(_mm256_add_epi32(q, _mm256_set1_epi32(1)), _mm256_set1_epi32(2));
  __m512d s = _mm512_mask_blend_pd(odd, sr, cr);
  __m512d c = _mm512_mask_blend_pd(odd, cr, sr);
  const __m512d zero = _mm512_setzero_pd();
  s = _mm512_mask_sub_pd(s, neg_s, zero, s);
  c = _mm512_mask_sub_pd(c, neg_c, zero, c);
  *s_out = s;
  *c_out = c;
}

}  // namespace

void rope_interleaved(float* x, int n_pairs, int64_t pos, const float* inv_freq, float amplitude) {
  const __m256 vpos = _mm256_set1_ps(static_cast<float>(pos));
  const __m512 amp = _mm512_set1_ps(amplitude);
  // Lane 2i and 2i+1 both take pair i's value.
  const __m512i dup = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  for (int i = 0; i < n_pairs; i += 8) {
    const int cnt = n_pairs - i < 8 ? n_pairs - i : 8;
    const __mmask8 m8 = static_cast<__mmask8>((1u << cnt) - 1);
    const __mmask16 m16 = tail_mask(2 * cnt);
    const __m256 ang = _mm256_mul_ps(vpos, _mm256_maskz_loadu_ps(m8, inv_freq + i));
    __m512d sd, cd;
    sincos_pd(_mm512_cvtps_pd(ang), &sd, &cd);
    const __m512 c = _mm512_mul_ps(_mm512_castps256_ps512(_mm512_cvtpd_ps(cd)), amp);
    const __m512 s = _mm512_mul_ps(_mm512_castps256_ps512(_mm512_cvtpd_ps(sd)), amp);
    const __m512 cc = _mm512_permutexvar_ps(dup, c), ss = _mm512_permutexvar_ps(dup, s);
    const __m512 v = _mm512_maskz_loadu_ps(m16, x + 2 * i);    // [a0 b0 a1 b1 ...]
    const __m512 sw = _mm512_permute_ps(v, 0xb1);              // [b0 a0 b1 a1 ...]
    const __m512 t1 = _mm512_mul_ps(v, cc), t2 = _mm512_mul_ps(sw, ss);
    // even lanes a·c − b·s, odd lanes b·c + a·s
    const __m512 out = _mm512_mask_sub_ps(_mm512_add_ps(t1, t2), 0x5555, t1, t2);
    _mm512_mask_storeu_ps(x + 2 * i, m16, out);
  }
}

}  // namespace fathom::avx512
