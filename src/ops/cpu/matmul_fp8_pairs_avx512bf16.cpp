// AVX512-BF16 matmul tile for e4m3 weights in fp8 pair panels, outer-product form like the bf16 tile
// (matmul_pairs_avx512bf16.cpp): one vector holds 16 output columns and each vdpbf16ps adds one k pair in every
// lane, x's pair broadcast. The weights are decoded to bf16 exactly (simd_avx512bf16.h).
//
// Layout (ops.h): a panel is 64 rows; per k quad (4 values) it holds 4 groups of 16 rows, 64 bytes each, ordered
// so that one decode gives the group's two pair vectors (pair 2i in w0, 2i+1 in w1): byte
// 16 (c / 4) + 8 (t / 2) + 2 (c % 4) + t % 2 is row c's value k = 4i + t.
//
// Per output element, whatever M, the column range or the thread: part = 0; one lane adds the block's pairs in
// increasing order; acc = fma(part, block scale, acc) (acc starts at 0 and lives in y between blocks); block after
// block of 128 values. Fewer than kDecodeOnceRows x rows decode in registers as the panel streams; more decode
// each (panel, block) once into a 16 KB bf16 slice in L1 that every block of x rows then reads.
#include <immintrin.h>

#include <algorithm>

#include "ops/cpu/kernels.h"
#include "ops/cpu/matmul_blocking_avx512.h"
#include "ops/cpu/simd_avx512bf16.h"

namespace fathom::avx512bf16 {

namespace {

constexpr int64_t kP = kPairPanelRows;                // columns per panel: 4 groups of 16
constexpr int64_t kQuadBytes = kP * 4;                // one k quad of a panel
constexpr int64_t kBlockQuads = kFp8Block / 4;        // quads per scale block
constexpr int64_t kBlockPairs = kFp8Block / 2;
constexpr int64_t kDecodeOnceRows = 4;                // from this many x rows on, decode each (panel, block) once
constexpr int64_t kPfBytes = 4096;                    // prefetch distance along the panels (4-16 KB: alike)

// The block's partials into the accumulators held in y: acc = fma(part, scale, acc), acc = 0 before block 0.
template <int MR, int NZ>
inline void add_block(const __m512 (&part)[MR][NZ], const __m512* scale, bool first, float* y, int64_t ldy,
                      const __mmask16* msk) {
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int j = 0; j < NZ; ++j) {
      float* p = y + m * ldy + j * 16;
      const __m512 acc = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(msk[j], p);
      _mm512_mask_storeu_ps(p, msk[j], _mm512_fmadd_ps(part[m][j], scale[j], acc));
    }
}

// x rows xr[0 .. MR) (k pairs) × NZ groups of one panel (w: the first group's bytes of quad 0), decoding as it
// streams; y: the first group's column of row 0. scales[j]: group j's block scales.
template <int MR, int NZ>  // not inlined: one copy per block shape
__attribute__((noinline)) void micro_inline(const uint32_t* const* xr, const uint8_t* w, int64_t n_quads,
                                            const float* const* scales, float* y, int64_t ldy, const __mmask16* msk) {
  const E4m3Decoder d;
  for (int64_t i0 = 0, b = 0; i0 < n_quads; i0 += kBlockQuads, ++b) {
    const int64_t i1 = std::min(n_quads, i0 + kBlockQuads);
    __m512 part[MR][NZ];
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
      for (int j = 0; j < NZ; ++j) part[m][j] = _mm512_setzero_ps();
    for (int64_t i = i0; i < i1; ++i) {
      const uint8_t* q = w + i * kQuadBytes;
      __m512i w0[NZ], w1[NZ];
#pragma GCC unroll 4
      for (int j = 0; j < NZ; ++j) {
        // No compiler barrier between the prefetch and the load, unlike the row-major kernel: here it gained
        // nothing (the fp8 lm_head GEMV in matmul_bench, alternating runs: equal to 6% slower with it).
        _mm_prefetch(reinterpret_cast<const char*>(q + j * 64 + kPfBytes), _MM_HINT_T0);
        d.decode(_mm512_loadu_si512(q + j * 64), w0[j], w1[j]);
      }
      add_two_pairs(part, xr, 2 * i, w0, w1);
    }
    __m512 scale[NZ];
#pragma GCC unroll 4
    for (int j = 0; j < NZ; ++j) scale[j] = _mm512_set1_ps(scales[j][b]);
    add_block(part, scale, b == 0, y, ldy, msk);
  }
}

// x rows xr[0 .. MR) (k pairs, from the block's first pair) × NZ groups of a decoded slice (s: the first group's
// column at the block's first pair; pair p is kP further), n_pairs pairs.
template <int MR, int NZ>
__attribute__((noinline)) void micro_decoded(const uint32_t* const* xr, const uint32_t* s, int64_t n_pairs,
                                             const __m512* scale, bool first, float* y, int64_t ldy,
                                             const __mmask16* msk) {
  __m512 part[MR][NZ];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int j = 0; j < NZ; ++j) part[m][j] = _mm512_setzero_ps();
  add_pairs(part, xr, s, kP, 0, n_pairs, [](int64_t) {});
  add_block(part, scale, first, y, ldy, msk);
}

// Panel `q` (columns [q kP + c0, q kP + c1)), fewer than kDecodeOnceRows x rows, decoding inline.
void panel_inline(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t q, int64_t c0,
                  int64_t c1, float* y, int64_t ldy) {
  const PanelGroups g(c0, c1);
  const uint8_t* panel = static_cast<const uint8_t*>(w.data) + q * kP * w.cols;
  const float* scales[4];
  for (int64_t j = g.g0; j < g.g1; ++j) scales[j - g.g0] = w.scale_row(q * kP + 16 * j);
  float* yq = y + q * kP + 16 * g.g0;
  with_groups(g.n(), [&]<int NZ>() {
    avx512::for_each_x_block<false>(M, [&]<int MR>(int64_t m) {
      const uint32_t* xr[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) xr[i] = reinterpret_cast<const uint32_t*>(xb + (m + i) * ldxb);
      micro_inline<MR, NZ>(xr, panel + 64 * g.g0, w.cols / 4, scales, yq + m * ldy, ldy, g.msk);
    });
  });
}

// Panel `q`, block by block: the block's quads (groups [g0, g1)) decoded into the slice, then every x block.
void panel_decoded(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t q, int64_t c0,
                   int64_t c1, float* y, int64_t ldy) {
  const PanelGroups g(c0, c1);
  const E4m3Decoder d;
  const int64_t n_quads = w.cols / 4;
  const uint8_t* panel = static_cast<const uint8_t*>(w.data) + q * kP * w.cols;
  const float* scales[4] = {};
  for (int64_t j = g.g0; j < g.g1; ++j) scales[j] = w.scale_row(q * kP + 16 * j);
  alignas(64) uint32_t slice[kBlockPairs * kP];  // [pair of the block][column of the panel], 16 KB
  for (int64_t i0 = 0, b = 0; i0 < n_quads; i0 += kBlockQuads, ++b) {
    const int64_t i1 = std::min(n_quads, i0 + kBlockQuads);
    for (int64_t i = i0; i < i1; ++i) {
      const uint8_t* src = panel + i * kQuadBytes;
      uint32_t* dst = slice + 2 * (i - i0) * kP;
      for (int64_t j = g.g0; j < g.g1; ++j) {
        _mm_prefetch(reinterpret_cast<const char*>(src + j * 64 + kPfBytes), _MM_HINT_T0);
        __m512i w0, w1;
        d.decode(_mm512_loadu_si512(src + j * 64), w0, w1);
        _mm512_store_si512(dst + 16 * j, w0);
        _mm512_store_si512(dst + kP + 16 * j, w1);
      }
    }
    __m512 scale[4];
    for (int64_t j = g.g0; j < g.g1; ++j) scale[j - g.g0] = _mm512_set1_ps(scales[j][b]);
    const int64_t n_pairs = 2 * (i1 - i0);
    with_groups(g.n(), [&]<int NZ>() {
      avx512::for_each_x_block<true>(M, [&]<int MR>(int64_t m) {
        const uint32_t* xr[MR];
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) xr[i] = reinterpret_cast<const uint32_t*>(xb + (m + i) * ldxb) + 2 * i0;
        micro_decoded<MR, NZ>(xr, slice + 16 * g.g0, n_pairs, scale, b == 0, y + m * ldy + q * kP + 16 * g.g0,
                              ldy, g.msk);
      });
    });
  }
}

}  // namespace

void matmul_fp8_pairs_tile(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t n0,
                           int64_t n1, float* y, int64_t ldy) {
  for_each_panel(n0, n1, [&](int64_t q, int64_t c0, int64_t c1) {
    if (M >= kDecodeOnceRows) panel_decoded(xb, ldxb, M, w, q, c0, c1, y, ldy);
    else panel_inline(xb, ldxb, M, w, q, c0, c1, y, ldy);
  });
}

}  // namespace fathom::avx512bf16
