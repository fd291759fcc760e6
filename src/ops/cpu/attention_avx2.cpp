// AVX2 MLA attention over the paged bf16 latent cache: the AVX-512 kernel's structure with 8 lanes — two heads per
// key read (scores: two keys at a time; output: 32 channels of two heads in registers), polynomial-exp softmax,
// output summed over keys in increasing order. Orders depend only on n_ctx, the widths and block_size (never on
// how many heads share a call).
#include <algorithm>
#include <cmath>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd_avx2.h"

namespace fathom::avx2 {

namespace {

struct Pages {
  const uint16_t* cache;
  const int32_t* blocks;
  int64_t block_size, width;
  const uint16_t* page(int64_t p) const { return cache + static_cast<int64_t>(blocks[p]) * block_size * width; }
};

inline __m256 load_k(const uint16_t* k, int c, int width) {
  return c + 8 <= width ? load_bf16(k + c) : load_bf16_tail(k + c, width - c);
}
inline __m256 load_q(const float* q, int c, int width) {
  return c + 8 <= width ? _mm256_loadu_ps(q + c) : load_tail(q + c, width - c);
}

// s[g][j] = scale · q_g·k_j for G heads at once (each key chunk is widened once for all G); per head, lane l sums
// channels 8i + l in increasing i, then the fixed tree — the same bits whatever G or the keys taken together.
template <int G>
void scores(const float* q, int width, const Pages& pg, int64_t n_ctx, float scale, float* s, int64_t s_stride) {
  for (int64_t j0 = 0, p = 0; j0 < n_ctx; j0 += pg.block_size, ++p) {
    const uint16_t* base = pg.page(p);
    const int64_t cnt = std::min<int64_t>(pg.block_size, n_ctx - j0);
    int64_t j = 0;
    for (; j + 2 <= cnt; j += 2) {
      const uint16_t* k = base + j * width;
      __m256 a[G][2];
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) a[g][0] = a[g][1] = _mm256_setzero_ps();
      for (int c = 0; c < width; c += 8) {
        const __m256 k0 = load_k(k, c, width), k1 = load_k(k + width, c, width);
#pragma GCC unroll 4
        for (int g = 0; g < G; ++g) {
          const __m256 qv = load_q(q + static_cast<int64_t>(g) * width, c, width);
          a[g][0] = _mm256_fmadd_ps(qv, k0, a[g][0]);
          a[g][1] = _mm256_fmadd_ps(qv, k1, a[g][1]);
        }
      }
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) {
        s[g * s_stride + j0 + j] = reduce_add(a[g][0]) * scale;
        s[g * s_stride + j0 + j + 1] = reduce_add(a[g][1]) * scale;
      }
    }
    for (; j < cnt; ++j) {
      const uint16_t* k = base + j * width;
      __m256 a[G];
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) a[g] = _mm256_setzero_ps();
      for (int c = 0; c < width; c += 8) {
        const __m256 kv = load_k(k, c, width);
#pragma GCC unroll 4
        for (int g = 0; g < G; ++g) a[g] = _mm256_fmadd_ps(load_q(q + static_cast<int64_t>(g) * width, c, width), kv, a[g]);
      }
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) s[g * s_stride + j0 + j] = reduce_add(a[g]) * scale;
    }
  }
}

// s ← softmax(s) over n values; returns log Σ exp(s) (the max plus the log of the sum).
float softmax(float* s, int64_t n) {
  float mx = -INFINITY;
  for (int64_t j = 0; j < n; ++j) mx = std::max(mx, s[j]);
  const __m256 vmx = _mm256_set1_ps(mx);
  __m256 sum = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(s + j), vmx));
    _mm256_storeu_ps(s + j, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (j < n) {  // masked-off lanes would give e^(0 - max): zero them before they reach the sum
    const __m256 valid = _mm256_castsi256_ps(
        _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n - j)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
    const __m256 e = _mm256_and_ps(valid, exp_ps(_mm256_sub_ps(load_tail(s + j, n - j), vmx)));
    store_tail(s + j, n - j, e);
    sum = _mm256_add_ps(sum, e);
  }
  const float total = reduce_add(sum);
  const __m256 vsum = _mm256_set1_ps(total);
  for (j = 0; j + 8 <= n; j += 8) _mm256_storeu_ps(s + j, _mm256_div_ps(_mm256_loadu_ps(s + j), vsum));
  if (j < n) store_tail(s + j, n - j, _mm256_div_ps(load_tail(s + j, n - j), vsum));
  return mx + std::log(total);
}

// For G heads at once, o_g[c0 .. c0 + 32) (n ≤ 32 channels valid) = Σ_j p_g[j] · k_j[c], each channel summed over
// j in increasing order; each key slice is widened once for all G heads.
template <int G>
void weighted_sum(const float* p, int64_t p_stride, const Pages& pg, int64_t n_ctx, int c0, int n, float* o,
                  int64_t o_stride) {
  __m256 acc[G][4];
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g)
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) acc[g][i] = _mm256_setzero_ps();
  for (int64_t j0 = 0, pi = 0; j0 < n_ctx; j0 += pg.block_size, ++pi) {
    const uint16_t* base = pg.page(pi) + c0;
    const int64_t cnt = std::min<int64_t>(pg.block_size, n_ctx - j0);
    for (int64_t j = 0; j < cnt; ++j) {
      const uint16_t* k = base + j * pg.width;
      __m256 kv[4];
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        const int ni = n - 8 * i;
        kv[i] = ni >= 8 ? load_bf16(k + 8 * i) : (ni > 0 ? load_bf16_tail(k + 8 * i, ni) : _mm256_setzero_ps());
      }
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) {
        const __m256 pv = _mm256_set1_ps(p[g * p_stride + j0 + j]);
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) acc[g][i] = _mm256_fmadd_ps(pv, kv[i], acc[g][i]);
      }
    }
  }
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g) {
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      const int ni = n - 8 * i;
      if (ni >= 8) _mm256_storeu_ps(o + g * o_stride + 8 * i, acc[g][i]);
      else if (ni > 0) store_tail(o + g * o_stride + 8 * i, ni, acc[g][i]);
    }
  }
}

// Heads [h0, h0 + G): scores, softmax per head, then the weighted sums 32 channels at a time.
template <int G>
void heads(const float* q, int kv_dim, int width, const Pages& pg, int64_t n_ctx, float scale, float* out,
           float* scratch, float* lse) {
  scores<G>(q, width, pg, n_ctx, scale, scratch, n_ctx);
  for (int g = 0; g < G; ++g) {
    const float l = softmax(scratch + g * n_ctx, n_ctx);
    if (lse) lse[g] = l;
  }
  for (int c = 0; c < kv_dim; c += 32) weighted_sum<G>(scratch, n_ctx, pg, n_ctx, c, std::min(32, kv_dim - c), out + c, kv_dim);
}

}  // namespace

void mla_attention(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache, const int32_t* blocks,
                   int block_size, int64_t n_ctx, float scale, float* out, float* scratch, float* lse) {
  const int width = kv_dim + rope_dim;
  const Pages pg{cache, blocks, block_size, width};
  if (n_ctx <= 0) {
    std::fill(out, out + static_cast<int64_t>(n_heads) * kv_dim, 0.f);
    if (lse) std::fill(lse, lse + n_heads, -INFINITY);
    return;
  }
  // Two heads at a time: 2 × 4 accumulators, 4 widened key vectors and 2 broadcasts fit the 16 ymm registers.
  int h = 0;
  for (; h + 2 <= n_heads; h += 2)
    heads<2>(q + static_cast<int64_t>(h) * width, kv_dim, width, pg, n_ctx, scale,
             out + static_cast<int64_t>(h) * kv_dim, scratch, lse ? lse + h : nullptr);
  if (h < n_heads)
    heads<1>(q + static_cast<int64_t>(h) * width, kv_dim, width, pg, n_ctx, scale,
             out + static_cast<int64_t>(h) * kv_dim, scratch, lse ? lse + h : nullptr);
}

}  // namespace fathom::avx2
