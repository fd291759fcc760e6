// AVX2 MLA attention over the paged bf16 latent cache: the AVX-512 kernel's structure with 8 lanes (scores with
// four keys per q load, polynomial-exp softmax, output summed over keys in increasing order, 64 channels in
// registers). Orders depend only on n_ctx, the widths and block_size.
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

void scores(const float* qh, int width, const Pages& pg, int64_t n_ctx, float scale, float* s) {
  for (int64_t j0 = 0, p = 0; j0 < n_ctx; j0 += pg.block_size, ++p) {
    const uint16_t* base = pg.page(p);
    const int64_t cnt = std::min<int64_t>(pg.block_size, n_ctx - j0);
    int64_t j = 0;
    for (; j + 4 <= cnt; j += 4) {
      const uint16_t* k = base + j * width;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int c = 0; c < width; c += 8) {
        const __m256 qv = load_q(qh, c, width);
        a0 = _mm256_fmadd_ps(qv, load_k(k, c, width), a0);
        a1 = _mm256_fmadd_ps(qv, load_k(k + width, c, width), a1);
        a2 = _mm256_fmadd_ps(qv, load_k(k + 2 * width, c, width), a2);
        a3 = _mm256_fmadd_ps(qv, load_k(k + 3 * width, c, width), a3);
      }
      s[j0 + j] = reduce_add(a0) * scale;
      s[j0 + j + 1] = reduce_add(a1) * scale;
      s[j0 + j + 2] = reduce_add(a2) * scale;
      s[j0 + j + 3] = reduce_add(a3) * scale;
    }
    for (; j < cnt; ++j) {
      const uint16_t* k = base + j * width;
      __m256 a = _mm256_setzero_ps();
      for (int c = 0; c < width; c += 8) a = _mm256_fmadd_ps(load_q(qh, c, width), load_k(k, c, width), a);
      s[j0 + j] = reduce_add(a) * scale;
    }
  }
}

void softmax(float* s, int64_t n) {
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
  const __m256 vsum = _mm256_set1_ps(reduce_add(sum));
  for (j = 0; j + 8 <= n; j += 8) _mm256_storeu_ps(s + j, _mm256_div_ps(_mm256_loadu_ps(s + j), vsum));
  if (j < n) store_tail(s + j, n - j, _mm256_div_ps(load_tail(s + j, n - j), vsum));
}

// o[c0 .. c0 + 8·NV) = Σ_j p_j · k_j[c], j increasing; nlast (1..8) lanes are valid in the last vector.
template <int NV>
void weighted_sum(const float* p, const Pages& pg, int64_t n_ctx, int c0, int nlast, float* o) {
  __m256 acc[NV];
  for (int i = 0; i < NV; ++i) acc[i] = _mm256_setzero_ps();
  for (int64_t j0 = 0, pi = 0; j0 < n_ctx; j0 += pg.block_size, ++pi) {
    const uint16_t* base = pg.page(pi) + c0;
    const int64_t cnt = std::min<int64_t>(pg.block_size, n_ctx - j0);
    for (int64_t j = 0; j < cnt; ++j) {
      const __m256 pv = _mm256_set1_ps(p[j0 + j]);
      const uint16_t* k = base + j * pg.width;
      for (int i = 0; i < NV; ++i) {
        const __m256 kv = (i == NV - 1 && nlast < 8) ? load_bf16_tail(k + 8 * i, nlast) : load_bf16(k + 8 * i);
        acc[i] = _mm256_fmadd_ps(pv, kv, acc[i]);
      }
    }
  }
  for (int i = 0; i < NV - 1; ++i) _mm256_storeu_ps(o + 8 * i, acc[i]);
  if (nlast == 8) _mm256_storeu_ps(o + 8 * (NV - 1), acc[NV - 1]);
  else store_tail(o + 8 * (NV - 1), nlast, acc[NV - 1]);
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
    for (; c + 64 <= kv_dim; c += 64) weighted_sum<8>(scratch, pg, n_ctx, c, 8, oh + c);
    for (; c < kv_dim; c += 8) weighted_sum<1>(scratch, pg, n_ctx, c, std::min(8, kv_dim - c), oh + c);
  }
}

}  // namespace fathom::avx2
