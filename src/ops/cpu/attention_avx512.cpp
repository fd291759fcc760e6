// AVX-512 MLA attention over the paged bf16 latent cache. Per head, three passes:
//   scores  s_j = scale · Σ_c q[c]·k_j[c]: 16-lane accumulator, lane l taking channels 32i + 2l then 32i + 2l + 1
//           (bf16 pairs split with a shift and a mask; q split the same way once per head), masked tail, fixed-tree
//           reduction; four keys share each q load (the tree gives the same bits as one key at a time);
//   softmax e_j = exp(s_j - max) (polynomial exp), Σ e_j in 16 lanes over j then the tree; p_j = e_j / Σ;
//   output  o[c] = Σ_j p_j·k_j[c], each o[c] summed over j in increasing order, 256 or 128 channels in registers
//           (even and odd channels in separate accumulators, interleaved back at the end).
// Every order depends only on n_ctx, the widths and block_size: never on n_heads or on the caller's split.
#include <algorithm>
#include <cmath>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd_avx512.h"

namespace fathom::avx512 {

namespace {

constexpr int kMaxWidth = 1024;  // latent + rope width the score kernel's stack buffers hold (V3: 576)

struct Pages {
  const uint16_t* cache;
  const int32_t* blocks;
  int64_t block_size, width;
  const uint16_t* page(int64_t p) const { return cache + static_cast<int64_t>(blocks[p]) * block_size * width; }
};

// 32 bf16 values as one 512-bit load: f32 lanes of the even-indexed values (bf16 in the low half of each 32-bit
// lane, shifted up) and of the odd-indexed ones (the high half, masked). Two cheap ops per 32 values instead of a
// widening shuffle and a shift per 16.
inline void load_bf16_eo(const uint16_t* p, __mmask32 m, __m512* even, __m512* odd) {
  const __m512i v = _mm512_maskz_loadu_epi16(m, p);
  *even = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
  *odd = _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(static_cast<int>(0xffff0000u))));
}

inline __mmask16 mask16(int64_t rem) { return rem <= 0 ? 0 : tail_mask(rem); }  // rem may be ≤ 0 here

inline __mmask32 tail_mask32(int64_t rem) {
  return rem >= 32 ? 0xffffffffu : static_cast<__mmask32>((1u << rem) - 1);
}

// q split the same way, 32 values per chunk: qe[c] = q[32c + 2l], qo[c] = q[32c + 2l + 1] (zero past width).
void split_q(const float* q, int width, float* qe, float* qo) {
  const __m512i ie = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i io = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  for (int c = 0; c < width; c += 32) {
    const __m512 a = _mm512_maskz_loadu_ps(mask16(width - c), q + c);
    const __m512 b = _mm512_maskz_loadu_ps(mask16(width - c - 16), q + c + 16);
    _mm512_storeu_ps(qe + c / 2, _mm512_permutex2var_ps(a, ie, b));
    _mm512_storeu_ps(qo + c / 2, _mm512_permutex2var_ps(a, io, b));
  }
}

// s_j = scale · q·k_j. Lane l sums, chunk by chunk, the even then the odd product of its pair of channels.
void scores(const float* qh, int width, const Pages& pg, int64_t n_ctx, float scale, float* s) {
  alignas(64) float qe[kMaxWidth / 2 + 16], qo[kMaxWidth / 2 + 16];
  split_q(qh, width, qe, qo);
  for (int64_t j0 = 0, p = 0; j0 < n_ctx; j0 += pg.block_size, ++p) {
    const uint16_t* base = pg.page(p);
    const int64_t cnt = std::min<int64_t>(pg.block_size, n_ctx - j0);
    int64_t j = 0;
    for (; j + 4 <= cnt; j += 4) {
      const uint16_t* k = base + j * width;
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int c = 0; c < width; c += 32) {
        const __mmask32 m = tail_mask32(width - c);
        const __m512 e = _mm512_load_ps(qe + c / 2), o = _mm512_load_ps(qo + c / 2);
        __m512 ke, ko;
        load_bf16_eo(k + c, m, &ke, &ko);
        a0 = _mm512_fmadd_ps(o, ko, _mm512_fmadd_ps(e, ke, a0));
        load_bf16_eo(k + width + c, m, &ke, &ko);
        a1 = _mm512_fmadd_ps(o, ko, _mm512_fmadd_ps(e, ke, a1));
        load_bf16_eo(k + 2 * width + c, m, &ke, &ko);
        a2 = _mm512_fmadd_ps(o, ko, _mm512_fmadd_ps(e, ke, a2));
        load_bf16_eo(k + 3 * width + c, m, &ke, &ko);
        a3 = _mm512_fmadd_ps(o, ko, _mm512_fmadd_ps(e, ke, a3));
      }
      _mm_storeu_ps(s + j0 + j, _mm_mul_ps(reduce_add4(a0, a1, a2, a3), _mm_set1_ps(scale)));
    }
    for (; j < cnt; ++j) {
      const uint16_t* k = base + j * width;
      __m512 a = _mm512_setzero_ps();
      for (int c = 0; c < width; c += 32) {
        __m512 ke, ko;
        load_bf16_eo(k + c, tail_mask32(width - c), &ke, &ko);
        a = _mm512_fmadd_ps(_mm512_load_ps(qo + c / 2), ko, _mm512_fmadd_ps(_mm512_load_ps(qe + c / 2), ke, a));
      }
      s[j0 + j] = reduce_add(a) * scale;
    }
  }
}

// s ← softmax(s) over n values.
void softmax(float* s, int64_t n) {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int64_t j = 0; j < n; j += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(mx, tail_mask(n - j), s + j));
  const __m512 vmx = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = tail_mask(n - j);
    const __m512 e = _mm512_maskz_mov_ps(m, exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), vmx)));
    _mm512_mask_storeu_ps(s + j, m, e);
    sum = _mm512_add_ps(sum, e);
  }
  const __m512 vsum = _mm512_set1_ps(reduce_add(sum));
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = tail_mask(n - j);
    _mm512_mask_storeu_ps(s + j, m, _mm512_div_ps(_mm512_maskz_loadu_ps(m, s + j), vsum));
  }
}

// o[c0 .. c0 + 32·NV) (the last chunk masked to nlast channels) = Σ_j p_j · k_j[c], j increasing: even and odd
// channels accumulate in separate registers and are interleaved back once at the end.
template <int NV>
void weighted_sum(const float* p, const Pages& pg, int64_t n_ctx, int c0, int nlast, float* o) {
  __m512 ae[NV], ao[NV];
  for (int i = 0; i < NV; ++i) ae[i] = ao[i] = _mm512_setzero_ps();
  const __mmask32 mlast = tail_mask32(nlast);
  for (int64_t j0 = 0, pi = 0; j0 < n_ctx; j0 += pg.block_size, ++pi) {
    const uint16_t* base = pg.page(pi) + c0;
    const int64_t cnt = std::min<int64_t>(pg.block_size, n_ctx - j0);
    for (int64_t j = 0; j < cnt; ++j) {
      const __m512 pv = _mm512_set1_ps(p[j0 + j]);
      const uint16_t* k = base + j * pg.width;
      for (int i = 0; i < NV; ++i) {
        __m512 ke, ko;
        load_bf16_eo(k + 32 * i, i == NV - 1 ? mlast : 0xffffffffu, &ke, &ko);
        ae[i] = _mm512_fmadd_ps(pv, ke, ae[i]);
        ao[i] = _mm512_fmadd_ps(pv, ko, ao[i]);
      }
    }
  }
  const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  for (int i = 0; i < NV; ++i) {
    const int n = i == NV - 1 ? nlast : 32;
    _mm512_mask_storeu_ps(o + 32 * i, mask16(n), _mm512_permutex2var_ps(ae[i], lo, ao[i]));
    _mm512_mask_storeu_ps(o + 32 * i + 16, mask16(n - 16), _mm512_permutex2var_ps(ae[i], hi, ao[i]));
  }
}

}  // namespace

void mla_attention(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache, const int32_t* blocks,
                   int block_size, int64_t n_ctx, float scale, float* out, float* scratch) {
  const int width = kv_dim + rope_dim;
  if (width > kMaxWidth) return ref::mla_attention(q, n_heads, kv_dim, rope_dim, cache, blocks, block_size, n_ctx,
                                                   scale, out, scratch);
  const Pages pg{cache, blocks, block_size, width};
  for (int h = 0; h < n_heads; ++h) {
    float* oh = out + static_cast<int64_t>(h) * kv_dim;
    if (n_ctx <= 0) {
      std::fill(oh, oh + kv_dim, 0.f);
      continue;
    }
    scores(q + static_cast<int64_t>(h) * width, width, pg, n_ctx, scale, scratch);
    softmax(scratch, n_ctx);
    int c = 0;
    for (; c + 256 <= kv_dim; c += 256) weighted_sum<8>(scratch, pg, n_ctx, c, 32, oh + c);
    for (; c + 128 <= kv_dim; c += 128) weighted_sum<4>(scratch, pg, n_ctx, c, 32, oh + c);
    for (; c < kv_dim; c += 32) weighted_sum<1>(scratch, pg, n_ctx, c, std::min(32, kv_dim - c), oh + c);
  }
}

}  // namespace fathom::avx512
