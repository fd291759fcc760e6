// AVX-512 MLA attention over the paged bf16 latent cache. Per head, three passes:
//   scores  s_j = scale · Σ_c q[c]·k_j[c]: 16-lane accumulator over c (masked tail), fixed-tree reduction;
//           four keys share each q load (the tree gives the same bits as one key at a time);
//   softmax e_j = exp(s_j - max) (polynomial exp), Σ e_j in 16 lanes over j then the tree; p_j = e_j / Σ;
//   output  o[c] = Σ_j p_j·k_j[c], each o[c] summed over j in increasing order, 256 or 128 channels in registers.
// Every order depends only on n_ctx, the widths and block_size: never on n_heads or on the caller's split.
#include <algorithm>
#include <cmath>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd_avx512.h"

namespace fathom::avx512 {

namespace {

struct Pages {
  const uint16_t* cache;
  const int32_t* blocks;
  int64_t block_size, width;
  const uint16_t* page(int64_t p) const { return cache + static_cast<int64_t>(blocks[p]) * block_size * width; }
};

void scores(const float* qh, int width, const Pages& pg, int64_t n_ctx, float scale, float* s) {
  for (int64_t j0 = 0, p = 0; j0 < n_ctx; j0 += pg.block_size, ++p) {
    const uint16_t* base = pg.page(p);
    const int64_t cnt = std::min<int64_t>(pg.block_size, n_ctx - j0);
    int64_t j = 0;
    for (; j + 4 <= cnt; j += 4) {
      const uint16_t* k = base + j * width;
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int c = 0; c < width; c += 16) {
        const __mmask16 m = tail_mask(width - c);
        const __m512 qv = _mm512_maskz_loadu_ps(m, qh + c);
        a0 = _mm512_fmadd_ps(qv, load_bf16(k + c, m), a0);
        a1 = _mm512_fmadd_ps(qv, load_bf16(k + width + c, m), a1);
        a2 = _mm512_fmadd_ps(qv, load_bf16(k + 2 * width + c, m), a2);
        a3 = _mm512_fmadd_ps(qv, load_bf16(k + 3 * width + c, m), a3);
      }
      _mm_storeu_ps(s + j0 + j, _mm_mul_ps(reduce_add4(a0, a1, a2, a3), _mm_set1_ps(scale)));
    }
    for (; j < cnt; ++j) {
      const uint16_t* k = base + j * width;
      __m512 a = _mm512_setzero_ps();
      for (int c = 0; c < width; c += 16) {
        const __mmask16 m = tail_mask(width - c);
        a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, qh + c), load_bf16(k + c, m), a);
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

// o[c0 .. c0 + 16·NV) (the last vector masked by mlast) = Σ_j p_j · k_j[c], j increasing.
template <int NV>
void weighted_sum(const float* p, const Pages& pg, int64_t n_ctx, int c0, __mmask16 mlast, float* o) {
  __m512 acc[NV];
  for (int i = 0; i < NV; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t j0 = 0, pi = 0; j0 < n_ctx; j0 += pg.block_size, ++pi) {
    const uint16_t* base = pg.page(pi) + c0;
    const int64_t cnt = std::min<int64_t>(pg.block_size, n_ctx - j0);
    for (int64_t j = 0; j < cnt; ++j) {
      const __m512 pv = _mm512_set1_ps(p[j0 + j]);
      const uint16_t* k = base + j * pg.width;
      for (int i = 0; i < NV; ++i)
        acc[i] = _mm512_fmadd_ps(pv, load_bf16(k + 16 * i, i == NV - 1 ? mlast : 0xffff), acc[i]);
    }
  }
  for (int i = 0; i < NV; ++i) _mm512_mask_storeu_ps(o + 16 * i, i == NV - 1 ? mlast : 0xffff, acc[i]);
}

}  // namespace

void mla_attention(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache, const int32_t* blocks,
                   int block_size, int64_t n_ctx, float scale, float* out, float* scratch) {
  const int width = kv_dim + rope_dim;
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
    for (; c + 256 <= kv_dim; c += 256) weighted_sum<16>(scratch, pg, n_ctx, c, 0xffff, oh + c);
    for (; c + 128 <= kv_dim; c += 128) weighted_sum<8>(scratch, pg, n_ctx, c, 0xffff, oh + c);
    for (; c < kv_dim; c += 16) weighted_sum<1>(scratch, pg, n_ctx, c, tail_mask(kv_dim - c), oh + c);
  }
}

}  // namespace fathom::avx512
