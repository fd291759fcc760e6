// AVX512-BF16 matmul tile for bf16 weights in pair panels, outer-product form: one vector holds 16 output columns,
// and each vdpbf16ps adds, in every lane, one k pair (x[2p] · w[c][2p] + x[2p+1] · w[c][2p+1]) with x's pair
// broadcast. No horizontal reduction is left at the end; a 6 × 4 register block (6 x rows × 64 columns) takes 4
// weight loads and 6 broadcasts per 24 dot products (lm_head at 32 rows: 92% of the measured vdpbf16ps peak, see
// docs/performance.md).
//
// Pair panels (ops.h): 64 rows side by side, k pair by k pair, packed at load (pack_panels_avx512bf16.cpp). Per
// output element the sum is one lane running through the k pairs in increasing order (K blocks continue from the
// carry), whatever M, the column range or the thread. Row-major bf16 weights take the inner-product kernel
// (matmul_avx512bf16.cpp) and its order.
#include <immintrin.h>

#include <algorithm>

#include "ops/cpu/kernels.h"
#include "ops/cpu/matmul_blocking_avx512.h"
#include "ops/cpu/simd_avx512bf16.h"

namespace fathom::avx512bf16 {

namespace {

constexpr int64_t kP = kPairPanelRows;   // columns per panel: 4 vectors of 16
constexpr int64_t kKBlockPairs = 512;    // K > 1024: reduced in blocks of 1024 values, the sums carried in memory
constexpr int64_t kChunkBytes = 256 * 1024;  // weight bytes every x block passes over before the next chunk
constexpr int64_t kPfPairs = 8192 / 4;   // prefetch distance along a panel (8 KB)
constexpr int kMaxMR = avx512::kBigMR;

// One block: x rows xr[0 .. MR) (as k pairs) times NZ column vectors of one panel (w: the first vector's column at
// pair 0; the next pair is kP further), pairs [p0, p1). The sums start at zero or from carry and end in y (masked
// per vector: msk) or in carry. kAhead: each step also fetches one line at `ahead` (advancing 64 bytes) into L2.
template <int MR, int NZ, bool kAhead>  // not inlined: one copy per block shape (and one line per shape in a profile)
__attribute__((noinline)) void micro(const uint32_t* const* xr, const uint32_t* w, int64_t p0, int64_t p1,
                                     bool first, bool done, float* carry, float* y, int64_t ldy,
                                     const __mmask16* msk, const char* ahead) {
  __m512 acc[MR][NZ];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int j = 0; j < NZ; ++j) acc[m][j] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(carry + (m * 4 + j) * 16);
  add_pairs(acc, xr, w, kP, p0, p1, [&](int64_t p) {
    if constexpr (kAhead) {
      _mm_prefetch(ahead, _MM_HINT_T1);
      ahead += 64;
    }
#pragma GCC unroll 4
    for (int j = 0; j < NZ; ++j)
      _mm_prefetch(reinterpret_cast<const char*>(w + p * kP + j * 16 + kPfPairs), _MM_HINT_T0);
  });
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int j = 0; j < NZ; ++j) {
      if (done) _mm512_mask_storeu_ps(y + m * ldy + j * 16, msk[j], acc[m][j]);
      else _mm512_storeu_ps(carry + (m * 4 + j) * 16, acc[m][j]);
    }
}

// Columns [c0, c1) (0 <= c0 < c1 <= kP) of the panel at `panel` (n_pairs pairs per column), x rows [m, m + MR).
// y points at the panel's column 0 of row m. ahead: where to fetch the next chunk from, or nullptr.
template <int MR>
void piece(const uint32_t* const* xr, const uint32_t* panel, int64_t c0, int64_t c1, int64_t p0, int64_t p1,
           bool first, bool done, float* carry, float* y, int64_t ldy, const char* ahead) {
  const PanelGroups g(c0, c1);
  const uint32_t* w = panel + g.g0 * 16;
  float* yg = y + g.g0 * 16;
  with_groups(g.n(), [&]<int NZ>() {
    if (ahead) micro<MR, NZ, true>(xr, w, p0, p1, first, done, carry, yg, ldy, g.msk, ahead);
    else micro<MR, NZ, false>(xr, w, p0, p1, first, done, carry, yg, ldy, g.msk, nullptr);
  });
}

// y[0 .. M) × columns [n0, n1) over pair panels starting at `panels` (panel q holds columns [q kP, q kP + kP),
// n_pairs pairs each). Weights in chunks of whole panels that every x block passes over before the next chunk;
// K blocked (with the carry) past 1024 values. The first x block streams a chunk from memory; the later ones,
// which find it in cache, fetch the next chunk into L2 as they go (a line per step), so that with several x
// blocks the stream and the arithmetic overlap instead of taking turns.
void tile_panels(const uint16_t* xb, int64_t ldxb, int64_t M, const uint32_t* panels, int64_t n_pairs, int64_t n0,
                 int64_t n1, float* y, int64_t ldy) {
  const bool blocked = n_pairs > kKBlockPairs;
  const int64_t kc = blocked ? kKBlockPairs : n_pairs;
  const int64_t panel_bytes = kP * n_pairs * 4;
  const int64_t chunk = blocked ? 2 : std::max<int64_t>(1, kChunkBytes / panel_bytes);  // panels
  alignas(64) float carry[2 * kMaxMR * 4 * 16];
  for (int64_t q0 = n0 / kP; q0 * kP < n1; q0 += chunk) {
    const int64_t q1 = std::min((n1 + kP - 1) / kP, q0 + chunk);
    // Where the next chunk's lines are fetched from: the first x block fetches nothing new (its own stream is
    // prefetched in micro), the later ones continue where the previous call stopped, up to the chunk's end.
    const int64_t q2 = std::min((n1 + kP - 1) / kP, q1 + chunk);
    const char* next = reinterpret_cast<const char*>(panels + q1 * kP * n_pairs);
    const char* next_end = reinterpret_cast<const char*>(panels + q2 * kP * n_pairs);
    const char* ahead = next;
    bool first_block = true;
    avx512::for_each_x_block<true>(M, [&]<int MR>(int64_t m) {
      const uint32_t* xr[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) xr[i] = reinterpret_cast<const uint32_t*>(xb + (m + i) * ldxb);
      for (int64_t p0 = 0; p0 < n_pairs; p0 += kc) {
        const int64_t p1 = std::min(n_pairs, p0 + kc);
        for (int64_t q = q0; q < q1; ++q) {
          const int64_t c0 = std::max(n0, q * kP) - q * kP, c1 = std::min(n1, q * kP + kP) - q * kP;
          const bool fetch = !first_block && ahead < next_end;
          piece<MR>(xr, panels + q * kP * n_pairs, c0, c1, p0, p1, p0 == 0, p1 == n_pairs,
                    carry + (q - q0) * kMaxMR * 4 * 16, y + m * ldy + q * kP, ldy, fetch ? ahead : nullptr);
          if (fetch) ahead += (p1 - p0) * 64;
        }
      }
      first_block = false;
    });
  }
}

}  // namespace

void matmul_pairs_tile(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t n0, int64_t n1,
                       float* y, int64_t ldy) {
  tile_panels(xb, ldxb, M, static_cast<const uint32_t*>(w.data), w.cols / 2, n0, n1, y, ldy);  // cols: of 32
}

}  // namespace fathom::avx512bf16
