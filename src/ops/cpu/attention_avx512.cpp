// AVX-512 MLA attention over the paged bf16 latent cache. Heads go four at a time (all heads of a token attend to
// the same keys: each key is loaded and split once per four heads), and per head there are three passes:
//   scores  s_j = scale · Σ_c q[c]·k_j[c]: 16-lane accumulator, lane l taking channels 32i + 2l then 32i + 2l + 1
//           (bf16 pairs split with a shift and a mask; q split the same way once per head), masked tail, fixed-tree
//           reduction; four keys share each q load (the tree gives the same bits as one key at a time);
//   softmax e_j = exp(s_j - max) (polynomial exp), Σ e_j in 16 lanes over j then the tree; p_j = e_j / Σ;
//   output  o[c] = Σ_j p_j·k_j[c], each o[c] summed over j in increasing order, 64 channels of four heads in
//           registers (even and odd channels in separate accumulators, interleaved back at the end).
// Every order depends only on n_ctx, the widths and block_size: never on n_heads or on the caller's split.
#include <algorithm>
#include <cmath>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd_avx512.h"

namespace fathom::avx512 {

namespace {

constexpr int kMaxWidth = 1024;  // latent + rope width the score kernel's stack buffers hold (V3: 576)
// The score pass prefetches the key kPrefetchRows rows ahead (≈ 4.6 KB at the V3/small widths). In decode each
// token's keys come from memory (the layer's cache is far larger than L2) and the loads stall without it: in
// BM_Decode/small/32, timed around this call, 3.6 ms a step without it and 2.05 ms with it (docs/performance.md).
constexpr int kPrefetchRows = 8;

struct Pages {
  const uint16_t* cache;
  const int32_t* blocks;
  int64_t block_size, width;
  const uint16_t* page(int64_t p) const { return cache + static_cast<int64_t>(blocks[p]) * block_size * width; }
  // Row jj of page p, where jj may run past the page into the following ones; nullptr past the context. For
  // prefetching ahead across page boundaries without a division per key.
  const uint16_t* row_ahead(int64_t p, int64_t jj, int64_t n_ctx) const {
    if (p * block_size + jj >= n_ctx) return nullptr;
    for (; jj >= block_size; jj -= block_size) ++p;
    return page(p) + jj * width;
  }
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

// s[g][j] = scale · q_g·k_j for G heads at once (each key is loaded and split once for all G). Per head, lane l
// sums, chunk by chunk, the even then the odd product of its pair of channels — the same order whatever G.
template <int G>
void scores(const float* q, int width, const Pages& pg, int64_t n_ctx, float scale, float* s, int64_t s_stride) {
  alignas(64) float qe[G][kMaxWidth / 2 + 16], qo[G][kMaxWidth / 2 + 16];
  #pragma GCC unroll 4
  for (int g = 0; g < G; ++g) split_q(q + static_cast<int64_t>(g) * width, width, qe[g], qo[g]);
  for (int64_t j0 = 0, p = 0; j0 < n_ctx; j0 += pg.block_size, ++p) {
    const uint16_t* base = pg.page(p);
    const int64_t cnt = std::min<int64_t>(pg.block_size, n_ctx - j0);
    int64_t j = 0;
    for (; j + 4 <= cnt; j += 4) {
      const uint16_t* k = base + j * width;
      const uint16_t* pf[4];
      #pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) pf[i] = pg.row_ahead(p, j + i + kPrefetchRows, n_ctx);
      __m512 a[G][4];
      #pragma GCC unroll 4
      for (int g = 0; g < G; ++g)
        #pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) a[g][i] = _mm512_setzero_ps();
      for (int c = 0; c < width; c += 32) {
        const __mmask32 m = tail_mask32(width - c);
        __m512 e[G], o[G];
        #pragma GCC unroll 4
        for (int g = 0; g < G; ++g) e[g] = _mm512_load_ps(qe[g] + c / 2), o[g] = _mm512_load_ps(qo[g] + c / 2);
        #pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          if (pf[i]) _mm_prefetch(reinterpret_cast<const char*>(pf[i] + c), _MM_HINT_T0);
          __m512 ke, ko;
          load_bf16_eo(k + i * width + c, m, &ke, &ko);
          #pragma GCC unroll 4
          for (int g = 0; g < G; ++g) a[g][i] = _mm512_fmadd_ps(o[g], ko, _mm512_fmadd_ps(e[g], ke, a[g][i]));
        }
      }
      #pragma GCC unroll 4
      for (int g = 0; g < G; ++g)
        _mm_storeu_ps(s + g * s_stride + j0 + j,
                      _mm_mul_ps(reduce_add4(a[g][0], a[g][1], a[g][2], a[g][3]), _mm_set1_ps(scale)));
    }
    for (; j < cnt; ++j) {
      const uint16_t* k = base + j * width;
      __m512 a[G];
      #pragma GCC unroll 4
      for (int g = 0; g < G; ++g) a[g] = _mm512_setzero_ps();
      for (int c = 0; c < width; c += 32) {
        __m512 ke, ko;
        load_bf16_eo(k + c, tail_mask32(width - c), &ke, &ko);
        #pragma GCC unroll 4
        for (int g = 0; g < G; ++g)
          a[g] = _mm512_fmadd_ps(_mm512_load_ps(qo[g] + c / 2), ko, _mm512_fmadd_ps(_mm512_load_ps(qe[g] + c / 2), ke, a[g]));
      }
      #pragma GCC unroll 4
      for (int g = 0; g < G; ++g) s[g * s_stride + j0 + j] = reduce_add(a[g]) * scale;
    }
  }
}

// s ← softmax(s) over n values; returns log Σ exp(s) (the max plus the log of the sum).
float softmax(float* s, int64_t n) {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int64_t j = 0; j < n; j += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(mx, tail_mask(n - j), s + j));
  const float smx = _mm512_reduce_max_ps(mx);
  const __m512 vmx = _mm512_set1_ps(smx);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = tail_mask(n - j);
    const __m512 e = _mm512_maskz_mov_ps(m, exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), vmx)));
    _mm512_mask_storeu_ps(s + j, m, e);
    sum = _mm512_add_ps(sum, e);
  }
  const float total = reduce_add(sum);
  const __m512 vsum = _mm512_set1_ps(total);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = tail_mask(n - j);
    _mm512_mask_storeu_ps(s + j, m, _mm512_div_ps(_mm512_maskz_loadu_ps(m, s + j), vsum));
  }
  return smx + std::log(total);
}

// For G heads at once, o_g[c0 .. c0 + 64) (channels past c0 + n masked off) = Σ_j p_g[j] · k_j[c], each channel
// summed over j in increasing order: even and odd channels accumulate in separate registers and are interleaved
// back at the end. Each key slice is loaded and split once for all G heads.
template <int G>
void weighted_sum(const float* p, int64_t p_stride, const Pages& pg, int64_t n_ctx, int c0, int n, float* o,
                  int64_t o_stride) {
  __m512 ae[G][2], ao[G][2];
  #pragma GCC unroll 4
  for (int g = 0; g < G; ++g)
    #pragma GCC unroll 4
    for (int i = 0; i < 2; ++i) ae[g][i] = ao[g][i] = _mm512_setzero_ps();
  const __mmask32 m0 = tail_mask32(n), m1 = tail_mask32(n - 32 > 0 ? n - 32 : 0);
  for (int64_t j0 = 0, pi = 0; j0 < n_ctx; j0 += pg.block_size, ++pi) {
    const uint16_t* base = pg.page(pi) + c0;
    const int64_t cnt = std::min<int64_t>(pg.block_size, n_ctx - j0);
    for (int64_t j = 0; j < cnt; ++j) {
      const uint16_t* k = base + j * pg.width;
      __m512 ke0, ko0, ke1, ko1;
      load_bf16_eo(k, m0, &ke0, &ko0);
      load_bf16_eo(k + 32, m1, &ke1, &ko1);
      #pragma GCC unroll 4
      for (int g = 0; g < G; ++g) {
        const __m512 pv = _mm512_set1_ps(p[g * p_stride + j0 + j]);
        ae[g][0] = _mm512_fmadd_ps(pv, ke0, ae[g][0]);
        ao[g][0] = _mm512_fmadd_ps(pv, ko0, ao[g][0]);
        ae[g][1] = _mm512_fmadd_ps(pv, ke1, ae[g][1]);
        ao[g][1] = _mm512_fmadd_ps(pv, ko1, ao[g][1]);
      }
    }
  }
  const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  #pragma GCC unroll 4
  for (int g = 0; g < G; ++g) {
    float* og = o + g * o_stride;
    #pragma GCC unroll 4
    for (int i = 0; i < 2; ++i) {
      const int ni = n - 32 * i;
      _mm512_mask_storeu_ps(og + 32 * i, mask16(ni), _mm512_permutex2var_ps(ae[g][i], lo, ao[g][i]));
      _mm512_mask_storeu_ps(og + 32 * i + 16, mask16(ni - 16), _mm512_permutex2var_ps(ae[g][i], hi, ao[g][i]));
    }
  }
}

// Heads [h0, h0 + G): scores, softmax per head, then the weighted sums 64 channels at a time.
template <int G>
void heads(const float* q, int kv_dim, int width, const Pages& pg, int64_t n_ctx, float scale, float* out,
           float* scratch, float* lse) {
  scores<G>(q, width, pg, n_ctx, scale, scratch, n_ctx);
  #pragma GCC unroll 4
  for (int g = 0; g < G; ++g) {
    const float l = softmax(scratch + g * n_ctx, n_ctx);
    if (lse) lse[g] = l;
  }
  for (int c = 0; c < kv_dim; c += 64) weighted_sum<G>(scratch, n_ctx, pg, n_ctx, c, std::min(64, kv_dim - c), out + c, kv_dim);
}

}  // namespace

void mla_attention(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache, const int32_t* blocks,
                   int block_size, int64_t n_ctx, float scale, float* out, float* scratch, float* lse) {
  const int width = kv_dim + rope_dim;
  if (width > kMaxWidth) return ref::mla_attention(q, n_heads, kv_dim, rope_dim, cache, blocks, block_size, n_ctx,
                                                   scale, out, scratch, lse);
  const Pages pg{cache, blocks, block_size, width};
  if (n_ctx <= 0) {
    std::fill(out, out + static_cast<int64_t>(n_heads) * kv_dim, 0.f);
    if (lse) std::fill(lse, lse + n_heads, -INFINITY);
    return;
  }
  int h = 0;
  for (; h + 4 <= n_heads; h += 4)
    heads<4>(q + static_cast<int64_t>(h) * width, kv_dim, width, pg, n_ctx, scale,
             out + static_cast<int64_t>(h) * kv_dim, scratch, lse ? lse + h : nullptr);
  const float* qh = q + static_cast<int64_t>(h) * width;
  float* oh = out + static_cast<int64_t>(h) * kv_dim;
  float* lh = lse ? lse + h : nullptr;
  switch (n_heads - h) {
    case 3: heads<3>(qh, kv_dim, width, pg, n_ctx, scale, oh, scratch, lh); break;
    case 2: heads<2>(qh, kv_dim, width, pg, n_ctx, scale, oh, scratch, lh); break;
    case 1: heads<1>(qh, kv_dim, width, pg, n_ctx, scale, oh, scratch, lh); break;
    default: break;
  }
}

}  // namespace fathom::avx512
