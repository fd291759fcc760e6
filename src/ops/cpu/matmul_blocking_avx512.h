// The blocking both AVX-512 matmul tiles share (matmul_avx512.cpp: f32 x; matmul_avx512bf16.cpp: bf16 x): weight
// rows in chunks that stay in L2 while every block of x rows passes over them, long rows reduced in K blocks with
// the accumulators carried in memory, MR × NR register blocks, and the fixed-tree store. Include only from the
// *_avx512*.cpp files. A row's bits never depend on the blocking: each (m, n) accumulator sees the same k order
// in every block shape, and the carry restores it exactly.
#pragma once
#include <algorithm>
#include <cstdint>

#include "ops/cpu/simd_avx512.h"
#include "ops/ops.h"

namespace fathom::avx512 {

constexpr int64_t kPrefetchBytes = 8192;  // prefetch distance: at least this far ahead, in whole micro-blocks
constexpr int kBigMR = 6, kBigNR = 4;     // 24 accumulators + 4 weight vectors + x
constexpr int64_t kKBlockAbove = 1024;    // rows longer than this are reduced in K blocks of kKBlock
constexpr int64_t kKBlock = 1024;         // a multiple of the fp8 block (128), so fp8 partials never straddle
constexpr int64_t kMaxCarryCols = 128;    // weight rows per chunk when K is blocked (bounds the carry buffer)

// Bytes ahead of each weight row to prefetch: whole micro-blocks of NR rows, at least kPrefetchBytes.
inline int64_t prefetch_distance(int64_t row_bytes, int NR) {
  return ((kPrefetchBytes / row_bytes) / NR + 1) * NR * row_bytes;
}

// Accumulators start at zero (kb = 0) or from carry.
template <int MR, int NR>
inline void load_acc(__m512 (&acc)[MR][NR], int64_t kb, const float* carry) {
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 8
    for (int n = 0; n < NR; ++n) acc[m][n] = kb == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(carry + (m * NR + n) * 16);
}

// fp8: a 128-wide block's partial sums, times each weight row's block scale (× mult), added to the accumulators.
template <int MR, int NR>
inline void add_scaled_block(__m512 (&acc)[MR][NR], const __m512 (&part)[MR][NR], const float* const (&srow)[NR],
                             int64_t block, float mult) {
#pragma GCC unroll 8
  for (int n = 0; n < NR; ++n) {
    const __m512 s = _mm512_set1_ps(srow[n][block] * mult);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) acc[m][n] = _mm512_fmadd_ps(part[m][n], s, acc[m][n]);
  }
}

// Accumulators end in y (y[m * ldy + n], each reduced by the fixed tree) when the row is done, else in carry.
template <int MR, int NR>
inline void finish_acc(const __m512 (&acc)[MR][NR], bool done, float* y, int64_t ldy, float* carry) {
  if (!done) {
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m)
#pragma GCC unroll 8
      for (int n = 0; n < NR; ++n) _mm512_storeu_ps(carry + (m * NR + n) * 16, acc[m][n]);
    return;
  }
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) {
    if constexpr (NR == 4) {
      _mm_storeu_ps(y + m * ldy, reduce_add4(acc[m][0], acc[m][1], acc[m][2], acc[m][3]));
    } else {
#pragma GCC unroll 8
      for (int n = 0; n < NR; ++n) y[m * ldy + n] = reduce_add(acc[m][n]);
    }
  }
}

// Micro: `template <int MR, int NR> void run(m0, n0, kb, ke, carry) const` computes y rows [m0, m0 + MR),
// columns [n0, n0 + NR) over k in [kb, ke) (load_acc / finish_acc); `template <int MR> static constexpr int nr()`
// is its block width for MR rows; `kBig` says whether the kBigMR × kBigNR block applies. BoundKernel below makes
// one from a kernel file's Kernel.
template <class Micro, int MR>
void rows_block(const Micro& mk, int64_t K, int64_t m0, int64_t n0, int64_t n1, float* carry) {
  constexpr int NR = Micro::template nr<MR>();
  const int64_t kc = K > kKBlockAbove ? kKBlock : K;
  for (int64_t kb = 0; kb < K; kb += kc) {
    const int64_t ke = std::min(K, kb + kc);
    int64_t n = n0;
    for (; n + NR <= n1; n += NR) mk.template run<MR, NR>(m0, n, kb, ke, carry + (n - n0) * MR * 16);
    for (; n < n1; ++n) mk.template run<MR, 1>(m0, n, kb, ke, carry + (n - n0) * MR * 16);
  }
}

// A kernel file's micro-kernel bound to one product's x, W and y. Kernel: `static constexpr bool kBig`,
// `template <int MR> static constexpr int nr()`, and `template <int MR, int NR> static void micro(x, ldx, w, m0,
// n0, y, ldy, kb, ke, carry)` with x of element type X.
template <class Kernel, class X>
struct BoundKernel {
  const X* x;
  int64_t ldx;
  const WeightView& w;
  float* y;
  int64_t ldy;
  static constexpr bool kBig = Kernel::kBig;
  template <int MR>
  static constexpr int nr() { return Kernel::template nr<MR>(); }
  template <int MR, int NR>
  void run(int64_t m0, int64_t n0, int64_t kb, int64_t ke, float* carry) const {
    Kernel::template micro<MR, NR>(x, ldx, w, m0, n0, y, ldy, kb, ke, carry);
  }
};

// Calls f.template operator()<MR>(m0) for the x row blocks [m0, m0 + MR) that cover [0, M): kBigMR rows at a time
// (when kBig), then 4, then the rest.
template <bool kBig, class F>
void for_each_x_block(int64_t M, const F& f) {
  int64_t m = 0;
  if constexpr (kBig)
    for (; m + kBigMR <= M; m += kBigMR) f.template operator()<kBigMR>(m);
  for (; m + 4 <= M; m += 4) f.template operator()<4>(m);
  switch (M - m) {
    case 3: f.template operator()<3>(m); break;
    case 2: f.template operator()<2>(m); break;
    case 1: f.template operator()<1>(m); break;
    default: break;
  }
}

constexpr int64_t kStationaryXBytes = 128 * 1024;  // x panels up to this size (f32 bound) stay in L2

// Weights stationary: every x block passes over one block of NB weight rows (two micro-blocks: 16 KB of bf16 rows
// of 1024, in L1 beside a 6-row x block) before the next is read, so the weights stream from memory once and
// evenly while the arithmetic runs — for a few x rows over short weight rows (batched decode, lm_head over a
// batch), where chunk by chunk the first pass over each chunk would wait on memory alone. Two micro-blocks
// rather than one: ≈ 3% faster on lm_head at M = 16 and 32 (`matmul_bench`, packed rows). Needs whole rows
// (K <= kKBlockAbove): no carry.
template <class Micro>
void tile_weights_stationary(const Micro& mk, int64_t M, int64_t K, int64_t n0, int64_t n1) {
  constexpr int NB = 2 * Micro::template nr<kBigMR>();
  auto over = [&]<int NW>(int64_t n) {
    for_each_x_block<true>(M, [&]<int MR>(int64_t m) {
      constexpr int NR = NW % Micro::template nr<MR>() == 0 ? Micro::template nr<MR>() : 1;
#pragma GCC unroll 4
      for (int j = 0; j < NW; j += NR) mk.template run<MR, NR>(m, n + j, 0, K, nullptr);
    });
  };
  int64_t n = n0;
  for (; n + NB <= n1; n += NB) over.template operator()<NB>(n);
  for (; n < n1; ++n) over.template operator()<1>(n);
}

// y rows [0, M), columns [n0, n1): weight rows of row_bytes each, K values per row.
template <class Micro>
void tile_blocks(const Micro& mk, int64_t M, int64_t K, int64_t row_bytes, int64_t n0, int64_t n1) {
  if constexpr (Micro::kBig)
    if (M > kBigMR && K <= kKBlockAbove && M * K * 4 <= kStationaryXBytes)
      return tile_weights_stationary(mk, M, K, n0, n1);
  int64_t n_chunk = std::max<int64_t>(4, (256 * 1024) / std::max<int64_t>(1, row_bytes));
  if (K > kKBlockAbove) n_chunk = std::min(n_chunk, kMaxCarryCols);
  alignas(64) float carry[kMaxCarryCols * kBigMR * 16];  // [column][row of the block][lane]
  for (int64_t nc = n0; nc < n1; nc += n_chunk) {
    const int64_t nc1 = std::min(n1, nc + n_chunk);
    for_each_x_block<Micro::kBig>(M, [&]<int MR>(int64_t m) { rows_block<Micro, MR>(mk, K, m, nc, nc1, carry); });
  }
}

}  // namespace fathom::avx512
